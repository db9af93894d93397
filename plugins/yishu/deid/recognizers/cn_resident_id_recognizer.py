"""CN_RESIDENT_ID: 18-digit resident ID (check digit, birth date, county) and the legacy
15-digit form."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.standard import identifiers

# \b does not separate CJK from digits, so digits glued to Chinese text need explicit lookarounds;
# the second lookbehind/lookahead keeps us out of amounts such as 1.110101...
_LEFT = r"(?<![0-9A-Za-z])(?<![0-9][.,])"
_RIGHT = r"(?![0-9A-Za-z])(?![.,][0-9])"
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"


class CnResidentIdRecognizer(PatternRecognizer):
    PATTERNS = [
        Pattern("cn_ric_18", _LEFT + r"[1-8][0-9]{5}(?:18|19|20)[0-9]{2}" + _DATE
                + r"[0-9]{3}[0-9Xx]" + _RIGHT, 0.5),
        # legacy form has no check digit: keep a middling score, context words lift it
        Pattern("cn_ric_15", _LEFT + r"[1-8][0-9]{5}[0-9]{2}" + _DATE + r"[0-9]{3}" + _RIGHT, 0.5),
    ]
    # TextScanner skips the patterns when this cheap regex finds nothing
    PREFILTER = r"[0-9]{15}"
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
        if not identifiers.is_resident_id(pattern_text):
            return False
        # True lifts the score to 1.0: only the 18-digit form carries a check digit
        return True if len(pattern_text) == 18 else None
