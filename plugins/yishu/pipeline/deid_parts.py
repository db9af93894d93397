"""De-identification in parts, for a product run too big for one task.

A run whose rows in scope fit in one part (`Settings.fanout_rows`, YISHU_FANOUT_ROWS) is one
part that reads its source itself. A bigger one first writes its rows in scope (exclusions
applied, a join already done) to a work file in fixed row groups; each part de-identifies a
range of those row groups in a task of its own (a mapped task in Airflow: any worker takes any
part), and the merge writes the parts, in order, into one file. Row groups are cut by
row_groups.RowGroupWriter whatever the batches it is given, so the merged file is the same,
byte for byte, as the one a single part writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from yishu.definitions import Product
from yishu.parquet_files import parquet_batches
from yishu.pipeline.product_deid import Reader, in_scope
from yishu.pipeline.row_groups import BATCH_ROWS, ROW_GROUP_ROWS, RowGroupWriter, batches

DEIDENTIFIED = "deidentified.parquet"
IN_SCOPE = "in_scope.parquet"
PART = "deidentified.part-{:05d}.parquet"
ONE_PART = {"index": 0, "row_groups": None}  # the whole run, read from its source


def split(product: Product, read: Reader, columns: list[str], rows: int, part_rows: int,
          work: Path, joined: bool = False) -> list[dict]:
    """The parts of a run of `rows` rows in scope: `{index, row_groups}`, where `row_groups` is
    the [first, end) range of the in-scope file a part reads, or None for a run of one part.
    A join (`joined`) is written to the in-scope file even for one part, so that its part reads
    it there instead of joining the sources again."""
    if not rows or (rows <= part_rows and not joined):
        return [dict(ONE_PART)]
    schema, group_rows = None, min(ROW_GROUP_ROWS, part_rows)  # memory: one row group
    with RowGroupWriter(work / IN_SCOPE, rows=group_rows) as writer:
        for batch in in_scope(product, read, columns):
            schema = schema or batch.schema
            writer.write(batch)
        writer.close(schema)  # never empty here: rows >= 1
    groups = pq.ParquetFile(work / IN_SCOPE).metadata.num_row_groups
    per_part = max(1, round(part_rows / group_rows))
    return [{"index": n, "row_groups": [first, min(first + per_part, groups)]}
            for n, first in enumerate(range(0, groups, per_part))]


def rows_of(product: Product, read: Reader, columns: list[str], work: Path,
            part: dict) -> Iterator[pa.RecordBatch]:
    """A part's rows in scope, a batch at a time."""
    if part["row_groups"] is None:
        yield from in_scope(product, read, columns)
        return
    first, end = part["row_groups"]
    yield from parquet_batches(work / IN_SCOPE, BATCH_ROWS, columns, range(first, end))


def output(work: Path, part: dict) -> Path:
    """Where a part writes: the run's de-identified file itself for a run of one part."""
    return work / (DEIDENTIFIED if part["row_groups"] is None else PART.format(part["index"]))


def merge(work: Path, parts: list[dict]) -> Path:
    """The run's de-identified file, from its parts in order (one part: already in place)."""
    if len(parts) == 1 and parts[0]["row_groups"] is None:
        return work / DEIDENTIFIED
    paths = [output(work, part) for part in sorted(parts, key=lambda p: p["index"])]
    schema = pq.read_schema(paths[0])
    with RowGroupWriter(work / DEIDENTIFIED) as writer:
        for path in paths:
            for batch in batches(path):
                writer.write(batch)
        writer.close(schema)
    return work / DEIDENTIFIED


def work_files(work: Path) -> list[Path]:
    """The intermediate files of the parts, to drop once the run is over."""
    return [work / IN_SCOPE, *work.glob(PART.replace("{:05d}", "*"))]
