"""Reading the catalog: elements.yaml, zones.yaml, scenarios.yaml, sources/*.yaml,
products/*.yaml.

`load_catalog(root)` reads, validates and cross-checks everything once; every problem names
the file and field and says what to do, and all problems are reported together.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from yishu.definitions import safe_yaml
from yishu.definitions.checks import check_files, check_references
from yishu.definitions.models import (
    Catalog,
    Element,
    Product,
    ProductColumn,
    Scenario,
    Source,
    SourceColumn,
    Zone,
    resolve_column,
)
from yishu.definitions.problems import CatalogError, describe, validation_problems
from yishu.definitions.quality_spec import check_quality

# Fields the loader fills in, which users do not write: an entry's name is its YAML key.
_FILLED: dict[type, frozenset[str]] = {
    Element: frozenset({"name"}), Zone: frozenset({"name"}), Scenario: frozenset({"name"}),
    SourceColumn: frozenset({"name"}), ProductColumn: frozenset({"name"}),
    Source: frozenset({"file"}), Product: frozenset({"file"}),
}
_ADAPTERS = {cls: TypeAdapter(cls) for cls in (Element, Zone, Scenario, Source,
                                                     Product)}


def load_catalog(root: Path) -> Catalog:
    root = Path(root)
    problems: list[str] = []
    elements = _load_entries(root / "elements.yaml", "elements", Element, problems)
    zones = _load_entries(root / "zones.yaml", "zones", Zone, problems)
    scenarios = _load_entries(root / "scenarios.yaml", "scenarios", Scenario, problems)
    sources = {s.name: s for path in sorted((root / "sources").glob("*.yaml"))
               if (s := _load_file(path, Source, SourceColumn, problems))}
    products = {p.name: p for path in sorted((root / "products").glob("*.yaml"))
                if (p := _load_file(path, Product, ProductColumn, problems))}
    cat = Catalog(elements, zones, sources, {n: _with_default_policies(p, elements, sources)
                                             for n, p in products.items()}, root, scenarios)
    check_files(cat, problems)
    check_quality(root / "quality.yaml", _read_yaml(root / "quality.yaml", problems), problems)
    if not problems:
        check_references(cat, problems)
    if problems:
        raise CatalogError(problems)
    return cat


def _with_default_policies(product: Product, elements: dict, sources: dict) -> Product:
    """A column without `policy:` takes its element's default (never `keep` by accident: a
    personal element's default is required). Columns whose element is unknown keep None and
    are reported by the checks."""
    columns = {}
    for name, col in product.columns.items():
        found = resolve_column(product, col.source_column, sources)
        element = elements.get(found[1].element) if found else None
        if col.policy is None and element is not None:
            col = dataclasses.replace(col, policy=element.default_policy)
        columns[name] = col
    return dataclasses.replace(product, columns=columns)


def _read_yaml(path: Path, problems: list[str]) -> dict:
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"))
    except safe_yaml.YAMLLimit as exc:
        problems.append(f"{path}: {exc}")
        return {}
    except FileNotFoundError:
        problems.append(f"{path}: file is missing: create it (see README, 'The catalog')")
        return {}
    except UnicodeDecodeError:
        problems.append(f"{path}: not UTF-8 text: save the file as UTF-8")
        return {}
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror or exc}): make it a readable file")
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problems.append(f"{path}:{where}: invalid YAML ({getattr(exc, 'problem', exc)}): fix it")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: top level: expected a mapping, got {describe(data)}: write "
                        "one `field: value` per line")
        return {}
    return data


def _validate(cls: type, data: Any, path: Path, where: str, problems: list[str],
              errors: list[dict] | None = None) -> Any:
    """`data` as an instance of `cls`, or None with its problems (and `errors`) reported."""
    errors = list(errors or ())
    try:
        # by alias only: the YAML key is `from`, never the field name `source_column`
        value = _ADAPTERS[cls].validate_python(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        errors = [*exc.errors(include_url=False), *errors]
        value = None
    problems += validation_problems(errors, root=cls, file=path, where=where, filled=_FILLED)
    return None if errors else value


def _entries(value: Any, cls: type, where: tuple, errors: list[dict]) -> Any:
    """A mapping of named entries ({name: {...}}) with each entry's name filled in.

    An empty YAML entry (`columns:`) is an empty mapping. A field users may not write
    (`name` inside an entry) is dropped and reported as unknown in `errors`.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value  # reported by validation, as a mapping written as a list
    entries = {}
    for name, spec in value.items():
        if isinstance(spec, dict):
            for key in _FILLED[cls] & spec.keys():
                errors.append({"type": "extra_forbidden", "loc": (*where, name, key),
                               "input": spec[key]})
            spec = {k: v for k, v in spec.items() if k not in _FILLED[cls]} | {"name": name}
        entries[name] = spec
    return entries


def _load_entries(path: Path, key: str, cls: type, problems: list[str]) -> dict:
    """elements.yaml and zones.yaml: `key: {name: {...}}`; each entry stands on its own."""
    errors: list[dict] = []
    entries = _entries(_read_yaml(path, problems).get(key), cls, (), errors)
    if not isinstance(entries, dict):
        problems += validation_problems(
            [{"type": "dict_type", "loc": (), "input": entries}], root=dict[str, cls],
            file=path, where=key, filled=_FILLED)
        return {}
    loaded = {}
    for name, spec in entries.items():
        own = [{**e, "loc": e["loc"][1:]} for e in errors if e["loc"][0] == name]
        if (entry := _validate(cls, spec, path, f"{key}.{name}", problems, own)) is not None:
            loaded[name] = entry
    return loaded


def _load_file(path: Path, cls: type, column_cls: type, problems: list[str]) -> Any:
    """sources/<name>.yaml or products/<name>.yaml, with its columns."""
    data = _read_yaml(path, problems)
    if not data:
        return None
    errors = [{"type": "extra_forbidden", "loc": (key,), "input": data[key]}
              for key in _FILLED[cls] & data.keys()]
    data = {**data, "file": path,
            "columns": _entries(data.get("columns"), column_cls, ("columns",), errors)}
    for key in ("quasi_identifiers", "exclude_rows") if cls is Product else ():
        if key in data and data[key] is None:  # an empty YAML entry: none
            del data[key]
    return _validate(cls, data, path, "", problems, errors)
