"""A delivery's rows into the raw zone's Parquet snapshot, a batch at a time: the header is
checked first (schema drift, `drift.py`), the declared columns are written in row groups as
they are read, and a damaged export (a NUL byte or a byte order mark in a value) is told apart
once every row is counted. Memory is a row group's, whatever the size of the delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yishu.definitions import Source
from yishu.sources.drift import header_drift, missing_reason

ROW_GROUP_ROWS = 131_072
_DAMAGE = (("\x00", "a NUL byte"), ("\ufeff", "a byte order mark (U+FEFF)"))


def conform(names: list[str], source: Source, where: str) -> tuple[pa.Schema | None, str | None]:
    """The metadata of the snapshot of a delivery with these column names, or why it cannot be
    used (schema drift: a repeated or missing column stops the batch; an added (unmapped) column
    never enters the zone and is recorded in the snapshot's metadata for the steward)."""
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        return None, (f"{where}: column(s) {repeated} appear more than once in the header: "
                      "fix the export")
    drift = header_drift(names, source.columns)
    if drift.missing_required or drift.missing_optional:
        return None, missing_reason(drift, where, source.file)
    return {"undeclared_columns": ",".join(drift.added), **drift.to_metadata()}, None


class _Damage:
    """Per column and character: how many values hold it and the first data row (1-based)."""

    def __init__(self, names: list[str]):
        self.found = {(n, c): [0, None] for n in names for c, _ in _DAMAGE}
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        for (name, char), seen in self.found.items():
            hits = pc.match_substring(batch.column(name), char)
            if count := pc.sum(hits).as_py():
                seen[0] += count
                if seen[1] is None:
                    seen[1] = self.rows + pc.index(hits, True).as_py() + 1
        self.rows += batch.num_rows

    def reason(self) -> str | None:
        """The first column (in column order, a NUL byte first) that holds either."""
        what = dict(_DAMAGE)
        for (name, char), (count, row) in self.found.items():
            if count:
                return (f"column {name}: {count} value(s) hold {what[char]} (first in data "
                        f"row {row})")
        return None


def write(schema: pa.Schema, batches: Iterable[pa.RecordBatch], source: Source, where: str,
          path: Path) -> tuple[int | None, str | None]:
    """Write the declared columns of `batches` to `path`; (rows written, None) or (None, why
    the delivery cannot be used: then `path` is incomplete and the caller removes it)."""
    metadata, problem = conform(schema.names, source, where)
    if problem:
        return None, problem
    declared = list(source.columns)  # undeclared columns never enter the zone
    out = pa.schema([schema.field(c) for c in declared], metadata=metadata)
    damage, pending, rows, written = _Damage(declared), [], 0, 0
    with pq.ParquetWriter(path, out) as writer:
        for batch in batches:
            batch = batch.select(declared)
            damage.add(batch)
            pending.append(batch)
            rows += batch.num_rows
            if rows - written >= ROW_GROUP_ROWS:  # a row group, written as soon as it is full
                writer.write_table(pa.Table.from_batches(pending).cast(out))
                pending, written = [], rows
        if pending:
            writer.write_table(pa.Table.from_batches(pending).cast(out))
    if damaged := damage.reason():
        return None, f"{where}: {damaged}: the export is damaged: fix it and deliver it again"
    return rows, None
