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

import pyarrow as pa
import pyarrow.compute as pc

from yishu import keys
from yishu.definitions.models import LEVELS, Catalog, Element, Product, ProductColumn
from yishu.deid import operators
from yishu.errors import UserInputError

# The level an operator leaves, capped by the element's own level.
_LEVEL_AFTER = {"mask": "L2", "generalize": "L2", "redact": "L2", "pseudonymize": "L3",
                "encrypt": "L3"}
# Numbers kept as numbers; what does not parse (counted by validation) becomes null, never text.
# Integers are cast from their digits (no float: exact up to 18 digits, "1.5" is not an integer).
_NUMBER_FORMATS = {"integer": (r"^\s*-?\d{1,18}\s*$", pa.int64()),
                   "decimal": (r"^\s*-?\d+(\.\d+)?\s*$", pa.float64())}


def output_level(element: Element, column: ProductColumn) -> str:
    if column.policy == "keep":
        return element.security_level
    after = _LEVEL_AFTER.get(column.policy, element.security_level)
    return min(after, element.security_level, key=LEVELS.index)


def policy_hash(cat: Catalog, product: Product) -> str:
    """Hash of everything that decides what a version contains: the product (columns, row
    exclusions, aggregation, quasi-identifiers), its zone (k, suppression, levels) and the
    elements it reads. Any change to these publishes a new version."""
    source = cat.sources[product.source]
    elements = {c.source_column: cat.element_of(source.name, c.source_column)
                for c in product.columns.values()}
    body = json.dumps({
        "product": {k: v for k, v in dataclasses.asdict(product).items() if k != "file"},
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


def _keep(array: pa.Array, element: Element) -> pa.Array:
    if element.type not in _NUMBER_FORMATS:
        return array
    pattern, target = _NUMBER_FORMATS[element.type]
    cleaned = pc.if_else(pc.match_substring_regex(array, pattern), array, None)
    return pc.cast(pc.utf8_trim_whitespace(cleaned), target)


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
        key=keys.encryption_key() if column.policy == "encrypt" else None, zone=zone,
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
