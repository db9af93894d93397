"""CN_PHONE: mainland mobile numbers (+86/86, spaces, dashes) and landlines with an area code."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.standard import identifiers

_LEFT = r"(?<![0-9A-Za-z+])(?<![0-9][.,])"
_RIGHT = r"(?![0-9A-Za-z])(?![.,-][0-9])"
_PAREN = re.compile(r"[(（](0[0-9]+)[)）] ?")  # (0755) 83212345 -> 0755-83212345


class CnPhoneRecognizer(PatternRecognizer):
    PATTERNS = [
        # 1[3-9]: numbers starting 10/11/12 are not mobiles (order numbers, dates...)
        Pattern("cn_mobile", _LEFT + r"(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}" + _RIGHT,
                0.6),
        Pattern("cn_landline", _LEFT + r"0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}(?:-[0-9]{1,5})?"
                + _RIGHT, 0.6),
        # without the dash a 11-12 digit run starting with 0 is ambiguous: needs context
        Pattern("cn_landline_nodash", _LEFT + r"0[1-9][0-9]{1,2}[2-9][0-9]{6,7}" + _RIGHT, 0.3),
        Pattern("cn_landline_paren", r"[(（]0[1-9][0-9]{1,2}[)）] ?[2-9][0-9]{6,7}" + _RIGHT, 0.6),
    ]
    PREFILTER = r"[0-9]{4}"  # TextScanner skips the patterns without it
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
        return None if identifiers.is_phone(text) else False
