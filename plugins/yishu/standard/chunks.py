"""Validate one table as a sequence of chunks, so memory stays flat in the table's size.

Great Expectations still decides every row: each chunk is validated by `validate_frame`, and
the per-chunk results of each expectation are summed (element, missing and unexpected counts;
the first example rows in row order). Success and percentages are then computed from the
totals with GE's own rule (a `mostly` threshold applies to the whole table, never to a chunk).
Only column-map expectations add up like this; a suite with any other kind is validated in one
chunk. Uniqueness is the exception that does not add up (a duplicate may be split across two
chunks): its counts come from an Arrow check over the whole key column, given by the caller.
"""

from __future__ import annotations

import gc
import pathlib
from collections.abc import Iterable
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from yishu.standard.validate import (
    EXAMPLE_ROWS,
    ExpectationOutcome,
    ValidationOutcome,
    build_data_docs,
    validate_frame,
)

UNIQUE = "expect_column_values_to_be_unique"
# Nulls count against this one itself, so its share is of every row (GE does the same).
NOT_NULL = "expect_column_values_to_not_be_null"


def chunkable(suite: dict) -> bool:
    """True when every expectation of the suite is a column-map one (counts that add up)."""
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.registry import get_expectation_impl

    from yishu.standard.validate import _import_gx

    _import_gx()  # registers the custom types
    try:
        return all(issubclass(get_expectation_impl(e["type"]), ColumnMapExpectation)
                   for e in suite.get("expectations", []))
    except Exception:  # an unknown type: the one-chunk run reports it with its message
        return False


def unique_columns(suite: dict) -> list[str]:
    return sorted({e["kwargs"]["column"] for e in suite.get("expectations", [])
                   if e["type"] == UNIQUE and "column" in (e.get("kwargs") or {})})


def key_piece(values) -> pa.Array:
    """A chunk of a unique column as the check keeps it until the end: numbers as they are,
    text as a 64-bit hash (8 bytes a row, whatever the text's length); nulls stay null. Two
    texts may share a hash: the rows whose hash repeats are told apart by their values
    (`duplicates` of just those rows, read again)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype):  # (text is `str` in pandas 3, not object)
        return pa.array(values, from_pandas=True)
    hashes = pd.util.hash_array(values.to_numpy(dtype=object))
    return pa.array(hashes, pa.uint64(), mask=values.isna().to_numpy())


def repeated_rows(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The row positions of the non-null values that occur more than once."""
    present = values.drop_null()
    if pa.types.is_integer(present.type):  # hashes, integers: sorted in place of a hash table
        import numpy as np  # (value_counts of 10M distinct keys costs a gigabyte, a sort 80 MB)

        ordered = np.sort(present.to_numpy())
        repeated = pa.array(np.unique(ordered[1:][ordered[1:] == ordered[:-1]]), present.type)
    else:
        counts = pc.value_counts(present)
        repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return pc.indices_nonzero(pc.fill_null(pc.is_in(values, value_set=repeated), False))


def duplicates(values: pa.ChunkedArray | pa.Array, rows=None) -> tuple[int, list[int]]:
    """(rows whose non-null value occurs more than once, the first such row positions):
    GE's `expect_column_values_to_be_unique` over the whole column at once. `rows`: the
    row position of each value, when `values` are some rows of the column only."""
    found = repeated_rows(values)
    first = found.slice(0, EXAMPLE_ROWS).to_pylist()
    return len(found), first if rows is None else [int(rows[i]) for i in first]


def _add(total: ExpectationOutcome, part: ExpectationOutcome) -> ExpectationOutcome:
    def plus(a, b):
        return None if a is None and b is None else (a or 0) + (b or 0)
    return replace(
        total,
        element_count=plus(total.element_count, part.element_count),
        unexpected_count=plus(total.unexpected_count, part.unexpected_count),
        missing_count=plus(total.missing_count, part.missing_count),
        example_rows=(total.example_rows + part.example_rows)[:EXAMPLE_ROWS],
        exception=total.exception or part.exception,
        success=total.success and part.success,
    )


def _settle(r: ExpectationOutcome) -> ExpectationOutcome:
    """Success and percentage from the totals, as GE's ColumnMapExpectation computes them."""
    if r.exception is not None or r.element_count is None or r.unexpected_count is None:
        return r
    considered = r.element_count - (0 if r.type == NOT_NULL else (r.missing_count or 0))
    if considered == 0:
        return replace(r, success=True, unexpected_percent=None)
    mostly = r.kwargs.get("mostly", 1)
    ratio = (float(considered) - float(r.unexpected_count)) / float(considered)
    return replace(r, success=ratio >= mostly,
                   unexpected_percent=100 * r.unexpected_count / considered)


def run_chunks(frames: Iterable, suite: dict, *, data_docs_dir: pathlib.Path | None = None,
               uniques: dict[str, tuple[int, list[int]]] | None = None) -> ValidationOutcome:
    """Validate `frames` (pandas chunks of one table, indexed by row position in the table)
    and merge the results. `uniques` (column -> `duplicates(...)`) replaces the per-chunk
    uniqueness counts; it is read after the frames are consumed, so the caller may fill it
    while they are produced."""
    totals: list[ExpectationOutcome] | None = None
    last = None
    for frame in frames:
        # a GE run holds its frame in reference cycles: the previous one is let go and
        # collected before the next, so memory is one chunk's, not the chunks' sum
        last = None
        gc.collect()
        last = validate_frame(frame, suite)
        del frame
        parts = last.outcomes()
        totals = parts if totals is None else [_add(t, p) for t, p in zip(totals, parts,
                                                                            strict=True)]
    if last is None:
        raise ValueError("no chunk to validate")
    merged = []
    for r in totals:
        if r.type == UNIQUE and uniques and r.column in uniques and r.exception is None:
            count, rows = uniques[r.column]
            r = replace(r, unexpected_count=count, example_rows=rows)
        merged.append(_settle(r))
    outcome = ValidationOutcome(suite_name=last.suite_name, results=merged)
    if data_docs_dir is not None:
        _store_merged(last, merged)
        outcome.data_docs_index = build_data_docs(last.context, pathlib.Path(data_docs_dir))
    return outcome


def _store_merged(run, merged: list[ExpectationOutcome]) -> None:
    """Overwrite the last chunk's stored GE result with the table's totals, so Data Docs
    show the whole table, not its last chunk."""
    for gx_result, r in zip(run.result.results, merged, strict=True):
        gx_result.success = r.success
        details = dict(gx_result.result or {})
        for name in ("element_count", "unexpected_count", "unexpected_percent", "missing_count"):
            if name in details:
                details[name] = getattr(r, name)
        details["partial_unexpected_index_list"] = r.example_rows
        gx_result.result = details
    run.result.success = all(r.success for r in merged if r.severity == "critical")
    store = run.context.validation_results_store
    for key in store.list_keys():
        store.set(key, run.result)
