from pathlib import Path

import pytest

from tests.catalog_edits import catalog_problems as _problems
from tests.catalog_edits import edit_yaml as _edit
from tests.catalog_edits import has_problem as _has
from yishu.definitions import CatalogError, load_catalog


def test_repository_catalog_loads():
    cat = load_catalog(Path(__file__).resolve().parents[2] / "catalog")
    assert {"health_visits", "market_enterprise"} <= set(cat.sources)
    assert {"insurance", "finance"} <= set(cat.zones)
    assert {p.zone for p in cat.products.values()} >= {"insurance", "finance"}
    for element in cat.elements.values():
        assert element.source in cat.sources


def test_second_authoritative_source_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "sources/health_visits.yaml",
          lambda d: d["columns"]["hospital_uscc"].update(authoritative=True))
    problems = _problems(root)
    assert any("elements.uscc.source" in p and "health_visits" in p and "market_enterprise" in p
               for p in problems), problems


def test_unknown_element_is_refused_naming_file_and_field(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "sources/market_enterprise.yaml",
          lambda d: d["columns"]["industry"].update(element="industry_code_typo"))
    problems = _problems(root)
    assert any("market_enterprise.yaml" in p and "columns.industry.element" in p
               and "industry_code_typo" in p for p in problems), problems


def test_product_must_take_element_from_authoritative_source(catalog_copy):
    root = catalog_copy / "catalog"
    # hospital_name carries enterprise_name, whose authority is market_enterprise
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d["columns"].update(hospital={"from": "hospital_name"}))
    problems = _problems(root)
    assert any("insurance_visits.yaml" in p and "columns.hospital.from" in p
               and "authoritative source 'market_enterprise'" in p for p in problems), problems


def test_bad_yaml_names_file_and_line(catalog_copy):
    root = catalog_copy / "catalog"
    (root / "zones.yaml").write_text("zones:\n  insurance: [unclosed\n", encoding="utf-8")
    problems = _problems(root)
    assert any("zones.yaml" in p and "line" in p and "invalid YAML" in p for p in problems)


def test_unknown_field_and_unpublishable_keep(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "elements.yaml",
          lambda d: d["elements"]["doctor_note"].update(security_level="important"))
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d["columns"]["doctor_note"].update(policy="keep"))
    _edit(root / "zones.yaml", lambda d: d["zones"]["open"].update(colour="red"))
    problems = _problems(root)
    assert any("zones.open" in p and "colour" in p for p in problems), problems


def test_source_key_not_a_column_is_reported_not_a_keyerror(catalog_copy):
    root = catalog_copy / "catalog"
    # ev_stations is the authority of station_id, referenced by station_inspection_log
    _edit(root / "sources/ev_stations.yaml", lambda d: d.update(key="station_typo"))
    problems = _problems(root)
    assert _has(problems, "ev_stations.yaml: key:", "station_typo", "not one of its columns")


@pytest.mark.parametrize("file, edit, field", [
    ("zones.yaml", lambda d: d.update(zones=list(d["zones"])), "zones"),
    ("elements.yaml", lambda d: d.update(elements=list(d["elements"])), "elements"),
    ("sources/market_enterprise.yaml", lambda d: d.update(columns=list(d["columns"])),
     "columns"),
    ("products/insurance_visits.yaml", lambda d: d.update(columns=list(d["columns"])),
     "columns"),
])
def test_list_instead_of_mapping_is_reported(catalog_copy, file, edit, field):
    root = catalog_copy / "catalog"
    _edit(root / file, edit)
    problems = _problems(root)
    assert _has(problems, f"{Path(file).name}: {field}: expected a mapping", "got a list"), \
        problems


@pytest.mark.parametrize("update, field, hint", [
    ({"k": "five"}, "zones.finance.k", "expected a whole number"),
    ({"k": 0}, "zones.finance.k", "≥ 1"),
    ({"k": True}, "zones.finance.k", "expected a whole number"),
    ({"max_suppression": 1.5}, "zones.finance.max_suppression", "from 0 to 1"),
    ({"max_suppression": -0.1}, "zones.finance.max_suppression", "from 0 to 1"),
    ({"max_suppression": "10%"}, "zones.finance.max_suppression", "expected a number"),
])
def test_zone_field_types(catalog_copy, update, field, hint):
    root = catalog_copy / "catalog"
    _edit(root / "zones.yaml", lambda d: d["zones"]["finance"].update(update))
    assert _has(_problems(root), f"zones.yaml: {field}", hint)


def test_unknown_encoding_and_location_placeholder(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "sources/health_visits.yaml", lambda d: d.update(encoding="utf-9"))
    _edit(root / "sources/market_enterprise.yaml",
          lambda d: d.update(location="{home}/inbox/{date}.csv"))
    problems = _problems(root)
    assert _has(problems, "health_visits.yaml: encoding:", "utf-9", "e.g. utf-8"), problems
    assert _has(problems, "market_enterprise.yaml: location:", "{date}",
                "{home}, {repo}, {partition}"), problems


def test_sensitive_attribute_must_be_an_output_column(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d.update(sensitive_attribute="diagnosis"))
    assert _has(_problems(root), "insurance_visits.yaml: sensitive_attribute:", "'diagnosis'",
                "not an output column", "diagnosis_icd10")


def test_exclude_rows_starts_with_must_be_text(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: d["exclude_rows"][0].update(starts_with=92))
    assert _has(_problems(root), "enterprise_profile.yaml: exclude_rows[0].starts_with:",
                "92", "quote it")


@pytest.mark.parametrize("group_by", [[], "district", None])
def test_aggregate_group_by_is_a_non_empty_list(catalog_copy, group_by):
    root = catalog_copy / "catalog"
    _edit(root / "products/enterprise_statistics.yaml",
          lambda d: d["aggregate"].update(group_by=group_by))
    assert _has(_problems(root), "enterprise_statistics.yaml: aggregate.group_by:",
                "non-empty list of output columns")


@pytest.mark.parametrize("level", ["important", "core"])
def test_unpublishable_element_is_refused_with_any_policy_but_drop(catalog_copy, level):
    root = catalog_copy / "catalog"
    _edit(root / "elements.yaml",
          lambda d: d["elements"]["enterprise_phone"].update(security_level=level))
    problems = _problems(root)
    # enterprise_profile publishes enterprise_phone with policy: mask
    assert _has(problems, "enterprise_profile.yaml: columns.enterprise_phone.policy:", level,
                "'mask'", "policy: drop"), problems


def test_unpublishable_element_may_be_listed_as_dropped(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "elements.yaml",
          lambda d: d["elements"]["patient_phone"].update(security_level="core"))
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d["columns"].update(patient_phone={"from": "patient_phone",
                                                       "policy": "drop"}))
    problems = _problems(root) if _fails(root) else []
    assert not _has(problems, "columns.patient_phone"), problems


def _fails(root) -> bool:
    try:
        load_catalog(root)
    except CatalogError:
        return True
    return False


def test_product_column_unknown_field_lists_from(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d["columns"]["department"].update(form="department"))
    problems = _problems(root)
    assert _has(problems, "insurance_visits.yaml: columns.department: unknown field(s) ['form']",
                "'from'"), problems
    assert not _has(problems, "source_column"), problems


def test_product_column_without_from_names_from(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d["columns"].update(department={"policy": "keep"}))
    assert _has(_problems(root), "insurance_visits.yaml: columns.department:",
                "missing required field(s) ['from']")


def test_quasi_identifiers_must_be_declared(catalog_copy):
    root = catalog_copy / "catalog"
    # enterprise_profile must declare its flagged `district` column (set here so the test does
    # not depend on the repository YAML)
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: d.update(quasi_identifiers=["district"]))
    # visit_month generalizes visit_date (quasi_identifier: true); age_band generalizes
    # patient_resident_id (classification: personal)
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d.update(quasi_identifiers=["gender"]))
    problems = _problems(root)
    for column in ("visit_month", "age_band"):
        assert _has(problems, "insurance_visits.yaml: quasi_identifiers:", f"'{column}'",
                    f"add '{column}' to quasi_identifiers"), problems
    # pseudonymized personal data is not generalized; aggregates are exempt (min_cell instead)
    assert not _has(problems, "patient_token"), problems
    assert not _has(problems, "enterprise_statistics"), problems
    assert len(problems) == 2, problems


def test_a_column_without_policy_takes_its_elements_default(catalog_copy):
    """`legal_rep: {from: legal_rep_name}` once published names raw (policy defaulted to keep)."""
    root = catalog_copy / "catalog"
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: (d["columns"].update(legal_rep={"from": "legal_rep_name"}),
                     d.update(quasi_identifiers=["district", "legal_rep"])))
    cat = load_catalog(root)
    assert cat.products["enterprise_profile"].columns["legal_rep"].policy == "pseudonymize"
    # an element that is not personal still defaults to keep
    assert cat.products["enterprise_profile"].columns["industry"].policy == "keep"


def test_a_personal_element_needs_a_default_policy(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "elements.yaml", lambda d: d["elements"]["legal_rep_name"].pop("policy"))
    problems = _problems(root)
    assert _has(problems, "elements.yaml: elements.legal_rep_name.policy", "pii_entity PERSON",
                "no default policy")


def test_keep_on_a_personal_element_needs_a_reason(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: d["columns"].update(legal_rep={"from": "legal_rep_name", "policy": "keep"}))
    problems = _problems(root)
    assert _has(problems, "enterprise_profile.yaml: columns.legal_rep.policy", "keep",
                "legal_rep_name", "keep_reason")
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: d["columns"]["legal_rep"].update(keep_reason="公示系统已公开法定代表人"))
    assert load_catalog(root).products["enterprise_profile"].columns["legal_rep"].keep_reason
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: d["columns"]["industry"].update(keep_reason="public"))
    _edit(root / "products/enterprise_profile.yaml",
          lambda d: d["columns"]["industry"].update(policy="mask"))
    assert _has(_problems(root), "columns.industry.keep_reason",
                "only a column with `policy: keep`")


def test_a_product_about_people_names_its_subject_key(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml", lambda d: d.pop("subject_key"))
    assert _has(_problems(root), "insurance_visits.yaml: subject_key:", "count people")
    _edit(root / "products/insurance_visits.yaml", lambda d: d.update(subject_key="nope"))
    assert _has(_problems(root), "subject_key: 'nope' is not an output column")


def test_an_identifier_derived_column_beside_quasi_identifiers_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml", lambda d: d["columns"].update(
        patient_phone={"from": "patient_phone", "policy": "mask"}))
    assert _has(_problems(root), "insurance_visits.yaml: columns.patient_phone:",
                "by mask", "add it to quasi_identifiers")
    _edit(root / "products/insurance_visits.yaml", lambda d: d.update(
        quasi_identifiers=[*d["quasi_identifiers"], "patient_phone"]))
    load_catalog(root)  # counted as a quasi-identifier: accepted


def test_a_sensitive_element_is_published_only_with_an_l_check(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml", lambda d: d.pop("sensitive_attribute"))
    assert _has(_problems(root), "sensitive_attribute: output column 'diagnosis_icd10'",
                "without an l-diversity check")


def test_min_max_median_of_a_personal_measure_needs_dominance(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "scenarios.yaml", lambda d: d["scenarios"]["business_environment"][
        "products"].append("visit_costs"))
    product = {"name": "visit_costs", "title_zh": "费用", "zone": "open",
               "scenarios": ["business_environment"],
               "source": "health_visits",
               "columns": {"department": {"from": "department"},
                           "visit_cost": {"from": "visit_cost"},
                           "patient_token": {"from": "patient_resident_id"}},
               "subject_key": "patient_token",
               "aggregate": {"group_by": ["department"], "min_cell": 5,
                             "measures": {"top": {"op": "max", "column": "visit_cost"}}}}
    path = root / "products/visit_costs.yaml"
    path.write_text(__import__("yaml").safe_dump(product, allow_unicode=True), encoding="utf-8")
    assert _has(_problems(root), "visit_costs.yaml: aggregate.measures.top", "max",
                "aggregate.dominance")
    _edit(path, lambda d: d["aggregate"].update(dominance=1.5))
    assert _has(_problems(root), "aggregate.dominance: expected a share between 0 and 1")
    _edit(path, lambda d: d["aggregate"].update(dominance=0.5))
    load_catalog(root)
