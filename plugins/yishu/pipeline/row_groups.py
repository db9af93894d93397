"""The Parquet files of a product run, written batch by batch in row groups of a fixed size.

A file's bytes then depend only on its rows, not on how the stages happened to batch them
(exclusions and suppression leave batches of any size), so a rerun, or a run that batches
differently, writes the same file. Up to ROW_GROUP_ROWS rows a file is one row group, as
`pq.write_table` wrote it; above, the row groups are smaller than its 1,048,576, so that
memory stays flat while writing. The file appears under its name only once it is complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from yishu.parquet_files import parquet_batches

ROW_GROUP_ROWS = 131_072
BATCH_ROWS = 65_536  # what the stages read at a time


class RowGroupWriter:
    def __init__(self, path: str | Path, rows: int = ROW_GROUP_ROWS):
        self.path, self.rows = Path(path), rows
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.writer: pq.ParquetWriter | None = None
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.written = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        while self.pending_rows >= self.rows:
            table = pa.Table.from_batches(self.pending)
            self._write(table.slice(0, self.rows))
            rest = table.slice(self.rows)
            self.pending, self.pending_rows = rest.to_batches(), rest.num_rows

    def _write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema)
        # one contiguous chunk per column, as pq.write_table writes a table read whole
        self.writer.write_table(table.combine_chunks(), row_group_size=self.rows)
        self.written += table.num_rows

    def close(self, schema: pa.Schema) -> int:
        """Write what is left and put the file in place; the rows written."""
        if self.pending_rows or self.writer is None:
            self._write(pa.Table.from_batches(self.pending, schema=schema))
        self.writer.close()
        os.replace(self.tmp, self.path)
        return self.written

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        if kind is not None:
            self.abort()


def batches(path: str | Path, columns: list[str] | None = None,
            rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """A Parquet file's rows, `columns` only if given, a batch at a time."""
    yield from parquet_batches(path, rows, columns)
