"""Streamed Parquet reads hold a few batches, not the file: pyarrow's default pre-buffering keeps
what it read ahead until the iterator ends, so every streamed read goes through
`yishu.parquet_files`, which turns it off."""

import ast
import gc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yishu.parquet_files import parquet_batches

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "yishu"
GROUPS, GROUP_ROWS = 32, 10_000


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory) -> Path:
    n = GROUPS * GROUP_ROWS
    rng = np.random.default_rng(7)
    table = pa.table({f"c{i}": pa.array(rng.integers(0, 10**12, n).astype(str).astype(object))
                      for i in range(6)})
    path = tmp_path_factory.mktemp("parquet") / "many_groups.parquet"
    pq.write_table(table, path, row_group_size=GROUP_ROWS)
    return path


def _most_held(batches) -> int:
    """The most Arrow memory held between batches (each let go before the next is read)."""
    before, most = pa.total_allocated_bytes(), 0
    for batch in batches:
        del batch
        gc.collect()
        most = max(most, pa.total_allocated_bytes() - before)
    return most


def test_streaming_holds_a_few_batches_not_the_file(many_groups):
    whole = pq.read_table(many_groups).nbytes
    assert _most_held(parquet_batches(many_groups, GROUP_ROWS)) < whole / 4


def test_the_default_reader_would_have_held_the_file(many_groups):
    # the check above can fail: pyarrow's default reader keeps what it read ahead
    whole = pq.read_table(many_groups).nbytes
    assert _most_held(pq.ParquetFile(many_groups).iter_batches(batch_size=GROUP_ROWS)) > whole / 2


def test_the_rows_and_columns_asked_for_come_back(many_groups):
    got = pa.Table.from_batches(list(parquet_batches(many_groups, 7_000, ["c2"], range(3, 5))))
    want = pq.read_table(many_groups, columns=["c2"]).slice(3 * GROUP_ROWS, 2 * GROUP_ROWS)
    assert got.equals(want)


def test_no_module_streams_parquet_another_way():
    readers = {"iter_batches", "read_row_group", "read_row_groups"}
    found = [f"{path.relative_to(PACKAGE)}:{node.lineno}"
             for path in sorted(PACKAGE.rglob("*.py")) if path.name != "parquet_files.py"
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Attribute) and node.attr in readers]
    assert found == []
