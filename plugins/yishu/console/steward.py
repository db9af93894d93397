"""Pages of data stewards: the quarantine queue, a batch with Release / Reject, and the
quality trend of every source. Decisions go through `batches.review` (the CLI's logic): a
release names the snapshot the page showed, so a redelivery since is never released unseen."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request

from yishu.console import charts
from yishu.console.web import Identity, Web
from yishu.db.queries import BatchNotFound, list_batches
from yishu.pipeline.reasons import without_raw_values
from yishu.standard.quality import DIMENSION_ZH, DIMENSIONS


def _masked(report: dict) -> dict:
    """Whatever a page shows of failing rows passes the same masking as reasons do."""
    for r in report["failed"]:
        r["example_keys"] = [without_raw_values(k) for k in r.get("example_keys", [])]
    return report


def trend_points(res, source: str) -> list[dict]:
    """Score and indicators of every batch of a source, by partition (from validation.json,
    or the batch's score alone when the file could not be validated)."""
    points = []
    for b in list_batches(res.db):
        if b.source != source:
            continue
        dims = {}
        if b.validation_path and Path(b.validation_path).exists():
            dims = json.loads(Path(b.validation_path).read_text(encoding="utf-8")).get(
                "quality", {}).get("dimensions", {})
        points.append({"partition": b.partition, "score": b.quality_score,
                       "grade": b.quality_grade, "status": b.status, "dimensions": dims})
    return sorted(points, key=lambda p: p["partition"])


def routes(router: APIRouter, web: Web) -> None:
    steward = web.page("steward")
    acting = web.action("steward")

    @router.get("/steward/")
    def queue(request: Request, me: Identity = Depends(steward)):
        res = web.resources()
        waiting = [{"b": b, "reason": without_raw_values(b.reason),
                    "title": res.catalog.sources[b.source].title_zh
                    if b.source in res.catalog.sources else b.source}
                   for b in list_batches(res.db, "quarantined")]
        decided = [b for b in list_batches(res.db) if b.status in ("released", "rejected")]
        return web.render(request, "steward/queue.html", me, waiting=waiting,
                          decided=decided[-10:])

    @router.get("/steward/batch/{source}/{partition}")
    def batch(source: str, partition: str, request: Request, me: Identity = Depends(steward)):
        from yishu.reports.steward import build_report  # pandas: not at the app's import

        res = web.resources()
        try:
            report = _masked(build_report(res, source, partition))
        except BatchNotFound as exc:
            return web.render(request, "error.html", me, status=404, message=str(exc))
        return web.render(request, "steward/batch.html", me, r=report,
                          dimensions=DIMENSIONS, dimension_zh=DIMENSION_ZH,
                          chart=charts.quality_trend(trend_points(res, source),
                                                     f"{source} 质量趋势 quality trend"))

    def decide(request: Request, me: Identity, source: str, partition: str, decision: str,
               reason: str, snapshot: str):
        from yishu.pipeline import batches  # pandas: not at the app's import

        path = f"/steward/batch/{source}/{partition}"
        try:
            done = batches.review(web.resources(), source, partition, decision, reason,
                                  snapshot or None, actor=me.actor)
        except (BatchNotFound, ValueError) as exc:
            return web.back(request, path, error=str(exc))
        word = "已放行 released" if done.status == "released" else "已拒绝 rejected"
        return web.back(request, path, ok=f"{source}/{partition} {word}: {reason.strip()}")

    @router.post("/steward/batch/{source}/{partition}/release")
    def release(source: str, partition: str, request: Request, reason: str = Form(""),
                snapshot: str = Form(""), me: Identity = Depends(acting)):
        return decide(request, me, source, partition, "released", reason, snapshot)

    @router.post("/steward/batch/{source}/{partition}/reject")
    def reject(source: str, partition: str, request: Request, reason: str = Form(""),
               snapshot: str = Form(""), me: Identity = Depends(acting)):
        return decide(request, me, source, partition, "rejected", reason, snapshot)

    @router.get("/steward/trends")
    def trends(request: Request, me: Identity = Depends(steward)):
        res = web.resources()
        shown = []
        for name, source in sorted(res.catalog.sources.items()):
            points = trend_points(res, name)
            shown.append({"name": name, "title": source.title_zh, "points": points,
                          "chart": charts.quality_trend(points, f"{name} 质量趋势")})
        return web.render(request, "steward/trends.html", me, sources=shown)
