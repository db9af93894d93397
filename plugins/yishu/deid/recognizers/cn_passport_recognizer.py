"""CN_PASSPORT: passports and travel permits (港澳通行证, 回乡证); one entity, one placeholder."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

_LEFT = r"(?<![0-9A-Za-z])"
_RIGHT = r"(?![0-9A-Za-z])"
_LETTER = "[A-HJ-NP-Z]"  # I and O are not used in serial letters


class CnPassportRecognizer(PatternRecognizer):
    PATTERNS = [
        # ordinary passport: E + 8 digits, E + letter + 7 digits (since 2012), older G + 8 digits;
        # diplomatic/service/official: DE/SE/PE + 7 digits
        Pattern("cn_passport", _LEFT + rf"(?:[EG][0-9]{{8}}|E{_LETTER}[0-9]{{7}}|[DSP]E[0-9]{{7}})"
                + _RIGHT, 0.5),
        # 往来港澳通行证: C + 8 digits or C + letter + 7 digits
        Pattern("cn_hk_macao_permit", _LEFT + rf"C(?:[0-9]{{8}}|{_LETTER}[0-9]{{7}})" + _RIGHT,
                0.5),
        # 港澳居民来往内地通行证 (回乡证): H (Hong Kong) / M (Macao) + 8 or 10 digits
        Pattern("cn_home_return_permit", _LEFT + r"[HM][0-9]{8}(?:[0-9]{2})?" + _RIGHT, 0.5),
    ]
    PREFILTER = r"[CDEGHMPS][A-Z]?[0-9]{7}"  # TextScanner skips the patterns without it
    CONTEXT = ["护照", "通行证", "回乡证", "港澳", "证件", "passport", "签证"]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="CN_PASSPORT",
            name="CnPassportRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )
