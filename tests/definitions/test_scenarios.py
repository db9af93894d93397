"""Scenarios as code (无场景不登记): every product serves declared scenarios of its own zone;
an expired scenario is refused by `yishu check`."""

import datetime as dt

from typer.testing import CliRunner

from tests.catalog_edits import catalog_problems, edit_yaml, has_problem
from yishu.cli.main import app
from yishu.definitions import load_catalog
from yishu.definitions.checks import expired_scenarios


def test_repository_scenarios_name_their_products_both_ways(catalog_copy):
    cat = load_catalog(catalog_copy / "catalog")
    assert cat.scenarios["insurance_claims"].zone == "insurance"
    for product in cat.products.values():
        assert product.scenarios
        for name in product.scenarios:
            assert product.name in cat.scenarios[name].products
            assert cat.scenarios[name].zone == product.zone


def test_a_scenario_naming_a_product_of_another_zone_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    edit_yaml(root / "scenarios.yaml", lambda d: d["scenarios"]["insurance_claims"][
        "products"].append("enterprise_profile"))
    assert has_problem(catalog_problems(root), "scenarios.insurance_claims.products",
                       "enterprise_profile", "zone 'finance'")


def test_a_product_needs_known_scenarios_that_list_it(catalog_copy):
    root = catalog_copy / "catalog"
    edit_yaml(root / "products/insurance_visits.yaml",
              lambda d: d.update(scenarios=["insurance_claims", "nope"]))
    edit_yaml(root / "products/enterprise_profile.yaml",
              lambda d: d.update(scenarios=["business_environment"]))
    problems = catalog_problems(root)
    assert has_problem(problems, "insurance_visits.yaml: scenarios", "unknown scenario 'nope'")
    assert has_problem(problems, "enterprise_profile.yaml: scenarios", "business_environment",
                       "does not list this product")


def test_old_free_text_scenario_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    edit_yaml(root / "products/insurance_visits.yaml",
              lambda d: (d.pop("scenarios"), d.update(scenario="商保理赔")))
    problems = catalog_problems(root)
    assert has_problem(problems, "insurance_visits.yaml", "scenarios")


def test_a_product_without_scenarios_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    edit_yaml(root / "products/enterprise_profile.yaml", lambda d: d.update(scenarios=[]))
    assert has_problem(catalog_problems(root), "enterprise_profile.yaml: scenarios",
                       "needs a scenario")


def test_bad_scenario_fields_are_named(catalog_copy):
    root = catalog_copy / "catalog"
    edit_yaml(root / "scenarios.yaml",
              lambda d: d["scenarios"]["insurance_claims"].update(valid_until="someday"))
    assert has_problem(catalog_problems(root), "scenarios.insurance_claims.valid_until",
                       "valid date")

    def breaks(d):
        d["scenarios"]["insurance_claims"]["valid_until"] = dt.date(2030, 1, 1)
        d["scenarios"]["inclusive_credit"]["zone"] = "nowhere"
        d["scenarios"]["bad-id"] = {**d["scenarios"]["ev_mobility"], "products": ["nope"]}
    edit_yaml(root / "scenarios.yaml", breaks)
    problems = catalog_problems(root)
    assert has_problem(problems, "scenarios.inclusive_credit.zone", "unknown zone 'nowhere'")
    assert has_problem(problems, "scenarios.bad-id", "lower_snake_case")
    assert has_problem(problems, "scenarios.bad-id.products", "unknown product 'nope'")


def test_expiry_is_refused_by_check_but_loading_goes_on(catalog_copy, monkeypatch):
    root = catalog_copy / "catalog"
    edit_yaml(root / "scenarios.yaml",
              lambda d: d["scenarios"]["ev_mobility"].update(valid_until=dt.date(2020, 1, 31)))
    cat = load_catalog(root)  # DAGs still parse: expiry stops delivery, not the pipelines
    assert expired_scenarios(cat, dt.date(2020, 1, 31)) == []
    (problem,) = expired_scenarios(cat, dt.date(2020, 2, 1))
    assert "scenarios.ev_mobility.valid_until: expired on 2020-01-31" in problem
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1 and "expired on 2020-01-31" in result.output
