"""Rich tables and lines shared by the commands and the demo."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from yishu.db.models import Batch, ProductRun, ProductVersion


def catalog_table(versions: list[ProductVersion]) -> Table:
    table = Table(title="Published products (数据产品目录)")
    for col in ("zone", "product", "version", "rows", "level", "grade", "published", "path"):
        table.add_column(col)
    for v in versions:
        table.add_row(v.zone, v.product, f"v{v.version}", str(v.rows), v.security_level,
                      v.quality_grade or "-", v.created_at.strftime("%Y-%m-%d %H:%M"), v.path)
    return table


def print_catalog(console: Console, versions: list[ProductVersion]) -> None:
    console.print(catalog_table(versions))
    if not versions:
        console.print("nothing published yet: run `make demo` or `yishu run PRODUCT`")


def batch_line(b: Batch) -> str:
    colour = "green" if b.usable else "yellow"
    return (f"[{colour}]{b.status}[/] {b.rows} rows, quality {b.quality_score} "
            f"(grade {b.quality_grade})" + (f"\n  reason: {b.reason}" if b.reason else ""))


def run_colour(status: str) -> str:
    return {"published": "green", "unchanged": "cyan"}.get(status, "yellow")


def product_run_line(run: ProductRun) -> str:
    return f"[{run_colour(run.status)}]{run.status}[/] {run.reason or ''}"


def entity_list(counts: dict[str, int]) -> str:
    return ", ".join(f"{e}×{n}" for e, n in sorted(counts.items()))


def deid_summary(report_path: str) -> str:
    """One line of what a product run's de-identification did (entities, k, cells, scan)."""
    from yishu.deid.policy import entity_totals

    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    redacted = entity_totals(report.get("columns", {}))
    risk = report.get("risk") or {}
    parts = []
    if redacted:
        parts.append("redacted " + entity_list(redacted))
    if risk.get("k_achieved"):
        parts.append(f"k={risk['k_achieved']} (zone needs {risk['k_required']}), "
                     f"{risk['rows_suppressed']} rows suppressed")
    if report.get("aggregate"):
        agg = report["aggregate"]
        parts.append(f"{agg['groups']} groups, {agg['cells_suppressed']} small cells "
                     f"(< {agg['min_cell']}) suppressed")
    if report.get("residual") == {}:
        parts.append("residual PII scan: clean")
    return "; ".join(parts)
