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
    from yishu.deid.recognizers import identifies_a_person as identifies  # presidio: lazily

    return identifies(entity, found)


# A column of codes (order numbers, serials): nearly every value is a digit string of one length.
# Some of them pass a check by chance (Luhn 1 in 10, the USCC check 1 in 31); a column of real
# identifiers passes in (nearly) every row, dirty rows included. Below this share of its values,
# an entity found in a number column is chance, and the column is a number column.
NUMBER_COLUMN_SHARE = 0.95
CHANCE_SHARE = 0.5
_MIN_CODE_CHARS = 15


def _digit_lengths(values: list) -> tuple[int, Counter]:
    """Non-blank values, and how many of them are ASCII digit strings of each length."""
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    return len(texts), Counter(len(t) for t in texts if t.isascii() and t.isdigit())


def _numbers(texts: int, lengths: Counter) -> bool:
    if not texts or not lengths:
        return False
    length, count = lengths.most_common(1)[0]
    return length >= _MIN_CODE_CHARS and count >= NUMBER_COLUMN_SHARE * texts


def is_number_column(values: list) -> bool:
    """Whether ≥ 95% of the non-null values are ASCII digit strings of one length (≥ 15)."""
    return _numbers(*_digit_lengths(values))


def chance_entities(values: list, counts: Counter) -> set[str]:
    """The entities found in a number column in fewer than half its values: chance matches."""
    if not counts or not is_number_column(values):
        return set()
    rows = sum(1 for v in values if v is not None)
    return {e for e, n in counts.items() if n < CHANCE_SHARE * rows}


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


class _Tally:
    """One column's findings so far, over the batches scanned; what chance_entities needs of
    its values is kept as counts, so the verdict is the one the whole column would get."""

    def __init__(self):
        self.counts: Counter = Counter()
        self.samples: list[str] = []
        self.texts, self.lengths, self.values, self.scanned = 0, Counter(), 0, 0

    def add(self, values: list, scanner, keep, context: str) -> None:
        counts, samples = scan_column(values, scanner, keep, context)
        self.counts.update(counts)
        self.samples += samples[:3 - len(self.samples)]
        texts, lengths = _digit_lengths(values)
        self.texts += texts
        self.lengths.update(lengths)
        self.values += sum(1 for v in values if v is not None)
        self.scanned += len(values)

    def finding(self) -> dict | None:
        counts, samples = Counter(self.counts), self.samples
        if counts and _numbers(self.texts, self.lengths):  # order numbers passing by chance
            for entity in [e for e, n in counts.items() if n < CHANCE_SHARE * self.values]:
                del counts[entity]
                samples = [s for s in samples if not s.startswith(f"{entity}:")]
        return {"entities": dict(counts), "samples": samples,
                "scanned": self.scanned} if counts else None


class TableScan:
    """scan_table over a table that comes a batch at a time: `add` each, then `findings`."""

    def __init__(self, columns: list[str] | None = None, *, entities: set[str] | None = None,
                 keep=None, context: str = ""):
        from yishu.deid.text_scanner import TextScanner

        self.scanner = TextScanner(entities)
        self.columns, self.keep, self.context = columns, keep, context
        self.tallies: dict[str, _Tally] = {}

    def add(self, table: pa.Table | pa.RecordBatch) -> None:
        for name in table.column_names if self.columns is None else self.columns:
            column = table.column(name)
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                column = pc.cast(column, pa.string())
            tally = self.tallies.setdefault(name, _Tally())
            tally.add(column.to_pylist(), self.scanner, self.keep, self.context)

    def findings(self) -> dict[str, dict]:
        """{column: {"entities": {...}, "samples": [...], "scanned": n}}, found ones only."""
        found = {name: tally.finding() for name, tally in self.tallies.items()}
        return {name: f for name, f in found.items() if f}


def scan_table(table: pa.Table, columns: list[str] | None = None, *, sample_rows: int | None = None,
               entities: set[str] | None = None, keep=None, context: str = "",
               ) -> dict[str, dict]:
    """Findings per column: {column: {"entities": {...}, "samples": [...], "scanned": n}}."""
    if sample_rows and table.num_rows > sample_rows:
        step = table.num_rows / sample_rows
        table = table.take(pa.array([int(i * step) for i in range(sample_rows)]))
    scan = TableScan(columns, entities=entities, keep=keep, context=context)
    scan.add(table)
    return scan.findings()


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
