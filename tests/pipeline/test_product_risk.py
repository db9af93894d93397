"""The streamed risk check (risk columns read alone, suppression as the file is copied) keeps
exactly the rows the in-memory k_anonymize keeps, and both the rows a count by hand keeps."""

import random
from collections import defaultdict
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq

from yishu.deid.risk import k_anonymize
from yishu.pipeline import product_risk
from yishu.pipeline.row_groups import ROW_GROUP_ROWS, RowGroupWriter

ROWS = ROW_GROUP_ROWS + 20_000  # two row groups, three read batches


def _table(rows: int) -> pa.Table:
    r = random.Random(13)

    def column(values, nulls=0.02):
        return [None if r.random() < nulls else r.choice(values) for _ in range(rows)]

    return pa.table({"age_band": column([f"{a}-{a + 9}" for a in range(0, 90, 10)]),
                     "gender": column(["男", "女"]),
                     "month": column([f"2026-{m:02}" for m in range(1, 13)]),
                     "patient": column([f"p{i}" for i in range(rows // 3)], nulls=0.001),
                     "dx": column(["J45", "E11", "I10", "K29"]),
                     "note": [f"row {i}" for i in range(rows)]})


def _by_hand(table: pa.Table, qis: list[str], k: int) -> list[bool]:
    """Keep a row when its class holds at least k distinct patients (a missing value is one)."""
    data = table.to_pydict()
    subjects = defaultdict(set)
    keys = [tuple(data[q][i] for q in qis) for i in range(table.num_rows)]
    for key, patient in zip(keys, data["patient"], strict=True):
        subjects[key].add(patient)
    return [len(subjects[key]) >= k for key in keys]


def test_streamed_check_suppresses_what_the_in_memory_one_does(tmp_path):
    table = _table(ROWS)
    path, out = tmp_path / "deidentified.parquet", tmp_path / "final.parquet"
    with RowGroupWriter(path) as writer:
        for batch in table.to_batches(max_chunksize=7_000):
            writer.write(batch)
        writer.close(table.schema)
    qis = ["age_band", "gender", "month"]
    product = SimpleNamespace(quasi_identifiers=qis, sensitive_attribute="dx",
                              subject_key="patient")
    zone = SimpleNamespace(k=25, max_suppression=0.5, l=2)

    keep, streamed = product_risk.k_anonymous(product, zone, path)
    rows = product_risk.suppress(path, keep, out)
    kept, in_memory = k_anonymize(table, qis, 25, 0.5, sensitive="dx", l_required=2,
                                  subject="patient")

    expected = _by_hand(table, qis, 25)
    assert 0 < streamed.rows_suppressed < ROWS  # the test exercises suppression at all
    assert streamed.rows_suppressed == expected.count(False)
    assert streamed.to_dict() == in_memory.to_dict()
    assert rows == kept.num_rows == expected.count(True)
    assert pq.read_table(out).equals(kept)
    assert pq.read_table(out).equals(table.filter(pa.array(expected)))


def test_nothing_to_suppress_copies_the_file(tmp_path):
    table = _table(2_000).select(["gender", "note"])
    path, out = tmp_path / "deidentified.parquet", tmp_path / "final.parquet"
    pq.write_table(table, path)
    product = SimpleNamespace(quasi_identifiers=["gender"], sensitive_attribute=None,
                              subject_key=None)
    keep, result = product_risk.k_anonymous(product, SimpleNamespace(
        k=5, max_suppression=0.0, l=None), path)
    assert result.passed and result.rows_suppressed == 0
    assert product_risk.suppress(path, keep, out) == 2_000
    assert out.read_bytes() == path.read_bytes()


def test_row_groups_do_not_depend_on_how_rows_were_batched(tmp_path):
    small, big = _table(5_000), _table(ROWS)
    for table, batchings in ((small, (1_000, 4_999)), (big, (7_000, 65_536))):
        files = []
        for size in batchings:
            files.append(tmp_path / f"{table.num_rows}-{size}.parquet")
            with RowGroupWriter(files[-1]) as writer:
                for batch in table.to_batches(max_chunksize=size):
                    writer.write(batch)
                writer.close(table.schema)
        assert files[0].read_bytes() == files[1].read_bytes()
        assert pq.read_table(files[0]).equals(table)
    pq.write_table(small, tmp_path / "whole.parquet")  # up to a row group: as written whole
    assert (tmp_path / "whole.parquet").read_bytes() == (tmp_path / "5000-1000.parquet"
                                                         ).read_bytes()
    assert pq.ParquetFile(tmp_path / f"{ROWS}-7000.parquet").metadata.num_row_groups == 2
