"""Schema drift of a delivery against its source's mapping (`columns:` in
`catalog/sources/<source>.yaml`), found before validation.

Four kinds: an *added* column (in the delivery, not mapped: it never enters the raw snapshot,
so it is never published, and the steward is told), a *missing* column (declared, absent: the
batch stops), a *renamed* column (a missing column and an added one whose name looks like it)
and a *retyped* column (most of its values do not parse as its element's `type`). Reasons name
columns and shares, never values.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field

import pandas as pd

# A column is retyped when at least this share of its non-empty values fail to parse as its
# element's type; fewer failures are row-level dirt that the expectations count.
RETYPED_SHARE = 0.5
_LOOKS_RENAMED = 0.6  # difflib ratio of two lowercased names
METADATA_KEY = b"yishu_drift"


@dataclass
class Drift:
    added: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # missing column -> new column
    retyped: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_metadata(self) -> dict[bytes, bytes]:
        return {METADATA_KEY: json.dumps(self.to_dict()).encode()}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> Drift:
        raw = (metadata or {}).get(METADATA_KEY)
        return cls(**json.loads(raw)) if raw else cls()


def header_drift(names: list[str], columns: dict) -> Drift:
    """Added, missing and renamed columns of a header against the mapping `columns`
    (name -> column with `.required`)."""
    added = [c for c in names if c not in columns]
    missing = [c for c in columns if c not in names]
    renamed: dict[str, str] = {}
    for column in missing:
        candidates = [c for c in added if c not in renamed.values()]
        best = max(candidates, default=None,
                   key=lambda c: difflib.SequenceMatcher(None, column.lower(), c.lower()).ratio())
        if best is not None and (len(missing) == len(added) == 1 or difflib.SequenceMatcher(
                None, column.lower(), best.lower()).ratio() >= _LOOKS_RENAMED):
            renamed[column] = best
    return Drift(added=added,
                 missing_required=[c for c in missing if columns[c].required],
                 missing_optional=[c for c in missing if not columns[c].required],
                 renamed=renamed)


def missing_reason(drift: Drift, where: str, source_file) -> str:
    """One line naming the missing columns (required first), a likely rename, what to do."""
    def named(cols: list[str]) -> str:
        return ", ".join(f"{c} (renamed to {drift.renamed[c]}?)" if c in drift.renamed else c
                         for c in cols)
    parts = []
    if drift.missing_required:
        parts.append(f"required {named(drift.missing_required)}")
    if drift.missing_optional:
        parts.append(f"optional {named(drift.missing_optional)}")
    return (f"{where}: missing column(s) {drift.missing_required + drift.missing_optional} "
            f"declared in {source_file}: {'; '.join(parts)}: fix the export, or map the new "
            "name in the source's `columns:`")


def _fails(values: pd.Series, type_: str) -> pd.Series:
    """True where a (non-empty, text) value does not parse as `type_`."""
    if type_ in ("integer", "decimal"):
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna()
        if type_ == "integer":
            bad |= numbers.notna() & (numbers != numbers.round())
        return bad
    digits = values.str.fullmatch(r"\d+")  # 20261101 is not a date: it is a retyped column
    if type_ == "date":
        return pd.to_datetime(values, errors="coerce", format="%Y-%m-%d").isna() | digits
    return pd.to_datetime(values, errors="coerce", format="mixed").isna() | digits


def retyped(df: pd.DataFrame, types: dict[str, str]) -> list[dict]:
    """Columns (of a frame of text) whose values mostly fail to parse as their element's type
    (`types`: column -> integer|decimal|date|datetime), with the share that fails."""
    return retyped_from_counts(retyped_counts(df, types))


def retyped_counts(df: pd.DataFrame, types: dict[str, str],
                   into: dict[str, list] | None = None) -> dict[str, list]:
    """column -> [type, failing, checked] of a frame of text, added to `into` (the counts of
    earlier chunks of the same table: the share is judged on the totals)."""
    out = {} if into is None else into
    for column, type_ in types.items():
        if type_ not in ("integer", "decimal", "date", "datetime") or column not in df:
            continue
        values = df[column].dropna().astype("string").str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        counts = out.setdefault(column, [type_, 0, 0])
        counts[1] += int(_fails(values, type_).sum())
        counts[2] += len(values)
    return out


def retyped_from_counts(counts: dict[str, list]) -> list[dict]:
    out = []
    for column, (type_, failing, checked) in counts.items():
        share = failing / checked
        if share >= RETYPED_SHARE:
            out.append({"column": column, "type": type_, "failing": failing,
                        "checked": checked, "share": round(share, 4)})
    return out


def retyped_reason(items: list[dict]) -> str:
    return "; ".join(f"column {r['column']}: {r['share']:.0%} of {r['checked']} values are not "
                     f"a valid {r['type']}" for r in items)
