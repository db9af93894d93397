"""De-identification of ad hoc files: scan, deidentify (product policy or --auto), reidentify."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import typer
from rich.table import Table

from yishu.cli.common import catalog, console, fail, resources
from yishu.cli.tables import entity_list
from yishu.errors import UserInputError

SAMPLE_ROWS = 10_000  # rows read to classify columns (scan, deidentify --auto)


def _input_file(path: Path) -> Path:
    if not path.is_file():
        fail(f"{path}: no such file: pass a CSV, Parquet or Excel (.xlsx) file")
    if path.suffix.lower() not in (".csv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm"):
        fail(f"{path}: unsupported format '{path.suffix}': use CSV, Parquet or Excel (.xlsx)")
    return path


def _readable(action, path: Path):
    """Run a file reader; a malformed file becomes one message naming it."""
    import zipfile

    import pyarrow as pa

    try:
        return action()
    except UserInputError as exc:
        fail(str(exc))
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError, OSError, KeyError,
            zipfile.BadZipFile) as exc:
        detail = (str(exc).splitlines() or [""])[0]
        if "straddling" in detail:  # Arrow's words for a field or row larger than a block
            fail(f"{path}: a field or row runs over megabytes (an unclosed quote, or a huge "
                 "value): fix the file")
        if "invalid UTF8" in detail or isinstance(exc, UnicodeDecodeError):
            fail(f"{path}: not valid text in its encoding ({detail[:120]}): the file mixes "
                 "encodings or was cut short: export it again whole, in one encoding")
        fail(f"{path}: cannot be read ({detail[:200]}): check the file is CSV with a header "
             "row (UTF-8 or GB18030), Parquet or .xlsx")


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


def deidentify(ctx: typer.Context,
               file: Path = typer.Argument(..., help="CSV, Parquet or Excel file"),
               out: Path = typer.Option(..., "-o", "--out", help="output .parquet or .csv"),
               product: str | None = typer.Option(None, help="apply this product's policy"),
               auto: bool = typer.Option(False, "--auto", help="classify columns and apply "
                                         "each entity's default operator"),
               zone: str = typer.Option("open", help="--auto: zone whose pseudonym key is used"),
               workers: int = typer.Option(2, help="--auto: processes for free text")):
    """De-identify an ad hoc file with a product's policy or automatically (--auto)."""
    _input_file(file)
    if bool(product) == auto:
        fail("choose one: --product NAME (that product's policy) or --auto")
    if out.suffix.lower() not in (".parquet", ".csv"):
        fail(f"{out}: the output must end with .parquet or .csv")
    if out.resolve() == file.resolve():
        fail(f"{out}: the output would overwrite the input: choose another name")
    if not out.parent.is_dir():
        fail(f"{out.parent}: no such folder for the output: create it first")
    cat, keys = catalog(ctx), resources(ctx).keys
    if product:
        redacted = _with_product(cat, keys, product, file, out)
    else:
        redacted = _auto(cat, keys, zone, workers, file, out)
    if redacted:
        console.print("redacted in free text: " + entity_list(redacted), highlight=False)
    _residual_warning(out)


def _with_product(cat, keys, product: str, file: Path, out: Path) -> dict:
    from yishu.deid.policy import deidentify_file, entity_totals

    if product not in cat.products:
        fail(f"unknown product '{product}': known are {', '.join(sorted(cat.products))}")
    rows, report = _readable(lambda: deidentify_file(
        cat, cat.products[product], file, out, dt.date.today().isoformat(), keys), file)
    operators = ", ".join(f"{c}: {r['operator']}" for c, r in report.items())
    console.print(f"{rows} rows → {out} with the policy of {product} ({operators})",
                  highlight=False, soft_wrap=True)
    return entity_totals(report)


def _auto(cat, keys, zone: str, workers: int, file: Path, out: Path) -> dict:
    from yishu.deid.auto import auto_plan, classify, read_sample
    from yishu.deid.engine import deidentify_stream

    if zone not in cat.zones:
        fail(f"unknown zone '{zone}': known are {', '.join(sorted(cat.zones))}")
    classes = _readable(lambda: classify(read_sample(file, SAMPLE_ROWS)), file)
    console.print(f"columns classified from the first {SAMPLE_ROWS:,} rows:")
    plan = auto_plan(classes, keys.pseudonym_secret(zone), encryption_key=keys.encryption_key())
    for name, action in plan.columns.items():
        console.print(f"  {name:<24} {classes[name].kind:<11} "
                      f"{classes[name].entity or '':<16} → {action}", highlight=False)
    stats = _readable(lambda: deidentify_stream(file, out, plan, workers=workers), file)
    console.print(f"{stats.rows} rows → {out} in {stats.seconds:.1f}s "
                  f"({stats.rows_per_s:,.0f} rows/s)", highlight=False)
    return dict(stats.entities)


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


def reidentify(ctx: typer.Context,
               values: list[str] = typer.Argument(..., help="values sealed by `encrypt`"),
               zone: str = typer.Option(..., help="the zone of the product the values came from"),
               reason: str = typer.Option(..., "--reason", help="legal basis, recorded"),
               actor: str | None = typer.Option(None, help="who asks (default: OS user)")):
    """Bureau only: decrypt values sealed by the `encrypt` policy. Every use is audited."""
    import pyarrow as pa
    from cryptography.exceptions import InvalidTag

    from yishu.access import audit, audit_group
    from yishu.deid.operators import decrypt

    if not reason.strip():
        fail("--reason is required: the legal basis is recorded in the audit log")
    res = resources(ctx)
    key = res.keys.encryption_key()  # an unusable key is its own error, not "not sealed"
    try:
        plain = decrypt(pa.array(values, pa.string()), key, zone).to_pylist()
    except (InvalidTag, ValueError):
        fail("a value was not sealed with this bureau's key (or was altered): nothing revealed")
    try:  # recorded before anything is shown: no entry, nothing revealed
        audit_group.record(res, "reidentify", f"{zone}: {len(values)} value(s)", {
            "reason": reason,
            "values_sha256": [hashlib.sha256(v.encode()).hexdigest() for v in values]},
            actor=actor)
    except audit.AuditRefused as exc:
        fail(f"{exc}: nothing revealed")
    except audit.HeadNotSigned as exc:  # the entry is committed: the use is on record
        console.print(f"[yellow]warning:[/] {exc}", highlight=False, soft_wrap=True)
    for sealed, value in zip(values, plain, strict=True):
        console.print(f"{sealed} → {value}", highlight=False)
