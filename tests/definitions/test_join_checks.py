"""`yishu check` on products that join sources: the key is its authority's and in every
source, each column comes from its authoritative source, and every mistake is one message
naming the file and the field."""

import pytest
import yaml
from typer.testing import CliRunner

from tests.catalog_edits import catalog_problems, has_problem
from yishu.definitions import load_catalog, safe_yaml
from yishu.definitions.models import resolve_column

PRODUCT = "enterprise_credit_profile"


def _edit(root, fn):
    """Change the joined product's YAML (read as the catalog reads it: `on` stays a key)."""
    path = root / "catalog" / "products" / f"{PRODUCT}.yaml"
    data = safe_yaml.load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _problems(catalog_copy, fn) -> tuple[list[str], str]:
    path = _edit(catalog_copy, fn)
    return catalog_problems(catalog_copy / "catalog"), str(path)


def test_the_shipped_join_reads_each_column_from_its_authority():
    cat = load_catalog(__import__("yishu.settings").settings.REPO_ROOT / "catalog")
    product = cat.products[PRODUCT]
    assert product.source is None and product.join.on == "uscc"
    assert product.source_names == ("market_enterprise", "power_usage")
    for column in product.columns.values():
        source, spec = resolve_column(product, column.source_column, cat.sources)
        assert cat.elements[spec.element].source == source.name, column.name
    # the power company's copy of the name is there, and the product does not use it
    assert cat.sources["power_usage"].columns["customer_name"].element == "enterprise_name"


def test_a_column_from_a_non_authoritative_source_is_refused(catalog_copy):
    def copy_of_the_name(data):
        data["columns"]["enterprise_name"] = {"from": "power_usage.customer_name"}
        data["columns"]["uscc"] = {"from": "power_usage.uscc"}

    problems, path = _problems(catalog_copy, copy_of_the_name)
    assert has_problem(problems, path, "columns.enterprise_name.from", "'enterprise_name'",
                       "authoritative source 'market_enterprise'", "not from 'power_usage'",
                       "write `from: market_enterprise.enterprise_name`")
    # even the key: the product reads its authority, so it is taken from there
    assert has_problem(problems, path, "columns.uscc.from",
                       "write `from: market_enterprise.uscc`")


@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["join"].update(on="district"), "join.on",
     ["'district' is not the key of its authoritative source 'market_enterprise'"]),
    (lambda d: d["join"].update(on="ucsc"), "join.on", ["unknown element 'ucsc'"]),
    (lambda d: d.update(sources=["market_enterprise", "power_use"]), "sources",
     ["unknown source 'power_use'"]),
    (lambda d: d.update(sources=["market_enterprise"]), "sources",
     ["at least two different sources", "write `source: name`"]),
    (lambda d: d.update(sources=["power_usage", "power_usage"]), "sources",
     ["at least two different sources"]),
    (lambda d: d.pop("join"), "join", ["missing", "join: {on: uscc}"]),
    (lambda d: d.update(source="market_enterprise"), "sources",
     ["give `source:` (one source) or `sources:`", "not both"]),
    (lambda d: (d.pop("sources"), d.update(source="power_usage")), "join",
     ["only a product of several `sources:` joins"]),
    (lambda d: d.pop("sources"), "source", ["missing: name the source"]),
    (lambda d: d["columns"].update(kwh={"from": "kwh"}), "columns.kwh.from",
     ["does not say which source", "power_usage.kwh"]),
    (lambda d: d["columns"].update(kwh={"from": "health_visits.visit_cost"}),
     "columns.kwh.from", ["'health_visits' is not one of the product's sources"]),
    (lambda d: d["columns"].update(kwh={"from": "power_usage.kwhh"}), "columns.kwh.from",
     ["'kwhh' is not a column of source 'power_usage'"]),
    (lambda d: d["exclude_rows"][0].update(column="uscc"), "exclude_rows[0].column",
     ["does not say which source"]),
])
def test_join_mistakes_are_named_by_file_and_field(catalog_copy, change, field, words):
    problems, path = _problems(catalog_copy, change)
    assert has_problem(problems, f"{path}: {field}", *words), problems


def test_the_key_must_be_in_every_source_and_its_authority_joined(catalog_copy):
    # transport_chargers carries no USCC; health_visits does (the hospital's), but without the
    # registry there is no authoritative record to meet
    def no_key(data):
        data["sources"] = ["market_enterprise", "transport_chargers"]
        data["columns"] = {"uscc": {"from": "market_enterprise.uscc"},
                           "station": {"from": "transport_chargers.station_name"}}

    problems, path = _problems(catalog_copy, no_key)
    assert has_problem(problems, f"{path}: join.on", "source 'transport_chargers' has no column "
                       "of element 'uscc'")

    def no_authority(data):
        data["sources"] = ["power_usage", "health_visits"]
        data["columns"] = {"kwh": {"from": "power_usage.kwh"}}
        data.pop("exclude_rows")
        data.pop("quasi_identifiers")
        data.pop("subject_key")

    problems, path = _problems(catalog_copy, no_authority)
    assert has_problem(problems, f"{path}: join.on", "the authority of 'uscc', source "
                       "'market_enterprise', is not one of `sources`")


def test_yishu_check_names_the_problem_in_one_line(catalog_copy):
    from yishu.cli import app

    _edit(catalog_copy, lambda d: d["columns"].update(
        enterprise_name={"from": "power_usage.customer_name"}))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert "enterprise_credit_profile.yaml: columns.enterprise_name.from" in result.output
    assert "一数一源" in result.output and "Traceback" not in result.output


def test_yaml_on_is_a_key_not_a_boolean():
    assert safe_yaml.load("join: {on: uscc}\nflag: yes\nok: true") == {
        "join": {"on": "uscc"}, "flag": "yes", "ok": True}
