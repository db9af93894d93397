"""Apply a product's column policy to a source table: the de-identification step.

Each output column takes one source column through one operator; the product's default for a
column is its element's `policy`. The output column's security level is graded again after the
operator (derived data is graded again, 就高从严 takes the highest over columns).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from yishu.definitions.models import LEVELS, Catalog, Element, Product, ProductColumn
from yishu.deid import registry
from yishu.deid.engine import shared_scanner
from yishu.deid.files import FileWriter, iter_batches, source_schema_of
from yishu.errors import UserInputError


class Secrets(Protocol):
    """The keys an operator may need, passed in (yishu.keys.Keys, or a stand-in in tests)."""

    def pseudonym_secret(self, zone: str) -> bytes: ...

    def encryption_key(self) -> bytes: ...


# Numbers kept as numbers; what does not parse (counted by validation) becomes null, never text.
# Integers are cast from their digits (no float: exact up to 18 digits, "1.5" is not an integer).
_NUMBER_FORMATS = {"integer": (r"^\s*-?\d{1,18}\s*$", pa.int64()),
                   "decimal": (r"^\s*-?\d+(\.\d+)?\s*$", pa.float64())}


def output_level(element: Element, column: ProductColumn) -> str:
    """The level an operator leaves, capped by the element's own (an operator never raises it)."""
    after = registry.get(column.policy).level_after or element.security_level
    return min(after, element.security_level, key=LEVELS.index)


def policy_hash(cat: Catalog, product: Product) -> str:
    """Hash of everything that decides what a version contains: the product (columns, row
    exclusions, aggregation, quasi-identifiers), its zone (k, suppression, levels) and the
    elements it reads. Any change to these publishes a new version."""
    elements = {c.source_column: cat.product_element(product, c.source_column)
                for c in product.columns.values()}
    # `sources` and `join` only when set: a product of one source keeps the hash it had
    # before products could join (an unchanged product publishes no new version)
    fields = {k: v for k, v in dataclasses.asdict(product).items() if k != "file" and not (
        k in ("sources", "join") and not v)}
    body = json.dumps({
        "product": fields,
        "zone": dataclasses.asdict(cat.zones[product.zone]),
        "elements": {k: dataclasses.asdict(e) for k, e in sorted(elements.items())},
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def entity_totals(columns_report: dict) -> dict[str, int]:
    """Entities redacted over all columns of a de-identification report."""
    totals: Counter = Counter()
    for col in columns_report.values():
        totals.update(col.get("entities_redacted", {}))
    return dict(totals)


def _typed(array: pa.Array, element: Element) -> pa.Array:
    """Values published as they are keep their element's number type."""
    if element.type not in _NUMBER_FORMATS:
        return array
    pattern, target = _NUMBER_FORMATS[element.type]
    cleaned = pc.if_else(pc.match_substring_regex(array, pattern), array, None)
    return pc.cast(pc.utf8_trim_whitespace(cleaned), target)


def operator_context(product: Product, partition: str, keys: Secrets) -> registry.Context:
    """What the product's operators need, and only that: keys are read and the scanner (~2.5 s)
    loaded only if an operator of the product needs them."""
    needs = registry.needs_of(c.policy for c in product.columns.values())
    return registry.Context(
        secret=keys.pseudonym_secret(product.zone) if "secret" in needs else None,
        key=keys.encryption_key() if "key" in needs else None, zone=product.zone,
        on=dt.date.fromisoformat(partition) if "date" in needs else None,
        scanner=shared_scanner() if "scanner" in needs else None)  # the engine's, one per process


def apply_column(array: pa.Array, element: Element, column: ProductColumn,
                 ctx: registry.Context, entity_counts: Counter) -> pa.Array:
    out, found = registry.apply(array, column.policy, dataclasses.replace(
        ctx, to=column.to, entity=element.pii_entity))
    entity_counts.update(found)
    return _typed(out, element) if registry.get(column.policy).passthrough else out


def apply_policy(cat: Catalog, product: Product, table: pa.Table, partition: str,
                 keys: Secrets) -> tuple[pa.Table, dict]:
    """The product's published columns computed from `table`, and the report per column."""
    return _apply(cat, product, table, operator_context(product, partition, keys))


def _apply(cat: Catalog, product: Product, table: pa.Table,
           ctx: registry.Context) -> tuple[pa.Table, dict]:
    columns, report = {}, {}
    for name, column in product.columns.items():
        if not registry.get(column.policy).publishes:
            continue
        element = cat.product_element(product, column.source_column)
        counts: Counter = Counter()
        array = table.column(column.source_column).combine_chunks()
        columns[name] = apply_column(array, element, column, ctx, counts)
        report[name] = {"from": column.source_column, "element": element.name,
                        "operator": column.policy + (f":{column.to}" if column.to else ""),
                        "level_before": element.security_level,
                        "level_after": output_level(element, column),
                        "entities_redacted": dict(counts)}
    return pa.table(columns), report


class ProductApplier:
    """A product's column policy as an applier of the streaming engine (engine.apply_batches):
    made in the process that runs it, which loads the scanner there if the policy needs it (a
    forked worker inherits the parent's). Its Counter is keyed by (output column, entity)."""

    def __init__(self, cat: Catalog, product: Product, ctx: registry.Context, scanner: bool):
        self.cat, self.product = cat, product
        self.ctx = dataclasses.replace(ctx, scanner=shared_scanner() if scanner else None)

    def table(self, table: pa.Table) -> tuple[pa.Table, dict]:
        return _apply(self.cat, self.product, table, self.ctx)

    def batch(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter]:
        out, report = self.table(pa.Table.from_batches([batch]))
        counts = Counter({(name, entity): n for name, col in report.items()
                          for entity, n in col["entities_redacted"].items()})
        return pa.RecordBatch.from_arrays([c.combine_chunks() for c in out.columns],
                                          names=out.column_names), counts


def product_level(report: dict) -> str:
    """就高从严: the product's level is the highest level among its published columns."""
    return max((c["level_after"] for c in report.values()), key=LEVELS.index, default="L1")


def deidentify_file(cat: Catalog, product: Product, path, out, partition: str, keys: Secrets,
                    batch_rows: int = 65_536) -> tuple[int, dict]:
    """Apply a product's policy to an ad hoc file (`yishu deidentify FILE --product P`),
    streamed batch by batch; returns the rows written and the per-column report."""
    needed = {c.source_column for c in product.columns.values()
              if registry.get(c.policy).publishes}
    missing = sorted(needed - set(source_schema_of(path).names))
    if missing:
        raise UserInputError(f"{path}: columns {missing} of source "
                             f"'{', '.join(product.source_names)}' are missing: product "
                             f"'{product.name}' needs them")
    ctx = operator_context(product, partition, keys)  # keys and scanner once, not per batch
    writer, rows, report, schema = FileWriter(Path(out), batch_rows), 0, {}, None
    try:
        for batch in iter_batches(path, batch_rows, sorted(needed)):
            table, columns = _apply(cat, product, pa.Table.from_batches([batch]), ctx)
            for name, col in columns.items():  # entity counts add up over batches
                known = report.setdefault(name, {**col, "entities_redacted": {}})
                for entity, n in col["entities_redacted"].items():
                    known["entities_redacted"][entity] = (
                        known["entities_redacted"].get(entity, 0) + n)
            for b in table.to_batches():
                writer.write(b)
            rows += table.num_rows
            schema = table.schema
        writer.close(schema or pa.schema([]))
    except BaseException:
        writer.abort()  # no half-written .tmp left next to the output
        raise
    return rows, report
