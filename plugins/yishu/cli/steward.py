"""Commands of data stewards: quarantined batches, their review, the steward report."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from yishu.cli.common import DEMO_PARTITION, catalog, console, fail, partition_option, resources

quarantine_app = typer.Typer(help="Review quarantined batches (stewards).", no_args_is_help=True)


@quarantine_app.command("ls")
def quarantine_ls(ctx: typer.Context,
                  all_: bool = typer.Option(False, "--all", help="every batch, not only "
                                            "quarantined ones")):
    """Quarantined batches (or all batches with --all)."""
    from yishu.db.queries import list_batches
    from yishu.pipeline.reasons import without_raw_values  # older records may quote rows

    table = Table(title="Batches" if all_ else "Quarantined batches (隔离批次)")
    for col in ("source", "partition", "status", "rows", "score", "grade", "reason"):
        table.add_column(col, overflow="fold")
    for b in list_batches(resources(ctx).db, None if all_ else "quarantined"):
        table.add_row(b.source, b.partition, b.status, str(b.rows), str(b.quality_score),
                      b.quality_grade or "-",
                      without_raw_values(b.reason) or b.review_note or "")
    console.print(table)


@quarantine_app.command("show")
def quarantine_show(ctx: typer.Context, source: str,
                    partition: str = typer.Argument(DEMO_PARTITION, callback=partition_option)):
    """Why a batch was quarantined: failed expectations, counts, example rows."""
    from yishu.db.queries import BatchNotFound, get_batch
    from yishu.pipeline.reasons import without_raw_values
    from yishu.sources.drift import retyped_reason

    try:
        b = get_batch(resources(ctx).db, source, partition)
    except BatchNotFound as exc:
        fail(str(exc))
    console.print(f"[bold]{source}/{partition}[/]: {b.status}, {b.rows} rows, quality "
                  f"{b.quality_score} ({b.quality_grade})\nraw snapshot: {b.raw_path}\n"
                  f"snapshot: {b.snapshot_sha256[:12]} (name it to release: --snapshot "
                  f"{b.snapshot_sha256[:12]})", highlight=False)
    if b.reason:
        console.print(f"reason: {without_raw_values(b.reason)}", soft_wrap=True,
                      highlight=False)
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
        drift = result.get("drift") or {}
        if drift.get("added"):
            console.print(f"added column(s), unmapped, never published: "
                          f"{', '.join(drift['added'])} (map them in the source's `columns:` "
                          "if they are wanted)", soft_wrap=True, highlight=False)
        if drift.get("retyped"):
            console.print(f"retyped: {retyped_reason(drift['retyped'])}", soft_wrap=True,
                          highlight=False)


def _review(ctx: typer.Context, source: str, partition: str, decision: str,
            reason: str, snapshot: str | None) -> None:
    from yishu.pipeline.batches import BatchNotFound, review

    try:
        b = review(resources(ctx), source, partition, decision, reason, snapshot)
    except (BatchNotFound, ValueError) as exc:
        fail(str(exc))
    console.print(f"{source}/{partition} is now [bold]{b.status}[/] ({reason})")
    if b.status == "released":
        console.print(f"next: `yishu run {source} --partition {partition}` lands it and "
                      "triggers its products")


@quarantine_app.command("release")
def quarantine_release(ctx: typer.Context, source: str,
                       partition: str = typer.Argument(DEMO_PARTITION, callback=partition_option),
                       snapshot: str = typer.Option(..., "--snapshot", help="the SHA-256 "
                                                    "prefix of the snapshot you reviewed (see "
                                                    "`quarantine show`)"),
                       reason: str = typer.Option(..., "--reason", help="recorded with the "
                                                  "decision")):
    """Release the quarantined snapshot you reviewed so products may use it (reason
    recorded); refused if the partition was redelivered since."""
    _review(ctx, source, partition, "released", reason, snapshot)


@quarantine_app.command("reject")
def quarantine_reject(ctx: typer.Context, source: str,
                      partition: str = typer.Argument(DEMO_PARTITION, callback=partition_option),
                      snapshot: str | None = typer.Option(None, "--snapshot",
                                                          help="the SHA-256 prefix reviewed"),
                      reason: str = typer.Option(..., "--reason")):
    """Reject a quarantined batch for good (it stays in the raw zone for the record)."""
    _review(ctx, source, partition, "rejected", reason, snapshot)


def report(ctx: typer.Context,
           source: str = typer.Argument(..., help="a source name"),
           partition: str = typer.Option(DEMO_PARTITION, help="partition date YYYY-MM-DD",
                                         callback=partition_option),
           out: Path | None = typer.Option(None, "-o", "--out", help="output folder"),
           as_json: bool = typer.Option(False, "--json", help="print the report as JSON")):
    """Write the steward report of a source batch (HTML + JSON)."""
    from yishu.db.queries import BatchNotFound
    from yishu.reports.steward import build_report, write_report

    cat = catalog(ctx)
    if source not in cat.sources:
        fail(f"unknown source '{source}': known are {', '.join(sorted(cat.sources))}")
    try:
        if as_json:
            print(json.dumps(build_report(resources(ctx), source, partition),
                             ensure_ascii=False, indent=1, default=str))
            return
        html, data = write_report(resources(ctx), source, partition, out)
    except BatchNotFound as exc:
        fail(str(exc))
    console.print(f"steward report: {html}\n            json: {data}")
