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


def _text(column) -> pa.ChunkedArray | pa.Array:
    return pc.fill_null(pc.cast(column, pa.string()), NULL)


def risk_columns(qis: list[str], sensitive: str | None, subject: str | None) -> list[str]:
    """The only columns the check reads: the quasi-identifiers, the subject key, the sensitive
    attribute."""
    return list(dict.fromkeys([*qis, *([subject] if subject else []),
                               *([sensitive] if sensitive else [])]))


def k_anonymity(table: pa.Table, qis: list[str], k: int, max_suppression: float, *,
                sensitive: str | None = None, l_required: int | None = None,
                subject: str | None = None) -> tuple[pa.Array | None, RiskResult]:
    """Which rows to keep (a boolean mask in row order; None: all of them) and the verdict.
    `table` needs only the columns risk_columns names, so a product's check reads just those
    from its file (pipeline/product_risk.py). Classes are Arrow group-bys: threads off, so
    they come in the order their first rows do (the smallest ones are listed in that order)."""
    counted = subject or "rows"
    if not qis or table.num_rows == 0:
        return None, RiskResult(list(qis), k, None, table.num_rows, 0, max_suppression,
                                counted=counted)
    rows = pa.table({**{q: _text(table.column(q)) for q in qis},
                     "_subject": (_text(table.column(subject)) if subject
                                  else pa.array(range(table.num_rows), pa.int64())),
                     "_row": pa.array(range(table.num_rows), pa.int64())})
    classes = rows.group_by(qis, use_threads=False).aggregate([("_subject", "count_distinct")])
    classes = classes.rename_columns([*qis, "_size"]).append_column(
        "_class", pa.array(range(classes.num_rows), pa.int64()))
    sized = rows.select([*qis, "_row"]).join(classes, keys=qis, use_threads=False)
    sizes = sized.sort_by("_row").column("_size")
    keep = pc.greater_equal(sizes, k).combine_chunks()
    large = pc.filter(classes.column("_size"), pc.greater_equal(classes.column("_size"), k))
    smallest = classes.sort_by([("_size", "ascending"), ("_class", "ascending")]).slice(0, 5)
    result = RiskResult(list(qis), k, pc.min(large).as_py() if len(large) else 0,
                        table.num_rows, table.num_rows - (pc.sum(keep).as_py() or 0),
                        max_suppression, counted=counted,
                        smallest_classes=[{**{q: r[q] for q in qis}, "rows": r["_size"]}
                                          for r in smallest.select([*qis, "_size"]).to_pylist()])
    if sensitive and l_required:
        kept = rows.select(qis).append_column(  # nulls stay missing: they diversify nothing
            "_s", pc.cast(table.column(sensitive), pa.string())).filter(keep)
        distinct = kept.group_by(qis, use_threads=False).aggregate([("_s", "count_distinct")])
        result.l_required = l_required
        result.l_achieved = pc.min(distinct.column("_s_count_distinct")).as_py() if len(
            distinct) else 0
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
    return keep, result


def k_anonymize(table: pa.Table, qis: list[str], k: int, max_suppression: float, *,
                sensitive: str | None = None, l_required: int | None = None,
                subject: str | None = None) -> tuple[pa.Table, RiskResult]:
    """k_anonymity on a table in memory: the rows kept and the verdict."""
    keep, result = k_anonymity(table, qis, k, max_suppression, sensitive=sensitive,
                               l_required=l_required, subject=subject)
    return (table if keep is None else table.filter(keep)), result
