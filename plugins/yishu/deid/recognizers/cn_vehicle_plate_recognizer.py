"""CN_VEHICLE_PLATE: mainland licence plates, including 8-character new-energy plates."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "[A-HJ-NP-Z]"  # plate letters skip I and O
_ALNUM = "[A-HJ-NP-Z0-9]"
_SEP = "[·•. -]?"


class CnVehiclePlateRecognizer(PatternRecognizer):
    PATTERNS = [
        # new energy: D/F + 5 (small cars) or 5 digits + D/F (large vehicles)
        Pattern("cn_plate_new_energy", rf"[{_PROVINCES}]{_L}{_SEP}(?:[DF]{_ALNUM}[0-9]{{4}}"
                rf"|[0-9]{{5}}[DF])(?![0-9A-Za-z])", 0.7),
        # ordinary: 5 characters with at least 3 digits, optional 挂/学/警 suffix
        Pattern("cn_plate", rf"[{_PROVINCES}]{_L}{_SEP}(?=(?:{_L}*[0-9]){{3}}){_ALNUM}{{4}}"
                rf"(?:{_ALNUM}|[挂学警港澳])(?![0-9A-Za-z])", 0.6),
    ]
    PREFILTER = rf"[{_PROVINCES}]{_L}"  # TextScanner skips the patterns without it
    CONTEXT = ["车牌", "牌照", "号牌", "车辆", "机动车", "驾驶", "车号"]

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity="CN_VEHICLE_PLATE",
            name="CnVehiclePlateRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=self.CONTEXT,
            global_regex_flags=re.MULTILINE,
        )
