"""What a product run reads: the newest usable batch of each of its sources and, for a product
of several sources, their rows joined by the authoritative key.

A product of one source reads its snapshot as it is. A product of several (`sources:` with
`join: {on: element}`) matches every row of the other sources to the one record of the key's
authoritative source (an inner join: a row whose key the authority does not hold, or that has
no key, is left out and counted); its columns are named `source.column`, as the product's
`from` names them, each read from the source the catalog check allowed (一数一源). The run
goes on only when every source has a landed or released batch: otherwise nothing is
published, and the reason names the sources that have none. The quality grade of the inputs
is the worst of their grades (就高从严: a product is no better than its weakest source).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yishu.db.queries import latest_usable
from yishu.definitions import GRADES, Catalog, Product
from yishu.definitions.join_checks import key_columns
from yishu.resources import Resources

KEY = "__join_key__"  # the key column while joining; never published
ROW = "__row__"  # a source's row numbers, which keep the output in the sources' order


class NothingToPublish(Exception):
    """A source of the product has no usable batch yet (all quarantined, or none collected)."""


def usable_inputs(res: Resources, product: Product, partition: str) -> list[dict]:
    """The newest landed or released batch up to `partition` of each source the product
    reads, as the run's inputs (what the voucher's lineage lists)."""
    inputs, missing = [], []
    for name in product.source_names:
        batch = latest_usable(res.db, name, partition)
        if batch is None:
            missing.append(name)
            continue
        snapshot = res.storage.raw_snapshot(batch.source, batch.partition,
                                            batch.snapshot_sha256, ".parquet")
        inputs.append({"source": batch.source, "partition": batch.partition,
                       "snapshot_sha256": batch.snapshot_sha256, "grade": batch.quality_grade,
                       "snapshot": str(snapshot), "rows": batch.rows})
    if missing:
        which = ", ".join(f"'{name}'" for name in missing)
        needs = (f" (the join needs a batch of every source: {', '.join(product.sources)})"
                 if product.sources else "")
        has = "source {} has" if len(missing) == 1 else "sources {} have"
        raise NothingToPublish(f"product {product.name}: {has.format(which)} no landed or "
                               f"released batch up to {partition}{needs}: see "
                               "`yishu quarantine ls`")
    return inputs


def worst_grade(inputs: list[dict]) -> str | None:
    """The lowest quality grade among the inputs (None if one has none: graded E)."""
    grades = [i["grade"] for i in inputs]
    if any(g is None for g in grades):
        return None
    return max(grades, key=GRADES.index)


def lineage(inputs: list[dict]) -> list[dict]:
    """The voucher's lineage: every snapshot the version was made of."""
    return [{"source": i["source"], "partition": i["partition"],
             "snapshot_sha256": i["snapshot_sha256"]} for i in inputs]


def read_inputs(cat: Catalog, product: Product,
                inputs: list[dict]) -> tuple[pa.Table, dict | None]:
    """The table the product's columns are computed from, and the join's report (None for a
    product of one source)."""
    snapshots = {i["source"]: i["snapshot"] for i in inputs}
    if not product.sources:
        return pq.read_table(snapshots[product.source]), None
    return joined(cat, product, snapshots)


def referenced(product: Product) -> list[str]:
    """The source columns a product names (`from` and `exclude_rows`), in order, once each."""
    names = [c.source_column for c in product.columns.values()]
    names += [rule["column"] for rule in product.exclude_rows]
    return list(dict.fromkeys(names))


def joined(cat: Catalog, product: Product,
           snapshots: dict[str, str | Path]) -> tuple[pa.Table, dict]:
    """The rows of a product's `sources` joined by `join.on`, with the columns the product
    names (`source.column`) and nothing else; and how many rows of each source matched."""
    on = product.join.on
    authority = cat.elements[on].source
    wanted = referenced(product)
    report: dict = {"on": on, "authority": authority, "sources": {}}
    result = None
    for number, name in enumerate([authority, *(s for s in product.sources if s != authority)]):
        table, counts = _keyed(cat, name, snapshots[name], on, number, wanted)
        if name == authority:
            table, counts["repeated_keys"] = _one_record_per_key(table, f"{ROW}{number}")
        result = table if result is None else result.join(table, KEY, join_type="inner")
        report["sources"][name] = counts
    for number, name in enumerate(report["sources"]):
        rows = result.column(f"{ROW}{number}")
        report["sources"][name]["matched"] = pc.count_distinct(rows).as_py() if len(rows) else 0
    # the join's own order depends on its threads: the rows of the sources as written
    order = [f"{ROW}{list(report['sources']).index(name)}" for name in product.sources]
    result = result.sort_by([(column, "ascending") for column in order])
    report["rows"] = result.num_rows
    return result.select(wanted), report


def _keyed(cat: Catalog, name: str, snapshot: str | Path, on: str, number: int,
           wanted: list[str]) -> tuple[pa.Table, dict]:
    """A source's key, row numbers and the columns the product names from it; rows without a
    key are left out (they match nothing) and counted."""
    source = cat.sources[name]
    key = key_columns(source, on)[0]
    mine = {ref: ref.partition(".")[2] for ref in wanted if ref.partition(".")[0] == name}
    table = pq.read_table(snapshot, columns=list(dict.fromkeys([key, *mine.values()])))
    keyed = pa.table({KEY: table.column(key), f"{ROW}{number}": pa.array(
        range(table.num_rows), pa.int64()), **{ref: table.column(c) for ref, c in mine.items()}})
    has_key = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(keyed.column(KEY)), ""), False)
    kept = keyed.filter(has_key)
    return kept, {"rows": table.num_rows, "without_key": table.num_rows - kept.num_rows}


def _one_record_per_key(table: pa.Table, row: str) -> tuple[pa.Table, int]:
    """The authority's first record of each key (a repeated key would multiply the rows that
    meet it; validation reports the repetition), and how many records were set aside."""
    first = table.group_by(KEY, use_threads=False).aggregate([(row, "min")])
    kept = table.filter(pc.is_in(table.column(row), value_set=first.column(f"{row}_min")))
    return kept, table.num_rows - kept.num_rows
