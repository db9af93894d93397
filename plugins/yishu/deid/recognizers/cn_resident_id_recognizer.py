"""CN_RESIDENT_ID: 18-digit resident ID (check digit, birth date, county) and the legacy
15-digit form."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from presidio_analyzer import Pattern, PatternRecognizer
from stdnum.cn import ric

from yishu.standard import identifiers

# \b does not separate CJK from digits, so digits glued to Chinese text need explicit lookarounds;
# the second lookbehind/lookahead keeps us out of amounts such as 1.110101...
_LEFT = r"(?<![0-9A-Za-z])(?<![0-9][.,])"
_RIGHT = r"(?![0-9A-Za-z])(?![.,][0-9])"
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"


@lru_cache(maxsize=65536)
def _county_valid_in(county: str, year: int) -> bool:
    """Whether the county code existed in that year, asked of identifiers.is_resident_id on a
    synthetic ID for January 1st: stdnum's county lookup costs ~70 us, the cache makes it free."""
    body = f"{county}{year:04d}0101001"
    return identifiers.is_resident_id(body + ric.calc_check_digit(body + "0"))


def is_resident_id(value: str) -> bool:
    """Same answer as identifiers.is_resident_id (tested), memoising the county lookup."""
    number = value.strip().upper()
    if len(number) == 15 and number.isdigit():
        number = identifiers.upgrade_legacy_resident_id(number)
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[-1] != ric.calc_check_digit(number):
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return _county_valid_in(number[:6], int(number[6:10]))


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

    def validate_result(self, pattern_text: str) -> bool | None:
        if not is_resident_id(pattern_text):
            return False
        # True lifts the score to 1.0: only the 18-digit form carries a check digit
        return True if len(pattern_text) == 18 else None
