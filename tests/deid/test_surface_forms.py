"""Every surface form of an identifier (issue 8, item 3): separators, full-width digits,
+86/0086, 15-digit IDs, mistyped IDs, cards of any issuer; and look-alikes that must stay.
Each row runs through Presidio and TextScanner, and the scans built on it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.deid.test_recognizers import bank_card, resident_id, wrong_check
from yishu.deid.scan import scan_table

RID = resident_id("442328", "19620617", "613")
FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
CARD = bank_card("622202123456789012")  # 19 digits
VISA = bank_card("455123456789012")  # 16 digits, another issuer


def spaced(number: str, groups: tuple[int, ...], sep: str) -> str:
    parts, pos = [], 0
    for n in groups:
        parts.append(number[pos:pos + n])
        pos += n
    return sep.join(parts)


# (entity, text, the expected match, or None: no match of this entity)
MATCH = [
    ("CN_RESIDENT_ID", f"身份证{spaced(RID, (6, 8, 4), ' ')}反映", spaced(RID, (6, 8, 4), " ")),
    ("CN_RESIDENT_ID", f"{spaced(RID, (6, 8, 4), '-')}", spaced(RID, (6, 8, 4), "-")),
    ("CN_RESIDENT_ID", f"证号{spaced(RID, (6, 8, 4), '—')}。", spaced(RID, (6, 8, 4), "—")),
    ("CN_RESIDENT_ID", f"证号{spaced(RID, (6, 4, 4, 4), '.')}", spaced(RID, (6, 4, 4, 4), ".")),
    ("CN_RESIDENT_ID", f"证号{spaced(RID, (6, 8, 4), '/')}", spaced(RID, (6, 8, 4), "/")),
    ("CN_RESIDENT_ID", f"身份证{RID.translate(FULL)}", RID.translate(FULL)),
    ("CN_RESIDENT_ID", "老证件442328620617613。", "442328620617613"),  # 15 digits
    ("CN_RESIDENT_ID", f"来电人{wrong_check(RID)}", wrong_check(RID)),  # a typing error
    ("CN_PHONE", "电话138.1234.5678", "138.1234.5678"),
    ("CN_PHONE", "电话138—1234—5678。", "138—1234—5678"),
    ("CN_PHONE", "电话138–1234–5678。", "138–1234–5678"),
    ("CN_PHONE", "手机138/1234/5678", "138/1234/5678"),
    ("CN_PHONE", "手机１３８１２３４５６７８", "１３８１２３４５６７８"),
    ("CN_PHONE", "手机１３８－１２３４－５６７８", "１３８－１２３４－５６７８"),
    ("CN_PHONE", "联系+8613812345678", "+8613812345678"),
    ("CN_PHONE", "联系0086 138 1234 5678", "0086 138 1234 5678"),
    ("CN_PHONE", "联系００８６１３８１２３４５６７８", "００８６１３８１２３４５６７８"),
    ("CN_PHONE", "座机0755 8321 2345", "0755 8321 2345"),
    ("CN_PHONE", "座机０７５５－８３２１２３４５", "０７５５－８３２１２３４５"),
    ("CN_BANK_CARD", f"卡号{spaced(CARD, (4, 4, 4, 4, 3), '-')}", spaced(CARD, (4, 4, 4, 4, 3),
                                                                         "-")),
    ("CN_BANK_CARD", f"卡{spaced(VISA, (4, 4, 4, 4), '.')}", spaced(VISA, (4, 4, 4, 4), ".")),
    ("CN_BANK_CARD", f"转账{CARD.translate(FULL)}", CARD.translate(FULL)),
    ("CN_BANK_CARD", f"尾号不详{VISA}", VISA),  # Luhn, no context, not 62
    # a card word: any 16-19 digits, Luhn or not
    ("CN_BANK_CARD", f"银行卡号{wrong_check(VISA)}", wrong_check(VISA)),
]
NO_MATCH = [
    ("CN_RESIDENT_ID", f"订单{wrong_check(resident_id('442328', '20990101', '613'))}"),
    ("CN_RESIDENT_ID", "批次号999999196206176137"),  # no such county
    ("CN_RESIDENT_ID", f"金额1.{RID}"),
    ("CN_PHONE", "编号12812345678"),
    ("CN_PHONE", "日期2023-03-07 13:45"),
    ("CN_PHONE", "金额13812345678.50元"),
    ("CN_PHONE", "版本号138.1234.567"),  # 10 digits
    ("CN_PHONE", "单号138123456789"),
    ("CN_BANK_CARD", f"编号{wrong_check(VISA)}"),  # no Luhn, no card word
    ("CN_BANK_CARD", f"身份证{spaced(RID, (6, 8, 4), ' ')}"),
    ("CN_BANK_CARD", "订单2023-0307-1234-5678"),  # fails Luhn
]




@pytest.mark.parametrize(("entity", "text", "expected"), MATCH, ids=[t for _, t, _ in MATCH])
def test_forms_found(analyzer, scanner, entity, text, expected):
    assert {text[s.start:s.end] for s in scanner.find(text) if s.entity == entity} == {expected}
    assert {text[r.start:r.end] for r in analyzer.analyze(text, language="zh")
            if r.entity_type == entity} == {expected}


@pytest.mark.parametrize(("entity", "text"), NO_MATCH, ids=[t for _, t in NO_MATCH])
def test_look_alikes_not_found(analyzer, scanner, entity, text):
    assert not [s for s in scanner.find(text) if s.entity == entity]
    assert not [r for r in analyzer.analyze(text, language="zh") if r.entity_type == entity]


def test_both_phones_of_a_pair_are_found(scanner):
    text = "回电13812345678/13987654321"
    assert [text[s.start:s.end] for s in scanner.find(text)] == ["13812345678", "13987654321"]


def test_residual_scan_sees_every_form():
    """The residual scan (strong identifiers, what blocks publishing) finds each form."""
    column = [text for _, text, _ in MATCH]
    found = scan_table(pa.table({"note": column}), entities={"CN_RESIDENT_ID", "CN_PHONE",
                                                             "CN_BANK_CARD"})
    assert sum(found["note"]["entities"].values()) == len(MATCH)


def test_no_form_survives_deidentify_auto(tmp_path):
    """`yishu deidentify --auto`: every form in a free-text column is redacted, a column of
    phones written with dots is masked, order numbers are kept, and the residual scan passes."""
    import pyarrow.csv as pacsv
    from typer.testing import CliRunner

    from tests.deid.test_not_personal import order_numbers
    from yishu.cli import app

    rows = len(MATCH) * 4
    notes = [f"市民来电反映：{MATCH[i % len(MATCH)][1]}，请尽快处理。" for i in range(rows)]
    phones = [f"139.{i:04d}.{(7 * i) % 10000:04d}" for i in range(rows)]
    orders = order_numbers(rows)
    source = tmp_path / "tickets.csv"
    pacsv.write_csv(pa.table({"content": notes, "phone": phones, "order_no": orders}), source)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["deidentify", str(source), "-o", str(out), "--auto"])
    assert result.exit_code == 0, result.output
    assert "no strong identifier" in result.output
    text = out.read_text(encoding="utf-8")
    assert [expected for _, _, expected in MATCH if expected in text] == []
    assert [p for p in phones if p in text] == []
    assert all(o in text for o in orders)
