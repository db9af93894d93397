"""CN_RESIDENT_ID: 18-digit resident ID (check digit, birth date, county) and the legacy
15-digit form, however written (surface.py: separators, full-width digits). An 18-digit number
with a real county and birth date but a wrong check digit is a mistyped ID: still found, with
the pattern's lower score."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.deid.recognizers.surface import LEFT, RIGHT, digits, plain
from yishu.standard import identifiers

_LAST = "[0-9０-９XxＸｘ]"


class CnResidentIdRecognizer(PatternRecognizer):
    PATTERNS = [
        # the shape (county, birth date) is checked by validate_result on the plain digits
        Pattern("cn_ric_18", LEFT + digits(18, _LAST) + RIGHT, 0.5),
        # legacy form has no check digit: a middling score, context words lift it
        Pattern("cn_ric_15", LEFT + digits(15) + RIGHT, 0.5),
    ]
    # TextScanner skips the patterns when this cheap regex finds nothing: 15 digits, however
    # written
    PREFILTER = digits(15)
    CONTEXT = ["身份证", "身份号", "证件号", "公民身份", "居民身份", "身份证号码", "ID"]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="CN_RESIDENT_ID",
            name="CnResidentIdRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )
        identifiers.county_years()  # built now (~70 ms): forked workers inherit it

    def validate_result(self, pattern_text: str) -> bool | None:
        number = plain(pattern_text)
        if identifiers.is_resident_id(number):
            # True lifts the score to 1.0: only the 18-digit form carries a check digit
            return True if len(number) == 18 else None
        # a typing error in the check digit: the pattern's score (at the threshold) keeps it
        return None if identifiers.is_mistyped_resident_id(number) else False
