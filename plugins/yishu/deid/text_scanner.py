"""Fast PII scanner for free text: the recognizers' own patterns, validators and context words,
without Presidio's per-call overhead (NLP artifacts, result objects, explanations, deep copies).

    scanner = TextScanner()
    scanner.redact("患者王秀英，电话13812345678")   # '患者<人名>，电话<电话>'
    texts, counts = scanner.redact_many(column)    # None stays None; counts per entity

A recognizer with `find_many` (the name model, cn_lac_person_recognizer) is called once per list
of texts, so that it can batch them: find_many and redact_many pass it the texts that keep at
least its MIN_CJK_CHARS CJK characters outside the spans the patterns found (a value that is all
address or all ID holds no other name; 姓名：王秀英 has its name already).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from presidio_analyzer import PatternRecognizer

from yishu.deid import model_input
from yishu.deid.recognizers import (
    CONTEXT_WINDOW_AFTER,
    CONTEXT_WINDOW_BEFORE,
    ENTITY_LABELS,
    SCORE_THRESHOLD,
    all_recognizers,
    boosted,
    identifies_a_person,
)
from yishu.deid.recognizers.name_spans import aliases, union_of_overlaps


def _has_context(text: str, start: int, end: int, context: re.Pattern) -> bool:
    """has_context(text, start, end, words), with the words as one regex (_context_re)."""
    return bool(context.search(text[max(0, start - CONTEXT_WINDOW_BEFORE) : start].lower())
                or context.search(text[end : end + CONTEXT_WINDOW_AFTER].lower()))


class Span(NamedTuple):
    start: int
    end: int
    entity: str
    score: float


_CJK = re.compile("[\u3400-\u9fff]")  # the characters themselves: RE2 reads it too


def _cjk_outside(text: str, candidates: list) -> int:
    """CJK characters of text outside the candidates' spans."""
    if not candidates:
        return len(_CJK.findall(text))
    parts, pos = [], 0
    for start, end in sorted((c[3], c[4]) for c in candidates):
        parts.append(text[pos:start])
        pos = max(pos, end)
    parts.append(text[pos:])
    return len(_CJK.findall("".join(parts)))


# Regex syntax whose meaning differs between `re` and RE2 (or that RE2 lacks): an escape of a
# letter or digit (\d is ASCII-only in RE2), `$` (before a final newline in `re`), POSIX
# classes, {,n}. Escaped punctuation and plain characters mean the same to both.
_RE2_DIFFERS = re.compile(r"\\[0-9A-Za-z]|\$|\[:|\{,")


def _same_in_re2(prefilter: str) -> bool:
    return bool(prefilter) and not _RE2_DIFFERS.search(prefilter)


def _context_re(words) -> re.Pattern | None:
    """One regex for a recognizer's context words: a search of it in a lower-cased window is
    has_context's `any(w in window for w in words)`."""
    words = sorted({w.lower() for w in words or ()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def _overridden(recognizer, method: str) -> bool:
    return getattr(type(recognizer), method) is not getattr(PatternRecognizer, method)


def _merge_names(candidates: list) -> list:
    """Overlapping PERSON candidates become their union (name_spans.union_of_overlaps), with
    the highest score and the most specific recognizer among them."""
    names = [c for c in candidates if c[5] == "PERSON"]
    if len(names) < 2:
        return candidates
    merged = []
    for start, end, *parts in union_of_overlaps([(c[3], c[4]) for c in names]):
        score = min(names[i][0] for i in parts)  # candidates hold -score: the highest score
        priority = min(names[i][2] for i in parts)
        merged.append((score, start - end, priority, start, end, "PERSON"))
    return [c for c in candidates if c[5] != "PERSON"] + merged


def _with_aliases(text: str, spans: list[Span]) -> list[Span]:
    """Spans plus the bracketed aliases of the names among them (name_spans.aliases)."""
    names = [s for s in spans if s.entity == "PERSON"]
    if not names:
        return spans
    extra = []
    for name in names:
        extra += [Span(a, b, "PERSON", name.score) for a, b in
                  aliases(text, [(name.start, name.end)], [(s.start, s.end) for s in spans])]
    return sorted(spans + extra) if extra else spans


class TextScanner:
    def __init__(self, entities: set[str] | None = None, score_threshold: float = SCORE_THRESHOLD,
                 recognizers: list | None = None):
        """entities: the entity names to look for (default: all of ENTITY_LABELS);
        recognizers: instead of all_recognizers() (most specific first), e.g. to compare them."""
        self.score_threshold = score_threshold
        # pattern recognizers grouped by prefilter: [(prefilter.search, [(finditer, base score,
        # validate or None, invalidate or None, entity, context regex, priority)])]
        groups: dict[str, list] = {}
        # recognizers with their own find() (names, addresses): (find, entity, context regex,
        # priority); models tagging a list of texts at once: (find_many, entity, context, priority)
        self._finders = []
        self._models = []
        may_find = []  # what each finder or model needs in a text to find anything (RE2)
        for priority, recognizer in enumerate(recognizers or all_recognizers()):
            entity = recognizer.supported_entities[0]
            if entities is not None and entity not in entities:
                continue
            context = _context_re(recognizer.context)
            if isinstance(recognizer, PatternRecognizer):
                # a cheap regex per recognizer (PREFILTER): its patterns run only where it matches
                group = groups.setdefault(getattr(recognizer, "PREFILTER", ""), [])
                # PatternRecognizer's defaults (None, False) change nothing: not called
                validate = (recognizer.validate_result
                            if _overridden(recognizer, "validate_result") else None)
                invalidate = (recognizer.invalidate_result
                              if _overridden(recognizer, "invalidate_result") else None)
                for pattern in recognizer.patterns:
                    # stdlib re is ~3x faster than the `regex` module Presidio compiles with
                    compiled = re.compile(pattern.regex, recognizer.global_regex_flags)
                    group.append((compiled.finditer, pattern.score, validate, invalidate, entity,
                                  context, priority))
            elif hasattr(recognizer, "find_many"):
                recognizer.load()
                min_cjk = getattr(recognizer, "MIN_CJK_CHARS", 1)
                self._models.append((recognizer.find_many, entity, context, priority, min_cjk))
                # a model tags only texts with a CJK character (_cjk_outside): none, no finding
                may_find.append(_CJK.pattern if min_cjk >= 1 else None)
            else:
                recognizer.load()
                self._finders.append((recognizer.find, entity, context, priority))
                may_find.append(getattr(recognizer, "MAY_FIND", None))
        self._groups = [(re.compile(prefilter).search, group)
                        for prefilter, group in groups.items()]
        self._prefilters = [getattr(p, "pattern", p) for p in groups] + may_find

    def may_find(self, texts):
        """Which texts of an Arrow string array (no nulls) could hold a finding, all tested at
        once by Arrow (RE2): False only where no pattern's prefilter matches, so find_many of
        the others is empty. None when that cannot be told: a recognizer with its own find() has
        no MAY_FIND, or a prefilter might mean something else to RE2 than to `re`."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not all(p is not None and _same_in_re2(p) for p in self._prefilters):
            return None
        found = pa.array([False] * len(texts), pa.bool_())
        try:
            for prefilter in self._prefilters:
                found = pc.or_(found, pc.match_substring_regex(texts, prefilter))
        except pa.ArrowInvalid:  # RE2 does not take it (a lookaround): `re` decides
            return None
        return found

    def _candidates(self, text: str) -> list[tuple[float, int, int, int, int, str]]:
        """(-score, start - end, priority, start, end, entity) above the threshold, overlaps
        included: in sorted order, the winners of overlaps come first."""
        found = []
        threshold = self.score_threshold
        # (one combined prefilter regex was tried: an alternation is slower than these
        # separate searches, and most texts pass it anyway)
        for prefilter, group in self._groups:
            if not prefilter(text):
                continue
            for finditer, base, validate, invalidate, entity, context, priority in group:
                for m in finditer(text):
                    # same rules as PatternRecognizer: True -> 1.0, False -> dropped
                    if validate is None:
                        score = base
                    else:
                        valid = validate(m.group())
                        if valid is False:
                            continue
                        score = 1.0 if valid else base
                    if invalidate is not None and invalidate(m.group()):
                        continue
                    start, end = m.span()
                    # boosted(1.0) is 1.0: no need to look for context words
                    if context is not None and score < 1.0 and _has_context(
                            text, start, end, context):
                        score = boosted(score)
                    if score >= threshold:
                        found.append((-score, start - end, priority, start, end, entity))
        for find, entity, context, priority in self._finders:
            for start, end, score in find(text):
                if context is not None and score < 1.0 and _has_context(
                        text, start, end, context):
                    score = boosted(score)
                if score >= threshold:
                    found.append((-score, start - end, priority, start, end, entity))
        return found

    def _add_models(self, texts: list[str], candidates: list[list]) -> None:
        """The models' candidates, added to `candidates` (one list per text)."""
        threshold = self.score_threshold
        for find_many, entity, context, priority, min_cjk in self._models:
            todo = [i for i, text in enumerate(texts)
                    if text and _cjk_outside(text, candidates[i]) >= min_cjk]
            if not todo:
                continue
            # the model reads the identifiers found shortened: its cost is per character
            short = [model_input.shortened(texts[i], [(c[3], c[4]) for c in candidates[i]])
                     for i in todo]
            found = find_many([text for text, _ in short])
            for i, (_, where), spans in zip(todo, short, found, strict=True):
                text = texts[i]
                for start, end, score in spans:
                    start, end = model_input.mapped(where, start, end)
                    if context is not None and score < 1.0 and _has_context(
                            text, start, end, context):
                        score = boosted(score)
                    if score >= threshold:
                        candidates[i].append((-score, start - end, priority, start, end, entity))

    def find(self, text: str) -> list[Span]:
        """Non-overlapping spans in text order: the higher score, then the longer span, then the
        more specific recognizer wins an overlap."""
        if not text:
            return []
        return self.find_many([text])[0]

    def find_many(self, texts: list[str | None], models: bool = True) -> list[list[Span]]:
        """find() of each text; the models tag the texts together (in batches). models=False:
        the patterns and the context recognizers only (a cheap first look, auto.classify)."""
        candidates = [self._candidates(text) if text else [] for text in texts]
        if self._models and models:
            self._add_models(texts, candidates)
        return [_with_aliases(text, self._choose(c)) if c else []
                for text, c in zip(texts, candidates, strict=True)]

    @staticmethod
    def _choose(candidates: list) -> list[Span]:
        if len(candidates) < 2:
            return [Span(start, end, entity, -score)
                    for score, _, _, start, end, entity in candidates]
        return TextScanner._winners(_merge_names(candidates))

    @staticmethod
    def _winners(candidates: list) -> list[Span]:
        if len(candidates) < 2:
            return [Span(start, end, entity, -score)
                    for score, _, _, start, end, entity in candidates]
        candidates.sort()
        chosen: list[Span] = []
        for score, _, _, start, end, entity in candidates:
            for s in chosen:
                if end > s.start and start < s.end:
                    break
            else:
                chosen.append(Span(start, end, entity, -score))
        chosen.sort()
        return chosen

    def redact(self, text: str) -> str:
        return self._redact(text, self._personal(text, self.find(text)))

    @staticmethod
    def _personal(text: str, spans: list[Span]) -> list[Span]:
        """The spans to redact: a legal entity's USCC identifies nobody and stays."""
        return [s for s in spans if identifies_a_person(s.entity, text[s.start:s.end])]

    @staticmethod
    def _redact(text: str, spans: list[Span]) -> str:
        parts, pos = [], 0
        for span in spans:
            parts.append(text[pos : span.start])
            parts.append(ENTITY_LABELS[span.entity])
            pos = span.end
        parts.append(text[pos:])
        return "".join(parts)

    def redact_many(self, texts: list[str | None]) -> tuple[list[str | None], Counter]:
        """Redacted texts (None and "" pass through) and the number of spans per entity."""
        counts: Counter = Counter()
        out: list[str | None] = []
        for text, spans in zip(texts, self.find_many(texts), strict=True):
            spans = self._personal(text, spans) if spans else spans
            if spans:
                counts.update(s.entity for s in spans)
                text = self._redact(text, spans)
            out.append(text)
        return out, counts
