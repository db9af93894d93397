"""run_suite: severity handling, example rows, standard + custom expectations together."""

import json

import pandas as pd
import pytest

from yishu.standard.validate import ValidationOutcome, run_suite


def _exp(type_, column, severity=None, dimension=None, **kwargs):
    meta = {"generated": True}
    if severity:
        meta["severity"] = severity
    if dimension:
        meta["dimension"] = dimension
    return {"type": f"expect_{type_}", "kwargs": {"column": column, **kwargs}, "meta": meta}


@pytest.fixture(scope="module")
def people():
    # String index labels: example_rows must report labels, not positions.
    return pd.DataFrame(
        {
            "id_no": ["11010519491231002X", "110105194912310021", None, "110105491231002", "x"],
            "mobile": ["13800138000", "13800138000", "12345678901", None, "13912345678"],
            "icd": ["J45.0", "E11", "U07.1", "I10", "J45.0"],
            "age": [30, 45, 130, 7, -1],
            "sex": ["男", "女", "女", "未知", "男"],
            "county": ["110101", "440305", "999999", "110105", "440305"],
        },
        index=[f"r{i}" for i in range(5)],
    )


@pytest.fixture(scope="module")
def mixed_outcome(people):
    suite = {
        "name": "people",
        "meta": {"source": "test"},
        "expectations": [
            _exp("column_values_to_not_be_null", "id_no", "critical", "completeness"),
            _exp("column_values_to_be_valid_cn_resident_id", "id_no", "critical", "conformity"),
            _exp("column_values_to_be_unique", "mobile", "warning", "uniqueness"),
            _exp("column_values_to_be_valid_cn_mobile", "mobile", "warning", "conformity"),
            _exp(
                "column_values_to_be_in_set", "sex", "warning", "accuracy", value_set=["男", "女"]
            ),
            _exp(
                "column_values_to_be_between",
                "age",
                "critical",
                "accuracy",
                min_value=0,
                max_value=120,
            ),
            _exp(
                "column_values_to_match_regex", "county", "warning", "conformity", regex=r"^\d{6}$"
            ),
            _exp("column_values_to_be_valid_cn_division_code", "county", None, "conformity"),
            _exp("column_values_to_be_valid_icd10", "icd", "warning", "conformity", mostly=0.5),
        ],
    }
    return run_suite(people, suite)


def _by_type(outcome: ValidationOutcome) -> dict:
    return {(r.type.removeprefix("expect_column_values_to_"), r.column): r for r in outcome.results}


def test_results_keep_suite_order_and_meta(mixed_outcome):
    results = mixed_outcome.results
    assert [r.type for r in results][:3] == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_valid_cn_resident_id",
        "expect_column_values_to_be_unique",
    ]
    assert [r.dimension for r in results][:3] == ["completeness", "conformity", "uniqueness"]
    assert results[4].kwargs == {"column": "sex", "value_set": ["男", "女"]}
    assert all(r.exception is None for r in results)


def test_counts_and_example_rows_for_standard_and_custom(mixed_outcome):
    r = _by_type(mixed_outcome)
    expected = {  # (type, column): (success, unexpected_count, example_rows)
        ("not_be_null", "id_no"): (False, 1, ["r2"]),
        ("be_valid_cn_resident_id", "id_no"): (False, 2, ["r1", "r4"]),
        ("be_unique", "mobile"): (False, 2, ["r0", "r1"]),
        ("be_valid_cn_mobile", "mobile"): (False, 1, ["r2"]),
        ("be_in_set", "sex"): (False, 1, ["r3"]),
        ("be_between", "age"): (False, 2, ["r2", "r4"]),
        ("match_regex", "county"): (True, 0, []),
        ("be_valid_cn_division_code", "county"): (False, 1, ["r2"]),
        ("be_valid_icd10", "icd"): (True, 1, ["r2"]),  # mostly=0.5
    }
    actual = {k: (v.success, v.unexpected_count, v.example_rows) for k, v in r.items()}
    assert actual == expected
    id_check = r["be_valid_cn_resident_id", "id_no"]
    assert (id_check.element_count, id_check.missing_count) == (5, 1)
    assert id_check.unexpected_percent == pytest.approx(50.0)  # of the non-null values


def test_severity_decides_pass(mixed_outcome):
    failed_critical = {(r.type, r.column) for r in mixed_outcome.critical_failures}
    assert failed_critical == {
        ("expect_column_values_to_not_be_null", "id_no"),
        ("expect_column_values_to_be_valid_cn_resident_id", "id_no"),
        ("expect_column_values_to_be_between", "age"),
        # no severity in meta: GE's default, critical
        ("expect_column_values_to_be_valid_cn_division_code", "county"),
    }
    assert not mixed_outcome.passed
    assert {r.severity for r in mixed_outcome.warnings} == {"warning"}


def test_only_warnings_failing_still_passes(people):
    suite = {
        "name": "warnings_only",
        "expectations": [
            _exp("column_values_to_be_valid_cn_mobile", "mobile", "warning"),
            _exp("column_values_to_be_valid_icd10", "icd", "critical", mostly=0.8),
        ],
    }
    outcome = run_suite(people, suite)
    assert outcome.passed
    assert outcome.critical_failures == []
    assert [r.success for r in outcome.results] == [False, True]


def test_example_rows_are_capped_at_five():
    df = pd.DataFrame({"icd": ["bad"] * 8 + ["E11"] * 2})
    outcome = run_suite(
        df, {"name": "cap", "expectations": [_exp("column_values_to_be_valid_icd10", "icd")]}
    )
    (result,) = outcome.results
    assert result.unexpected_count == 8
    assert result.example_rows == [0, 1, 2, 3, 4]


def test_missing_column_is_a_failed_result_not_a_crash(people):
    outcome = run_suite(
        people,
        {
            "name": "missing",
            "expectations": [
                _exp("column_values_to_be_valid_cn_uscc", "no_such_column", "critical")
            ],
        },
    )
    (result,) = outcome.results
    assert result.success is False
    assert "no_such_column" in result.exception
    assert not outcome.passed


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "expect_column_values_to_be_valid_nothing", "kwargs": {"column": "a"}},
        {"type": "expect_column_values_to_be_valid_icd10", "kwargs": {}},
        {
            "type": "expect_column_values_to_be_valid_icd10",
            "kwargs": {"column": "a"},
            "meta": {"severity": "fatal"},
        },
    ],
)
def test_invalid_suite_entries_raise(entry):
    # GE's ExpectationSuite(...) would only log and drop them.
    with pytest.raises(ValueError, match="expectation #0"):
        run_suite(pd.DataFrame({"a": [1]}), {"name": "bad", "expectations": [entry]})


def test_to_dict_is_json_serializable(mixed_outcome):
    data = json.loads(json.dumps(mixed_outcome.to_dict(), ensure_ascii=False))
    assert data["passed"] is False
    assert data["critical_failures"] == 4
    assert data["results"][1]["example_rows"] == ["r1", "r4"]
    assert data["data_docs_index"] is None


def test_data_docs_are_built_without_unexpected_values(people, tmp_path):
    suite = {
        "name": "docs",
        "expectations": [
            _exp("column_values_to_be_valid_cn_resident_id", "id_no", "critical"),
            _exp("column_values_to_be_valid_cn_mobile", "mobile", "warning"),
        ],
    }
    outcome = run_suite(people, suite, data_docs_dir=tmp_path / "docs")
    assert outcome.data_docs_index == tmp_path / "docs" / "index.html"
    assert outcome.data_docs_index.is_file()
    pages = list((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 1
    html = pages[0].read_text(encoding="utf-8")
    assert "id_no values must be valid cn_resident_id" in html  # our renderer
    # failing identifiers must not leak into the published HTML
    assert "110105194912310021" not in html and "12345678901" not in html
