"""Cross-source consistency (一致性): where a source carries an element that another source is
authoritative for, next to that source's key (e.g. a hospital name next to its USCC), compare
the values with the authoritative source's latest usable batch and count disagreements."""

from __future__ import annotations

from collections.abc import Callable
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


def consistency_rate(cat: Catalog, source: Source, df: pd.DataFrame,
                     latest_snapshot: Callable[[str], Path | None]) -> dict:
    """`latest_snapshot(source)` gives the Parquet snapshot of a source's latest usable batch
    (None if it has none): the caller knows where batches are kept."""
    checks, compared, disagreed = [], 0, 0
    for authority, here_key, there_key, here, there in compared_pairs(cat, source):
        snapshot = latest_snapshot(authority.name)
        if snapshot is None:
            checks.append({"column": here, "authority": authority.name,
                           "note": "no usable batch of the authoritative source yet"})
            continue
        ref = pq.read_table(snapshot, columns=[there_key, there]).to_pandas()
        ref = ref.drop_duplicates(there_key).set_index(there_key)[there]
        pairs = df[[here_key, here]].dropna()
        expected = pairs[here_key].map(ref)
        known = expected.notna()
        bad = int((pairs.loc[known, here] != expected[known]).sum())
        compared += int(known.sum())
        disagreed += bad
        examples = pairs.loc[known & (pairs[here] != expected)].index[:5].tolist()
        checks.append({"column": here, "authority": authority.name,
                       "authority_column": there, "key": here_key, "compared": int(known.sum()),
                       "disagreed": bad, "unknown_keys": int((~known).sum()),
                       "example_rows": [str(i) for i in examples]})
    rate = 1 - disagreed / compared if compared else None
    return {"rate": rate, "checks": checks}
