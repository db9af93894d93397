"""EMAIL_ADDRESS, written for Chinese text (addresses glued to CJK characters)."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer


class CnEmailRecognizer(PatternRecognizer):
    PATTERNS = [
        # the local part is ASCII, so CJK characters around it delimit the address by themselves
        Pattern("email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
                r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])", 0.9),
    ]
    PREFILTER = r"@"  # TextScanner skips the patterns without it
    CONTEXT = ["邮箱", "邮件", "电邮", "email", "e-mail", "mail"]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="CnEmailRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )
