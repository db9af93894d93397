"""The life of a batch: validate a collected snapshot, then land it or quarantine it.

A batch is one partition of one source. Its states: `landed` (validation passed), `quarantined`
(a critical expectation failed or the file could not be read), then by a steward's decision
`released` (usable, with a recorded reason) or `rejected`. Nothing is deleted: the raw snapshot
stays in the raw zone whatever the decision.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from yishu.access import audit
from yishu.db.models import Batch
from yishu.db.queries import BatchNotFound, get_batch, latest_usable
from yishu.definitions import Catalog, Source
from yishu.deid.operators import mask
from yishu.pipeline.reasons import first_bad_row, without_raw_values
from yishu.pipeline.validation import typed, typed_chunks, typed_rows, validate_snapshot
from yishu.resources import Resources
from yishu.sources.collect import CollectResult
from yishu.sources.drift import Drift, retyped
from yishu.standard import quality
from yishu.standard.consistency import compared_pairs, consistency_rate
from yishu.standard.suites import read_suite

__all__ = ["BatchNotFound", "review", "typed_frame", "validate_and_land"]


def typed_frame(cat: Catalog, source: Source, snapshot: str,
                drift: Drift | None = None) -> pd.DataFrame:
    """The whole snapshot as pandas, numbers parsed (unparseable numbers become missing). Given
    a `drift`, its retyped columns are found first, on the values as delivered. (Validation
    reads it in chunks instead: `pipeline.validation`.)"""
    df = pq.read_table(snapshot).to_pandas()
    if drift is not None:
        drift.retyped = retyped(df, {c.name: cat.elements[c.element].type
                                     for c in source.columns.values()})
    return typed(cat, source, df)


def _upsert(res: Resources, source: str, partition: str, **fields) -> Batch:
    return res.db.upsert(Batch, {"source": source, "partition": partition}, **fields)


def _latest_snapshot(res: Resources):
    """The Parquet snapshot of a source's latest usable batch (consistency's reference)."""
    def snapshot(source: str) -> Path | None:
        batch = latest_usable(res.db, source)
        return None if batch is None else res.storage.raw_snapshot(
            batch.source, batch.partition, batch.snapshot_sha256, ".parquet")
    return snapshot


def _add_example_keys(cat: Catalog, source: Source, snapshot: str, results: list,
                      chunk_rows: int) -> None:
    """Name example failing rows by their key, masked when the key is personal data, so a
    steward can find them without the report ever showing a raw identifier."""
    if not source.key:
        return
    element = cat.elements[source.columns[source.key].element]
    personal = bool(element.pii_entity) or element.security_level in ("L3", "L4")
    wanted = {i for r in results for i in r.get("example_rows", []) if isinstance(i, int)}
    key = typed_rows(cat, source, snapshot, source.key, wanted, chunk_rows)  # those rows only
    for r in results:
        rows = [i for i in r.get("example_rows", []) if i in key.index]
        keys = key.loc[rows].astype("string").fillna("<null>").tolist()
        if personal:
            keys = mask(pa.array(keys, pa.string())).to_pylist()
        r["example_keys"] = [f"row {i}: {source.key}={k}" for i, k in zip(rows, keys,
                                                                           strict=True)]


def _consistency_frames(cat: Catalog, source: Source, collected: CollectResult,
                        chunk_rows: int):
    """The columns consistency compares (a key and the values next to it), a chunk at a time."""
    names = sorted({n for _, key, _, here, _ in compared_pairs(cat, source)
                    for n in (key, here)})
    return typed_chunks(cat, source, collected.snapshot, names, chunk_rows) if names else iter(())


def _quarantine_reason(failures: list[dict]) -> str:
    parts = [f"{f['column']}: {f['type'].removeprefix('expect_column_values_to_')} failed on "
             f"{f['unexpected_count']} of {f['element_count']} rows" for f in failures]
    return f"{len(failures)} critical expectation(s) failed: " + "; ".join(parts)


def validate_and_land(res: Resources, collected: CollectResult) -> Batch:
    """Validate a collected snapshot against its source's suite; land or quarantine it.
    The same snapshot is validated once: a steward's decision on it is kept on reruns."""
    cat = res.catalog
    source = cat.sources[collected.source]
    try:
        known = get_batch(res.db, source.name, collected.partition)
    except BatchNotFound:
        known = None
    if known and known.snapshot_sha256 == collected.sha256 and known.status != "collected":
        return known
    common = dict(snapshot_sha256=collected.sha256, raw_path=collected.original,
                  rows=collected.rows, review_note=None)
    report_dir = res.storage.report_dir(source.name, collected.partition)
    model = quality.load_model(res.settings.catalog_dir / "quality.yaml")
    if collected.problem is None and collected.rows == 0:
        collected.problem = (f"{collected.original}: the delivery has a header but no rows: "
                             "ask the provider to deliver the partition again")
    if collected.problem:
        q = quality.score([], model, accessible=False)
        row = first_bad_row(collected.original, source.encoding) if (
            "malformed CSV" in collected.problem) else None
        batch = _upsert(res, source.name, collected.partition, status="quarantined",
                        reason=without_raw_values(collected.problem, row),
                        quality_score=q.overall,
                        quality_grade=q.grade, validation_path=None, **common)
        _write_quarantine_record(res, batch)
        return batch

    drift = Drift.from_metadata(pq.read_schema(collected.snapshot).metadata)
    checked = validate_snapshot(cat, source, collected.snapshot,
                                read_suite(res.settings.expectations_dir, source.name),
                                partition=collected.partition,
                                freshness_days=model.freshness_days,
                                chunk_rows=res.settings.validate_chunk_rows,
                                data_docs_dir=report_dir / "data_docs")
    drift.retyped = checked.retyped
    result = checked.outcome.to_dict()
    chunk_rows = res.settings.validate_chunk_rows
    _add_example_keys(cat, source, collected.snapshot, result["results"], chunk_rows)
    consistency = consistency_rate(cat, source, _consistency_frames(cat, source, collected,
                                                                    chunk_rows),
                                   _latest_snapshot(res))
    # a retyped column is a conformity measurement: its failing share lowers the score
    retyped_results = [{"dimension": "conformity", "element_count": r["checked"],
                        "unexpected_count": r["failing"]} for r in drift.retyped]
    q = quality.score(result["results"] + retyped_results, model,
                      consistency=consistency["rate"], timeliness=checked.timeliness)
    result.update(quality=q.to_dict(), consistency=consistency, drift=drift.to_dict(),
                  partition=collected.partition,
                  source=source.name, snapshot_sha256=collected.sha256, rows=collected.rows,
                  validated_at=dt.datetime.now(dt.UTC).isoformat())
    validation_path = report_dir / "validation.json"
    validation_path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                               encoding="utf-8")
    failures = [r for r in result["results"]
                if not r["success"] and r.get("severity") == "critical"]
    status = "quarantined" if failures else "landed"
    batch = _upsert(res, source.name, collected.partition, status=status,
                    reason=_quarantine_reason(failures) if failures else None,
                    quality_score=q.overall, quality_grade=q.grade,
                    validation_path=str(validation_path), **common)
    if failures:
        _write_quarantine_record(res, batch)
    return batch


def _write_quarantine_record(res: Resources, batch: Batch) -> Path:
    path = res.storage.quarantine_record(batch.source, batch.partition)
    path.write_text(json.dumps({
        "source": batch.source, "partition": batch.partition, "status": batch.status,
        "reason": batch.reason, "raw_snapshot": batch.raw_path,
        "validation": batch.validation_path, "review_note": batch.review_note,
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


SNAPSHOT_PREFIX = 8  # hex digits of the snapshot's SHA-256 a steward names, at least


def check_snapshot(batch: Batch, snapshot: str | None, decision: str) -> None:
    """The decision is about the snapshot the steward reviewed: its SHA-256 prefix (shown by
    `yishu quarantine show`) must name the partition's current snapshot, so a redelivery
    since the review is never released unseen."""
    if snapshot is None:
        if decision == "released":
            raise ValueError(f"name the snapshot you reviewed: --snapshot "
                             f"{batch.snapshot_sha256[:12]} (see `yishu quarantine show "
                             f"{batch.source} {batch.partition}`)")
        return
    prefix = snapshot.strip().lower()
    if len(prefix) < SNAPSHOT_PREFIX or not all(c in "0123456789abcdef" for c in prefix):
        raise ValueError(f"--snapshot '{snapshot}': give at least {SNAPSHOT_PREFIX} hex digits "
                         "of the snapshot's SHA-256, as `yishu quarantine show` prints them")
    if not batch.snapshot_sha256.startswith(prefix):
        raise ValueError(f"batch {batch.source}/{batch.partition} was redelivered since: its "
                         f"snapshot is now {batch.snapshot_sha256[:12]}, not {prefix}: review "
                         f"it again (`yishu quarantine show {batch.source} {batch.partition}`)")


def review(res: Resources, source: str, partition: str, decision: str, note: str,
           snapshot: str | None = None, actor: str | None = None) -> Batch:
    """A steward's decision on a quarantined batch: `released` (usable) or `rejected`.
    `snapshot` (a SHA-256 prefix) names what the steward reviewed; required to release."""
    if decision not in ("released", "rejected"):
        raise ValueError("decision must be released or rejected")
    if not note.strip():
        raise ValueError("a reason is required: it is recorded with the decision")
    batch = get_batch(res.db, source, partition)
    if batch.status == "rejected" and decision == "released":
        raise ValueError(f"batch {source}/{partition} was rejected for good: deliver the "
                         "partition again (a new snapshot is validated afresh)")
    if batch.status not in ("quarantined", "released", "rejected"):
        raise BatchNotFound(f"batch {source}/{partition} is {batch.status}, not quarantined")
    if decision == "released" and batch.validation_path is None:
        raise ValueError(f"batch {source}/{partition} could not be read ({batch.reason}); "
                         "it cannot be released: deliver a corrected file")
    check_snapshot(batch, snapshot, decision)
    action = {"released": "batch.release", "rejected": "batch.reject"}[decision]
    with res.db.session() as s:  # the decision and its audit entry commit together or not at all
        batch = s.get(Batch, batch.id)
        check_snapshot(batch, snapshot, decision)  # again, as committed: no redelivery between
        batch.status, batch.review_note = decision, note
        audit.append(res, s, action, f"{source}/{partition}",
                     {"reason": note, "snapshot_sha256": batch.snapshot_sha256}, actor)
        s.commit()
    _write_quarantine_record(res, batch)
    return batch
