"""CN_BANK_CARD: 16-19 digit card numbers passing Luhn (identifiers.is_bank_card)."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from yishu.standard import identifiers
from yishu.standard.identifiers import is_resident_id

_LEFT = r"(?<![0-9A-Za-z])(?<![0-9][.,])"
_RIGHT = r"(?![0-9A-Za-z])(?![.,][0-9])"


class CnBankCardRecognizer(PatternRecognizer):
    PATTERNS = [
        # 62 UnionPay, 4 Visa, 5 Mastercard, 3 JCB/Amex, 9 legacy domestic debit cards;
        # groups of four may be separated by a space or a dash
        Pattern("cn_bank_card", _LEFT + r"[3-69][0-9]{3}(?:[ -]?[0-9]{4}){3}(?:[ -]?[0-9]{1,3})?"
                + _RIGHT, 0.4),
    ]
    PREFILTER = r"[0-9]{4}"  # TextScanner skips the patterns without it
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
        # a valid resident ID passes Luhn once in ten: it belongs to CN_RESIDENT_ID (and this
        # cached check is cheaper than Luhn)
        if len(pattern_text) == 18 and is_resident_id(pattern_text):
            return False
        if not identifiers.is_bank_card(pattern_text):
            return False
        # one random number in ten passes Luhn: only UnionPay's 62 prefix is trusted outright,
        # other prefixes keep the low pattern score and need a context word
        return True if pattern_text.startswith("62") else None
