"""Each recognizer's table of matches and look-alikes, through Presidio and through TextScanner."""

from __future__ import annotations

import random

import pytest
from stdnum import luhn
from stdnum.cn import ric

from yishu.deid.recognizers import (
    ENTITY_LABELS,
    STRONG_IDENTIFIERS,
    all_recognizers,
)
from yishu.standard import identifiers


def resident_id(county: str = "440305", birth: str = "19900307", seq: str = "123") -> str:
    body = county + birth + seq
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def bank_card(prefix: str = "622202123456789012") -> str:
    return prefix + luhn.calc_check_digit(prefix)


RID = resident_id()  # 南山区, born 1990
RID_X = next(resident_id(seq=f"{n:03d}") for n in range(1000)
             if resident_id(seq=f"{n:03d}").endswith("X"))
USCC = "91440300MA5EKJ3R7" + identifiers.uscc_check_char("91440300MA5EKJ3R7")
CARD = bank_card()
# a 19-digit number whose last 18 digits are a valid ID, and which fails Luhn
NINETEEN = next(d + RID for d in "123456789" if not luhn.is_valid(d + RID))

# (entity, text, the expected match or None for "no match of this entity")
CASES = [
    # resident IDs: glued to CJK, X check digit, legacy 15 digits
    ("CN_RESIDENT_ID", f"身份证{RID}，", RID),
    ("CN_RESIDENT_ID", f"患者身份证号码：{RID_X}。", RID_X),
    ("CN_RESIDENT_ID", f"证件{RID_X.lower()}", RID_X.lower()),
    ("CN_RESIDENT_ID", "老身份证110101790307123号", "110101790307123"),
    # a wrong check digit with a real county and birth date: a mistyped ID, still redacted
    ("CN_RESIDENT_ID", f"订单号{wrong_check(RID)}", wrong_check(RID)),
    ("CN_RESIDENT_ID", f"订单号{wrong_check(resident_id(birth='20990307'))}", None),  # future
    ("CN_RESIDENT_ID", f"订单号{wrong_check(resident_id(county='999999'))}", None),
    ("CN_RESIDENT_ID", f"流水号{NINETEEN}", None),
    ("CN_RESIDENT_ID", f"编号{RID}1", None),
    ("CN_RESIDENT_ID", "身份证440305198902301234", None),  # 2月30日
    ("CN_RESIDENT_ID", f"身份证{resident_id(birth='19800307')}", None),  # 南山区 created 1990
    # phones: mobile with +86/86, spaces, dashes; landlines with area code
    ("CN_PHONE", "电话13812345678，", "13812345678"),
    ("CN_PHONE", "手机+86 138 1234 5678", "+86 138 1234 5678"),
    ("CN_PHONE", "联系8613812345678", "8613812345678"),
    ("CN_PHONE", "电话138-1234-5678转", "138-1234-5678"),
    ("CN_PHONE", "座机0755-83212345", "0755-83212345"),
    ("CN_PHONE", "致电010-65123456-801", "010-65123456-801"),
    ("CN_PHONE", "电话（0755）83212345", "（0755）83212345"),
    ("CN_PHONE", "电话075583212345", "075583212345"),  # no dash: found thanks to 电话
    ("CN_PHONE", "编号12812345678", None),
    ("CN_PHONE", "编号10812345678", None),
    ("CN_PHONE", "单号138123456789", None),
    ("CN_PHONE", "日期2023-03-07，金额13812345.67元", None),
    ("CN_PHONE", "金额13812345678.50元", None),
    ("CN_PHONE", "批号075583212345", None),  # undashed landline without context
    # USCC
    ("CN_USCC", f"统一社会信用代码{USCC}，", USCC),
    ("CN_USCC", f"信用代码{wrong_check(USCC)}", None),
    ("CN_USCC", f"身份证{RID}", None),
    # bank cards: Luhn
    ("CN_BANK_CARD", f"卡号{CARD}，", CARD),
    ("CN_BANK_CARD", f"银行卡 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}",
     f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}"),
    ("CN_BANK_CARD", f"信用卡{bank_card('455123456789012')}", bank_card("455123456789012")),
    # Luhn: a card of any issuer, context or not; without Luhn a card word is needed
    ("CN_BANK_CARD", f"编号{bank_card('455123456789012')}", bank_card("455123456789012")),
    ("CN_BANK_CARD", f"编号{bank_card('123456789012345')}", bank_card("123456789012345")),
    ("CN_BANK_CARD", f"编号{wrong_check(bank_card('455123456789012'))}", None),
    ("CN_BANK_CARD", f"卡号{wrong_check(bank_card('123456789012345'))}",
     wrong_check(bank_card("123456789012345"))),
    ("CN_BANK_CARD", f"身份证{resident_id(county='620102', birth='19950101')}", None),
    # passports and permits
    ("CN_PASSPORT", "护照号E12345678。", "E12345678"),
    ("CN_PASSPORT", "护照EA1234567", "EA1234567"),
    ("CN_PASSPORT", "港澳通行证C12345678", "C12345678"),
    ("CN_PASSPORT", "回乡证H1234567890", "H1234567890"),
    ("CN_PASSPORT", "回乡证M12345678", "M12345678"),
    ("CN_PASSPORT", "型号E123456789", None),
    ("CN_PASSPORT", "诊断E11.9，复查", None),
    # plates, including 8-character new-energy plates
    ("CN_VEHICLE_PLATE", "车牌粤B12345，", "粤B12345"),
    ("CN_VEHICLE_PLATE", "车牌粤B D12345", "粤B D12345"),
    ("CN_VEHICLE_PLATE", "京AF12345停在楼下", "京AF12345"),
    ("CN_VEHICLE_PLATE", "苏E·12345", "苏E·12345"),
    ("CN_VEHICLE_PLATE", "北京ABCDE公司", None),
    ("CN_VEHICLE_PLATE", "粤B123456789", None),
    # e-mail and IP
    ("EMAIL_ADDRESS", "邮箱zhang.san@example.com.cn联系", "zhang.san@example.com.cn"),
    ("EMAIL_ADDRESS", "邮箱zhang@", None),
    ("IP_ADDRESS", "登录IP192.168.1.10，", "192.168.1.10"),
    ("IP_ADDRESS", "服务器地址2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
    ("IP_ADDRESS", "版本1.2.3.4.5", None),
    ("IP_ADDRESS", "IP 256.1.1.1", None),
    ("IP_ADDRESS", "时间12:30:45", None),
    # addresses
    ("CN_ADDRESS", "住址：广东省深圳市南山区科技园路18号，", "广东省深圳市南山区科技园路18号"),
    ("CN_ADDRESS", "家住北京市东城区王府井大街1号院3号楼2单元501室",
     "北京市东城区王府井大街1号院3号楼2单元501室"),
    ("CN_ADDRESS", "地址科技园路18号", "科技园路18号"),
    ("CN_ADDRESS", "上海市浦东新区张江镇", "上海市浦东新区张江镇"),
    ("CN_ADDRESS", "高血压病史十年，建议复查", None),
    ("CN_ADDRESS", "市区医院就诊", None),
    # names
    ("PERSON", "患者王秀英，女，45岁", "王秀英"),
    ("PERSON", "联系人：李明先生", "李明"),
    ("PERSON", "由张伟医生接诊", "张伟"),
    ("PERSON", "家属刘洋陪同", "刘洋"),
    ("PERSON", "患者冯志强于今日入院", "冯志强"),
    ("PERSON", "姓名：欧阳娜娜；", "欧阳娜娜"),
    ("PERSON", "法人黄金凤", "黄金凤"),
    ("PERSON", "由向帆医生接诊", "向帆"),  # 向 is a surname and a preposition
    ("PERSON", "联系人：高峰先生", "高峰"),  # a common word, but boxed in by strong context
    ("PERSON", "刘红梅（女，45岁）", "刘红梅"),
    ("PERSON", "患者张芳电话138-1234-5678", "张芳"),
    ("PERSON", "任兵，45岁，广东籍", "任兵"),
    ("PERSON", "乔琴（身份证号：略）复诊", "乔琴"),
    # a surname before a title is redacted (issue 8): labelled real text counts 黄先生's 黄 as a
    # name, and with the rest of a resume or a complaint it points at one person; a courtesy
    # title goes with it (news labels 王女士 whole)
    ("PERSON", "联系人：王先生", "王先生"),
    ("PERSON", "患者高血压病史十年", None),
    ("PERSON", "患者平素体健", None),
    ("PERSON", "投保人信息：", None),
    ("PERSON", "曾于王府井医院就诊", None),
    ("PERSON", "去年去张家界旅游", None),
    ("PERSON", "患者全身乏力，建议复查", None),
    ("PERSON", "患者于昨日出现头痛", None),
    ("PERSON", "主治医生建议门诊随访", None),
    ("PERSON", "患者安静休息，明日复查", None),
]




def _ids(cases):
    return [f"{entity}:{text}" for entity, text, _ in cases]


@pytest.mark.parametrize(("entity", "text", "expected"), CASES, ids=_ids(CASES))
def test_presidio_analyzer(analyzer, entity, text, expected):
    found = {text[r.start : r.end] for r in analyzer.analyze(text, language="zh")
             if r.entity_type == entity}
    assert found == ({expected} if expected else set())


@pytest.mark.parametrize(("entity", "text", "expected"), CASES, ids=_ids(CASES))
def test_text_scanner(scanner, entity, text, expected):
    found = {text[s.start : s.end] for s in scanner.find(text) if s.entity == entity}
    assert found == ({expected} if expected else set())


def test_context_raises_score(analyzer):
    card = wrong_check(bank_card("455123456789012"))  # fails Luhn: only context makes it a card
    without = analyzer.analyze(f"编号{card}", language="zh", score_threshold=0)
    with_context = analyzer.analyze(f"银行卡号{card}", language="zh", score_threshold=0)
    assert max(r.score for r in with_context) > max(r.score for r in without)


def test_registry():
    recognizers = all_recognizers()
    entities = {e for r in recognizers for e in r.supported_entities}
    assert entities == set(ENTITY_LABELS)
    assert STRONG_IDENTIFIERS <= entities
    assert all(r.supported_language == "zh" for r in recognizers)
    assert all(type(r).__name__.startswith("Cn") for r in recognizers)


def _jieba_names_whole_text(text: str) -> list[tuple[int, int]]:
    """The fallback as it was: jieba over the whole text (the reference for the block cache)."""
    import jieba.posseg

    from yishu.deid.recognizers import cn_person_recognizer as p

    p._dictionary()
    near = [m.span() for m in p._CONTEXT_RE.finditer(text)]
    names, pos = [], 0
    for word, flag in jieba.posseg.lcut(text):
        start, pos = pos, pos + len(word)
        if flag != "nr" or not 2 <= len(word) <= 4:
            continue
        ls = p._surname_len(word, 0)
        if not ls or not p._given_ok(word[ls:]) or word.endswith(p._SUFFIXES):
            continue
        if not p._is_word(word) and any(cs - 6 <= pos and start <= ce + 6 for cs, ce in near):
            names.append((start, pos))
    return names


def test_jieba_fallback_by_block_agrees_with_whole_text():
    from yishu import samples as sample
    from yishu.deid.recognizers.cn_person_recognizer import CnPersonRecognizer

    recognizer = CnPersonRecognizer()
    texts = [
        "投保人信息：张三丰，电话13812345678",
        "联系人：王先生，手机13912345678。建议低盐饮食。",
        "紧急联系人信息见附页，李建国、王秀英均已告知，签字确认",
        "经办人(签字)：欧阳娜娜 2023-03-07",
        "法定代表人情况：刘德华同志负责,联系人赵敏",
        "户主信息 郭靖 黄蓉 姓名栏空白",
    ]
    notes = sample.generate("health_visits", 3000, seed=5).column("doctor_note").to_pylist()
    texts += [n for n in notes if n][:1500]
    rnd = random.Random(4)
    pieces = ["联系人", "姓名", "先生", "：", "，", "王", "李", "张三", "欧阳", "信息", "高峰",
              "明天", "13812345678", " ", "患者", "签字", "刘洋", "于", "和"]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(2, 12))) for _ in range(500)]
    for text in texts:
        assert recognizer._jieba_names(text) == _jieba_names_whole_text(text), text


def test_suffix_regex_spelt_out_matches_the_original():
    import re

    from yishu.deid.recognizers import cn_person_recognizer as p

    original = re.compile("(" + "|".join(p.SUFFIX_WORDS) + "|[，,、 （(]?[男女](?=[，,、 性0-9]|$)"
                          "|[，,、 （(]?(?:[0-9]{1,3}岁|身份证))")
    rnd = random.Random(6)
    pieces = ["男", "女", "，", ",", "、", " ", "（", "(", "性", "1", "45", "123", "4567", "岁",
              "身份证", "先生", "女士", "王", "医生", "患者", "之女"]
    for _ in range(5000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 10)))
        assert ([m.span(1) for m in p._SUFFIX_RE.finditer(text)]
                == [m.span(1) for m in original.finditer(text)]), text
