"""The steward report of a source batch: static HTML (and JSON) a data steward reads.

Score by GB/T 36344 indicator, every failed expectation with counts and example row keys
(masked when the key is personal data), cross-source consistency, the trend of the last runs,
the steward's decision, the de-identification summary of products built from the source, and a
link to the Great Expectations Data Docs of the same run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from yishu.db.models import ProductRun, ProductVersion
from yishu.db.queries import get_batch, list_batches
from yishu.pipeline.reasons import without_raw_values
from yishu.resources import Resources
from yishu.standard.quality import DIMENSION_ZH, DIMENSIONS

TREND_RUNS = 10


def _products_of(res: Resources, source: str) -> list[dict]:
    out = []
    with res.db.session() as s:
        for name, product in res.catalog.products.items():
            if source not in product.source_names:
                continue
            runs = s.scalars(select(ProductRun).where(ProductRun.product == name)
                             .order_by(ProductRun.partition.desc())).all()
            latest = s.scalars(select(ProductVersion).where(ProductVersion.product == name)
                               .order_by(ProductVersion.version.desc())).first()
            run = runs[0] if runs else None
            deid = {}
            if run and run.report_path and Path(run.report_path).exists():
                deid = json.loads(Path(run.report_path).read_text(encoding="utf-8"))
            out.append({"name": name, "zone": product.zone, "run": run, "deid": deid,
                        "latest": latest})
    return out


def build_report(res: Resources, source: str, partition: str) -> dict:
    cat = res.catalog
    batch = get_batch(res.db, source, partition)
    validation = {}
    if batch.validation_path and Path(batch.validation_path).exists():
        validation = json.loads(Path(batch.validation_path).read_text(encoding="utf-8"))
    trend = [b for b in list_batches(res.db) if b.source == source][-TREND_RUNS:]
    return {
        "source": source, "title_zh": cat.sources[source].title_zh,
        "provider": cat.sources[source].provider, "partition": partition,
        "status": batch.status, "reason": without_raw_values(batch.reason),
        "review_note": batch.review_note,
        "rows": batch.rows, "snapshot_sha256": batch.snapshot_sha256,
        "raw_snapshot": batch.raw_path,
        "quality": validation.get("quality") or {"overall": batch.quality_score,
                                                 "grade": batch.quality_grade,
                                                 "dimensions": {}},
        "failed": [r for r in validation.get("results", []) if not r["success"]],
        "passed": [r for r in validation.get("results", []) if r["success"]],
        "consistency": validation.get("consistency", {}),
        "drift": validation.get("drift") or {},
        "data_docs_index": validation.get("data_docs_index"),
        "trend": [{"partition": b.partition, "status": b.status, "rows": b.rows,
                   "score": b.quality_score, "grade": b.quality_grade} for b in trend],
        "products": [{"name": p["name"], "zone": p["zone"],
                      "status": p["run"].status if p["run"] else None,
                      "reason": p["run"].reason if p["run"] else None,
                      "latest_version": p["latest"].version if p["latest"] else None,
                      "deid": p["deid"]} for p in _products_of(res, source)],
    }


def write_report(res: Resources, source: str, partition: str, out_dir: Path | None = None,
                 ) -> tuple[Path, Path]:
    """Write report.html and report.json; returns their paths."""
    data = build_report(res, source, partition)
    out_dir = Path(out_dir or res.storage.report_dir(source, partition))
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = data["data_docs_index"]
    env = Environment(loader=PackageLoader("yishu.reports"), autoescape=select_autoescape())
    html = env.get_template("steward.html").render(
        r=data, dimensions=DIMENSIONS, dimension_zh=DIMENSION_ZH,
        data_docs_link=os.path.relpath(docs, out_dir) if docs else None)
    html_path, json_path = out_dir / "report.html", out_dir / "report.json"
    html_path.write_text(html, encoding="utf-8")
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str),
                         encoding="utf-8")
    return html_path, json_path
