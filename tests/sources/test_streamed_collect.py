"""A CSV is collected a batch at a time (issue 13): the snapshot holds every row in row groups
written as they are read, a damaged value far into the file is found and named by its row
(counted over the whole file), and a malformed row after the first blocks leaves no snapshot."""

import functools
import os

import pyarrow.parquet as pq
import pytest

from tests.sources.test_collect import weather  # noqa: F401 (fixture)
from yishu.sources import collect as collect_module
from yishu.sources.snapshot import ROW_GROUP_ROWS

HEADER = "time,T,P0,P,U,nRAIN,Td\n"
ROW = "2022/9/1 0:00,27.3,750.6,756.1,87,0,24.9\n"
ROWS = ROW_GROUP_ROWS * 2 + 1_000  # well over Arrow's 1 MB CSV block and two row groups


@pytest.fixture
def collect(fresh_res):
    return functools.partial(collect_module.collect, settings=fresh_res.settings,
                             storage=fresh_res.storage)


def test_a_large_csv_is_written_in_row_groups(weather, collect):  # noqa: F811
    source, path = weather
    path.write_text(HEADER + "".join(ROW.replace("27.3", f"{i % 40}.5") for i in range(ROWS)),
                    encoding="utf-8")
    result = collect(source, "2026-11-01")
    snapshot = pq.ParquetFile(result.snapshot)
    assert result.rows == snapshot.metadata.num_rows == ROWS
    groups = [snapshot.metadata.row_group(i).num_rows
              for i in range(snapshot.metadata.num_row_groups)]
    assert len(groups) >= 2 and max(groups) < 2 * ROW_GROUP_ROWS  # written as they filled
    assert pq.read_table(result.snapshot).column("T").to_pylist()[:3] == ["0.5", "1.5", "2.5"]
    assert snapshot.schema_arrow.metadata[b"undeclared_columns"] == b""


def test_damage_far_into_the_file_is_counted_over_every_row(weather, collect):  # noqa: F811
    source, path = weather
    rows = [ROW] * ROWS
    for i in (ROWS - 900, ROWS - 5):  # both after the first row group: data rows are 1-based
        rows[i] = ROW.replace("750.6", "75\x000.6")
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    result = collect(source, "2026-11-01")
    assert result.snapshot is None
    assert f"column P0: 2 value(s) hold a NUL byte (first in data row {ROWS - 899})" in \
        result.problem


def test_a_malformed_row_after_the_first_blocks_leaves_no_snapshot(weather, collect):  # noqa: F811
    source, path = weather
    path.write_text(HEADER + ROW * ROWS + "2022/9/1 0:00,1,2\n", encoding="utf-8")
    result = collect(source, "2026-11-01")
    assert result.snapshot is None and "malformed CSV" in result.problem
    assert not [f for f in os.listdir(os.path.dirname(result.original)) if f.endswith(".tmp")
                or f.endswith(".parquet")]
