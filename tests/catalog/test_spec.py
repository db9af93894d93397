import pytest
import yaml

from yishu.catalog.spec import CatalogError, load_catalog


def _edit(path, fn):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(root) -> list[str]:
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    return exc.value.problems


def test_repository_catalog_loads():
    cat = load_catalog()
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
