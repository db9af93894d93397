"""PII scans over tables: drift detection before de-identification, residual scan after it."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from yishu.deid.files import iter_batches
from yishu.deid.value_counts import ValueCounts, as_text

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


_SLICE = 65_536  # distinct values handed to the scanner at a time
# Distinct values a column keeps before it is scanned a batch at a time instead: a near-unique
# column (pseudonyms, dates) gains nothing from counting, and its distinct set grew with the
# rows (1.9 GB at 10M). Everything a scan adds up is a sum over values, so either way (or both,
# one after the other) gives the same verdict.
DISTINCT_CAP = 131_072


class _Tally:
    """One column's findings over the batches added. Each distinct value is scanned once and
    what it holds counts as many times as it occurs, while the distinct values stay under
    DISTINCT_CAP; past it, the values counted so far are scanned and dropped, and each batch
    is then counted and scanned on its own (a value repeated across batches is scanned again).
    Values are scanned in the order of their first row, so the entities come out in the order
    a scan of every row finds them, and chance_entities' shares are those of every row."""

    def __init__(self, scanner, keep, context: str):
        self.scanner, self.keep, self.context = scanner, keep, context
        self.values: ValueCounts | None = ValueCounts()  # None: scanning batch by batch
        self.rows = 0  # nulls included
        self.present = 0  # non-null rows
        self.totals: Counter = Counter()
        self.texts, self.lengths = 0, Counter()  # for _numbers: the order-number rule
        self.found: dict[str, list[str]] = {}  # value -> masked samples of what it holds
        self.chance: set[str] = set()  # entities found by chance (see chance_entities)

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        self.rows += len(column)
        if self.values is None:
            batch = ValueCounts()
            batch.add(column)
            self._scan(*batch.result())
            return
        self.values.add(column)
        if self.values.distinct() > DISTINCT_CAP:
            self._scan(*self.values.result())
            self.values = None

    def _scan(self, values: pa.Array, counts: pa.Array) -> None:
        context, keep = self.context, self.keep
        self.present += pc.sum(counts).as_py() or 0
        for start in range(0, len(values), _SLICE):
            chunk = values.slice(start, _SLICE)
            weights = counts.slice(start, _SLICE).to_pylist()
            items = chunk.to_pylist()
            for text, n in zip(items, weights, strict=True):
                text = text.strip()
                self.texts += n if text else 0
                if text and text.isascii() and text.isdigit():
                    self.lengths[len(text)] += n
            possible = None if context else self.scanner.may_find(chunk)
            todo = (range(len(items)) if possible is None
                    else pc.indices_nonzero(possible).to_pylist())
            found = self.scanner.find_many([context + items[i] for i in todo])
            for i, spans in zip(todo, found, strict=True):
                text = context + items[i]
                kept = [(s.entity, text[s.start:s.end]) for s in spans if s.end > len(context)]
                kept = [(e, f) for e, f in kept if not keep or keep(e, f)]
                for entity, _ in kept:
                    self.totals[entity] += weights[i]
                if kept:
                    self.found[items[i]] = [masked_sample(e, f) for e, f in kept[:3]]

    def scan(self) -> dict | None:
        if self.values is not None:
            self._scan(*self.values.result())
            self.values = None
        totals = Counter(self.totals)
        if totals and _numbers(self.texts, self.lengths):  # order numbers passing by chance
            self.chance = {e for e, n in totals.items() if n < CHANCE_SHARE * self.present}
            for entity in self.chance:
                del totals[entity]
        return {"entities": dict(totals), "samples": [],
                "scanned": self.rows} if totals else None


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
            if name not in self.tallies:
                self.tallies[name] = _Tally(self.scanner, self.keep, self.context)
            self.tallies[name].add(table.column(name))

    def findings(self, again) -> dict[str, dict]:
        """{column: {"entities": {...}, "samples": [...], "scanned": n}}, found ones only.
        `again()` gives the batches once more, in the same order: the first samples are
        those of the first rows that hold a finding (read again only when there is one)."""
        found = {name: tally.scan() for name, tally in self.tallies.items()}
        found = {name: f for name, f in found.items() if f}
        pending = {name: self.tallies[name].found for name in found}
        for batch in again() if pending else ():
            for name, values in list(pending.items()):
                column = as_text(batch.column(name))
                hits = pc.is_in(column, value_set=pa.array(list(values), pa.string()))
                for i in pc.indices_nonzero(pc.fill_null(hits, False)).slice(0, 3).to_pylist():
                    found[name]["samples"] += values[column[i].as_py()]
                if len(found[name]["samples"]) >= 3:
                    del pending[name]
            if not pending:
                break
        for name, f in found.items():  # the first three, then those found by chance left out
            f["samples"] = [s for s in f["samples"][:3] if s.split(":", 1)[0]
                            not in self.tallies[name].chance]
        return found


def scan_table(table: pa.Table, columns: list[str] | None = None, *, sample_rows: int | None = None,
               entities: set[str] | None = None, keep=None, context: str = "",
               ) -> dict[str, dict]:
    """Findings per column: {column: {"entities": {...}, "samples": [...], "scanned": n}}."""
    if sample_rows and table.num_rows > sample_rows:
        step = table.num_rows / sample_rows
        table = table.take(pa.array([int(i * step) for i in range(sample_rows)]))
    scan = TableScan(columns, entities=entities, keep=keep, context=context)
    scan.add(table)
    return scan.findings(lambda: [table])


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
