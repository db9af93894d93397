"""The published CSV, safe to open in a spreadsheet (OWASP CSV injection).

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
WPS or LibreOffice as a formula (`=HYPERLINK(…)` runs when the operator opens `data.csv`).
Such cells get a leading `'`, which spreadsheets show as text. Only text columns change;
numbers stay numbers, and `data.parquet` keeps the exact values.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

FORMULA_START = r"^[=+\-@\t\r]"


def neutralize(table: pa.Table) -> pa.Table:
    """Text cells that a spreadsheet would run as a formula, prefixed with `'`."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.match_substring_regex(column, FORMULA_START)
            quote, empty = pa.scalar("'", column.type), pa.scalar("", column.type)
            column = pc.if_else(risky, pc.binary_join_element_wise(quote, column, empty), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_csv(batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path) -> None:
    """The CSV of a table that comes a batch at a time (the same bytes as of the table whole)."""
    with pv.CSVWriter(path, schema) as writer:
        for batch in batches:
            writer.write_table(neutralize(pa.Table.from_batches([batch], schema=schema)))
