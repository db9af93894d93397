"""What is not personal data stays (issue 8, item 4): a legal entity's USCC, order numbers
that pass a check by chance, organisations and places."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq

from tests.deid.test_recognizers import RID, USCC
from yishu.deid import auto
from yishu.deid.scan import residual_in_file, scan_table
from yishu.deid.text_scanner import TextScanner
from yishu.standard import identifiers

PERSONAL_USCC = "92440300MA5EKJ3R7" + identifiers.uscc_check_char("92440300MA5EKJ3R7")


def order_numbers(n: int = 3000, seed: int = 8) -> list[str]:
    rnd = random.Random(seed)
    return [f"{rnd.randrange(10**17, 10**18)}" for _ in range(n)]


def test_order_numbers_pass_checks_by_chance():
    values = order_numbers()
    uscc = sum(identifiers.is_uscc(v) for v in values) / len(values)
    luhn = sum(identifiers.is_bank_card(v) for v in values) / len(values)
    assert 0.02 < uscc < 0.05 and 0.07 < luhn < 0.13  # the premise of the tests below


def test_order_number_column_is_kept_by_auto_mode():
    table = pa.table({"order_no": order_numbers(), "patient_resident_id": [RID] * 3000})
    classes = auto.classify(table)
    assert classes["order_no"].kind == "none"
    assert auto.auto_plan(classes, b"z" * 32).columns["order_no"].policy == "keep"
    assert classes["patient_resident_id"].entity == "CN_RESIDENT_ID"  # real IDs still are


def test_order_number_column_passes_the_scans(tmp_path):
    table = pa.table({"order_no": order_numbers()})
    assert scan_table(table) == {}
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    assert residual_in_file(path) == {}


def test_a_column_of_real_cards_is_still_found():
    from tests.deid.test_recognizers import bank_card

    cards = [bank_card(f"4551234567{i:05d}") for i in range(200)]
    assert scan_table(pa.table({"card": cards}))["card"]["entities"] == {"CN_BANK_CARD": 200}


def test_legal_entity_uscc_stays_in_free_text():
    scanner = TextScanner()
    text = f"供应商统一社会信用代码{USCC}，个体户信用代码{PERSONAL_USCC}，联系人张伟"
    out, counts = scanner.redact_many([text])
    assert out == [f"供应商统一社会信用代码{USCC}，个体户信用代码<信用代码>，联系人<人名>"]
    assert counts == {"CN_USCC": 1, "PERSON": 1}
    assert scanner.redact(text) == out[0]
