"""A table scan looks at each distinct value of a column once (issue 13): its findings (counts,
the first samples in row order, the chance rule for order numbers) are those of a scan of
every row, and the values the Arrow prefilter leaves out are values nothing is found in."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from tests.deid.test_not_personal import PERSONAL_USCC, order_numbers
from tests.deid.test_recognizers import CARD, RID, RID_X, USCC
from yishu.deid.recognizers import STRONG_IDENTIFIERS
from yishu.deid.scan import (
    CHANCE_SHARE,
    NAME_CONTEXT,
    TableScan,
    chance_entities,
    identifies_a_person,
    scan_column,
)
from yishu.deid.text_scanner import TextScanner

STRONG = set(STRONG_IDENTIFIERS)


def every_row(values: list, entities, keep=None, context: str = "") -> dict | None:
    """The scan of every row, one at a time (as it was before values were counted)."""
    scanner = TextScanner(entities)
    counts, samples = scan_column(values, scanner, keep, context)
    chance = chance_entities(values, counts)
    counts = {e: n for e, n in counts.items() if e not in chance}
    if not counts:
        return None
    return {"entities": counts, "scanned": len(values),
            "samples": [s for s in samples if s.split(":")[0] not in chance]}


def by_distinct(values: list, entities, keep=None, context: str = "",
                batch: int = 37) -> dict | None:
    table = pa.table({"c": pa.array(values, pa.string())})
    scan = TableScan(entities=entities, keep=keep, context=context)
    for piece in table.to_batches(max_chunksize=batch):  # several batches, one value's rows
        scan.add(piece)                                   # spread over them
    return scan.findings(lambda: table.to_batches(max_chunksize=batch)).get("c")


def _mixed(rows: int = 600, seed: int = 13) -> list:
    r = random.Random(seed)
    pool = [f"电话13812345{n:03d}" for n in range(5)] + [RID, RID_X, CARD, USCC, PERSONAL_USCC,
                                                        "患者王秀英复诊", "无", "", None,
                                                        f"身份证{RID}，电话13912345678"]
    return [r.choice(pool) for _ in range(rows)]


def test_counts_and_samples_are_those_of_every_row():
    values = ["none", f"卡号{CARD}", "none", f"卡号{CARD}", "13812345678", f"卡号{CARD}"]
    found = by_distinct(values, STRONG, identifies_a_person, batch=2)
    assert found == every_row(values, STRONG, identifies_a_person)
    # the second sample is the card again (row 3), before the phone (row 4)
    assert [s.split(":")[0] for s in found["samples"]] == ["CN_BANK_CARD"] * 2 + ["CN_PHONE"]
    assert found["entities"] == {"CN_BANK_CARD": 3, "CN_PHONE": 1}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_mixed_column_gets_the_same_findings(seed):
    values = _mixed(seed=seed)
    expected = every_row(values, STRONG, identifies_a_person)
    assert expected and expected["entities"]["CN_RESIDENT_ID"] > 10  # the test finds things
    found = by_distinct(values, STRONG, identifies_a_person)
    assert found == expected
    assert list(found["entities"]) == list(expected["entities"])  # the report's order too


def test_names_with_a_context_word_are_counted_per_row():
    values = ["王秀英", "李建国", "王秀英", None, "王秀英", "内科"] * 20
    expected = every_row(values, {"PERSON"}, context=NAME_CONTEXT)
    assert expected["entities"]["PERSON"] >= 60
    assert by_distinct(values, {"PERSON"}, context=NAME_CONTEXT) == expected


def test_order_numbers_repeated_are_still_chance_matches():
    numbers = order_numbers(1500)
    values = numbers + numbers[:700]  # repeats change the shares: the rows count, not values
    counts, _ = scan_column(values, TextScanner(STRONG), identifies_a_person)
    assert counts and all(n < CHANCE_SHARE * len(values) for n in counts.values())
    assert by_distinct(values, STRONG, identifies_a_person) is None
    assert every_row(values, STRONG, identifies_a_person) is None


def test_real_identifiers_in_a_number_column_are_found():
    values = [RID] * 800 + order_numbers(100)
    found = by_distinct(values, STRONG, identifies_a_person)
    assert found == every_row(values, STRONG, identifies_a_person)
    assert found["entities"]["CN_RESIDENT_ID"] == 800


def test_the_arrow_prefilter_leaves_out_only_values_without_findings():
    r = random.Random(5)
    alphabet = "0123456789０１２３４５６７８９ -－/．.()（）@abcdefXCDEGHMPS京粤A患者电话"
    noise = ["".join(r.choice(alphabet) for _ in range(r.randrange(0, 30))) for _ in range(3000)]
    hexes = [f"{r.getrandbits(128):032x}" for _ in range(3000)]
    texts = noise + hexes + [v for v in _mixed() if v is not None]
    scanner = TextScanner(STRONG)
    possible = scanner.may_find(pa.array(texts, pa.string()))
    assert possible is not None  # the strong identifiers' prefilters all run in Arrow
    possible = possible.to_pylist()
    assert 0 < sum(possible) < len(texts)  # it does leave some out, and keeps some
    found = scanner.find_many(texts)
    assert all(p or not spans for p, spans in zip(possible, found, strict=True))
    assert any(spans for spans in found)


def test_the_name_prefilter_leaves_out_only_values_without_names():
    """Every recognizer, the name model and the context and Latin-name rules included: what
    Arrow leaves out holds nothing, and a name scan leaves a column of hex digests out whole."""
    from tests.deid.test_names import FOUND

    r = random.Random(8)
    alphabet = "abcdefXYZ0123456789 -_.，：Linda王秀英先生说选手市区路号"
    noise = ["".join(r.choice(alphabet) for _ in range(r.randrange(0, 20))) for _ in range(2000)]
    hexes = [f"{r.getrandbits(128):032x}" for _ in range(2000)]
    latin = ["Tom Conlin", "tom conlin", "LINDA", "kevin", "Slayer_99", "filip", "ab12cd"]
    texts = noise + hexes + latin + [text for text, _ in FOUND] + [v for v in _mixed() if v]
    for scanner, digests_out in ((TextScanner({"PERSON"}), True), (TextScanner(), False)):
        possible = scanner.may_find(pa.array(texts, pa.string()))
        assert possible is not None
        possible = possible.to_pylist()
        found = scanner.find_many(texts)
        assert all(p or not spans for p, spans in zip(possible, found, strict=True))
        assert sum(bool(spans) for spans in found) > len(FOUND)  # names were there to find
        # (digests have digit runs the identifiers' prefilters must look at)
        assert any(possible[len(noise):len(noise) + len(hexes)]) is not digests_out


def test_a_finder_without_may_find_turns_the_prefilter_off():
    from yishu.deid.recognizers.cn_person_recognizer import CnPersonRecognizer

    class Opaque(CnPersonRecognizer):
        MAY_FIND = None

    assert TextScanner(recognizers=[Opaque()]).may_find(pa.array(["王秀英"])) is None
    assert TextScanner(recognizers=[CnPersonRecognizer()]).may_find(
        pa.array(["王秀英", "abc"])).to_pylist() == [True, False]


@pytest.mark.parametrize("cap", [0, 5, 40])
@pytest.mark.parametrize("seed", [1, 2])
def test_batch_by_batch_past_the_cap_gives_the_same_findings(monkeypatch, seed, cap):
    """Past DISTINCT_CAP a column is scanned a batch at a time (from the start with 0, after
    some batches counted otherwise): repeated and unique values, the same counts, entities in
    the same order and the same first samples in row order as the distinct-value path."""
    import yishu.deid.scan as scan

    r = random.Random(seed)
    unique = [f"编号{n:06d}" for n in range(200)] + [f"电话139{n:08d}" for n in range(40)]
    values = _mixed(seed=seed) + unique
    r.shuffle(values)
    expected = by_distinct(values, STRONG, identifies_a_person)
    monkeypatch.setattr(scan, "DISTINCT_CAP", cap)
    found = by_distinct(values, STRONG, identifies_a_person)
    assert expected and found == expected == every_row(values, STRONG, identifies_a_person)
    assert list(found["entities"]) == list(expected["entities"])
    assert len(found["samples"]) == 3


def test_order_numbers_past_the_cap_are_still_chance_matches(monkeypatch):
    import yishu.deid.scan as scan

    monkeypatch.setattr(scan, "DISTINCT_CAP", 10)
    numbers = order_numbers(1500)
    assert by_distinct(numbers + numbers[:700], STRONG, identifies_a_person) is None
