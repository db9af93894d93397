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


def k_anonymize(table: pa.Table, qis: list[str], k: int, max_suppression: float, *,
                sensitive: str | None = None, l_required: int | None = None,
                subject: str | None = None) -> tuple[pa.Table, RiskResult]:
    counted = subject or "rows"
    if not qis or table.num_rows == 0:
        return table, RiskResult(list(qis), k, None, table.num_rows, 0, max_suppression,
                                 counted=counted)
    df = table.select(qis).to_pandas().astype("string").fillna("<null>")
    if subject:
        df["_subject"] = table.column(subject).to_pandas().astype("string").fillna("<null>")
        sizes = df.groupby(qis, sort=False, dropna=False)["_subject"].transform("nunique")
    else:
        sizes = df.groupby(qis, sort=False, dropna=False)[qis[0]].transform("size")
    keep = sizes >= k
    smallest = (df[qis].assign(size=sizes).drop_duplicates(qis).nsmallest(5, "size")
                .to_dict("records"))
    kept = table.filter(pa.array(keep.to_numpy()))
    result = RiskResult(list(qis), k, int(sizes[keep].min()) if keep.any() else 0,
                        table.num_rows, int((~keep).sum()), max_suppression,
                        smallest_classes=[{**{q: r[q] for q in qis}, "rows": int(r["size"])}
                                          for r in smallest], counted=counted)
    if sensitive and l_required:
        sens = table.column(sensitive).to_pandas().astype("string")  # nulls stay missing
        classes = df[qis].assign(_s=sens)[keep].groupby(qis, dropna=False)["_s"]
        distinct = classes.nunique(dropna=True)
        result.l_required, result.l_achieved = l_required, int(distinct.min()) if len(
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
    return kept, result
