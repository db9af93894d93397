"""Foreign names written in Chinese characters (多梅内克, 阿德巴约, 加尔加诺): the characters of
the standard transliteration tables (外国人名译名 usage), and the rule that mends a transliterated
name the name model cut in two.

The tagger often tags most of such a name PER and leaves a first or last syllable as a word of its
own (多/a 梅内克/PER, 阿德巴/PER 约/d, 加尔/PER 加诺/v): those syllables say nothing in Chinese,
but a name made only of transliteration characters goes on over a short neighbour made only of
them too.
"""

from __future__ import annotations

# Characters of transliterated person names (Xinhua's tables for English, French, German,
# Italian, Spanish, Russian...): syllables, not words
CHARS = frozenset(
    "阿埃艾爱安昂奥巴拜班邦鲍贝本比彼毕波伯博布查达戴丹道德迪蒂丁杜多厄恩尔法菲费芬丰弗福富"
    "盖戈格贡古哈海汉赫亨胡霍基吉加杰捷金卡开凯坎康考科克肯库奎拉莱赖兰朗劳勒雷蕾里利莉列林"
    "琳隆卢鲁路伦罗洛马玛麦迈曼梅门蒙米明莫默姆穆纳娜奈南内尼妮宁纽努诺欧帕佩彭蓬皮珀普奇齐"
    "乔切琼热萨塞桑瑟森沙莎尚什施斯苏索塔泰坦汤特提图托瓦万威韦维温沃乌西希锡谢辛休雅亚扬耶"
    "伊因尤约泽扎詹茨娅丽黛露薇夫琪"
)
MAX_SYLLABLES = 2  # a neighbour word joined to a name is at most this long


def transliterated(word: str) -> bool:
    return bool(word) and CHARS.issuperset(word)


def _word_start(path, pos: int, inside: frozenset[int]) -> int:
    """Start of the tagger's word that holds position pos (a word goes on over "-I" tags)."""
    while pos > 0 and path[pos] in inside:
        pos -= 1
    return pos


def _word_end(path, pos: int, inside: frozenset[int]) -> int:
    """End of the tagger's word that starts at pos."""
    pos += 1
    while pos < len(path) and path[pos] in inside:
        pos += 1
    return pos


def mend(text: str, path, spans: list[tuple[int, int]], inside: frozenset[int],
         not_joined: frozenset[int]) -> list[tuple[int, int]]:
    """Spans of transliterated names taken on by a short transliterated neighbour word on either
    side, unless the neighbour is punctuation, a particle, preposition, conjunction, numeral,
    measure word, pronoun or time (`not_joined`: tags of a word's first character)."""
    out = []
    for start, end in spans:
        if end - start >= 2 and transliterated(text[start:end]):
            if start > 0:
                left = _word_start(path, start - 1, inside)
                if (start - left <= MAX_SYLLABLES and path[left] not in not_joined
                        and transliterated(text[left:start])):
                    start = left
            if end < len(path):
                right = _word_end(path, end, inside)
                if (right - end <= MAX_SYLLABLES and path[end] not in not_joined
                        and transliterated(text[end:right])):
                    end = right
        if out and out[-1][1] >= start:  # 米/PER 开/v 朗琪罗/PER: one name once mended
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out
