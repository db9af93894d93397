import json

from yishu.definitions import load_catalog
from yishu.settings import REPO_ROOT
from yishu.standard.suites import generated_expectations, stale_suites, write_suites


def test_committed_suites_are_up_to_date_with_the_catalog():
    assert stale_suites(load_catalog(REPO_ROOT / "catalog"), REPO_ROOT / "expectations") == []


def test_suite_is_derived_from_the_element_standard():
    cat = load_catalog(REPO_ROOT / "catalog")
    exps = generated_expectations(cat, cat.sources["health_visits"])
    by = {(e["type"], e["kwargs"]["column"]): e["meta"]["severity"] for e in exps}
    assert by[("expect_column_values_to_be_valid_cn_resident_id", "patient_resident_id")] == \
        "critical"
    assert by[("expect_column_values_to_not_be_null", "visit_id")] == "critical"
    assert by[("expect_column_values_to_be_unique", "visit_id")] == "critical"
    assert by[("expect_column_values_to_be_valid_cn_mobile", "patient_phone")] == "warning"
    assert ("expect_column_values_to_be_in_set", "department") in by


def test_stale_suite_is_detected_and_hand_written_expectations_survive(catalog_copy):
    cat = load_catalog(catalog_copy / "catalog")
    path = catalog_copy / "expectations" / "market_enterprise.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    manual = {"type": "expect_table_row_count_to_be_between",
              "kwargs": {"min_value": 1},
              "meta": {"severity": "warning", "dimension": "completeness"}}
    suite["expectations"] = suite["expectations"][1:] + [manual]  # drop one generated
    path.write_text(json.dumps(suite), encoding="utf-8")
    problems = stale_suites(cat, path.parent)
    assert any("market_enterprise.json" in p and "yishu expectations build" in p
               for p in problems)
    write_suites(cat, path.parent)
    assert stale_suites(cat, path.parent) == []
    rebuilt = json.loads(path.read_text(encoding="utf-8"))
    assert manual in rebuilt["expectations"]
