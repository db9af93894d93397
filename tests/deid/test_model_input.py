"""The name model reads identifiers shortened; what it finds maps back to the text."""

import pytest

from yishu.deid import model_input
from yishu.deid.engine import shared_scanner


def test_identifiers_are_cut_to_their_first_characters_and_names_map_back():
    text = "患者张三电话13812345678，身份证110101199003071234。"
    short, where = model_input.shortened(text, [(6, 17), (21, 39)])
    assert short == "患者张三电话1381，身份证1101。"
    name = short.index("张三")
    assert text[slice(*model_input.mapped(where, name, name + 2))] == "张三"
    end = short.index("。")
    assert model_input.mapped(where, end, end + 1) == (39, 40)


def test_short_spans_spans_with_cjk_and_overlaps_are_left_alone():
    text = "电话1234567，地址深圳市福田区1号，卡6222021234567890123"
    assert model_input.shortened(text, [(2, 9), (12, 20)]) == (text, None)
    card = text.index("6222")
    short, where = model_input.shortened(text, [(card, len(text)), (card + 2, len(text))])
    assert short == text[: card + 4] and len(where) == len(short) + 1


@pytest.mark.parametrize("text, name", [
    ("李桂英13812345678来电反映噪音问题", "李桂英"),
    ("由袁鹏接待，回访电话138 1234 5678，身份证442328196206176137", "袁鹏"),
    ("联系人常建良（身份证号110101199003071234）已到场", "常建良"),
    ("来电号码13812345678，身份证110101199003071234，反映人王秀英称楼上漏水", "王秀英"),
])
def test_a_name_next_to_an_identifier_is_still_found(text, name):
    spans = shared_scanner().find_many([text])[0]
    assert any(text[s.start:s.end] == name and s.entity == "PERSON" for s in spans), spans
    assert sum(s.entity != "PERSON" for s in spans) >= 1, spans
