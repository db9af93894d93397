"""`make demo`: the whole flow on embedded defaults, told as a story.

Running it again is safe: the same seed produces the same files, the same bytes give the same
snapshots, a steward's decision is kept, and the same inputs never publish a second version.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import httpx
from rich.console import Console

from yishu.airflow.runner import prepare, run_dag
from yishu.cli.demo_operator import operator_story
from yishu.cli.tables import deid_summary, print_catalog, run_colour
from yishu.db.queries import BatchNotFound, get_batch, product_run, published_versions
from yishu.pipeline.batches import review
from yishu.reports.steward import write_report
from yishu.resources import Resources
from yishu.sources.collect import why_not_collected

STEWARD_NOTE = ("demo steward: check-digit errors are typing errors of the hospital's front "
                "desk; rows are pseudonymized downstream, release for the insurance zone")
# Collect the authoritative registry first so cross-source consistency has a reference.
COLLECT_ORDER = ("market_enterprise", "health_visits", "station_inspections", "ev_stations",
                 "futian_weather", "power_usage", "transport_chargers")
API_SOURCE = "transport_chargers"  # served by the open-data API the demo starts


def _collect(console: Console, res: Resources, names, partition: str) -> dict[str, str]:
    """Run the collect DAGs; returns the sources whose collect failed, with why."""
    failed = {}
    for name in names:
        started = time.monotonic()
        with console.status(f"collect__{name}: collect → validate (Great Expectations) → land"):
            result = run_dag(res.settings, f"collect__{name}", partition)
        try:
            b = get_batch(res.db, name, partition)
        except BatchNotFound:
            failed[name] = why_not_collected(res.catalog.sources[name], partition,
                                             settings=res.settings) or (
                f"collect__{name} ended {result.state}: see the task logs under "
                f"{res.settings.airflow_home / 'logs'}")
            console.print(f"  collect__{name:<18} [red]failed[/]      {failed[name]}",
                          soft_wrap=True, highlight=False)
            continue
        colour = "green" if b.usable else "yellow"
        console.print(f"  collect__{name:<18} [{colour}]{b.status:<11}[/] {b.rows:>6} rows  "
                      f"quality {b.quality_score:>6} ({b.quality_grade})  "
                      f"[dim]{time.monotonic() - started:.0f}s, dag {result.state}[/]",
                      highlight=False)
        if b.status == "quarantined":
            console.print(f"    [yellow]why:[/] {b.reason}", soft_wrap=True, highlight=False)
    return failed


def find_batch(db, source: str, partition: str):
    try:
        return get_batch(db, source, partition)
    except BatchNotFound:
        return None


def _samples(console: Console, res: Resources, rows: int, partition: str) -> None:
    from yishu.samples import SOURCES, sample_rows, write_sample

    console.print("\n[bold]1. Sample government sources[/] (deterministic, seed 7)")
    for source in SOURCES:
        n = sample_rows(source, rows)
        path = write_sample(res.storage, source, partition, n, seed=7, dirty=True)
        console.print(f"  {source:<18} {n:>6} rows (with planted dirty rows) → {path}")
    for source in ("ev_stations", "futian_weather"):
        location = res.catalog.sources[source].resolve_location(
            partition, home=res.settings.home, repo=res.settings.repo)
        console.print(f"  {source:<18} real public data (UrbanEV, CC0) → {location}")
    from yishu.samples import power

    path = power.write_database(res.storage.department_database("power_usage"),
                                sample_rows("market_enterprise", rows), seed=7,
                                partition=partition)
    console.print(f"  {'power_usage':<18} {power.MONTHS} months of bills (department SQL "
                  f"database, connector sql) → {path}")
    console.print(f"  {API_SOURCE:<18} station register served by a local paginated JSON API "
                  "(connector http) while collecting")


@contextmanager
def _open_data_api(res: Resources):
    """The transport bureau's open-data API on a free local port while the block runs; its
    URL goes where the source's `http.url_env` says (the collect tasks read it)."""
    from yishu.samples import chargers

    variable = res.catalog.sources[API_SOURCE].http.url_env
    before = res.settings.credential(variable)
    with chargers.serve(chargers.charger_records(seed=7)) as url:
        os.environ[variable] = url
        try:
            yield url
        finally:
            if before:
                os.environ[variable] = before
            else:
                os.environ.pop(variable, None)


def _review(console: Console, res: Resources, partition: str) -> None:
    quarantined = [s for s in COLLECT_ORDER
                   if (b := find_batch(res.db, s, partition)) and b.status == "quarantined"]
    if not quarantined:
        console.print("\n[bold]3. Steward review[/]: nothing in quarantine")
        return
    console.print("\n[bold]3. Steward review[/] of quarantined batches")
    for source in quarantined:
        snapshot = get_batch(res.db, source, partition).snapshot_sha256[:12]
        console.print(f"  $ yishu quarantine show {source}   (what failed, example rows)")
        console.print(f"  $ yishu quarantine release {source} --snapshot {snapshot} "
                      "--reason '…'")
        review(res, source, partition, "released", STEWARD_NOTE, snapshot)
        console.print(f"  {source}: released, reason recorded; collecting again:")
    _collect(console, res, quarantined, partition)


def _publish(console: Console, res: Resources, partition: str) -> None:
    console.print("\n[bold]4. Product DAGs[/] (build → de-identify → risk check → publish)")
    for name in res.catalog.products:
        started = time.monotonic()
        with console.status(f"publish__{name}: de-identifying with Presidio recognizers…"):
            result = run_dag(res.settings, f"publish__{name}", partition)
        pr = product_run(res.db, name, partition)
        status, reason = (pr.status, pr.reason) if pr else ("skipped", "no usable batch")
        console.print(f"  publish__{name:<22} [{run_colour(status)}]{status:<10}[/] "
                      f"{reason or ''}  [dim]{time.monotonic() - started:.0f}s, "
                      f"dag {result.state}[/]", soft_wrap=True, highlight=False)
        if pr and pr.report_path and (summary := deid_summary(pr.report_path)):
            console.print("    " + summary, highlight=False)


def run_demo(console: Console, res: Resources, *, rows: int, partition: str) -> None:
    before = {(v.product, v.version) for v in published_versions(res.db)}
    console.rule("[bold]Yishu demo[/] — 一数一源一标准")
    console.print(f"state in {res.settings.home} (catalog database: {res.settings.db_url})")
    _samples(console, res, rows, partition)

    console.print("\n[bold]2. Collect DAGs[/] on real Airflow (dag.test, embedded SQLite)")
    with console.status("preparing the embedded Airflow (first time: `airflow db migrate`)…"):
        prepare(res.settings)
    with _open_data_api(res):
        failed = _collect(console, res, COLLECT_ORDER, partition)
        _review(console, res, partition)
    _publish(console, res, partition)
    reports = {name: write_report(res, name, partition)[0] for name in COLLECT_ORDER
               if name not in failed}

    console.print()
    versions = published_versions(res.db)
    print_catalog(console, versions)
    new = {(v.product, v.version) for v in versions} - before
    console.print("[bold]Nothing changed[/]: no new version published (same inputs)." if not new
                  else f"[bold green]{len(new)} new version(s) published.[/]")
    for name, why in failed.items():
        console.print(f"[bold red]Not collected[/]: {name}: {why}", soft_wrap=True,
                      highlight=False)
    _where_next(console, res, reports)
    try:
        operator_story(console, res)
    except (httpx.HTTPError, RuntimeError) as exc:
        console.print(f"[bold red]The operator step failed[/]: {exc}: run `yishu serve` and "
                      "see the README's operator guide", soft_wrap=True, highlight=False)


def _where_next(console: Console, res: Resources, reports: dict) -> None:
    home = res.settings.home
    console.print("\n[bold]Where to look next[/]")
    if "health_visits" in reports:
        console.print(f"  steward report (quality, failures, decision, de-identification):\n"
                      f"      {reports['health_visits']}")
    console.print(f"  products, vouchers, de-identification reports: {home}/products/")
    console.print(f"  validation results per batch:                   {home}/reports/")
    console.print("  quarantine review:      .venv/bin/yishu quarantine ls --all")
    console.print("  export the key to pin:  .venv/bin/yishu voucher export-key -o bureau.pub")
    console.print("  verify a voucher:       .venv/bin/yishu voucher verify "
                  f"{home}/products/insurance/insurance_visits/v1 --trusted-key bureau.pub",
                  soft_wrap=True, highlight=False)
    console.print("  a joined product's two snapshots: .venv/bin/yishu catalog show "
                  "enterprise_credit_profile", soft_wrap=True, highlight=False)
    console.print("  run one DAG:            .venv/bin/yishu run health_visits")
    console.print("  Airflow UI and scheduler: .venv/bin/yishu airflow  (Ctrl-C stops it)",
                  soft_wrap=True, highlight=False)
