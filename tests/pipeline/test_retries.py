"""Retries are safe: every task of a collect run and of a product run, run twice in a row on
the same reference (as an Airflow retry does), leaves the same files, the same catalog rows and
one audit entry per act."""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from yishu.db.models import AuditEntry, Batch, ProductRun, ProductVersion, VersionReservation
from yishu.pipeline import batches
from yishu.pipeline import products as stages
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

PARTITION = "2026-10-01"
SOURCE, PRODUCT = "health_visits", "insurance_visits"
TABLES = (Batch, ProductVersion, ProductRun, VersionReservation, AuditEntry)
# the database itself and lock files change with every connection; the tables are compared
_NOT_COMPARED = ("yishu.db", ".lock")


def _files(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*"))
            if p.is_file() and not any(part in p.name for part in _NOT_COMPARED)}


def _rows(res) -> dict[str, list[dict]]:
    with res.db.session() as s:
        return {model.__tablename__: [
            {c.key: getattr(row, c.key) for c in model.__table__.columns}
            for row in s.scalars(select(model))] for model in TABLES}


def _state(res):
    return _files(res.settings.home), _rows(res)


def _twice(res, task, *args):
    """Run `task` once, then again as a retry would; the state must not change."""
    first = task(*args)
    before = _state(res)
    again = task(*args)
    after = _state(res)
    assert after[0] == before[0], f"{task.__name__}: a retry changed files: " + ", ".join(
        sorted(k for k in {*before[0], *after[0]} if before[0].get(k) != after[0].get(k)))
    for table, rows in before[1].items():
        assert after[1][table] == rows, f"{task.__name__}: a retry changed table {table}"
    return first, again


@pytest.fixture
def home(tmp_path) -> Resources:
    res = Resources.from_settings(Settings.for_home(tmp_path / "home"))
    write_sample(res.storage, SOURCE, PARTITION, 800, seed=3, dirty=False)
    return res


def test_every_task_of_a_collect_and_a_product_run_can_be_retried(home):
    res = home
    source = res.catalog.sources[SOURCE]

    def collect_task():
        return collect(source, PARTITION, settings=res.settings, storage=res.storage)

    first, collected = _twice(res, collect_task)
    assert first == collected
    batch, again = _twice(res, batches.validate_and_land, res, collected)
    assert (batch.status, batch.snapshot_sha256) == (again.status, again.snapshot_sha256)
    assert batch.status == "landed", batch.reason

    ref = stages.build(res, PRODUCT, PARTITION, run_id="scheduled__2026-10-01")
    retried = stages.build(res, PRODUCT, PARTITION, run_id="scheduled__2026-10-01")
    assert ref.but(run_id=retried.run_id) == retried  # the same batch, a work folder each
    ref = retried  # downstream reads the reference of the try that succeeded
    deidentified, _ = _twice(res, stages.deidentify, res, ref)
    final, _ = _twice(res, stages.check_risk, res, deidentified)
    published, again = _twice(res, stages.publish, res, final)
    assert published.version == again.version == 1 and not published.unchanged

    assert published == again  # the retry hands on the same reference
    rows = _rows(res)
    assert [(v["product"], v["version"]) for v in rows["product_versions"]] == [(PRODUCT, 1)]
    assert [(r["status"], r["reason"]) for r in rows["product_runs"]] == [("published", "v1")]
    assert [(e["action"], e["subject"]) for e in rows["audit_log"]] == [
        ("product.publish", f"insurance/{PRODUCT}/v1")]


def test_a_second_run_with_the_same_inputs_is_still_reported_unchanged(home):
    res = home
    source = res.catalog.sources[SOURCE]
    collected = collect(source, PARTITION, settings=res.settings, storage=res.storage)
    assert batches.validate_and_land(res, collected).status == "landed"

    def run():
        ref = stages.build(res, PRODUCT, PARTITION)
        return stages.publish(res, stages.check_risk(res, stages.deidentify(res, ref)))

    assert not run().unchanged
    later = run()  # another run, not a retry: nothing new, and it says so
    assert later.unchanged and later.version == 1
    assert [(r.status, r.reason) for r in _run_rows(res)] == [("unchanged", "same inputs as v1")]


def _run_rows(res):
    with res.db.session() as s:
        return list(s.scalars(select(ProductRun)))
