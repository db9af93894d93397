"""`make demo`: the whole flow on embedded defaults, told as a story.

Running it again is safe: the same seed produces the same files, the same bytes give the same
snapshots, a steward's decision is kept, and the same inputs never publish a second version.
"""

from __future__ import annotations

import time

from rich.console import Console

from yishu import settings, storage
from yishu.definitions.models import load_catalog

STEWARD_NOTE = ("demo steward: check-digit errors are typing errors of the hospital's front "
                "desk; rows are pseudonymized downstream, release for the insurance zone")
# Collect the authoritative registry first so cross-source consistency has a reference.
COLLECT_ORDER = ("market_enterprise", "health_visits", "station_inspections", "ev_stations",
                 "futian_weather")


def _collect(console: Console, names, partition: str) -> None:
    from yishu.airflow.runner import run_dag
    from yishu.pipeline.batches import get_batch

    for name in names:
        started = time.monotonic()
        with console.status(f"collect__{name}: collect → validate (Great Expectations) → land"):
            result = run_dag(f"collect__{name}", partition)
        b = get_batch(name, partition)
        colour = "green" if b.usable else "yellow"
        console.print(f"  collect__{name:<18} [{colour}]{b.status:<11}[/] {b.rows:>6} rows  "
                      f"quality {b.quality_score:>6} ({b.quality_grade})  "
                      f"[dim]{time.monotonic() - started:.0f}s, dag {result.state}[/]",
                      highlight=False)
        if b.status == "quarantined":
            console.print(f"    [yellow]why:[/] {b.reason}", soft_wrap=True, highlight=False)


def run_demo(console: Console, *, rows: int, partition: str) -> None:
    from yishu.airflow.runner import prepare
    from yishu.pipeline.products import published_versions
    from yishu.pipeline.batches import get_batch, review
    from yishu.samples.generate import SOURCES as SAMPLE_SOURCES
    from yishu.samples.generate import sample_rows, write_sample

    cat = load_catalog()
    home = settings.load().home
    before = {(v.product, v.version) for v in published_versions()}
    console.rule("[bold]Yishu demo[/] — 一数一源一标准")
    console.print(f"state in {home} (catalog database: {settings.load().db_url})")

    console.print("\n[bold]1. Sample government sources[/] (deterministic, seed 7)")
    for source in SAMPLE_SOURCES:
        n = sample_rows(source, rows)
        path = write_sample(source, partition, n, seed=7, dirty=True)
        console.print(f"  {source:<18} {n:>6} rows (with planted dirty rows) → {path}")
    for source in ("ev_stations", "futian_weather"):
        console.print(f"  {source:<18} real public data (UrbanEV, CC0) → "
                      f"{cat.sources[source].resolve_location(partition)}")

    console.print("\n[bold]2. Collect DAGs[/] on real Airflow (dag.test, embedded SQLite)")
    with console.status("preparing the embedded Airflow (first time: `airflow db migrate`)…"):
        prepare()
    _collect(console, COLLECT_ORDER, partition)

    quarantined = [s for s in COLLECT_ORDER if get_batch(s, partition).status == "quarantined"]
    if quarantined:
        console.print("\n[bold]3. Steward review[/] of quarantined batches")
        for source in quarantined:
            console.print(f"  $ yishu quarantine show {source}   (what failed, example rows)")
            console.print(f"  $ yishu quarantine release {source} --reason '…'")
            review(source, partition, "released", STEWARD_NOTE)
            console.print(f"  {source}: released, reason recorded; collecting again:")
        _collect(console, quarantined, partition)
    else:
        console.print("\n[bold]3. Steward review[/]: nothing in quarantine")

    console.print("\n[bold]4. Product DAGs[/] (build → de-identify → risk check → publish)")
    from yishu.airflow.runner import run_dag
    from yishu.db.models import ProductRun, session

    for name in cat.products:
        started = time.monotonic()
        with console.status(f"publish__{name}: de-identifying with Presidio recognizers…"):
            result = run_dag(f"publish__{name}", partition)
        with session() as s:
            pr = s.query(ProductRun).filter_by(product=name, partition=partition).one_or_none()
        status, reason = (pr.status, pr.reason) if pr else ("skipped", "no usable batch")
        colour = {"published": "green", "unchanged": "cyan"}.get(status, "yellow")
        console.print(f"  publish__{name:<22} [{colour}]{status:<10}[/] {reason or ''}  "
                      f"[dim]{time.monotonic() - started:.0f}s, dag {result.state}[/]",
                      soft_wrap=True, highlight=False)
        if pr and pr.report_path:
            _print_deid_summary(console, pr.report_path)

    from yishu.reports.steward import write_report

    reports = {name: write_report(cat, name, partition)[0] for name in COLLECT_ORDER}

    console.print()
    from yishu.cli import catalog_ls

    catalog_ls(as_json=False)
    new = {(v.product, v.version) for v in published_versions()} - before
    console.print("[bold]Nothing changed[/]: no new version published (same inputs)." if not new
                  else f"[bold green]{len(new)} new version(s) published.[/]")
    console.print("\n[bold]Where to look next[/]")
    console.print(f"  steward report (quality, failures, decision, de-identification):\n"
                  f"      {reports['health_visits']}")
    console.print(f"  products, vouchers, de-identification reports: {storage.home()}/products/")
    console.print(f"  validation results per batch:                   {storage.home()}/reports/")
    console.print("  quarantine review:      .venv/bin/yishu quarantine ls --all")
    console.print("  verify a voucher:       .venv/bin/yishu voucher verify "
                  f"{storage.home()}/products/insurance/insurance_visits/v1")
    console.print("  run one DAG:            .venv/bin/yishu run health_visits")
    cfg = settings.load()
    console.print(f"  Airflow UI:             AIRFLOW_HOME={cfg.airflow_home} "
                  f"AIRFLOW__CORE__DAGS_FOLDER={cfg.dags_dir} .venv/bin/airflow standalone",
                  soft_wrap=True, highlight=False)


def _print_deid_summary(console: Console, report_path: str) -> None:
    import json
    from pathlib import Path

    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    from yishu.deid.policy import entity_totals

    redacted = entity_totals(report.get("columns", {}))
    risk = report.get("risk") or {}
    parts = []
    if redacted:
        parts.append("redacted " + ", ".join(f"{e}×{n}" for e, n in sorted(redacted.items())))
    if risk.get("k_achieved"):
        parts.append(f"k={risk['k_achieved']} (zone needs {risk['k_required']}), "
                     f"{risk['rows_suppressed']} rows suppressed")
    if report.get("aggregate"):
        agg = report["aggregate"]
        parts.append(f"{agg['groups']} groups, {agg['cells_suppressed']} small cells "
                     f"(< {agg['min_cell']}) suppressed")
    if report.get("residual") == {}:
        parts.append("residual PII scan: clean")
    if parts:
        console.print("    " + "; ".join(parts), highlight=False)
