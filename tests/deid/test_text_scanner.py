"""TextScanner: redaction, glued digits, overlaps, empty input, counts, entity filter."""

from __future__ import annotations

from collections import Counter

import pytest
from stdnum import luhn
from stdnum.cn import ric

from yishu.deid.text_scanner import Span, TextScanner


def resident_id(county: str = "440305", birth: str = "19920512", seq: str = "031") -> str:
    body = county + birth + seq
    return body + ric.calc_check_digit(body + "0")


RID = resident_id()



def test_redacts_clinical_note(scanner):
    note = f"患者王秀英，女，45岁，身份证{RID}，电话13812345678，主诉头痛三天，建议复查。"
    assert scanner.redact(note) == (
        "患者<人名>，女，45岁，身份证<身份证号>，电话<电话>，主诉头痛三天，建议复查。"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系人：李明先生", "联系人：<人名>先生"),
        ("由张伟医生接诊", "由<人名>医生接诊"),
        ("家属刘洋陪同", "家属<人名>陪同"),
        ("车牌粤BD12345，邮箱li@qq.com", "车牌<车牌>，邮箱<邮箱>"),
        ("住址：广东省深圳市南山区科技园路18号，", "住址：<地址>，"),
        ("建议复查血常规，王府井院区", "建议复查血常规，王府井院区"),
    ],
)
def test_redact_examples(scanner, text, expected):
    assert scanner.redact(text) == expected


def test_digits_glued_to_cjk(scanner):
    text = f"号码{RID}和13812345678及卡号"
    spans = scanner.find(text)
    assert [(text[s.start : s.end], s.entity) for s in spans] == [
        (RID, "CN_RESIDENT_ID"),
        ("13812345678", "CN_PHONE"),
    ]


def test_look_alikes_stay(scanner):
    # a wrong check digit and no such county (a real county would make it a mistyped ID)
    wrong = "999999" + RID[6:-1] + ("1" if RID[-1] != "1" else "2")
    text = f"订单{wrong}，编号12012345678，日期2023-03-07，金额13812345.00元，版本1.2.3.4.5"
    assert scanner.find(text) == []
    assert scanner.redact(text) == text


def test_overlap_keeps_one_span(scanner):
    # a valid resident ID from 甘肃 (62...) may also pass Luhn: one span, the resident ID
    gansu = next(
        n for n in (resident_id("620102", "19950101", f"{i:03d}") for i in range(1000))
        if luhn.is_valid(n)
    )
    spans = scanner.find(f"身份证{gansu}")
    assert [s.entity for s in spans] == ["CN_RESIDENT_ID"]


def test_overlapping_candidates_resolved_by_score_then_length(scanner):
    # the 0.85 address from 住址 and the 0.4 admin-only reading cover the same text once
    spans = scanner.find("家住深圳市南山区，自述头痛")
    assert [(s.entity, s.start, s.end) for s in spans] == [("CN_ADDRESS", 2, 8)]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


def test_span_fields(scanner):
    span = scanner.find("电话13812345678")[0]
    assert isinstance(span, Span)
    assert (span.start, span.end, span.entity) == (2, 13, "CN_PHONE")
    assert 0.5 <= span.score <= 1.0


@pytest.mark.parametrize("text", ["", None])
def test_empty_input(scanner, text):
    assert scanner.find(text) == []
    assert scanner.redact_many([text]) == ([text], Counter())


def test_redact_many_counts(scanner):
    texts = [
        f"患者王秀英，身份证{RID}，电话13812345678",
        None,
        "",
        "无敏感信息的一句话。",
        "联系人：李明先生，手机13912345678",
    ]
    redacted, counts = scanner.redact_many(texts)
    assert redacted == [
        "患者<人名>，身份证<身份证号>，电话<电话>",
        None,
        "",
        "无敏感信息的一句话。",
        "联系人：<人名>先生，手机<电话>",
    ]
    assert counts == Counter({"PERSON": 2, "CN_PHONE": 2, "CN_RESIDENT_ID": 1})


def test_entity_subset():
    scanner = TextScanner(entities={"CN_PHONE"})
    assert scanner.redact(f"患者王秀英，身份证{RID}，电话13812345678") == (
        f"患者王秀英，身份证{RID}，电话<电话>"
    )


def test_jieba_fallback_after_strong_context(scanner):
    # 信息 follows 投保人 but is a common word; jieba's `nr` tag finds the name further on
    text = "投保人信息：张三丰，电话13812345678"
    names = [text[s.start : s.end] for s in scanner.find(text) if s.entity == "PERSON"]
    assert names == ["张三丰"]


def test_context_regex_agrees_with_has_context():
    import random

    from yishu.deid.recognizers import all_recognizers, has_context
    from yishu.deid.text_scanner import _context_re, _has_context

    rnd = random.Random(3)
    for recognizer in all_recognizers():
        words = [w.lower() for w in recognizer.context or ()]
        if not words:
            continue
        regex = _context_re(recognizer.context)
        pieces = [*recognizer.context, "ID", "Mail", "IP地址", "x", "，", "号", "1234", "患者"]
        for _ in range(500):
            text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12)))
            start = rnd.randint(0, len(text))
            end = rnd.randint(start, len(text))
            assert (_has_context(text, start, end, regex)
                    == has_context(text, start, end, words)), (text, start, end)


def test_notes_without_context_or_digits(scanner):
    # the cheap exits: nothing to look for, one candidate, several candidates
    assert scanner.find("建议低盐饮食，如有不适随时就诊。") == []
    assert [s.entity for s in scanner.find("电话13812345678")] == ["CN_PHONE"]
    text = f"患者王秀英，女，45岁，身份证{RID}，电话13812345678，家住深圳市南山区科技园路18号"
    assert [s.entity for s in scanner.find(text)] == [
        "PERSON", "CN_RESIDENT_ID", "CN_PHONE", "CN_ADDRESS"]
