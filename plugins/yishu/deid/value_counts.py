"""The distinct values of a column and how often each occurs, gathered a batch at a time.

A scan then looks at each distinct value once and weighs what it finds by the count: a
column of a million rows holds a few thousand distinct notes, eight age bands. The values come
out in the order of their first row (Arrow's hash kernels and a single-threaded group-by keep
that order), so whatever is listed "first found" is the same as a scan of every row lists.
Memory is that of the distinct values, whatever the number of rows.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_MERGE_ROWS = 1 << 18  # per-batch counts wait until they are this many (or the total's size)


def as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column as the text a scan reads (numbers, dates: Arrow's own text for them)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    return pc.cast(column, pa.string())


class ValueCounts:
    def __init__(self):
        self.total: pa.Table | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.rows = 0  # nulls included

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        self.rows += len(column)
        counted = pc.value_counts(as_text(column).drop_null())
        self.pending.append(pa.table({"value": counted.field("values").cast(pa.string()),
                                      "count": counted.field("counts")}))
        self.pending_rows += len(counted)
        # merged once the pending counts outgrow the total: each row is merged O(log) times
        if self.pending_rows >= max(_MERGE_ROWS, 0 if self.total is None else self.total.num_rows):
            self._merge()

    def _merge(self) -> None:
        if not self.pending:
            return
        parts = ([self.total] if self.total is not None else []) + self.pending
        merged = pa.concat_tables(parts).group_by("value", use_threads=False).aggregate(
            [("count", "sum")])
        self.total = pa.table({"value": merged.column("value"),
                               "count": merged.column("count_sum")})
        self.pending, self.pending_rows = [], 0

    def distinct(self) -> int:
        """At most how many distinct values have been added (a value in two batches pending
        counts twice until they are merged)."""
        return (0 if self.total is None else self.total.num_rows) + self.pending_rows

    def result(self) -> tuple[pa.Array, pa.Array]:
        """(distinct non-null values in the order of their first row, their counts)."""
        self._merge()
        if self.total is None:
            return pa.array([], pa.string()), pa.array([], pa.int64())
        return (self.total.column("value").combine_chunks(),
                self.total.column("count").combine_chunks())
