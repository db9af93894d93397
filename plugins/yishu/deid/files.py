"""Reading sources and writing results in batches: CSV, Parquet or Excel in, Parquet or CSV out.

Everything is read as text (IDs and phones keep their leading zeros) and in batches of a fixed
number of rows, so memory stays flat whatever the file size; the streaming engine, the product
policy on ad hoc files (`yishu deidentify`) and the scans all read through here.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from yishu.errors import UserInputError
from yishu.parquet_files import parquet_batches
from yishu.sources.encoding import detect_file
from yishu.sources.readers import cell_text

# ----------------------------------------------------------------------------- reading


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `rows` rows (the last one shorter), whatever the reader yields."""
    pending, have = [], 0
    for batch in batches:
        pending.append(batch)
        have += batch.num_rows
        if have < rows:
            continue
        table = pa.Table.from_batches(pending)
        start = 0
        while table.num_rows - start >= rows:
            yield table.slice(start, rows).combine_chunks().to_batches()[0]
            start += rows
        rest = table.slice(start)
        pending, have = rest.to_batches(), rest.num_rows
    if have:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def _csv_batches(path: Path, rows: int, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    codec = detect_file(path)  # the collect's detection: UTF-8 (BOM or not), GB18030/GBK
    with open(path, encoding=codec, newline="") as f:
        header = [h.removeprefix("\ufeff") for h in next(csv.reader(f), [])]
    # all strings (IDs and phones must keep their leading zeros); only an empty unquoted field
    # is null: a quoted "" stays an empty string, a literal "NA" or "null" stays text
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                   null_values=[""], strings_can_be_null=True,
                                   quoted_strings_can_be_null=False, include_columns=columns)
    arrow_codec = "utf8" if codec.startswith("utf-8") else codec  # Arrow skips a UTF-8 BOM
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=8 << 20,
                                                                 encoding=arrow_codec),
                            convert_options=convert)
    yield from _rebatch(reader, rows)


def _excel_batches(path: Path, rows: int, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        values = book.active.iter_rows(values_only=True)
        header = [str(h) for h in next(values, ())]
        chunk: list[tuple] = []

        def flush() -> pa.RecordBatch:
            columns = list(zip(*chunk, strict=True)) if chunk else [()] * len(header)
            return pa.RecordBatch.from_arrays(
                [pa.array([cell_text(v) for v in col], pa.string()) for col in columns],
                names=header)

        for row in values:
            chunk.append(tuple(row[:len(header)]) + (None,) * (len(header) - len(row)))
            if len(chunk) == rows:
                yield _select(flush(), columns)
                chunk = []
        if chunk:
            yield _select(flush(), columns)
    finally:
        book.close()


def _select(batch: pa.RecordBatch, columns: list[str] | None) -> pa.RecordBatch:
    return batch if columns is None else batch.select(columns)


def iter_batches(path: str | Path, batch_rows: int = 65_536,
                 columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of a CSV (all strings), Parquet or Excel (.xlsx, strings) file in batches of
    batch_rows; only `columns` (in source order) if given."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        yield from parquet_batches(path, batch_rows, columns)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _excel_batches(path, batch_rows, columns)
    elif suffix in (".csv", ".txt"):
        yield from _csv_batches(path, batch_rows, columns)
    else:
        raise UserInputError(f"{path}: unsupported input: use CSV, Parquet or .xlsx")


def source_schema_of(path: str | Path) -> pa.Schema:
    """The columns of a source, read from its header (Parquet: its schema)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pq.read_schema(path)
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        header = [str(h) for h in next(book.active.iter_rows(values_only=True), ())]
        book.close()
    else:
        with open(path, encoding=detect_file(path), newline="") as f:
            header = [h.removeprefix("\ufeff") for h in next(csv.reader(f), [])]
    return pa.schema([(name, pa.string()) for name in header])


# ----------------------------------------------------------------------------- writing


class FileWriter:
    """Parquet (row groups of ~batch_rows) or CSV, into a temporary name renamed at the end:
    nobody reads half a file."""

    def __init__(self, path: Path, batch_rows: int):
        self.path, self.batch_rows = path, batch_rows
        self.tmp = path.with_name(path.name + ".tmp")
        self.csv = path.suffix.lower() == ".csv"
        self.writer = None
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        if self.pending_rows >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        table = pa.Table.from_batches(self.pending)
        if self.writer is None:
            if self.csv:
                self.writer = pacsv.CSVWriter(self.tmp, table.schema)
            else:
                self.writer = pq.ParquetWriter(self.tmp, table.schema)
        self.writer.write_table(table)
        self.pending, self.pending_rows = [], 0

    def close(self, schema: pa.Schema) -> None:
        self.flush()
        if self.writer is None:  # an empty source still gives a file with its columns
            self.writer = (pacsv.CSVWriter(self.tmp, schema) if self.csv
                           else pq.ParquetWriter(self.tmp, schema))
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """After an error: close and remove the temporary file, leave no output."""
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)
