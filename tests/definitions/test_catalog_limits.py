"""The catalog check catches what would fail later (issue 12 item 6): quality.yaml, schedules,
element patterns, duplicate keys, and YAML that is too deep, too large or full of aliases."""

import time

import pytest

from tests.catalog_edits import catalog_problems as _problems
from tests.catalog_edits import edit_yaml as _edit
from tests.catalog_edits import has_problem as _has

SOURCE = "sources/health_visits.yaml"


@pytest.mark.parametrize("text,expected", [
    ("", "quality.yaml: top level: expected a mapping"),
    ("weights: {conformity: 1\n", "quality.yaml: line"),
    ("weights: {conformity: heavy}\ngrades: {A: 90, E: 0}\n", "weights.conformity: 'heavy'"),
    ("weights: {conformity: 1}\n", "quality.yaml: grades: missing"),
    ("weights: {speed: 1}\ngrades: {A: 90, E: 0}\n", "weights.speed: not an indicator"),
    ("weights: {conformity: 1}\ngrades: {A: 90}\n", "no grade starts at 0"),
    ("weights: {conformity: 1}\ngrades: {A: 90, E: 0}\nfreshness_days: soon\n",
     "freshness_days: 'soon'"),
])
def test_quality_yaml_is_checked(catalog_copy, text, expected):
    root = catalog_copy / "catalog"
    (root / "quality.yaml").write_text(text, encoding="utf-8")
    assert _has(_problems(root), expected), _problems(root)


def test_quality_dimensions_match_the_scoring():
    from yishu.definitions.quality_spec import DIMENSIONS
    from yishu.standard.quality import DIMENSIONS as SCORED

    assert DIMENSIONS == SCORED


@pytest.mark.parametrize("schedule", ["every day", "@fortnightly", "61 * * * *"])
def test_an_invalid_schedule_is_refused(catalog_copy, schedule):
    root = catalog_copy / "catalog"
    _edit(root / SOURCE, lambda d: d.update(schedule=schedule))
    assert _has(_problems(root), "health_visits.yaml: schedule:", schedule)


def test_valid_schedules_pass(catalog_copy):
    from yishu.definitions import load_catalog

    root = catalog_copy / "catalog"
    _edit(root / SOURCE, lambda d: d.update(schedule="0 6 * * 1-5"))
    _edit(root / "sources/market_enterprise.yaml", lambda d: d.update(schedule=None))
    load_catalog(root)


def test_an_invalid_pattern_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    _edit(root / "elements.yaml", lambda d: d["elements"]["visit_id"].update(pattern="V[0-9"))
    assert _has(_problems(root), "elements.visit_id.pattern", "not a valid regular expression")


def test_duplicate_keys_are_refused(catalog_copy):
    root = catalog_copy / "catalog"
    path = root / SOURCE
    path.write_text(path.read_text(encoding="utf-8") + "schedule: '@weekly'\n", "utf-8")
    assert _has(_problems(root), "health_visits.yaml", "key 'schedule' appears twice")


def test_an_alias_bomb_is_refused_quickly(catalog_copy):
    root = catalog_copy / "catalog"
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    (root / SOURCE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    problems = _problems(root)
    assert time.monotonic() - started < 5
    assert _has(problems, "health_visits.yaml", "aliases")


def test_deep_nesting_is_refused_without_recursion_error(catalog_copy):
    root = catalog_copy / "catalog"
    (root / SOURCE).write_text("[" * 20_000 + "]" * 20_000, encoding="utf-8")
    assert _has(_problems(root), "health_visits.yaml", "nested deeper than")


def test_an_oversized_file_is_refused(catalog_copy):
    root = catalog_copy / "catalog"
    (root / SOURCE).write_text("# " + "x" * (3 << 20) + "\n", encoding="utf-8")
    assert _has(_problems(root), "health_visits.yaml", "over 2 MB")
