"""PII scans over tables: drift detection before de-identification, residual scan after it."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from yishu.deid.files import iter_batches

# Personal identifiers whose presence in a column declared non-personal is drift. Names and
# addresses are left out: enterprise and hospital names legitimately contain both shapes.
PERSONAL_IDENTIFIERS = frozenset({"CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD", "CN_PASSPORT",
                                  "EMAIL_ADDRESS", "CN_VEHICLE_PLATE"})


# Read before each value of a column of personal data: the name recognizers need a context
# word to take a bare value (张伟) for a name.
NAME_CONTEXT = "姓名："


def identifies_a_person(entity: str, found: str) -> bool:
    """A USCC identifies a person only for an individual business (个体工商户: '92…')."""
    return entity != "CN_USCC" or found.upper().startswith("92")


def masked_sample(entity: str, found: str) -> str:
    """A finding shown to a steward without revealing it: 13*******78, 张**."""
    if len(found) <= 4:
        return f"{entity}: {found[:1]}{'*' * (len(found) - 1)}"
    return f"{entity}: {found[:2]}{'*' * (len(found) - 4)}{found[-2:]}"


def scan_column(values: list, scanner, keep=None, context: str = "") -> tuple[Counter, list[str]]:
    """Entities found in a list of values, and a few masked samples of what was found.
    `keep(entity, found_text)` can discard findings that are not a concern here. `context` is
    read before each value (e.g. NAME_CONTEXT: a bare name is recognized only after a context
    word); findings inside it are ignored."""
    counts: Counter = Counter()
    samples: list[str] = []
    texts = [context + str(value) for value in values if value is not None]
    # find_many lets the name model tag the texts in batches (a scanner without it: find)
    found = (scanner.find_many(texts) if hasattr(scanner, "find_many")
             else [scanner.find(t) for t in texts])
    for text, spans in zip(texts, found, strict=True):
        for span in spans:
            if span.end <= len(context):
                continue
            if keep and not keep(span.entity, text[span.start:span.end]):
                continue
            counts[span.entity] += 1
            if len(samples) < 3:
                samples.append(masked_sample(span.entity, text[span.start:span.end]))
    return counts, samples


def scan_table(table: pa.Table, columns: list[str] | None = None, *, sample_rows: int | None = None,
               entities: set[str] | None = None, keep=None, context: str = "",
               ) -> dict[str, dict]:
    """Findings per column: {column: {"entities": {...}, "samples": [...], "scanned": n}}."""
    from yishu.deid.text_scanner import TextScanner

    scanner = TextScanner(entities)
    if sample_rows and table.num_rows > sample_rows:
        step = table.num_rows / sample_rows
        table = table.take(pa.array([int(i * step) for i in range(sample_rows)]))
    findings = {}
    for name in table.column_names if columns is None else columns:
        column = table.column(name)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.string())
        counts, samples = scan_column(column.to_pylist(), scanner, keep, context)
        if counts:
            findings[name] = {"entities": dict(counts), "samples": samples,
                              "scanned": table.num_rows}
    return findings


def residual_in_file(path) -> dict[str, dict[str, int]]:
    """Strong identifiers left anywhere in a file (every row, streamed): {column: {entity: n}}."""
    from yishu.deid.recognizers import STRONG_IDENTIFIERS  # presidio: only when scanning

    totals: dict[str, Counter] = {}
    for batch in iter_batches(path):
        found = scan_table(pa.Table.from_batches([batch]), entities=set(STRONG_IDENTIFIERS),
                           keep=identifies_a_person)
        for column, f in found.items():
            totals.setdefault(column, Counter()).update(f["entities"])
    return {column: dict(counts) for column, counts in totals.items()}
