"""The small references the stages of a run hand to each other (through XCom in Airflow):
paths, hashes and counts, never data. Each is a frozen dataclass that travels as a dict."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class _Ref:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        return cls(**data)

    def but(self, **changes):
        """A copy with some fields changed (references are immutable)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class BatchRef(_Ref):
    """What validation decided about a collected snapshot."""

    source: str
    partition: str
    sha256: str
    status: str  # landed | quarantined | released | rejected
    reason: str | None = None
    grade: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class ProductRef(_Ref):
    """A product run so far. A stage that stops the product sets `blocked` (and records why);
    later stages pass the reference through."""

    product: str
    partition: str
    source: str  # the batch read: source, its partition and snapshot (a join: the first's)
    source_partition: str
    source_sha256: str
    source_grade: str | None  # a join: the worst grade of its sources
    snapshot: str
    rows: int
    run_id: str  # this run's own: its work folder and staging folder (concurrent runs differ)
    # every batch read, one per source ({source, partition, snapshot_sha256, grade, snapshot,
    # rows}): a product of several sources joins them (pipeline/join.py)
    inputs: tuple[dict, ...] = ()
    blocked: str | None = None
    report: str | None = None  # the work copy of deid_report.json
    deidentified: str | None = None  # after de-identify
    level: str | None = None
    policy_sha256: str | None = None
    final: str | None = None  # after the risk check
    rows_out: int | None = None
    k_achieved: int | None = None
    rows_suppressed: int | None = None
    cells_suppressed: int | None = None
    version: int | None = None  # after publish
    path: str | None = None
    unchanged: bool | None = None
