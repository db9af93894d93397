"""Re-identification risk gate: k-anonymity over quasi-identifiers, optional l-diversity.

A class's size is the number of distinct subjects in it (the product's `subject_key`: a
patient with five visits is one person), or of rows when the product has no subject key.
Rows in classes of fewer than k subjects are suppressed; if that removes more rows than the
zone allows, the version fails. Nulls count as a quasi-identifier value of their own (a
missing age band is a class) and as one subject; l-diversity counts distinct non-null
sensitive values (a missing diagnosis discloses nothing and diversifies nothing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class RiskResult:
    quasi_identifiers: list[str]
    k_required: int
    k_achieved: int | None  # after suppression; None when there are no quasi-identifiers
    rows_in: int
    rows_suppressed: int
    max_suppression: float
    l_required: int | None = None
    l_achieved: int | None = None
    counted: str = "rows"  # what k counts: "rows", or the subject key's column
    smallest_classes: list[dict] = field(default_factory=list)
    passed: bool = True
    reason: str | None = None

    @property
    def suppression_rate(self) -> float:
        return self.rows_suppressed / self.rows_in if self.rows_in else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "suppression_rate": round(self.suppression_rate, 4)}


NULL = "<null>"  # a missing quasi-identifier value or subject: a value of its own


def risk_columns(qis: list[str], sensitive: str | None, subject: str | None) -> list[str]:
    """The only columns the check reads: the quasi-identifiers, the subject key, the sensitive
    attribute."""
    return list(dict.fromkeys([*qis, *([subject] if subject else []),
                               *([sensitive] if sensitive else [])]))


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Each row's value as an integer below `size` (size - 1: missing): a class is a tuple of
    codes, so no row's text is copied (at 10M rows the text columns and their join took
    2.8 GB). Text columns come dictionary-encoded from Parquet (`read_dictionary`)."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    column = column.unify_dictionaries()
    size = (len(column.chunk(0).dictionary) if column.num_chunks else 0) + 1
    codes = [c.indices.fill_null(size - 1).to_numpy(zero_copy_only=False) for c in column.chunks]
    return (np.concatenate(codes).astype(np.int64) if codes else np.zeros(0, np.int64)), size


def _dense(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes renumbered 0… in the order of their first rows (as Arrow's group-by would list
    the classes), and how many there are."""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)], len(first)


def _distinct_per_class(classes: np.ndarray, count: int, values: np.ndarray) -> np.ndarray:
    """The number of distinct values in each class (values: any 64-bit integers)."""
    order = np.lexsort((values, classes))
    c, v = classes[order], values[order]
    new = np.ones(len(c), bool)
    new[1:] = (c[1:] != c[:-1]) | (v[1:] != v[:-1])
    return np.bincount(c[new], minlength=count)


def subject_hashes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A subject key as 64-bit hashes, 8 bytes a row whatever the key's length (a missing key
    is one value of its own). Two subjects sharing a hash count as one, which can only make a
    class look smaller: more rows suppressed, never fewer."""
    import pandas as pd

    return pd.util.hash_array(column.to_numpy(zero_copy_only=False).astype(object))


def _value(column: pa.ChunkedArray, row: int) -> str:
    """A row's value as the class lists it: Arrow's text of it, NULL when missing."""
    one = column.slice(row, 1).combine_chunks()
    if pa.types.is_dictionary(one.type):
        one = one.dictionary_decode()
    text = pc.cast(one, pa.string())[0].as_py()
    return NULL if text is None else text


def k_anonymity(table: pa.Table, qis: list[str], k: int, max_suppression: float, *,
                sensitive: str | None = None, l_required: int | None = None,
                subject: str | None = None) -> tuple[pa.Array | None, RiskResult]:
    """Which rows to keep (a boolean mask in row order; None: all of them) and the verdict.
    `table` needs only the columns risk_columns names, so a product's check reads just those
    from its file (pipeline/product_risk.py). Classes are numbered in the order of their first
    rows (the smallest ones are listed in that order)."""
    counted = subject or "rows"
    if not qis or table.num_rows == 0:
        return None, RiskResult(list(qis), k, None, table.num_rows, 0, max_suppression,
                                counted=counted)
    classes, count = np.zeros(table.num_rows, np.int64), 1
    for q in qis:  # renumbered after each column, so the codes stay below the row count
        codes, size = _codes(table.column(q))
        classes, count = _dense(classes * size + codes)
    if subject:  # a column of hashes already (product_risk), or the key itself
        column = table.column(subject)
        sizes = _distinct_per_class(classes, count, column.to_numpy() if column.type == pa.uint64()
                                    else subject_hashes(column))
    else:
        sizes = np.bincount(classes, minlength=count)
    keep_np = sizes[classes] >= k
    kept_rows = int(keep_np.sum())
    large = sizes[sizes >= k]
    first_rows = np.unique(classes, return_index=True)[1]  # class i's first row, i = 0…
    smallest = np.lexsort((np.arange(count), sizes))[:5]
    result = RiskResult(list(qis), k, int(large.min()) if len(large) else 0,
                        table.num_rows, table.num_rows - kept_rows, max_suppression,
                        counted=counted, smallest_classes=[
                            {**{q: _value(table.column(q), int(first_rows[c])) for q in qis},
                             "rows": int(sizes[c])} for c in smallest])
    if sensitive and l_required:  # distinct non-missing values: a missing one diversifies nothing
        values, size = _codes(table.column(sensitive))
        present = keep_np & (values != size - 1)
        diverse = _distinct_per_class(classes[present], count, values[present])
        in_kept = np.unique(classes[keep_np])
        result.l_required = l_required
        result.l_achieved = int(diverse[in_kept].min()) if len(in_kept) else 0
    if result.suppression_rate > max_suppression:
        result.passed = False
        result.reason = (f"reaching k={k} would suppress {result.rows_suppressed} of "
                         f"{result.rows_in} rows ({result.suppression_rate:.1%}), more than the "
                         f"zone allows ({max_suppression:.0%}): generalize the quasi-identifiers "
                         f"{qis} further")
    elif result.l_required and (result.l_achieved or 0) < result.l_required:
        result.passed = False
        result.reason = (f"l-diversity {result.l_achieved} < {result.l_required} on "
                         f"'{sensitive}': generalize the quasi-identifiers further")
    return pa.array(keep_np), result


def k_anonymize(table: pa.Table, qis: list[str], k: int, max_suppression: float, *,
                sensitive: str | None = None, l_required: int | None = None,
                subject: str | None = None) -> tuple[pa.Table, RiskResult]:
    """k_anonymity on a table in memory: the rows kept and the verdict."""
    keep, result = k_anonymity(table, qis, k, max_suppression, sensitive=sensitive,
                               l_required=l_required, subject=subject)
    return (table if keep is None else table.filter(keep)), result
