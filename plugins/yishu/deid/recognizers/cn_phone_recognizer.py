"""CN_PHONE: mainland mobile numbers and landlines with an area code, however written
(surface.py: +86/0086, separators such as spaces, dashes, dots or slashes, full-width digits)."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.deid.recognizers.surface import COUNTRY, DIGIT, LEFT, RIGHT, SEP, digits, plain
from yishu.deid.recognizers.surface import national_mobile as _national
from yishu.standard import identifiers

_PAREN = re.compile(r"[(（](0[0-9]+)[)）] ?")  # (0755) 83212345 -> 0755-83212345
_ZERO = "[0０]"
_AREA = f"{_ZERO}[1-9１-９]{DIGIT}{{1,2}}"  # 010, 0755
_LOCAL = f"[2-9２-９](?:{SEP}?{DIGIT}){{6,7}}"  # 6512345, 8321 2345
_EXTENSION = f"(?:[-－]{DIGIT}{{1,5}})?"


class CnPhoneRecognizer(PatternRecognizer):
    PATTERNS = [
        # 1[3-9]: numbers starting 10/11/12 are not mobiles (order numbers, dates...)
        Pattern("cn_mobile",
                LEFT + f"{COUNTRY}?[1１]{SEP}?[3-9３-９](?:{SEP}?{DIGIT}){{9}}" + RIGHT, 0.6),
        Pattern("cn_landline", LEFT + _AREA + SEP + _LOCAL + _EXTENSION + RIGHT, 0.6),
        # without a separator a 11-12 digit run starting with 0 is ambiguous: needs context
        Pattern("cn_landline_nodash", LEFT + _AREA + _LOCAL + RIGHT, 0.3),
        Pattern("cn_landline_paren", f"[(（]{_AREA}[)）] ?" + _LOCAL + RIGHT, 0.6),
    ]
    # TextScanner skips the patterns without it: 10 digits (the shortest landline), however
    # written, where a number may start (LEFT: not inside a run of letters and digits, as in a
    # hex digest), or an area code in brackets
    PREFILTER = f"(?:^|[^0-9０-９A-Za-zＡ-Ｚａ-ｚ])[+＋]?{digits(10)}|[(（]{_ZERO}"
    CONTEXT = ["电话", "手机", "联系", "致电", "来电", "号码", "座机", "固话", "tel", "mobile"]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="CN_PHONE",
            name="CnPhoneRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # no check digit on phones: shape checks only reject, they never lift to 1.0
        text = _PAREN.sub(r"\1-", pattern_text) if pattern_text[0] in "(（" else pattern_text
        number = _national(text)
        if identifiers.is_mobile(number):
            return None
        number = plain(text)  # with its extension (-801): area code and number come first
        return None if any(identifiers.is_landline(number[:n]) for n in (10, 11, 12)) else False
