"""`yishu`: the command line of bureau engineers, stewards and administrators."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from yishu.definitions.models import CatalogError, load_catalog

SAMPLE_ROWS = 10_000  # rows read to classify columns (scan, deidentify --auto)
app = typer.Typer(help="Yishu (一数): public-data authorized operation pipelines.",
                  no_args_is_help=True, add_completion=False)
catalog_app = typer.Typer(help="The published catalog.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Review quarantined batches (stewards).", no_args_is_help=True)
expectations_app = typer.Typer(help="The expectation suites (one per source).",
                               no_args_is_help=True)
voucher_app = typer.Typer(help="Signed vouchers of product versions.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(expectations_app, name="expectations")
app.add_typer(voucher_app, name="voucher")

console = Console(width=max(Console().width, 120))
DEMO_PARTITION = "2026-11-01"


def _partition(value: str) -> str:
    from yishu.errors import UserInputError
    from yishu.storage import check_partition

    try:
        return check_partition(value)
    except UserInputError as exc:
        raise typer.BadParameter(str(exc)) from None


def fail(message: str, code: int = 1):
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def _catalog():
    try:
        return load_catalog()
    except CatalogError as exc:
        for problem in exc.problems:
            console.print(f"[red]✗[/] {problem}", soft_wrap=True, highlight=False)
        fail(f"{len(exc.problems)} problem(s) in the catalog: fix them and run `yishu check`")


@app.command()
def check():
    """Validate the catalog YAML and the expectation suites; name every problem."""
    from yishu.standard.suites import stale_suites

    cat = _catalog()
    problems = stale_suites(cat)
    for problem in problems:
        console.print(f"[red]✗[/] {problem}", soft_wrap=True, highlight=False)
    if problems:
        fail(f"{len(problems)} problem(s) in the suites")
    console.print(f"[green]✓[/] catalog OK: {len(cat.elements)} elements, {len(cat.zones)} zones, "
                  f"{len(cat.sources)} sources, {len(cat.products)} products; suites up to date")


@expectations_app.command("build")
def expectations_build():
    """Regenerate the element-level expectations of every suite from elements.yaml."""
    from yishu.standard.suites import write_suites

    written = write_suites(_catalog())
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"{len(written)} suite(s) changed")


@app.command()
def sample(rows: int = typer.Option(2000, min=1, help="rows of health_visits (others fewer)"),
           seed: int = typer.Option(7, help="seed: the same seed gives the same files"),
           partition: str = typer.Option(DEMO_PARTITION, help="partition date YYYY-MM-DD",
                                        callback=_partition),
           clean: bool = typer.Option(False, help="no planted dirty rows")):
    """Generate the sample government sources into YISHU_HOME/inbox/."""
    from yishu.samples.generate import SOURCES as SAMPLE_SOURCES
    from yishu.samples.generate import sample_rows, write_sample

    for source in SAMPLE_SOURCES:
        n = sample_rows(source, rows)
        path = write_sample(source, partition, n, seed=seed, dirty=not clean)
        console.print(f"  {source}: {n} rows → {path}")


def _dag_id(cat, name: str) -> str:
    try:
        target = cat.product_or_source(name)
    except CatalogError as exc:
        fail(exc.problems[0])
    return f"collect__{name}" if target.name in cat.sources else f"publish__{name}"


@app.command()
def run(name: str = typer.Argument(..., help="a source or product name"),
        partition: str = typer.Option(DEMO_PARTITION, help="partition date YYYY-MM-DD",
                                        callback=_partition)):
    """Run the DAG of a source (collect) or product (publish) in-process with dag.test()."""
    from yishu.airflow.runner import run_dag

    cat = _catalog()
    dag_id = _dag_id(cat, name)
    with console.status(f"running {dag_id} for {partition} (real Airflow, dag.test)…"):
        result = run_dag(dag_id, partition)
    _print_run(cat, name, partition, result)
    if result.state != "success":
        from yishu import settings

        fail(f"{dag_id} ended {result.state}: see the task logs under "
             f"{settings.load().airflow_home / 'logs'}")


def _print_run(cat, name: str, partition: str, result) -> None:
    from yishu.db.models import ProductRun, session
    from yishu.pipeline.batches import BatchNotFound, get_batch

    tasks = " → ".join(f"{t}:{s}" for t, s in result.tasks.items())
    console.print(f"[bold]{result.dag_id}[/] {result.state}  ({tasks})", highlight=False)
    if name in cat.sources:
        try:
            b = get_batch(name, partition)
        except BatchNotFound:
            return
        colour = "green" if b.usable else "yellow"
        console.print(f"  [{colour}]{b.status}[/] {b.rows} rows, quality {b.quality_score} "
                      f"(grade {b.quality_grade})" + (f"\n  reason: {b.reason}" if b.reason
                                                      else ""), soft_wrap=True, highlight=False)
    else:
        from sqlalchemy import select

        with session() as s:
            pr = s.scalar(select(ProductRun).where(ProductRun.product == name,
                                                   ProductRun.partition == partition))
        if pr:
            colour = {"published": "green", "unchanged": "cyan"}.get(pr.status, "yellow")
            console.print(f"  [{colour}]{pr.status}[/] {pr.reason or ''}", soft_wrap=True,
                          highlight=False)


@catalog_app.command("ls")
def catalog_ls(as_json: bool = typer.Option(False, "--json", help="machine-readable output")):
    """Published product versions: zone, product, version, rows, security level, grade."""
    from yishu.pipeline.products import published_versions

    versions = published_versions()
    if as_json:
        print(json.dumps([{"zone": v.zone, "product": v.product, "version": v.version,
                           "rows": v.rows, "security_level": v.security_level,
                           "quality_grade": v.quality_grade, "path": v.path}
                          for v in versions], ensure_ascii=False, indent=1))
        return
    table = Table(title="Published products (数据产品目录)")
    for col in ("zone", "product", "version", "rows", "level", "grade", "published", "path"):
        table.add_column(col)
    for v in versions:
        table.add_row(v.zone, v.product, f"v{v.version}", str(v.rows), v.security_level,
                      v.quality_grade or "-", v.created_at.strftime("%Y-%m-%d %H:%M"), v.path)
    console.print(table)
    if not versions:
        console.print("nothing published yet: run `make demo` or `yishu run PRODUCT`")


@quarantine_app.command("ls")
def quarantine_ls(all_: bool = typer.Option(False, "--all", help="every batch, not only "
                                            "quarantined ones")):
    """Quarantined batches (or all batches with --all)."""
    from yishu.pipeline.batches import list_batches

    table = Table(title="Batches" if all_ else "Quarantined batches (隔离批次)")
    for col in ("source", "partition", "status", "rows", "score", "grade", "reason"):
        table.add_column(col, overflow="fold")
    for b in list_batches(None if all_ else "quarantined"):
        table.add_row(b.source, b.partition, b.status, str(b.rows), str(b.quality_score),
                      b.quality_grade or "-", b.reason or b.review_note or "")
    console.print(table)


@quarantine_app.command("show")
def quarantine_show(source: str,
                    partition: str = typer.Argument(DEMO_PARTITION, callback=_partition)):
    """Why a batch was quarantined: failed expectations, counts, example rows."""
    from yishu.pipeline.batches import BatchNotFound, get_batch

    try:
        b = get_batch(source, partition)
    except BatchNotFound as exc:
        fail(str(exc))
    console.print(f"[bold]{source}/{partition}[/]: {b.status}, {b.rows} rows, quality "
                  f"{b.quality_score} ({b.quality_grade})\nraw snapshot: {b.raw_path}",
                  highlight=False)
    if b.reason:
        console.print(f"reason: {b.reason}", soft_wrap=True, highlight=False)
    if b.review_note:
        console.print(f"steward note: {b.review_note}", highlight=False)
    if b.validation_path:
        result = json.loads(Path(b.validation_path).read_text(encoding="utf-8"))
        table = Table(title="Failed expectations")
        for col in ("severity", "column", "expectation", "failed rows", "%", "example rows"):
            table.add_column(col, overflow="fold")
        for r in result["results"]:
            if not r["success"]:
                table.add_row(r.get("severity", ""), str(r.get("column")), r["type"],
                              str(r.get("unexpected_count")),
                              f"{r.get('unexpected_percent') or 0:.2f}",
                              ", ".join(map(str, r.get("example_rows", [])[:5])))
        console.print(table)


def _review(source: str, partition: str, decision: str, reason: str) -> None:
    from yishu.pipeline.batches import BatchNotFound, review

    try:
        b = review(source, partition, decision, reason)
    except (BatchNotFound, ValueError) as exc:
        fail(str(exc))
    console.print(f"{source}/{partition} is now [bold]{b.status}[/] ({reason})")
    if b.status == "released":
        console.print(f"next: `yishu run {source} --partition {partition}` lands it and "
                      "triggers its products")


@quarantine_app.command("release")
def quarantine_release(source: str,
                       partition: str = typer.Argument(DEMO_PARTITION, callback=_partition),
                       reason: str = typer.Option(..., "--reason", help="recorded with the "
                                                  "decision")):
    """Release a quarantined batch so products may use it (reason recorded)."""
    _review(source, partition, "released", reason)


@quarantine_app.command("reject")
def quarantine_reject(source: str,
                      partition: str = typer.Argument(DEMO_PARTITION, callback=_partition),
                      reason: str = typer.Option(..., "--reason")):
    """Reject a quarantined batch for good (it stays in the raw zone for the record)."""
    _review(source, partition, "rejected", reason)


@app.command()
def report(source: str = typer.Argument(..., help="a source name"),
           partition: str = typer.Option(DEMO_PARTITION, help="partition date YYYY-MM-DD",
                                        callback=_partition),
           out: Path | None = typer.Option(None, "-o", "--out", help="output folder"),
           as_json: bool = typer.Option(False, "--json", help="print the report as JSON")):
    """Write the steward report of a source batch (HTML + JSON)."""
    from yishu.reports.steward import build_report, write_report
    from yishu.pipeline.batches import BatchNotFound

    cat = _catalog()
    if source not in cat.sources:
        fail(f"unknown source '{source}': known are {', '.join(sorted(cat.sources))}")
    try:
        if as_json:
            print(json.dumps(build_report(cat, source, partition), ensure_ascii=False,
                             indent=1, default=str))
            return
        html, data = write_report(cat, source, partition, out)
    except BatchNotFound as exc:
        fail(str(exc))
    console.print(f"steward report: {html}\n            json: {data}")


def _input_file(path: Path) -> Path:
    if not path.is_file():
        fail(f"{path}: no such file: pass a CSV, Parquet or Excel (.xlsx) file")
    if path.suffix.lower() not in (".csv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm"):
        fail(f"{path}: unsupported format '{path.suffix}': use CSV, Parquet or Excel (.xlsx)")
    return path


def _readable(action, path: Path):
    """Run a file reader; a malformed file becomes one message naming it."""
    import pyarrow as pa

    from yishu.errors import UserInputError

    try:
        return action()
    except UserInputError as exc:
        fail(str(exc))
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError, OSError, KeyError) as exc:
        fail(f"{path}: cannot be read ({str(exc).splitlines()[0][:200]}): check the file is "
             "UTF-8 CSV with a header row, Parquet or .xlsx")


@app.command()
def scan(file: Path = typer.Argument(..., help="CSV, Parquet or Excel file"),
         sample_rows: int = typer.Option(SAMPLE_ROWS, min=1, help="rows scanned from the start"),
         as_json: bool = typer.Option(False, "--json", help="machine-readable output")):
    """Find personal data per column: entity counts, masked samples, column class."""
    from yishu.deid.auto import scan_file

    findings = _readable(lambda: scan_file(_input_file(file), sample_rows), file)
    if as_json:
        print(json.dumps(findings, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"PII scan of {file} (first {sample_rows} rows)")
    for col in ("column", "class", "entity", "share", "entities found", "masked samples"):
        table.add_column(col, overflow="fold")
    for name, f in findings.items():
        table.add_row(name, f["kind"], f["entity"] or "", f"{f['share']:.0%}",
                      ", ".join(f"{e}×{n}" for e, n in f["entities"].items()),
                      "; ".join(f["samples"][:2]))
    console.print(table)


@app.command()
def deidentify(file: Path = typer.Argument(..., help="CSV, Parquet or Excel file"),
               out: Path = typer.Option(..., "-o", "--out", help="output .parquet or .csv"),
               product: str | None = typer.Option(None, help="apply this product's policy"),
               auto: bool = typer.Option(False, "--auto", help="classify columns and apply "
                                         "each entity's default operator"),
               zone: str = typer.Option("open", help="--auto: zone whose pseudonym key is used"),
               workers: int = typer.Option(2, help="--auto: processes for free text")):
    """De-identify an ad hoc file with a product's policy or automatically (--auto)."""
    import datetime as dt

    _input_file(file)
    if bool(product) == auto:
        fail("choose one: --product NAME (that product's policy) or --auto")
    if out.suffix.lower() not in (".parquet", ".csv"):
        fail(f"{out}: the output must end with .parquet or .csv")
    if out.resolve() == file.resolve():
        fail(f"{out}: the output would overwrite the input: choose another name")
    if not out.parent.is_dir():
        fail(f"{out.parent}: no such folder for the output: create it first")
    cat = _catalog()
    if product:
        from yishu.deid.policy import deidentify_file, entity_totals

        if product not in cat.products:
            fail(f"unknown product '{product}': known are {', '.join(sorted(cat.products))}")
        rows, report = _readable(lambda: deidentify_file(
            cat, cat.products[product], file, out, dt.date.today().isoformat()), file)
        redacted = entity_totals(report)
        operators = ", ".join(f"{c}: {r['operator']}" for c, r in report.items())
        console.print(f"{rows} rows → {out} with the policy of {product} ({operators})",
                      highlight=False, soft_wrap=True)
    else:
        from yishu import keys
        from yishu.deid.auto import auto_plan, classify, read_sample
        from yishu.deid.engine import deidentify_stream

        if zone not in cat.zones:
            fail(f"unknown zone '{zone}': known are {', '.join(sorted(cat.zones))}")
        classes = _readable(lambda: classify(read_sample(file, SAMPLE_ROWS)), file)
        console.print(f"columns classified from the first {SAMPLE_ROWS:,} rows:")
        plan = auto_plan(classes, keys.pseudonym_secret(zone),
                         encryption_key=keys.encryption_key())
        for name, action in plan.columns.items():
            console.print(f"  {name:<24} {classes[name].kind:<11} "
                          f"{classes[name].entity or '':<16} → {action}", highlight=False)
        stats = _readable(lambda: deidentify_stream(file, out, plan, workers=workers), file)
        redacted = dict(stats.entities)
        console.print(f"{stats.rows} rows → {out} in {stats.seconds:.1f}s "
                      f"({stats.rows_per_s:,.0f} rows/s)", highlight=False)
    if redacted:
        console.print("redacted in free text: " + ", ".join(
            f"{e}×{n}" for e, n in sorted(redacted.items())), highlight=False)
    _residual_warning(out)


def _residual_warning(out: Path) -> None:
    """Scan every row of the result for strong identifiers left behind; fail if any."""
    from yishu.deid.scan import residual_in_file

    with console.status("residual scan of every row of the result…"):
        residual = residual_in_file(out)
    for col, entities in residual.items():
        console.print(f"[red]✗[/] residual identifiers in '{col}': {entities} — choose a "
                      "stronger policy for this column (--product) or drop it", highlight=False)
    if residual:
        fail(f"{out} still holds strong identifiers: do not release it")
    console.print("[green]✓[/] residual scan of every row of the result: no strong identifier")


@app.command()
def reidentify(values: list[str] = typer.Argument(..., help="values sealed by `encrypt`"),
               zone: str = typer.Option(..., help="the zone of the product the values came from"),
               reason: str = typer.Option(..., "--reason", help="legal basis, recorded"),
               actor: str | None = typer.Option(None, help="who asks (default: OS user)")):
    """Bureau only: decrypt values sealed by the `encrypt` policy. Every use is audited."""
    import hashlib

    import pyarrow as pa
    from cryptography.exceptions import InvalidTag

    from yishu import keys
    from yishu.access import audit
    from yishu.deid.operators import decrypt

    if not reason.strip():
        fail("--reason is required: the legal basis is recorded in the audit log")
    try:
        plain = decrypt(pa.array(values, pa.string()), keys.encryption_key(), zone).to_pylist()
    except (InvalidTag, ValueError):
        fail("a value was not sealed with this bureau's key (or was altered): nothing revealed")
    audit.record("reidentify", f"{zone}: {len(values)} value(s)", {
        "reason": reason,
        "values_sha256": [hashlib.sha256(v.encode()).hexdigest() for v in values]}, actor=actor)
    for sealed, value in zip(values, plain, strict=True):
        console.print(f"{sealed} → {value}", highlight=False)


audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("ls")
def audit_ls(last: int = typer.Option(50, min=1, help="how many of the latest entries")):
    """The latest audit entries."""
    from yishu.access.audit import entries

    table = Table(title="Audit log (审计日志)")
    for col in ("seq", "at", "actor", "action", "subject", "detail"):
        table.add_column(col, overflow="fold")
    for e in entries()[-last:]:
        table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
                      e.subject, json.dumps(e.detail, ensure_ascii=False)[:120])
    console.print(table)


@audit_app.command("verify")
def audit_verify():
    """Check the hash chain: any edited, deleted or reordered entry is reported."""
    from yishu.access.audit import entries, verify

    problems = verify()
    for p in problems:
        console.print(f"[red]✗[/] {p}")
    if problems:
        fail("the audit log was tampered with")
    console.print(f"[green]✓[/] audit log intact: {len(entries())} entries, hash chain verified")


@voucher_app.command("public-key")
def voucher_public_key():
    """Print the bureau's Ed25519 public key (PEM) that operators pin to verify vouchers."""
    from yishu import keys

    print(keys.public_key_pem(), end="")


@voucher_app.command("verify")
def voucher_verify(folder: Path = typer.Argument(..., help="a product version folder"),
                   trusted_key: Path | None = typer.Option(None, help="bureau public key PEM")):
    """Verify a version's voucher offline: signature and the SHA-256 of every file."""
    path = folder / "voucher.json"
    if not path.exists():
        fail(f"{path}: no voucher.json in that folder: pass a product version folder")
    if trusted_key is not None and not trusted_key.is_file():
        fail(f"{trusted_key}: no such file: pass the bureau's public key "
             "(`yishu voucher public-key` prints it)")
    try:
        voucher = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not a voucher (invalid JSON: {exc}): ask the bureau for the version again")
    from yishu.pipeline.voucher import verify

    problems = verify(voucher, folder, trusted_key.read_text() if trusted_key else None)
    for p in problems:
        console.print(f"[red]✗[/] {p}")
    if problems:
        fail("voucher does not verify")
    body = voucher["body"]
    console.print(f"[green]✓[/] {body['product']} v{body['version']} ({body['zone']}): "
                  f"signature valid, {len(body['files'])} file(s) match")


@app.command()
def demo(rows: int = typer.Option(2000, min=50, help="rows of the health_visits sample")):
    """The main job on embedded defaults: sample → collect → validate → publish → catalog."""
    from yishu.demo import run_demo

    _catalog()
    run_demo(console, rows=rows, partition=DEMO_PARTITION)


if __name__ == "__main__":
    app()
