"""CN_BANK_CARD: 16-19 digit card numbers, however written (surface.py). A number passing Luhn
is a card whatever its issuer; with a card word nearby (卡号, 银行卡...) any 16-19 digits are."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.deid.recognizers.surface import LEFT, RIGHT, digits, plain
from yishu.standard import identifiers


def _card_digits(low: int, high: int) -> str:
    return "|".join(digits(n) for n in range(high, low - 1, -1))  # longest first


class CnBankCardRecognizer(PatternRecognizer):
    PATTERNS = [
        # Luhn-valid numbers are lifted to 1.0 by validate_result; others keep this score, which
        # a card word nearby raises above the threshold
        Pattern("cn_bank_card", LEFT + f"(?:{_card_digits(16, 19)})" + RIGHT, 0.3),
    ]
    PREFILTER = digits(16)  # TextScanner skips the patterns without 16 digits, however written
    CONTEXT = [
        "银行卡", "卡号", "账号", "帐号", "借记卡", "信用卡", "储蓄卡", "开户", "银行", "账户",
    ]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="CN_BANK_CARD",
            name="CnBankCardRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        number = plain(pattern_text)
        # an 18-digit resident ID, even a mistyped one, belongs to CN_RESIDENT_ID and a valid
        # USCC to CN_USCC (one in ten passes Luhn; cards are mostly 16 or 19 digits long)
        if len(number) == 18 and (identifiers.is_resident_id(number)
                                  or identifiers.is_mistyped_resident_id(number)
                                  or identifiers.is_uscc(number)):
            return False
        # Luhn: a card of any issuer; otherwise only a card word makes it one (the low score)
        return True if identifiers.is_bank_card(number) else None
