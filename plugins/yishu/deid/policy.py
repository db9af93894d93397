"""Apply a product's column policy to a source table: the de-identification step.

Each output column takes one source column through one operator; the product's default for a
column is its element's `policy`. The output column's security level is graded again after the
operator (derived data is graded again, 就高从严 takes the highest over columns).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from yishu import keys
from yishu.catalog.spec import LEVELS, Catalog, Element, Product, ProductColumn
from yishu.deid import operators
from yishu.errors import UserInputError

# The level an operator leaves, capped by the element's own level.
_LEVEL_AFTER = {"mask": "L2", "generalize": "L2", "redact": "L2", "pseudonymize": "L3",
                "encrypt": "L3"}
_ARROW_TYPES = {"integer": pa.int64(), "decimal": pa.float64()}


def output_level(element: Element, column: ProductColumn) -> str:
    if column.policy == "keep":
        return element.security_level
    after = _LEVEL_AFTER.get(column.policy, element.security_level)
    return min(after, element.security_level, key=LEVELS.index)


def policy_hash(product: Product) -> str:
    spec = {name: [c.source_column, c.policy, c.to] for name, c in product.columns.items()}
    body = json.dumps([product.zone, spec, list(product.quasi_identifiers)], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _keep(array: pa.Array, element: Element) -> pa.Array:
    target = _ARROW_TYPES.get(element.type)
    if target is None:
        return array
    # Unparseable numbers were counted by validation; here they become null, never text.
    cleaned = pc.if_else(pc.match_substring_regex(array, r"^\s*-?\d+(\.\d+)?\s*$"), array, None)
    return pc.cast(pc.cast(cleaned, pa.float64()), target, safe=False)


def apply_column(array: pa.Array, element: Element, column: ProductColumn, zone: str,
                 partition: str, entity_counts: Counter) -> pa.Array:
    if column.policy == "keep":
        return _keep(array, element)
    scanner = None
    if column.policy == "redact":
        from yishu.deid.engine import shared_scanner

        scanner = shared_scanner()
    out, found = operators.apply(
        array, column.policy, column.to,
        secret=keys.pseudonym_secret(zone) if column.policy == "pseudonymize" else None,
        key=keys.encryption_key() if column.policy == "encrypt" else None,
        on=dt.date.fromisoformat(partition), scanner=scanner)
    entity_counts.update(found)
    return out


def apply_policy(cat: Catalog, product: Product, table: pa.Table,
                 partition: str) -> tuple[pa.Table, dict]:
    source = cat.sources[product.source]
    columns, report = {}, {}
    for name, column in product.columns.items():
        if column.policy == "drop":
            continue
        element = cat.element_of(source.name, column.source_column)
        counts: Counter = Counter()
        array = table.column(column.source_column).combine_chunks()
        columns[name] = apply_column(array, element, column, product.zone, partition, counts)
        report[name] = {"from": column.source_column, "element": element.name,
                        "operator": column.policy + (f":{column.to}" if column.to else ""),
                        "level_before": element.security_level,
                        "level_after": output_level(element, column),
                        "entities_redacted": dict(counts)}
    return pa.table(columns), report


def product_level(report: dict) -> str:
    """就高从严: the product's level is the highest level among its published columns."""
    return max((c["level_after"] for c in report.values()), key=LEVELS.index, default="L1")


def deidentify_file(cat: Catalog, product: Product, path, out, partition: str,
                    batch_rows: int = 65_536) -> tuple[int, dict]:
    """Apply a product's policy to an ad hoc file (`yishu deidentify FILE --product P`),
    streamed batch by batch; returns the rows written and the per-column report."""
    from yishu.deid.engine import FileWriter, iter_batches, source_schema_of

    needed = {c.source_column for c in product.columns.values() if c.policy != "drop"}
    missing = sorted(needed - set(source_schema_of(path).names))
    if missing:
        raise UserInputError(f"{path}: columns {missing} of source '{product.source}' are missing: "
                         f"product '{product.name}' needs them")
    writer, rows, report, schema = FileWriter(Path(out), batch_rows), 0, {}, None
    for batch in iter_batches(path, batch_rows, sorted(needed)):
        table, columns = apply_policy(cat, product, pa.Table.from_batches([batch]), partition)
        for name, col in columns.items():  # entity counts add up over batches
            known = report.setdefault(name, {**col, "entities_redacted": {}})
            for entity, n in col["entities_redacted"].items():
                known["entities_redacted"][entity] = known["entities_redacted"].get(entity, 0) + n
        for b in table.to_batches():
            writer.write(b)
        rows += table.num_rows
        schema = table.schema
    writer.close(schema or pa.schema([]))
    return rows, report
