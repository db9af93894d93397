"""The de-identify stage of a product run, streamed: the source's rows are read a batch at a
time, the rows the product excludes are dropped, a sample of the columns declared not personal
is scanned for drift, and the column policy runs through the streaming engine
(deid/engine.apply_batches: free text in worker processes), written batch by batch.

Memory stays flat in the source size for a product of one source: it reads its snapshot three
times, the first two only the columns the exclusions and the drift scan need. A product of
several sources is joined in memory first (pipeline/join.py: the join is a hash join over the
columns the product names) and then streamed the same way.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yishu.definitions import Catalog, Product
from yishu.deid import policy as deid_policy
from yishu.deid import registry
from yishu.deid.engine import EngineStats, apply_batches
from yishu.deid.scan import PERSONAL_IDENTIFIERS, scan_table
from yishu.pipeline import join
from yishu.pipeline.row_groups import BATCH_ROWS, RowGroupWriter, batches

# Columns whose element is at most this level are "not personal data"; they are sampled for
# PII before de-identification (drift detection).
DRIFT_LEVELS = ("L1", "L2")
DRIFT_SAMPLE_ROWS = 5000
WORKERS = 2  # processes for free text (the name model is most of a product's time)

Reader = Callable[[list[str]], Iterator[pa.RecordBatch]]


def reader(cat: Catalog, product: Product,
           inputs: list[dict]) -> tuple[Reader, list[str], int, dict | None]:
    """Batches of the table the product's columns are computed from (given columns only), its
    column names, its rows, and the join's report (None for a product of one source)."""
    if not product.sources:
        snapshot = {i["source"]: i["snapshot"] for i in inputs}[product.source]
        meta = pq.ParquetFile(snapshot)
        return (functools.partial(batches, snapshot), meta.schema_arrow.names,
                meta.metadata.num_rows, None)
    table, report = join.read_inputs(cat, product, inputs)
    return (lambda columns: iter(table.select(columns).to_batches(BATCH_ROWS)),
            table.column_names, table.num_rows, report)


def _kept(product: Product, batch: pa.RecordBatch, hits: list[int]) -> pa.Array:
    """The rows of a batch the product's `exclude_rows` keep; each rule's hits are counted
    among the rows the rules before it kept."""
    keep = pa.array([True] * batch.num_rows)
    for number, rule in enumerate(product.exclude_rows):
        column = pc.utf8_upper(batch.column(rule["column"]).cast(pa.string()))
        hit = pc.and_(pc.fill_null(pc.starts_with(column, rule["starts_with"].upper()), False),
                      keep)
        hits[number] += pc.sum(hit).as_py() or 0
        keep = pc.and_(keep, pc.invert(hit))
    return keep


def _rules_columns(product: Product) -> list[str]:
    return list(dict.fromkeys(rule["column"] for rule in product.exclude_rows))


def excluded(product: Product, read: Reader, rows: int) -> tuple[list[dict], int]:
    """Rows out of scope per rule (the report) and the rows left of `rows`, reading only the
    rules' columns."""
    hits = [0] * len(product.exclude_rows)
    if hits:
        rows = sum(pc.sum(_kept(product, batch, hits)).as_py() or 0
                   for batch in read(_rules_columns(product)))
    return [{**rule, "rows": n} for rule, n in zip(product.exclude_rows, hits, strict=True)], rows


def in_scope(product: Product, read: Reader, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The batches of `columns`, the excluded rows left out."""
    rules = _rules_columns(product)
    wanted = list(dict.fromkeys([*columns, *rules]))
    for batch in read(wanted):
        if rules:
            batch = batch.filter(_kept(product, batch, [0] * len(product.exclude_rows)))
        if batch.num_rows:
            yield batch.select(columns)


def drift_sample(product: Product, read: Reader, columns: list[str], rows: int) -> pa.Table:
    """Every (rows / DRIFT_SAMPLE_ROWS)-th row in scope of `columns`, as scan_table samples
    a table whole."""
    if rows > DRIFT_SAMPLE_ROWS:
        step = rows / DRIFT_SAMPLE_ROWS
        wanted = pa.array([int(i * step) for i in range(DRIFT_SAMPLE_ROWS)], pa.int64())
    else:
        wanted = None
    parts, offset = [], 0
    for batch in in_scope(product, read, columns):
        if wanted is None:
            parts.append(batch)
        else:
            here = pc.subtract(wanted.filter(pc.and_(pc.greater_equal(wanted, offset), pc.less(
                wanted, offset + batch.num_rows))), offset)
            parts.append(batch.take(here))
        offset += batch.num_rows
    return pa.Table.from_batches(parts) if parts else pa.table(
        {c: pa.array([], pa.string()) for c in columns})


def drift(cat: Catalog, product: Product, read: Reader, names: list[str], rows: int) -> dict:
    """Personal identifiers in a sample of the columns declared not personal (L1/L2 elements
    with no pii_entity): findings per column, empty if none."""
    safe = [name for name in names if (e := cat.product_element(product, name)).security_level
            in DRIFT_LEVELS and not e.pii_entity]
    if not safe:
        return {}
    return scan_table(drift_sample(product, read, safe, rows), safe,
                      entities=set(PERSONAL_IDENTIFIERS))


def needed_columns(product: Product) -> list[str]:
    """The given columns the product's published columns are computed from."""
    return list(dict.fromkeys(c.source_column for c in product.columns.values()
                              if registry.get(c.policy).publishes))


def _appliers(cat: Catalog, product: Product, partition: str, keys) -> tuple[Callable, bool]:
    """A maker of the product's policy applier (called once in each worker process), and
    whether the policy has free text to scan."""
    ctx = deid_policy.operator_context(product, partition, keys)  # keys, scanner: once
    scanner = ctx.scanner is not None
    return functools.partial(deid_policy.ProductApplier, cat, product,
                             dataclasses.replace(ctx, scanner=None), scanner), scanner


def _over_no_rows(make: Callable, product: Product) -> tuple[pa.Table, dict]:
    """The policy over no rows: the output's columns, and the per-column report."""
    return make().table(pa.table({c: pa.array([], pa.string())
                                  for c in needed_columns(product)}))


def apply_policy(cat: Catalog, product: Product, rows_in_scope: Iterator[pa.RecordBatch],
                 partition: str, keys, out) -> tuple[int, Counter]:
    """The product's column policy over `rows_in_scope` (batches of `needed_columns`), written
    to `out` (Parquet, in fixed row groups); the rows written and the spans redacted in free
    text per (column, entity)."""
    make, scanner = _appliers(cat, product, partition, keys)
    empty, _ = _over_no_rows(make, product)
    stats = EngineStats()
    with RowGroupWriter(out) as writer:
        apply_batches(make, rows_in_scope, writer, stats, workers=WORKERS, free_text=scanner,
                      batch_rows=BATCH_ROWS)
        rows = writer.close(empty.schema)
    return rows, stats.entities


def columns_report(cat: Catalog, product: Product, partition: str, keys,
                   redacted: Counter) -> dict:
    """The per-column report of the policy, with the spans redacted over every row (counts
    add up over batches and parts)."""
    _, report = _over_no_rows(_appliers(cat, product, partition, keys)[0], product)
    for (column, entity), n in sorted(redacted.items()):
        report[column]["entities_redacted"][entity] = n
    return report
