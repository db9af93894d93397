"""CN_ADDRESS: street addresses such as 广东省深圳市南山区科技园路18号.

An address must start at a known division name (GB/T 2260 names shipped with python-stdnum) or
right after an address context word: a generic "two CJK characters + 市" start would swallow the
words before it (住址深圳市... would begin at 住).
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import EntityRecognizer, RecognizerResult
from stdnum import numdb

_SUFFIXES = ("省", "市", "区", "县", "旗", "州", "盟", "自治区")
_GENERIC = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_SHORT_PROVINCE = re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特別行政區)$")
# characters that end a road-name candidate: a road name does not contain them
_STOP = "的了是在于和与及患者人因为被把从向对将已曾也都就还又再才很最更诉称说"
_NAME_CHAR = rf"(?:(?![{_STOP}])[\u4e00-\u9fff0-9A-Za-z])"
_UNIT = r"[\u4e00-\u9fff]{1,8}?(?:自治州|地区|街道|市|区|县|旗|盟|镇|乡)"
_ROAD = rf"{_NAME_CHAR}{{1,12}}?(?:大道|大街|胡同|路|街|巷|弄|里|村|社区|小区|花园|大厦|广场)"
_NUMBER = r"[0-9]+(?:-[0-9]+)?(?:号院|号|弄)"
_BUILDING = r"[0-9A-Za-z一二三四五六七八九十]+(?:号楼|栋|幢|座|单元|楼|层|室|房)"
_STREET_LEVEL = re.compile(r"(?:街道|镇|乡|大道|大街|胡同|路|街|巷|弄|村|社区|小区|号|室|栋|幢)")
_CONTEXT_ANCHOR = re.compile(
    r"(?:通讯地址|联系地址|家庭住址|户籍地址|居住地址|现住址|地址|住址|住所|家住|现住|户籍地|居住于|住在)"
    r"(?:是|为|在)?[:：\s]*([^\s，。；、,;!?！？()（）]{2,40})"
)
_ADDRESS_CHARS = re.compile(r"[省市区县镇乡村路街巷号室栋幢弄]")


@lru_cache(maxsize=1)
def _division_names() -> frozenset[str]:
    names: set[str] = set()

    def walk(prefixes):
        for _length, _low, _high, props, children in prefixes:
            for value in props.values():
                for name in value.split(","):
                    name = name.split("]")[-1]  # drop the [start-end] validity prefix
                    if len(name) >= 2 and name not in _GENERIC and name.endswith(_SUFFIXES):
                        names.add(name)
                        short = _SHORT_PROVINCE.sub("", name)
                        if "province" in props and len(short) >= 2:
                            names.add(short)  # 广东深圳市...
            walk(children)

    walk(numdb.get("cn/loc").prefixes)
    return frozenset(names)


_DIVISION_END = re.compile(r"[省市区县旗盟州]")
_TAIL = re.compile(rf"(?:{_UNIT}){{0,3}}(?:{_ROAD})?(?:{_NUMBER})?(?:{_BUILDING}){{0,4}}")


def _find_division(text: str, suffix_at: int) -> int | None:
    """Start of the longest known division name ending at text[suffix_at], else None."""
    names = _division_names()
    for length in range(min(suffix_at + 1, 9), 1, -1):
        start = suffix_at + 1 - length
        if text[start : suffix_at + 1] in names:
            # 广东深圳市: a province without its suffix right before the name
            for plen in (3, 2):
                if start >= plen and text[start - plen : start] in names:
                    return start - plen
            return start
    return None


class CnAddressRecognizer(EntityRecognizer):
    CONTEXT = ["地址", "住址", "住所", "家住", "现住", "居住", "户籍", "籍贯", "位于"]
    # cheap test run before the big regex: every address holds one of these characters
    PREFILTER = re.compile(r"[省市区县旗盟州镇乡村路街号址住]")
    MAY_FIND = PREFILTER.pattern  # the TextScanner's test of a whole column in Arrow

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entities=["CN_ADDRESS"],
            name="CnAddressRecognizer",
            supported_language=supported_language,
            context=self.CONTEXT,
        )

    def load(self) -> None:
        _division_names()

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of addresses; the scanner calls this directly."""
        if not self.PREFILTER.search(text):
            return []
        spans = []
        covered = 0
        # anchor on the suffix of a division name (省/市/区...), then extend generically
        for m in _DIVISION_END.finditer(text):
            if m.start() < covered:
                continue
            start = _find_division(text, m.start())
            if start is None or start < covered:
                continue
            end = _TAIL.match(text, m.end()).end()
            covered = end
            if _STREET_LEVEL.search(text, m.end(), end):
                spans.append((start, end, 0.85))
            elif end - start >= 5:
                spans.append((start, end, 0.4))  # 广东省深圳市: a place, an address with context
        for m in _CONTEXT_ANCHOR.finditer(text):
            if _ADDRESS_CHARS.search(m.group(1)):
                spans.append((m.start(1), m.end(1), 0.85))
        return spans

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [
            RecognizerResult(
                "CN_ADDRESS", start, end, score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, score in self.find(text)
        ]
