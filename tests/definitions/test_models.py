"""The typed models, how the loader words their problems, and the shape of the package."""

import dataclasses
from types import SimpleNamespace

import pydantic
import pytest

from tests import shape
from tests.catalog_edits import catalog_problems as _problems
from tests.catalog_edits import edit_yaml as _edit
from tests.catalog_edits import has_problem as _has
from yishu.definitions import ProductColumn, Zone, load_catalog
from yishu.deid import registry


def test_models_stay_dataclasses():
    col = ProductColumn("raw_id", "patient_resident_id", "keep")
    assert list(ProductColumn.__dataclass_fields__) == ["name", "source_column", "policy", "to",
                                                        "keep_reason"]
    assert dataclasses.asdict(col) == {"name": "raw_id", "source_column": "patient_resident_id",
                                       "policy": "keep", "to": None, "keep_reason": None}
    assert dataclasses.replace(col, source_column="visit_date").source_column == "visit_date"
    zone = Zone("open", "开放专区", "L1")
    assert (zone.k, zone.max_suppression, zone.min_quality_grade) == (5, 0.05, "C")
    with pytest.raises(dataclasses.FrozenInstanceError):
        zone.k = 3


@pytest.mark.parametrize("changes", [{"k": True}, {"k": "5"}, {"max_suppression": "0.1"},
                                     {"name_zh": 5}, {"max_level": "L5"}])
def test_models_are_strict(changes):
    with pytest.raises(pydantic.ValidationError):
        dataclasses.replace(Zone("open", "开放专区", "L1"), **changes)


def test_zone_names_are_lower_snake_case(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "zones.yaml", lambda d: d["zones"].update({"Open-Data": d["zones"]["open"]}))
    assert _has(_problems(root), "zones.yaml: zones.Open-Data:", "lower_snake_case")


def test_yaml_says_from_not_source_column(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml",
          lambda d: d["columns"].update(department={"source_column": "department"}))
    problems = _problems(root)
    assert _has(problems, "columns.department: unknown field(s) ['source_column']",
                "allowed are ['from', 'keep_reason', 'policy', 'to']"), problems
    assert _has(problems, "columns.department: missing required field(s) ['from']"), problems


def test_an_entry_name_is_its_key(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "sources/health_visits.yaml",
          lambda d: d["columns"]["department"].update(name="dept"))
    problems = _problems(root)
    assert _has(problems, "health_visits.yaml: columns.department: unknown field(s) ['name']",
                "allowed are ['authoritative', 'element', 'required']"), problems


def test_every_problem_is_reported_together(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "zones.yaml", lambda d: d["zones"]["finance"].update(k="five", colour="red"))
    _edit(root / "elements.yaml", lambda d: d["elements"]["visit_id"].update(type="uuid"))
    _edit(root / "sources/health_visits.yaml", lambda d: d.update(encoding="utf-9"))
    problems = _problems(root)
    for parts in (("zones.finance.k:", "expected a whole number, got a string 'five'",
                   "write a whole number"),
                  ("zones.finance: unknown field(s) ['colour']",),
                  ("elements.visit_id.type: 'uuid' is not one of",),
                  ("health_visits.yaml: encoding:",)):
        assert _has(problems, *parts), problems
    assert all(p.count(": ") >= 2 for p in problems), problems


def test_to_is_checked_against_the_operator(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml", lambda d: d["columns"].update(
        visit_month={"from": "visit_date", "policy": "generalize", "to": "decade"},
        patient_phone={"from": "patient_phone", "policy": "mask", "to": "month"}))
    problems = _problems(root)
    assert _has(problems, "columns.visit_month.to: generalize needs `to:` one of [",
                "'month'"), problems
    assert _has(problems, "columns.patient_phone.to: mask takes no `to:`"), problems


def test_an_operator_registered_at_run_time_is_accepted(catalog_copy, monkeypatch):
    root = catalog_copy / "catalog"
    _edit(root / "products/insurance_visits.yaml", lambda d: d["columns"].update(
        visit_month={"from": "visit_date", "policy": "shift", "to": "week"}))
    assert _has(_problems(root), "columns.visit_month.policy: 'shift' is not one of")

    names, get = registry.policy_names, registry.get
    shift = SimpleNamespace(name="shift", targets=("week",))
    monkeypatch.setattr(registry, "policy_names", lambda: (*names(), "shift"))
    monkeypatch.setattr(registry, "get", lambda name: shift if name == "shift" else get(name))
    product = load_catalog(root).products["insurance_visits"]
    assert product.columns["visit_month"].policy == "shift"


def test_definitions_import_nothing_of_the_runtime():
    """The catalog as code reads YAML: no settings, storage, database, stages, Airflow or CLI,
    and of de-identification only the operator registry."""
    for module in [m for m in shape.checker.modules() if m.startswith("yishu.definitions")]:
        for imported in shape.imports_of(module):
            top = ".".join(imported.split(".")[:2])
            assert top not in {"yishu.settings", "yishu.storage", "yishu.db", "yishu.pipeline",
                               "yishu.airflow", "yishu.cli", "yishu.resources"}, (module, imported)
            assert not imported.startswith("yishu.deid") or \
                imported == "yishu.deid.registry", (module, imported)
