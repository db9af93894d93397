"""Partitions and idempotency: each run collects its own partition; the raw bytes are written
once per partition and content hash; rerunning a partition writes and records no duplicate."""

import os

from yishu.airflow import runner
from yishu.db.models import Batch
from yishu.pipeline import batches
from yishu.samples import write_sample
from yishu.sources.collect import collect

PARTITIONS = ("2026-09-01", "2026-09-02")  # partitions of their own in the session's home


def _files(folder):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_rerunning_a_partition_writes_nothing_again(fresh_res):
    write_sample(fresh_res.storage, "market_enterprise", "2026-11-01", 80, seed=4, dirty=False)
    source = fresh_res.catalog.sources["market_enterprise"]
    first = collect(source, "2026-11-01", settings=fresh_res.settings, storage=fresh_res.storage)
    folder = fresh_res.storage.raw_dir("market_enterprise", "2026-11-01")
    before = _files(folder)
    again = collect(source, "2026-11-01", settings=fresh_res.settings, storage=fresh_res.storage)
    assert again == first
    assert _files(folder) == before  # same names, same inodes, never rewritten
    assert len(before) == 2  # the bytes as they arrived and the Parquet snapshot
    for _ in range(2):
        batches.validate_and_land(fresh_res, again)
    with fresh_res.db.session() as s:
        assert s.query(Batch).filter_by(source="market_enterprise").count() == 1


def test_each_dag_run_collects_its_own_partition_and_reruns_change_nothing(res):
    for day, seed in zip(PARTITIONS, (21, 22), strict=True):
        write_sample(res.storage, "market_enterprise", day, 60, seed=seed, dirty=False)
    runs = [runner.run_dag(res.settings, "collect__market_enterprise", day)
            for day in PARTITIONS]
    assert [r.state for r in runs] == ["success", "success"]
    raw = {day: _files(res.storage.raw_dir("market_enterprise", day)) for day in PARTITIONS}
    assert all(len(files) == 2 for files in raw.values())
    assert set(raw[PARTITIONS[0]]).isdisjoint(raw[PARTITIONS[1]])  # different deliveries

    rerun = runner.run_dag(res.settings, "collect__market_enterprise", PARTITIONS[0])
    assert rerun.state == "success"
    assert _files(res.storage.raw_dir("market_enterprise", PARTITIONS[0])) == raw[PARTITIONS[0]]
    with res.db.session() as s:
        rows = s.query(Batch).filter(Batch.source == "market_enterprise",
                                     Batch.partition.in_(PARTITIONS)).all()
    assert sorted(b.partition for b in rows) == list(PARTITIONS)
    assert all(os.path.basename(b.raw_path).startswith(b.snapshot_sha256) for b in rows)
