"""Cross-source consistency (一致性): where a source carries an element that another source is
authoritative for, next to that source's key (e.g. a hospital name next to its USCC), compare
the values with the authoritative source's latest usable batch and count disagreements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from yishu.definitions import Catalog, Source


def compared_pairs(cat: Catalog, source: Source):
    """(authority, key column here, key column there, column here, column there)."""
    for col in source.columns.values():
        authority = cat.sources.get(cat.elements[col.element].source)
        if authority is None or authority.name == source.name or not authority.key:
            continue
        key_element = authority.columns[authority.key].element
        here_key = next((c.name for c in source.columns.values() if c.element == key_element),
                        None)
        there = next((c.name for c in authority.columns.values() if c.element == col.element),
                     None)
        if here_key and there and col.name != here_key:
            yield authority, here_key, authority.key, col.name, there


def consistency_rate(cat: Catalog, source: Source, frames: Iterable[pd.DataFrame],
                     latest_snapshot: Callable[[str], Path | None]) -> dict:
    """`frames`: the compared columns a chunk at a time (indexed by row position), so the
    source is never read whole; the counts add up over chunks. `latest_snapshot(source)` gives
    the Parquet snapshot of a source's latest usable batch (None if it has none): the caller
    knows where batches are kept."""
    checks, refs = [], {}
    for authority, here_key, there_key, here, there in compared_pairs(cat, source):
        snapshot = latest_snapshot(authority.name)
        if snapshot is None:
            checks.append({"column": here, "authority": authority.name,
                           "note": "no usable batch of the authoritative source yet"})
            continue
        ref = pq.read_table(snapshot, columns=[there_key, there]).to_pandas()
        refs[len(checks)] = (here_key, here, ref.drop_duplicates(there_key).set_index(
            there_key)[there])
        checks.append({"column": here, "authority": authority.name,
                       "authority_column": there, "key": here_key, "compared": 0,
                       "disagreed": 0, "unknown_keys": 0, "example_rows": []})
    for df in frames if refs else ():
        for i, (here_key, here, ref) in refs.items():
            pairs = df[[here_key, here]].dropna()
            expected = pairs[here_key].map(ref)
            known = expected.notna()
            check = checks[i]
            check["compared"] += int(known.sum())
            check["disagreed"] += int((pairs.loc[known, here] != expected[known]).sum())
            check["unknown_keys"] += int((~known).sum())
            examples = pairs.loc[known & (pairs[here] != expected)].index[:5].tolist()
            check["example_rows"] = (check["example_rows"] + [str(r) for r in examples])[:5]
    compared = sum(c.get("compared", 0) for c in checks)
    disagreed = sum(c.get("disagreed", 0) for c in checks)
    rate = 1 - disagreed / compared if compared else None
    return {"rate": rate, "checks": checks}
