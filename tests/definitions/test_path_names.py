"""Zone, product and source names become path segments under YISHU_HOME: the catalog accepts
only lower_snake_case, and `Storage` refuses anything else again (defence in depth)."""

import shutil

import pytest

from tests.catalog_edits import catalog_problems as _problems
from tests.catalog_edits import edit_yaml as _edit
from tests.catalog_edits import has_problem as _has
from yishu.errors import UserInputError
from yishu.storage import Storage

BAD = ["..", "a/b", ".", "", "Open", "1st", "a-b", "a b"]


@pytest.mark.parametrize("name", ["..", ".", "a/b", "", "Open"])
def test_zone_names_that_are_not_lower_snake_case_are_refused(catalog_copy, name):
    root = catalog_copy / "catalog"
    _edit(root / "zones.yaml", lambda d: d["zones"].update({name: d["zones"]["open"]}))
    assert _has(_problems(root), f"zones.{name}: zone name '{name}' is not lower_snake_case")


@pytest.mark.parametrize("name", ["..", "."])
def test_product_names_that_are_not_lower_snake_case_are_refused(catalog_copy, name):
    # the case: a product file named `...yaml` whose name is `..`
    products = catalog_copy / "catalog" / "products"
    path = products / f"{name}.yaml"
    shutil.copy(products / "insurance_visits.yaml", path)
    _edit(path, lambda d: d.update(name=name))
    assert _has(_problems(catalog_copy / "catalog"), f"{path}: name: product name '{name}' is "
                "not lower_snake_case")


def test_a_product_named_a_path_is_refused(catalog_copy):
    path = catalog_copy / "catalog" / "products" / "insurance_visits.yaml"
    _edit(path, lambda d: d.update(name="a/b"))
    assert _has(_problems(catalog_copy / "catalog"), "product name 'a/b' is not lower_snake_case")


@pytest.mark.parametrize("bad", BAD)
def test_storage_refuses_names_that_are_not_path_segments(tmp_path, bad):
    storage = Storage(tmp_path / "home")
    calls = [
        lambda: storage.product_version_dir(bad, "p", 1),
        lambda: storage.product_version_dir("open", bad, 1),
        lambda: storage.version_paths(bad, "p", 1, "run"),
        lambda: storage.version_paths("open", bad, 1, "run"),
        lambda: storage.work_dir(bad, "2026-11-01"),
        lambda: storage.run_work_dir(bad, "2026-11-01", "run"),
        lambda: storage.inbox_path(bad, "2026-11-01"),
        lambda: storage.raw_dir(bad, "2026-11-01"),
        lambda: storage.quarantine_record(bad, "2026-11-01"),
        lambda: storage.report_dir(bad, "2026-11-01"),
    ]
    for call in calls:
        with pytest.raises(UserInputError, match="is not lower_snake_case"):
            call()
    assert not (tmp_path / "home").exists() or not any(
        p for p in (tmp_path / "home").rglob("*") if p.name not in ("products", "work"))
    assert not (tmp_path / "insurance_visits").exists()


@pytest.mark.parametrize("version", [0, -1, "1", True, "../x"])
def test_storage_refuses_a_version_that_is_not_a_number(tmp_path, version):
    with pytest.raises(UserInputError, match="is not a whole number"):
        Storage(tmp_path / "home").product_version_dir("open", "p", version)


def test_good_names_make_paths_inside_the_home(tmp_path):
    storage = Storage(tmp_path / "home")
    assert storage.product_version_dir("open", "ev_stations", 3) == \
        tmp_path / "home" / "products" / "open" / "ev_stations" / "v3"
