"""Helpers for tests that break a copy of the catalog on purpose and read the problems."""

import pytest
import yaml

from yishu.definitions import CatalogError, load_catalog


def edit_yaml(path, fn) -> None:
    """Load a YAML file, let `fn` change the data in place, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def catalog_problems(root) -> list[str]:
    # pytest.raises(CatalogError) lets any other exception (a traceback) fail the test
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    return exc.value.problems


def has_problem(problems, *parts) -> bool:
    """Some one problem mentions every part."""
    return any(all(part in p for part in parts) for p in problems)
