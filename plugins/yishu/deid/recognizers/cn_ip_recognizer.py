"""IP_ADDRESS: IPv4 and IPv6 addresses, validated with the ipaddress module."""

from __future__ import annotations

import ipaddress
import re

from presidio_analyzer import Pattern, PatternRecognizer

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


class CnIpRecognizer(PatternRecognizer):
    PATTERNS = [
        # the lookarounds keep version numbers such as 1.2.3.4.5 out; letters may touch (IP1.2.3.4)
        Pattern("ipv4", rf"(?<![0-9.])(?:{_OCTET}\.){{3}}{_OCTET}(?![0-9A-Za-z]|\.[0-9])",
                0.6),
        Pattern("ipv6", r"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}"
                r"(?![0-9A-Za-z:])", 0.6),
    ]
    PREFILTER = r"[0-9A-Fa-f][.:][0-9A-Fa-f]"  # TextScanner skips the patterns without it
    CONTEXT = ["IP", "ip地址", "IP地址", "地址", "登录", "访问", "服务器", "主机"]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="IP_ADDRESS",
            name="CnIpRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        if ":" in pattern_text and len(pattern_text.strip(":")) < 3:
            return False  # "::" or "1::" in prose is punctuation, not an address
        try:
            ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        return None
