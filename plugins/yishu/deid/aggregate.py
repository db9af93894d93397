"""Aggregate products: counts and sums by group, with small-cell suppression.

Groups with fewer than `min_cell` subjects (distinct values of the product's `subject_key`, or
rows without one) are suppressed (not published): a count of 1 or 2 in a district and month
can single a person out, and so can ten visits of one patient. With `dominance` set, a cell
where one subject contributes more than that share of a measure's total is suppressed too (a
maximum or median that is one person's own value). Measures are statistics (graded L1); the
group-by columns keep the level their own operator left.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def _dominated(df: pd.DataFrame, group_by: list[str], spec: dict, subject: str) -> pd.Series:
    """Per cell (indexed like the grouped frame): one subject's share of some measure's total
    exceeds `dominance`."""
    share = float(spec["dominance"])
    columns = sorted({m["column"] for m in spec["measures"].values() if m["op"] != "count"})
    flagged = None
    for column in columns:
        values = pd.to_numeric(df[column], errors="coerce").abs()
        per_subject = values.groupby([df[g] for g in group_by] + [df[subject]],
                                     dropna=False).sum()
        cells = per_subject.groupby(level=list(range(len(group_by))), dropna=False)
        top, total = cells.max(), cells.sum()
        over = (top > share * total) & (total > 0)
        flagged = over if flagged is None else (flagged | over)
    return flagged


def aggregate(table: pa.Table, spec: dict, subject: str | None = None,
              ) -> tuple[pa.Table, dict]:
    group_by = list(spec["group_by"])
    min_cell = int(spec.get("min_cell", 10))
    df = table.to_pandas()
    if subject is None:  # each row its own subject
        subject = "_row"
        df[subject] = range(len(df))
    df[subject] = df[subject].astype("string").fillna("<null>")  # missing: one subject
    named = {"_rows": (group_by[0], "size"), "_subjects": (subject, "nunique")}
    for name, measure in spec["measures"].items():
        op = "size" if measure["op"] == "count" else measure["op"]
        named[name] = (measure.get("column") or group_by[0], op)
    grouped = df.groupby(group_by, dropna=False, sort=True).agg(**named).reset_index()
    small = grouped["_subjects"] < min_cell
    dominated = pd.Series(False, index=grouped.index)
    if spec.get("dominance") is not None:
        flags = _dominated(df, group_by, spec, subject)
        if flags is not None:
            keys = pd.MultiIndex.from_frame(grouped[group_by]) if len(group_by) > 1 else \
                pd.Index(grouped[group_by[0]])
            dominated = pd.Series(flags.reindex(keys).fillna(False).to_numpy(dtype=bool),
                                  index=grouped.index) & ~small
    suppressed = small | dominated
    report = {"groups": len(grouped), "cells_suppressed": int(suppressed.sum()),
              "cells_dominated": int(dominated.sum()),
              "rows_in_suppressed_cells": int(grouped.loc[suppressed, "_rows"].sum()),
              "min_cell": min_cell, "counted": "rows" if subject == "_row" else subject}
    small = suppressed
    kept = grouped.loc[~small, group_by + list(spec["measures"])].round(2)  # money in fen
    return pa.Table.from_pandas(kept, preserve_index=False), report
