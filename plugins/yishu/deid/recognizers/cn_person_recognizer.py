"""PERSON: Chinese person names in free text.

A name is a surname (person_words) followed by one or two given-name characters, and it is only
taken next to a context word (患者王秀英, 联系人：李明先生, 由张伟医生接诊, 王秀英，女，).
Without context, surname characters are far too common (高, 于, 和, 时...) to be a signal.
jieba's dictionary rejects ordinary words that start with a surname (高血压, 王府井, 张家界, 全身),
and jieba's part-of-speech tagger (`nr`) is a slow fallback, used only when a strong context word
is present but the regex found nothing, and then only on the runs of text where a surname starts
near a context word, each run tagged once per process (`_block_names`).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from yishu.deid.recognizers.person_base import PersonRecognizer
from yishu.deid.recognizers.person_words import (  # noqa: F401 (re-exported)
    COMPOUND_SURNAMES,
    DENY_PREFIXES,
    DENY_WORDS,
    FUNCTION_CHARS,
    FUNCTION_SURNAMES,
    NON_NAME_CHARS,
    PREFIX_WORDS,
    SINGLE_SURNAMES,
    STRONG_PREFIX,
    STRONG_SUFFIX,
    SUFFIX_WORDS,
    TITLE_NAME_END,
    TITLE_PREFIX,
    WEAK_PREFIX,
    WEAK_SUFFIX,
)

_RANK = {s: i for i, s in enumerate(SINGLE_SURNAMES)} | {s: 100 for s in COMPOUND_SURNAMES}
# the first character of every surname: a name starts with one
_SURNAME_STARTS = frozenset(s[0] for s in _RANK)

# After a weak context, a dictionary word at least this frequent (jieba counts) is a word, not a
# name (全身, 常规, 明显), unless jieba tags it `nr`; `nr` words are words from 10x that
# frequency (安静, 文明). Costs ~1% of names (李强, 申明) after weak contexts. After a strong
# context only very common words are rejected (投保人信息, 联系人情况).
WORD_FREQ_LIMIT = 100
NR_FREQ_LIMIT = STRONG_FREQ_LIMIT = 1000

_PREFIX_RE = re.compile(
    "(" + "|".join(sorted(PREFIX_WORDS, key=len, reverse=True)) + ")(?:[:：\\s]|（[^）]{0,6}）)*"
)
# Also after a name: its gender (，女，, as strong as 先生), its age (，45岁) or its ID
# (（身份证号：...）)
# (`[，,、 （(]?[男女](?=[，,、 性0-9]|$)` and `[，,、 （(]?(?:[0-9]{1,3}岁|身份证)`, spelt out in
# the same order without the optional first character: ~20% faster in `re`, same matches)
_SUFFIX_RE = re.compile("(" + "|".join(SUFFIX_WORDS + [
    "[，,、 （(][男女](?=[，,、 性0-9]|$)", "[男女](?=[，,、 性0-9]|$)",
    "[，,、 （(][0-9]{1,3}岁", "[，,、 （(]身份证", "[0-9]{1,3}岁", "身份证",
]) + ")")
_STRONG = set(STRONG_PREFIX + STRONG_SUFFIX)
_TITLE_PREFIXES = frozenset(TITLE_PREFIX)
_STRONG_SUFFIXES = tuple(STRONG_SUFFIX)
_SUFFIXES = tuple(SUFFIX_WORDS)
_STRONG_RE = re.compile("|".join(_STRONG))
# any context word at all: the cheap prefilter before the name logic
_CONTEXT_RE = re.compile("|".join(sorted(set(PREFIX_WORDS + SUFFIX_WORDS), key=len, reverse=True))
                         + "|[，,、 （(：:][男女][，,、 性0-9]|[0-9]岁|身份证")

# After a byline (（记者马力）, 记者由曦发自) or a title (行长苏宁否认), a closed name may be a word
_BYLINE = frozenset("记者 通讯员 实习生".split())
_BYLINE_END = re.compile(r"$|[）)\s]|报道|发自|摄")


def _closed_word_name(text: str, pos: int, word: str) -> int | None:
    if word not in _BYLINE and (word not in TITLE_PREFIX or text[pos] in FUNCTION_SURNAMES):
        return None  # 队长和指挥: 和 after a title is a word
    end = _name_after(text, pos, True)
    closing = _BYLINE_END if word in _BYLINE else TITLE_NAME_END
    return end if end is not None and closing.match(text, end) else None


# where a jieba name word can start: a compound surname, or a single surname followed by a
# possible given-name character
_NAME_START = re.compile(
    "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{SINGLE_SURNAMES}](?=[\u4e00-\u9fff])"
    + "(?![" + "".join(sorted(NON_NAME_CHARS)) + "]))"
)


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, int], dict[str, str]]:
    """jieba's word frequencies and part-of-speech tags (loaded once, ~1 s)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt.FREQ, jieba.posseg.dt.word_tag_tab


@lru_cache(maxsize=1)
def _jieba_block_re() -> re.Pattern:
    """The blocks jieba's part-of-speech tagger cuts one by one (CJK, letters, digits, +#&._)."""
    import jieba.posseg

    return jieba.posseg.re_han_internal


@lru_cache(maxsize=65536)
def _block_names(block: str) -> tuple[tuple[int, int], ...]:
    """(start, end) in block of the words jieba tags `nr` that look like a name: 2-4
    characters, a known surname, given-name characters, no title (王先生), not a word."""
    import jieba.posseg

    _dictionary()  # initialises jieba quietly
    names, pos = [], 0
    for word, flag in jieba.posseg.dt.lcut(block):
        start, pos = pos, pos + len(word)
        if flag != "nr" or not 2 <= len(word) <= 4:
            continue
        ls = _surname_len(word, 0)
        if not ls or not _given_ok(word[ls:]) or word.endswith(_SUFFIXES):  # 王先生
            continue
        if not _is_word(word):
            names.append((start, pos))
    return tuple(names)


@lru_cache(maxsize=65536)
def _is_word(text: str, strong: bool = False) -> bool:
    """An ordinary word, not a name."""
    if text in DENY_WORDS:
        return True
    freq, tags = _dictionary()
    count = freq.get(text) or 0
    if (tags.get(text) or "").startswith("nr"):  # nr, nrfg, nrt: jieba thinks it is a name
        return count >= NR_FREQ_LIMIT
    return count >= (STRONG_FREQ_LIMIT if strong else WORD_FREQ_LIMIT)


def _common_noun(word: str) -> bool:
    """A frequent two-character `n` word (公司, 董事): no given name, unlike 建国 ns, 文明 nr."""
    if len(word) != 2:
        return False
    freq, tags = _dictionary()
    return tags.get(word) == "n" and (freq.get(word) or 0) >= STRONG_FREQ_LIMIT


def _surname_len(text: str, pos: int) -> int:
    if text[pos : pos + 2] in _RANK:
        return 2
    return 1 if text[pos : pos + 1] in _RANK else 0


# CJK characters that may occur in a given name
_GIVEN_CHARS = frozenset(map(chr, range(0x4E00, 0xA000))) - NON_NAME_CHARS


def given_name_chars() -> frozenset[str]:
    """The CJK characters that may occur in a given name (the name model's rules use them)."""
    return _GIVEN_CHARS


def _given_ok(chars: str) -> bool:
    return _GIVEN_CHARS.issuperset(chars)


def _name_after(text: str, pos: int, strong: bool) -> int | None:
    """End of the name starting at pos (after a prefix context word), or None."""
    ls = _surname_len(text, pos)
    if not ls or (not strong and text[pos] in FUNCTION_SURNAMES):  # 分析师向记者, 队长和指挥
        return None
    n = 0
    while (n < 2 and pos + ls + n < len(text) and text[pos + ls + n] in _GIVEN_CHARS
           and not text.startswith(_SUFFIXES, pos + ls + n)):  # 王先生: a title, no given name
        n += 1
    # 刘洋陪同, 李明先生: the second given character starts a word with what follows
    after = pos + ls + 2
    if n == 2 and after < len(text) and text[after] not in FUNCTION_CHARS and _is_word(
        text[after - 1 : after + 1]
    ):
        n = 1
    if n == 0:
        return None
    # 联系人：高峰先生: a name closed by 先生/女士 after a context word is a name, even if a word
    name = text[pos : pos + ls + n]
    if text.startswith(_STRONG_SUFFIXES, pos + ls + n) and name not in DENY_WORDS:
        return pos + ls + n
    if _is_word(text[pos : pos + ls + n], strong):
        return None
    if not strong and text[pos : pos + 2] in DENY_PREFIXES:
        return None
    return pos + ls + n


def _splits_words(text: str, start: int, end: int) -> bool:
    """Whether a name read at text[start:end] would cut an ordinary word on its left (公司 in
    公司副总) or start with one (公司 in 公司总): real text puts titles after organisations
    (公司总经理, 常务副主任) far more often than after a name."""
    return ((start > 0 and _is_word(text[start - 1 : start + 1]))
            or (end - start >= 3 and _is_word(text[start : start + 2])))


def _surname_alone(text: str, end: int) -> bool:
    """A single surname right before a title (黄先生, 李女士): in a resume or a complaint, the
    surname, the title and what is said about them point at one person. Not a character that
    ends a word with the one before it (各位女士, 老先生)."""
    ch = text[end - 1 : end]
    if end < 1 or ch not in _RANK or ch in _NOT_ALONE:
        return False
    return end < 2 or not _is_word(text[end - 2 : end])


_TITLE_HEADS = set("副总")  # they start a title before one of _TITLES (副主任, 总经理)
# titles after which a lone surname is a person (黄先生, 张医生, 黄教授)
_TITLES = set(STRONG_SUFFIX) | set(
    "医生 医师 大夫 护士 护师 主任 教授 老师 院长 科长 经理 律师 警官 师傅".split())
# surname characters that, before a title, are mostly something else (各位女士, 总经理, 由医生)
_NOT_ALONE = set("老小大总副正位名各该某其此每诸全和由于向与及")


def _name_before(text: str, end: int, strong: bool) -> int | None:
    """Start of the name ending at end (before a suffix context word), or None.
    由张伟医生 reads both 由张伟 and 张伟: the longest reading wins unless its surname is a
    function word (由, 和...)."""
    fallback = None
    for length in (4, 3, 2):
        start = end - length
        if start < 0:
            continue
        ls = _surname_len(text, start)
        if ls == 2 and length == 2:
            ls = 1  # 欧阳 alone is no name; read 欧 + 阳
        if not ls or not 1 <= length - ls <= 2 or not _given_ok(text[start + ls : end]):
            continue
        if text[start : start + ls] not in _RANK or text.startswith(_SUFFIXES, start + 1):
            continue  # 肖春华先生，48岁: 华先生 is no name
        if ls == 1 and text[start] in FUNCTION_SURNAMES and fallback is None:
            fallback = start  # try the shorter reading first (由张伟 -> 张伟)
            continue
        if _splits_words(text, start, end) and (not strong or _surname_alone(text, end)):
            continue  # 司副总 cuts 公司; before 先生 only if a lone surname is left (教师陈女士)
        if _common_noun(text[start + ls : end]):
            continue  # 任公司副总经理, 区董事总经理: 公司, 董事 are no given names
        return None if _is_word(text[start:end], strong) else start
    if (fallback is not None and not _is_word(text[fallback:end], strong)
            and not _is_word(text[fallback + 1 : end])):
        return fallback  # 由向帆医生: 向帆 is the only reading; not 和客户经理 (客户 is a word)
    return None


# A name opening a line of dialogue or an interview answer (姜山：你怎么看？; 问：……。金石开：……):
# at the start of the text or of a sentence, right before a colon
_SPEAKER_RE = re.compile(r"(?:^|(?<=[。！？!?\n\s]))([\u4e00-\u9fff]{2,3})[：:]")


def _speakers(text: str) -> list[tuple[int, int]]:
    """Names that open a sentence before a colon: a surname, one or two given-name characters,
    not a word (地址：, 时间：, 王府井：), not a title (王先生：)."""
    names = []
    for m in _SPEAKER_RE.finditer(text):
        word = m.group(1)
        ls = _surname_len(word, 0)
        if (ls and 1 <= len(word) - ls <= 2 and _given_ok(word[ls:])
                and not word.endswith(_SUFFIXES) and not _is_word(word)):
            names.append(m.span(1))
    return names


class CnPersonRecognizer(PersonRecognizer):
    CONTEXT_SCORE = 0.85
    FALLBACK_SCORE = 0.6

    def __init__(self, supported_language: str = "zh", use_jieba_fallback: bool = True):
        super().__init__(supported_language)
        self.use_jieba_fallback = use_jieba_fallback

    def load(self) -> None:
        _dictionary()

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of names; the scanner calls this directly."""
        speakers = _speakers(text) if "：" in text or ":" in text else []
        if not _CONTEXT_RE.search(text):
            return [(start, end, self.CONTEXT_SCORE) for start, end in speakers]
        found: dict[tuple[int, int], float] = {}
        for m in _PREFIX_RE.finditer(text):
            pos = m.end()
            if text[pos : pos + 1] not in _SURNAME_STARTS:  # no surname, no name (cheap test)
                continue
            end = _name_after(text, pos, m.group(1) in _STRONG)
            if end is None:
                end = _closed_word_name(text, pos, m.group(1))
            if end is not None and (m.group(1) not in _TITLE_PREFIXES
                                    or TITLE_NAME_END.match(text, end)):
                found[(pos, end)] = self.CONTEXT_SCORE
        for m in _SUFFIX_RE.finditer(text):
            pos, word = m.start(), m.group(1)
            if word in ("男", "女") and text[pos - 1 : pos] in ("：", ":"):
                pos -= 1  # 申林：男，
            while word in _TITLES and text[pos - 1 : pos] in _TITLE_HEADS:
                pos -= 1  # 侯云春副主任, 封屹总经理: the title starts at 副/总
            if word in _TITLES and _surname_alone(text, pos):
                # 黄先生: the surname is all we have (with a courtesy title: it names him too)
                found[(pos - 1, m.end() if word in _STRONG else pos)] = self.CONTEXT_SCORE
            if _SURNAME_STARTS.isdisjoint(text[max(0, pos - 4) : pos - 1]):  # same test
                continue
            start = _name_before(text, pos, word in _STRONG or word[-1] in "男女")
            if start is not None:
                found.pop((pos - 1, m.end() if word in _STRONG else pos), None)
                found[(start, pos)] = self.CONTEXT_SCORE
        # a strong context word (姓名, 联系人, 先生) promises a name: ask jieba when we found none;
        # weak ones (患者自述...) mostly have none, and jieba would cost 0.5 ms a text
        if not found and self.use_jieba_fallback and _STRONG_RE.search(text):
            found = dict.fromkeys(self._jieba_names(text), self.FALLBACK_SCORE)
        found.update(dict.fromkeys(speakers, self.CONTEXT_SCORE))
        return [(start, end, score) for (start, end), score in sorted(found.items())]

    def _jieba_names(self, text: str) -> list[tuple[int, int]]:
        """Words jieba tags `nr` that start with a known surname, close to a context word.

        jieba cuts each run of CJK/alphanumeric characters (its `re_han_internal` blocks) on
        its own, so the words of a block depend on the block only: blocks are tagged once each
        (`_block_names`, cached), and only blocks where a surname starts near a context word."""
        near = [(m.start() - 10, m.end() + 6) for m in _CONTEXT_RE.finditer(text)
                if m.group() not in _TITLE_PREFIXES]  # a title alone does not promise a name
        names = []
        for block in _jieba_block_re().finditer(text):
            bs, be = block.span()
            # a name word starts with a surname followed by one more character of the block,
            # within 6 characters after a context word or ending at most 6 before one
            if not any(lo <= s.start() <= hi for s in _NAME_START.finditer(text, bs, be)
                       for lo, hi in near):
                continue
            for start, end in _block_names(block.group()):
                start, end = bs + start, bs + end
                if any(lo + 4 <= end and start <= hi for lo, hi in near):
                    names.append((start, end))
        return names

