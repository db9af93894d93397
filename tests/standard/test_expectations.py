"""Custom identifier expectations, exercised through run_suite (the real GE path)."""

import pandas as pd
import pytest
from stdnum import luhn
from stdnum.cn import ric

from yishu.standard import identifiers
from yishu.standard.validate import run_suite


def _ric(body17: str) -> str:
    """A resident ID with a correct check digit, so only the part under test is wrong."""
    return body17 + ric.calc_check_digit(body17 + "0")


def _uscc(body17: str) -> str:
    return body17 + identifiers.uscc_check_char(body17)


def _card(body: str) -> str:
    return body + luhn.calc_check_digit(body)


LETTER_FIRST_USCC = _uscc("N1440300MA5D12345")  # GB 32100 allows letters in positions 1-2

# validator name -> (valid values, invalid values); at most 5 invalid so every
# unexpected row fits in example_rows.
CASES = {
    "cn_resident_id": (
        ["11010519491231002X", "11010519491231002x", "110105491231002", _ric("44030519900307001")],
        [
            "110105194912310021",  # wrong check digit
            _ric("11010519491331002"),  # month 13
            _ric("99999919491231002"),  # unknown county
            "1101051949123100",  # 16 digits
            "11010549123100A",  # legacy form must be all digits
        ],
    ),
    "cn_uscc": (
        [
            _uscc("91110000600037341"),
            LETTER_FIRST_USCC,
            _uscc("Y1440300MA5D12345"),
            _uscc("52440300MA5D12345").lower(),
        ],
        [
            _uscc("91110000600037341")[:-1] + "0",  # wrong check char
            LETTER_FIRST_USCC[:-1] + ("0" if LETTER_FIRST_USCC[-1] != "0" else "1"),
            "91110000600037341",  # 17 chars
            "I1440300MA5D123450",  # I is not in the alphabet
            "Z1440300MA5D123450",  # Z is not a registration authority
        ],
    ),
    "cn_mobile": (
        ["13800138000", "+86 138 0013 8000", "86-138-0013-8000", "199 1234 5678"],
        ["12345678901", "1380013800", "138001380001", "0755-83212345", "abc"],
    ),
    "cn_landline": (
        ["0755-83212345", "010-6512345-801", "01065123456"],
        ["83212345", "0755-03212345", "13800138000", "0755-832"],
    ),
    "cn_phone": (
        ["13800138000", "0755-83212345", "+8613800138000"],
        ["12345", "83212345", "phone"],
    ),
    "cn_division_code": (
        ["110101", "440305", "440300"],
        ["999999", "11010", "1101011", "910101", "abcdef"],
    ),
    "icd10": (
        ["J45.0", "E11", "A00.09", "j45.0"],
        ["U07.1", "123", "J4", "J45.", "JJ45"],
    ),
    "bank_card": (
        [_card("622202123456789012"), "4111111111111111", "4111 1111 1111 1111"],
        ["4111111111111112", "411111111111111", "41111111111111111111", "4111-1111-abcd-1111"],
    ),
}


def test_every_validator_has_a_case_and_an_expectation():
    from great_expectations.expectations.registry import get_expectation_impl

    from yishu.standard.expectations import EXPECTATION_TYPES

    assert set(CASES) == set(identifiers.VALIDATORS) == set(EXPECTATION_TYPES)
    for name, type_ in EXPECTATION_TYPES.items():
        impl = get_expectation_impl(type_)
        assert impl.map_metric == f"column_values.valid_{name}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_custom_expectation_flags_exactly_the_invalid_rows(name):
    valid, invalid = CASES[name]
    # Interleave so the invalid rows are not simply the tail; a null is skipped, not flagged.
    values = [v for pair in zip(valid * 2, invalid, strict=False) for v in pair] + [None]
    df = pd.DataFrame({"value": values})
    suite = {
        "name": f"case_{name}",
        "expectations": [
            {
                "type": f"expect_column_values_to_be_valid_{name}",
                "kwargs": {"column": "value"},
                "meta": {"severity": "critical", "dimension": "conformity"},
            }
        ],
    }

    (result,) = run_suite(df, suite).results

    bad_rows = [i for i, v in enumerate(values) if v in invalid]
    assert [values[i] for i in bad_rows] == invalid  # sanity: each invalid value once
    assert result.exception is None
    assert result.element_count == len(values)
    assert result.missing_count == 1
    assert result.unexpected_count == len(invalid)
    assert result.example_rows == bad_rows
    assert result.success is False
    assert result.dimension == "conformity"


@pytest.mark.parametrize("name", sorted(CASES))
def test_custom_expectation_passes_valid_values_and_honours_mostly(name):
    valid, invalid = CASES[name]
    df = pd.DataFrame({"value": valid * 3 + invalid[:1]})
    type_ = f"expect_column_values_to_be_valid_{name}"
    suite = {
        "name": f"mostly_{name}",
        "expectations": [
            {"type": type_, "kwargs": {"column": "value", **mostly}}
            for mostly in ({}, {"mostly": 0.75}, {"mostly": 0.99})
        ],
    }
    strict, lenient, too_strict = run_suite(df, suite).results
    assert (strict.success, lenient.success, too_strict.success) == (False, True, False)
    assert strict.unexpected_count == 1


def test_valid_mask_calls_the_validator_once_per_distinct_value():
    from yishu.standard.expectations import valid_mask

    calls = []

    def validator(value):
        calls.append(value)
        return value == "ok"

    column = pd.Series(["ok", "bad", "ok", "ok", "bad"] * 1000, index=range(10, 5010))
    mask = valid_mask(column, validator)
    assert sorted(calls) == ["bad", "ok"]
    assert mask.index.equals(column.index)
    assert int(mask.sum()) == 3000
