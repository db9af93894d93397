"""A raw snapshot as an Arrow table of text: CSV (any declared or detected encoding), Excel
`.xlsx` (a named sheet), Parquet or JSON Lines.

Every value is read as text (validation decides types; IDs and phones keep leading zeros). A
file that cannot be read gives a `Unreadable` whose message names the file and what to do; the
bytes stay in the raw zone whatever happens here.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from yishu.errors import UserInputError
from yishu.sources.encoding import detect_file


class Unreadable(Exception):
    """The bytes arrived but are not a table of the declared format; the message says why."""


def read_table(path: Path, fmt: str, *, where: str, encoding: str | None = None,
               sheet: str | None = None) -> pa.Table:
    """The whole file as a table of strings (header names as they are)."""
    try:
        if fmt == "csv":
            return _csv(path, where, encoding)
        if fmt == "xlsx":
            return _xlsx(path, where, sheet)
        if fmt == "parquet":
            table = pq.read_table(path)
            return table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
        if fmt == "jsonl":
            return _jsonl_table(path, where)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise Unreadable(f"{where}: not a readable {fmt} file ({exc}): fix the file or "
                         "the source's `format:`") from None
    raise Unreadable(f"{where}: format '{fmt}' is not supported: use csv, xlsx, parquet, jsonl")


def read_batches(path: Path, fmt: str, *, where: str, encoding: str | None = None,
                 sheet: str | None = None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The file's schema and its rows a batch at a time, as `read_table` reads them: a CSV is
    streamed (never whole in memory; a bad row further on raises `Unreadable` as the batches
    are read); the other formats are read whole and then handed out in batches."""
    if fmt != "csv":
        table = read_table(path, fmt, where=where, encoding=encoding, sheet=sheet)
        return table.schema, iter(table.to_batches())
    codec, arrow_codec, header = _csv_header(path, where, encoding)
    try:
        # Arrow's default block size, as read_csv's: a row over it is refused by both alike
        reader = pv.open_csv(path, read_options=pv.ReadOptions(encoding=arrow_codec),
                             convert_options=_csv_convert(header))
    except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
        raise _csv_unreadable(exc, where, codec) from None
    except (pa.ArrowNotImplementedError, OSError) as exc:
        raise Unreadable(f"{where}: not a readable csv file ({exc}): fix the file or "
                         "the source's `format:`") from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
            raise _csv_unreadable(exc, where, codec) from None
    return reader.schema, batches()


def _csv_header(path: Path, where: str, encoding: str | None) -> tuple[str, str, list[str]]:
    """(the encoding as messages name it, the one Arrow decodes with, the header row)."""
    try:
        codec = detect_file(path, encoding)
    except UserInputError as exc:
        raise Unreadable(str(exc)) from None
    # Arrow decodes UTF-8 itself and skips a BOM; other codecs are transcoded as it reads
    arrow_codec = "utf8" if codec in ("utf-8", "utf-8-sig", "utf8") else codec
    codec = encoding or codec  # messages name the encoding as the source declares it
    try:
        with open(path, encoding=arrow_codec, newline="") as fh:
            header = next(csv.reader(fh), [])
            header[:1] = [h.removeprefix("\ufeff") for h in header[:1]]
    except UnicodeDecodeError as exc:
        raise _csv_unreadable(exc, where, codec) from None
    except csv.Error as exc:
        raise Unreadable(f"{where}: the header row is not readable CSV ({exc}): fix the "
                         "file") from None
    return codec, arrow_codec, header


def _csv_convert(header: list[str]) -> pv.ConvertOptions:
    return pv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                             # only an empty unquoted field is null: "NA" or "null" is text
                             null_values=[""], strings_can_be_null=True,
                             quoted_strings_can_be_null=False)


def _csv_unreadable(exc: Exception, where: str, codec: str) -> Unreadable:
    if isinstance(exc, UnicodeDecodeError):
        return Unreadable(f"{where}: not valid {codec} (byte {exc.start} of a block): re-export "
                          f"the file as {codec} or set `encoding:` in the source")
    if "invalid UTF8" in str(exc):
        return Unreadable(f"{where}: not valid {codec} ({exc}): the file mixes encodings "
                          "or was cut short: re-export it whole in one encoding")
    if "straddling" in str(exc):
        return Unreadable(f"{where}: malformed CSV: a field or row runs over many megabytes "
                          "(an unclosed quote, or a huge value): fix the file")
    return Unreadable(f"{where}: malformed CSV ({exc}): fix the file and collect again")


def _csv(path: Path, where: str, encoding: str | None) -> pa.Table:
    codec, arrow_codec, header = _csv_header(path, where, encoding)
    try:
        return pv.read_csv(path, read_options=pv.ReadOptions(encoding=arrow_codec),
                           convert_options=_csv_convert(header))
    except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
        raise _csv_unreadable(exc, where, codec) from None


def cell_text(value) -> str | None:
    """A cell as the text a person sees: 13812345678.0 is a phone number."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _xlsx(path: Path, where: str, sheet: str | None) -> pa.Table:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"{where}: not an .xlsx workbook ({exc}): save it as Excel .xlsx") \
            from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise Unreadable(f"{where}: no sheet '{sheet}' (sheets: {book.sheetnames}): fix "
                             "`sheet:` in the source")
        name = sheet or book.sheetnames[0]
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
        rows = _checked_rows(book[name].iter_rows(), formulas[name].iter_rows(values_only=True),
                             where)
        header = [cell_text(h) or f"column_{i + 1}" for i, h in enumerate(next(rows, ()))]
        body = [tuple(r[:len(header)]) + (None,) * (len(header) - len(r)) for r in rows
                if any(v is not None for v in r)]
        formulas.close()
    finally:
        book.close()
    columns = list(zip(*body, strict=True)) if body else [()] * len(header)
    return pa.table([pa.array([cell_text(v) for v in col], pa.string()) for col in columns],
                    names=header)


def _checked_rows(cells, formulas, where: str):
    """Row values; a formula whose computed value is not saved in the file is refused (its
    value would silently read as empty)."""
    for row, written in zip(cells, formulas, strict=False):
        values = tuple(c.value for c in row)
        for cell, value, text in zip(row, values, written, strict=False):
            if value is None and isinstance(text, str) and text.startswith("="):
                raise Unreadable(f"{where}: cell {cell.coordinate} holds the formula {text} "
                                 "without its computed value: open and save the workbook in "
                                 "Excel (or export values only) and deliver it again")
        yield values


def _jsonl_table(path: Path, where: str) -> pa.Table:
    """Arrow's JSON reader (fast, multi-threaded) when every column has one type; else line
    by line, which also names the first bad line."""
    import pyarrow.json as pj

    if path.stat().st_size:
        try:
            with open(path, encoding="utf-8") as fh:  # the first record's keys are read as
                first = json.loads(fh.readline())  # text: no date or number inference
            schema = pa.schema([(name, pa.string()) for name in first])
            table = pj.read_json(path, parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError):
            pass
        else:
            if all(pa.types.is_string(t) or pa.types.is_null(t) or pa.types.is_integer(t)
                   for t in table.schema.types):  # text as it was written
                return table.cast(pa.schema([(n, pa.string()) for n in table.column_names]))
    return records_table(_jsonl(path, where), where)


def _jsonl(path: Path, where: str) -> list[dict]:
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise Unreadable(f"{where}: line {number} is not JSON ({exc.msg}): fix the "
                                 "file") from None
            if not isinstance(record, dict):
                raise Unreadable(f"{where}: line {number} is not a JSON object: each line must "
                                 "be one record")
            records.append(record)
    return records


def records_table(records: list[dict], where: str) -> pa.Table:
    """JSON records as a table of text; the columns are every key met, in first-seen order."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return pa.table({name: pa.array([cell_text(r.get(name)) for r in records], pa.string())
                     for name in names})
