"""The one registry of Chinese PII recognizers, and a Presidio analyzer that downloads nothing.

Presidio's context enhancer compares the text's spaCy lemmas with context words; Chinese has no
spaces and we run no model, so `CharWindowContextEnhancer` looks for the context words as
substrings of the few characters before (and just after) each match instead. TextScanner uses
the same `has_context` with the same window, so both paths score alike.
"""

from __future__ import annotations

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from yishu.deid.recognizers.cn_address_recognizer import CnAddressRecognizer
from yishu.deid.recognizers.cn_bank_card_recognizer import CnBankCardRecognizer
from yishu.deid.recognizers.cn_email_recognizer import CnEmailRecognizer
from yishu.deid.recognizers.cn_foreign_person_recognizer import CnForeignPersonRecognizer
from yishu.deid.recognizers.cn_ip_recognizer import CnIpRecognizer
from yishu.deid.recognizers.cn_lac_person_recognizer import CnLacPersonRecognizer
from yishu.deid.recognizers.cn_latin_person_recognizer import CnLatinPersonRecognizer
from yishu.deid.recognizers.cn_passport_recognizer import CnPassportRecognizer
from yishu.deid.recognizers.cn_person_recognizer import CnPersonRecognizer
from yishu.deid.recognizers.cn_phone_recognizer import CnPhoneRecognizer
from yishu.deid.recognizers.cn_resident_id_recognizer import CnResidentIdRecognizer
from yishu.deid.recognizers.cn_uscc_recognizer import CnUsccRecognizer
from yishu.deid.recognizers.cn_vehicle_plate_recognizer import CnVehiclePlateRecognizer
from yishu.deid.recognizers.name_spans import aliases, union_of_overlaps

LANGUAGE = "zh"

ENTITY_LABELS = {
    "PERSON": "<人名>",
    "CN_RESIDENT_ID": "<身份证号>",
    "CN_PHONE": "<电话>",
    "CN_USCC": "<信用代码>",
    "CN_BANK_CARD": "<银行卡号>",
    "CN_PASSPORT": "<证件号>",
    "CN_VEHICLE_PLATE": "<车牌>",
    "EMAIL_ADDRESS": "<邮箱>",
    "IP_ADDRESS": "<IP>",
    "CN_ADDRESS": "<地址>",
}
STRONG_IDENTIFIERS = frozenset(
    {"CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD", "CN_PASSPORT", "CN_USCC"}
)



def identifies_a_person(entity: str, found: str) -> bool:
    """A USCC identifies a person only for an individual business (个体工商户: '92…'): a legal
    entity's code is public registration data, kept in free text and in the residual scan."""
    return entity != "CN_USCC" or found.upper().startswith("92")


# Context scoring, shared by the Presidio enhancer and TextScanner (Presidio's default numbers)
CONTEXT_WINDOW_BEFORE = 12
CONTEXT_WINDOW_AFTER = 4
CONTEXT_BOOST = 0.35
MIN_SCORE_WITH_CONTEXT = 0.4
# results below this are dropped by the analyzer and the scanner alike
SCORE_THRESHOLD = 0.5


def all_recognizers() -> list[EntityRecognizer]:
    """One fresh instance of every recognizer, most specific entity first: on identical spans the
    scanner keeps the earlier one (a resident ID before a bank card)."""
    return [
        CnResidentIdRecognizer(),
        CnUsccRecognizer(),
        CnPhoneRecognizer(),
        CnBankCardRecognizer(),
        CnPassportRecognizer(),
        CnVehiclePlateRecognizer(),
        CnEmailRecognizer(),
        CnIpRecognizer(),
        CnAddressRecognizer(),
        CnPersonRecognizer(),
        CnLacPersonRecognizer(),
        CnLatinPersonRecognizer(),
        CnForeignPersonRecognizer(),
    ]


def has_context(text: str, start: int, end: int, words) -> bool:
    """Whether one of the context words occurs just before (or right after) text[start:end]."""
    before = text[max(0, start - CONTEXT_WINDOW_BEFORE) : start].lower()
    after = text[end : end + CONTEXT_WINDOW_AFTER].lower()
    return any(w in before or w in after for w in words)


def boosted(score: float) -> float:
    return min(1.0, max(score + CONTEXT_BOOST, MIN_SCORE_WITH_CONTEXT))


class CharWindowContextEnhancer(ContextAwareEnhancer):
    """Context words as substrings of a character window: works without tokens or lemmas."""

    def __init__(self):
        super().__init__(
            context_similarity_factor=CONTEXT_BOOST,
            min_score_with_context_similarity=MIN_SCORE_WITH_CONTEXT,
            context_prefix_count=CONTEXT_WINDOW_BEFORE,
            context_suffix_count=CONTEXT_WINDOW_AFTER,
        )

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        by_id = {r.id: r for r in recognizers}
        extra = [w.lower() for w in context or []]
        for result in raw_results:
            meta = result.recognition_metadata or {}
            recognizer = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if recognizer is None or meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            words = [w.lower() for w in recognizer.context or []]
            if (words and has_context(text, result.start, result.end, words)) or (
                extra and any(w in text.lower() for w in extra)
            ):
                result.score = boosted(result.score)
                meta[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return raw_results


class _NamesAnalyzer(AnalyzerEngine):
    """Presidio's analyzer with the scanner's rules on names (name_spans): overlapping PERSON
    results become their union, and a name's bracketed alias is taken too."""

    def analyze(self, text: str, language: str, **kwargs) -> list[RecognizerResult]:
        results = super().analyze(text, language, **kwargs)
        names = [r for r in results if r.entity_type == "PERSON"]
        if not names:
            return results
        merged = []
        for start, end, *parts in union_of_overlaps([(r.start, r.end) for r in names]):
            best = max((names[i] for i in parts), key=lambda r: r.score)
            merged.append(RecognizerResult("PERSON", start, end, best.score,
                                           recognition_metadata=best.recognition_metadata))
        others = [r for r in results if r.entity_type != "PERSON"]
        taken = [(r.start, r.end) for r in others + merged]
        for name in list(merged):
            merged += [RecognizerResult("PERSON", a, b, name.score,
                                        recognition_metadata=name.recognition_metadata)
                       for a, b in aliases(text, [(name.start, name.end)], taken)]
        return sorted(others + merged, key=lambda r: (r.start, r.end))


def build_analyzer() -> AnalyzerEngine:
    """AnalyzerEngine for "zh" with our recognizers only; NoOpNlpEngine loads no spaCy model."""
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "no_op"}])
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for recognizer in all_recognizers():
        registry.add_recognizer(recognizer)
    return _NamesAnalyzer(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
        context_aware_enhancer=CharWindowContextEnhancer(),
    )


__all__ = [
    "ENTITY_LABELS",
    "LANGUAGE",
    "SCORE_THRESHOLD",
    "STRONG_IDENTIFIERS",
    "CharWindowContextEnhancer",
    "all_recognizers",
    "boosted",
    "build_analyzer",
    "has_context",
    "identifies_a_person",
]
