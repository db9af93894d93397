"""CN_USCC: GB 32100-2015 unified social credit code (check character via identifiers.is_uscc)."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.standard import identifiers

_LEFT = r"(?<![0-9A-Za-z])"
_RIGHT = r"(?![0-9A-Za-z])"
_SHAPE = "[1-9A-HNY][1-9A-HNY0-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"
_RESIDENT_ID_SHAPE = re.compile(
    r"[1-8][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
)


class CnUsccRecognizer(PatternRecognizer):
    PATTERNS = [
        Pattern("cn_uscc", _LEFT + _SHAPE + _RIGHT, 0.5),
    ]
    # TextScanner skips the patterns without it. The whole shape, not only its six digits: a
    # column of hex digests has six digits in a row in nine values of ten
    PREFILTER = _SHAPE
    CONTEXT = [
        "信用代码", "统一社会信用", "社会信用代码", "税号", "纳税人识别号", "营业执照", "注册号",
    ]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="CN_USCC",
            name="CnUsccRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # an 18-digit resident ID, even a mistyped one, passes the USCC check once in 31: a
        # number shaped like one (birth date in the middle) is left to CN_RESIDENT_ID
        if _RESIDENT_ID_SHAPE.fullmatch(pattern_text):
            return False
        return identifiers.is_uscc(pattern_text)
