"""Classify columns from a sample and derive a de-identification plan (`yishu deidentify --auto`,
`yishu scan`).

A column is
    structured  when ≥ 60% of its non-null values are, each as a whole, one entity (a phone
                column, a name column);
    free_text   when its texts are long (median ≥ 15 characters) and entities occur inside them;
    none        otherwise.
A bare name (王秀英) has no context word, and the name recognizer rightly ignores names without
one in free text; a short value is therefore also tried behind a context word (姓名：王秀英):
only a span covering the whole value counts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from yishu.deid import registry
from yishu.deid.engine import ColumnAction, Plan, shared_scanner
from yishu.deid.files import iter_batches, source_schema_of
from yishu.deid.scan import chance_entities, is_number_column, masked_sample

STRUCTURED_SHARE = 0.6
FREE_TEXT_MEDIAN_CHARS = 15
# share of long texts that must contain an entity (a few chance matches are not free text)
FREE_TEXT_MIN_SHARE = 0.02
# values this short are also tried as a name behind a context word
_NAME_PROBE = "姓名："
_NAME_MAX_CHARS = 6
# a value longer than this is never wholly a name (a column of them is no name column)
_WHOLE_NAME_MAX_CHARS = 24

DEFAULT_OPERATORS = {
    "CN_RESIDENT_ID": ColumnAction("pseudonymize"),
    "CN_PHONE": ColumnAction("mask"),
    "CN_BANK_CARD": ColumnAction("mask"),
    "CN_PASSPORT": ColumnAction("pseudonymize"),
    "PERSON": ColumnAction("pseudonymize"),
    "EMAIL_ADDRESS": ColumnAction("mask"),
    "CN_ADDRESS": ColumnAction("generalize", "district"),
    "CN_VEHICLE_PLATE": ColumnAction("mask"),
    "IP_ADDRESS": ColumnAction("mask"),
    "CN_USCC": ColumnAction("keep"),  # an enterprise's public registration number
}
UNKNOWN_ENTITY = ColumnAction("mask")  # an entity without a default: never published as it is
FREE_TEXT = ColumnAction("redact")


def _check_defaults() -> None:
    """ColumnAction already refused unknown operators and targets; what auto mode relies on
    beyond that is checked here, at import, rather than found out on somebody's file."""
    for entity, action in {**DEFAULT_OPERATORS, "(unknown entity)": UNKNOWN_ENTITY}.items():
        if not registry.get(action.policy).publishes:
            raise ValueError(f"auto default for {entity}: '{action}' publishes nothing")
    operator = registry.get(FREE_TEXT.policy)
    if not (operator.free_text and operator.level_after):
        raise ValueError(f"auto free-text operator '{FREE_TEXT}' must be free_text and lower "
                         "the level")


_check_defaults()


@dataclass(frozen=True)
class ColumnClass:
    kind: str  # "structured" | "free_text" | "none"
    entity: str | None  # structured: the entity of the values
    share: float  # structured: share of values that are that entity; free text: share of
    # values with an entity inside; none: the larger of the two


@dataclass
class _Profile:
    """What the scanner found in one column's sample."""

    values: int = 0
    whole: Counter = field(default_factory=Counter)  # entity -> values wholly that entity
    with_entity: int = 0  # values with at least one entity inside
    entities: Counter = field(default_factory=Counter)  # entity -> spans found
    samples: list[str] = field(default_factory=list)  # a few masked findings
    median_chars: float = 0.0
    chance: set[str] = field(default_factory=set)  # entities found only by chance (scan.py)


def _whole_entities(texts: list[str], found: list, scanner, models: bool = True
                    ) -> list[str | None]:
    """The entity each text wholly is (or None); short texts without a span are tried behind
    the name probe, all of them in one find_many call."""
    whole: list[str | None] = []
    probes = []
    for i, (text, spans) in enumerate(zip(texts, found, strict=True)):
        if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text) and (
                spans[0].entity != "PERSON" or len(text) <= _WHOLE_NAME_MAX_CHARS):
            whole.append(spans[0].entity)
        else:
            whole.append(None)
            if not spans and len(text) <= _NAME_MAX_CHARS:
                probes.append(i)
    start = len(_NAME_PROBE)
    probed = (_find_many(scanner, [_NAME_PROBE + texts[i] for i in probes], models)
              if probes else [])
    for i, spans in zip(probes, probed, strict=True):
        for span in spans:
            if span.start == start and span.end == start + len(texts[i]):
                whole[i] = span.entity
    return whole


def _find_many(scanner, texts: list[str], models: bool):
    return scanner.find_many(texts) if models else scanner.find_many(texts, models=False)


def _profile(values: list[str], scanner, models: bool = True) -> _Profile:
    """Each distinct value is scanned once (codes and names repeat), all of them in one
    find_many call (the name model tags them in batches); counts count rows. models=False: the
    patterns and context recognizers only."""
    profile = _Profile(values=len(values))
    if not values:
        return profile
    profile.median_chars = statistics.median(len(v) for v in values)
    counts = Counter(values)
    texts = list(counts)
    found = _find_many(scanner, texts, models)
    for text, spans, whole in zip(texts, found, _whole_entities(texts, found, scanner, models),
                                  strict=True):
        times = counts[text]
        if whole:
            profile.whole[whole] += times
            profile.entities[whole] += times
            profile.with_entity += times
            found_here = [(whole, text)]
        else:
            profile.with_entity += times if spans else 0
            for span in spans:
                profile.entities[span.entity] += times
            found_here = [(s.entity, text[s.start:s.end]) for s in spans]
        for entity, value in found_here:
            if len(profile.samples) < 3:
                profile.samples.append(masked_sample(entity, value))
    # a column of order numbers where a few pass the USCC or Luhn check by chance is a number
    # column: those values are not identifiers (the scans drop the same findings)
    profile.chance = chance_entities(values, profile.entities)
    return profile


def _classify(profile: _Profile) -> ColumnClass:
    if not profile.values:
        return ColumnClass("none", None, 0.0)
    with_entity = profile.with_entity / profile.values
    if profile.whole:
        entity, count = profile.whole.most_common(1)[0]
        share = count / profile.values
        if share >= STRUCTURED_SHARE:
            return ColumnClass("structured", entity, round(share, 4))
    if profile.chance and set(profile.entities) <= profile.chance:
        return ColumnClass("none", None, round(with_entity, 4))
    if profile.median_chars >= FREE_TEXT_MEDIAN_CHARS and with_entity >= FREE_TEXT_MIN_SHARE:
        return ColumnClass("free_text", None, round(with_entity, 4))
    return ColumnClass("none", None, round(with_entity, 4))


def _strings(column) -> list[str]:
    """Non-null, non-blank values as stripped strings."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return [v.strip() for v in column.to_pylist() if v is not None and v.strip()]


def _as_table(table_sample) -> pa.Table:
    return table_sample if isinstance(table_sample, pa.Table) else pa.Table.from_pandas(
        table_sample, preserve_index=False)


def _profiles(table: pa.Table, scanner=None) -> dict[str, _Profile]:
    scanner = scanner or shared_scanner()  # the engine's, already loaded when it runs next
    return {name: _profile(_strings(table.column(name)), scanner) for name in table.column_names}


def _may_skip_the_model(values: list[str]) -> bool:
    """Whether a free_text verdict without the name model would stand with it. The model only
    adds PERSON spans: texts with an entity stay so (free text needs a share of them), a
    whole-value entity can only lose its wholeness, a value longer than _WHOLE_NAME_MAX_CHARS
    is never wholly a name (so a name column needs ≥ STRUCTURED_SHARE of values that short),
    and chance findings exist only in number columns. Checked before any scan: columns of short
    values (codes, names, phones) are scanned once, with the model."""
    if not values or statistics.median(len(v) for v in values) < FREE_TEXT_MEDIAN_CHARS:
        return False
    short = sum(1 for v in values if len(v) <= _WHOLE_NAME_MAX_CHARS)
    return short < STRUCTURED_SHARE * len(values) and not is_number_column(values)


def _column_class(values: list[str], scanner) -> ColumnClass:
    """A column's class; a column of long texts that the patterns and context recognizers
    already make free text is not tagged by the name model (the same verdict, seconds sooner:
    the engine tags every row anyway, on every core)."""
    if hasattr(scanner, "_models") and _may_skip_the_model(values):  # a TextScanner
        cls = _classify(_profile(values, scanner, models=False))
        if cls.kind == "free_text":
            return cls
    return _classify(_profile(values, scanner))


def classify(table_sample, scanner=None) -> dict[str, ColumnClass]:
    """The class of every column of a sample (a pyarrow Table or a pandas DataFrame)."""
    table = _as_table(table_sample)
    scanner = scanner or shared_scanner()
    return {name: _column_class(_strings(table.column(name)), scanner)
            for name in table.column_names}


def auto_plan(classes: dict[str, ColumnClass], zone_secret: bytes, *,
              encryption_key: bytes | None = None, reference_date: str | None = None) -> Plan:
    """Default operators per entity (DEFAULT_OPERATORS, UNKNOWN_ENTITY); free text gets FREE_TEXT;
    columns without personal data are kept. Columns not in `classes` are dropped by the plan."""
    columns = {}
    for name, cls in classes.items():
        if cls.kind == "structured":
            columns[name] = DEFAULT_OPERATORS.get(cls.entity, UNKNOWN_ENTITY)
        elif cls.kind == "free_text":
            columns[name] = FREE_TEXT
        else:
            columns[name] = ColumnAction("keep")
    return Plan(columns, secret=zone_secret, encryption_key=encryption_key,
                reference_date=reference_date)


def read_sample(path: str | Path, sample_rows: int = 10_000) -> pa.Table:
    """The first `sample_rows` rows of a CSV, Parquet or Excel file (streamed: a big file is
    not read whole)."""
    batches, have = [], 0
    for batch in iter_batches(path, batch_rows=min(sample_rows, 65_536)):
        batches.append(batch.slice(0, sample_rows - have))
        have += batches[-1].num_rows
        if have >= sample_rows:
            break
    if not batches:
        return source_schema_of(path).empty_table()
    return pa.Table.from_batches(batches)


def scan_file(path: str | Path, sample_rows: int = 10_000) -> dict:
    """Findings per column of the file's first `sample_rows` rows:
    {column: {"kind", "entity", "share", "entities": {entity: spans}, "samples": [masked],
    "scanned": non-null values}}; samples never show a whole value."""
    table = read_sample(path, sample_rows)
    findings = {}
    for name, profile in _profiles(table).items():
        cls = _classify(profile)
        findings[name] = {"kind": cls.kind, "entity": cls.entity, "share": cls.share,
                          "entities": dict(profile.entities.most_common()),
                          "samples": profile.samples, "scanned": profile.values}
    return findings
