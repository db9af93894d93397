"""Issue 8: rules that find more person names in news and web text (transliterated names, lone
English given names, titles inside a tagged word) and keep places and organisations whole.
Synthetic sentences only: the labelled corpora stay outside the repository."""

from __future__ import annotations

import pytest

from yishu.deid.recognizers.cn_latin_person_recognizer import CnLatinPersonRecognizer


def _names(scanner, text):
    return [text[s.start : s.end] for s in scanner.find(text) if s.entity == "PERSON"]


LATIN = CnLatinPersonRecognizer()


@pytest.mark.parametrize(("text", "expected"), [
    ("据说Linda一直在练琴", ["Linda"]),
    ("来自加拿大的Kevin，今年刚毕业", ["Kevin"]),
    ("我和lucy在公园散步", ["lucy"]),
])
def test_lone_given_name(text, expected):
    assert [text[a:b] for a, b, _ in LATIN.find(text)] == expected


@pytest.mark.parametrize("text", [
    "这款Max版本的手机很贵",  # a capitalised given name inside an English phrase... or a product
    "请用bill支付",  # a lower-case given name that is an English word
    "I met Linda yesterday",  # English text: a Latin word a space away
    "下载3dsMax软件",  # part of a longer Latin word
])
def test_lone_given_name_not(text):
    assert LATIN.find(text) == []
