"""The catalog as code: elements.yaml, zones.yaml, sources/*.yaml, products/*.yaml.

`load_catalog()` reads and cross-checks everything once; every problem names the file and
field and says what to do, and all problems are reported together.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from yishu import settings
from yishu.standard.identifiers import VALIDATORS

LEVELS = ("L1", "L2", "L3", "L4")
UNPUBLISHABLE_LEVELS = ("important", "core")
TYPES = ("string", "integer", "decimal", "date", "datetime", "text")
POLICIES = ("drop", "keep", "mask", "pseudonymize", "generalize", "encrypt", "redact")
GENERALIZE_TO = ("month", "quarter", "year", "age_band", "gender", "province", "district")
GRADES = ("A", "B", "C", "D", "E")
LOCATION_PLACEHOLDERS = ("home", "repo", "partition")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# YAML value types accepted per dataclass annotation (annotations are strings here);
# fields not listed (Any, tuples, nested mappings) are checked where they are loaded.
_FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"),
    "str | None": ((str, type(None)), "a string"),
    "bool": ((bool,), "true or false"),
    "bool | None": ((bool, type(None)), "true or false"),
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
    "dict | None": ((dict, type(None)), "a mapping"),
}


class CatalogError(Exception):
    """The catalog is inconsistent; `problems` lists each one as 'file: field: what to do'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Element:
    name: str
    code: str
    name_zh: str
    name_en: str
    type: str
    security_level: str
    source: str
    classification: str = "public"
    validator: str | None = None
    pattern: str | None = None
    allowed: tuple | None = None
    min: Any = None
    max: Any = None
    quasi_identifier: bool = False
    sensitive_attribute: bool = False
    free_text: bool = False
    pii_entity: str | None = None
    policy: str = "keep"

    @property
    def publishable(self) -> bool:
        return self.security_level in LEVELS


@dataclass(frozen=True)
class SourceColumn:
    name: str
    element: str
    required: bool = False
    authoritative: bool | None = None  # None: decided by elements.yaml


@dataclass(frozen=True)
class Source:
    name: str
    title_zh: str
    provider: str
    format: str
    location: str
    columns: dict[str, SourceColumn]
    key: str | None = None
    encoding: str = "utf-8"
    schedule: str | None = "@daily"
    title_en: str = ""
    file: Path | None = None

    def resolve_location(self, partition: str) -> Path:
        cfg = settings.load()
        return Path(
            self.location.format(home=cfg.home, repo=cfg.repo, partition=partition)
        ).resolve()


@dataclass(frozen=True)
class ProductColumn:
    name: str
    source_column: str
    policy: str
    to: str | None = None


@dataclass(frozen=True)
class Product:
    name: str
    title_zh: str
    zone: str
    scenario: str
    source: str
    columns: dict[str, ProductColumn]
    quasi_identifiers: tuple[str, ...] = ()
    sensitive_attribute: str | None = None
    # rows out of the product's scope: [{column, starts_with, why}]
    exclude_rows: tuple[dict, ...] = ()
    # statistics instead of rows: {group_by: [...], measures: {name: {op, column}}, min_cell}
    aggregate: dict | None = None
    title_en: str = ""
    file: Path | None = None


@dataclass(frozen=True)
class Zone:
    name: str
    name_zh: str
    max_level: str
    k: int = 5
    max_suppression: float = 0.05
    min_quality_grade: str = "C"
    name_en: str = ""


@dataclass
class Catalog:
    elements: dict[str, Element]
    zones: dict[str, Zone]
    sources: dict[str, Source]
    products: dict[str, Product]
    root: Path = field(default_factory=Path)

    def element_of(self, source: str, column: str) -> Element:
        return self.elements[self.sources[source].columns[column].element]

    def product_or_source(self, name: str) -> Source | Product:
        if name in self.sources:
            return self.sources[name]
        if name in self.products:
            return self.products[name]
        known = ", ".join(sorted([*self.sources, *self.products]))
        raise CatalogError([f"unknown source or product '{name}': known are {known}"])


def _read_yaml(path: Path, problems: list[str]) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        problems.append(f"{path}: expected a mapping at the top level")
        return {}
    return data


def _mapping(value: Any, path: Path, where: str, problems: list[str]) -> dict:
    """A YAML mapping (`None`, an empty entry, counts as empty); anything else is a problem."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{path}: {where}: expected a mapping ({{name: {{...}}}}), got "
                        f"{_kind(value)}: write one `name:` entry per line, not a `- ` list")
        return {}
    return value


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false",
            int: "a whole number", float: "a number", type(None): "nothing"}.get(
        type(value), type(value).__name__)


def _sub(where: str, name: str) -> str:
    """The YAML path of field `name` under `where` ('source'/'product' are the top level)."""
    return name if where in ("source", "product") else f"{where}.{name}"


def _build(cls, path: Path, where: str, data: Any, problems: list[str],
           aliases: dict[str, str] | None = None, **extra):
    """Instantiate a dataclass from YAML, naming unknown, missing or mistyped fields.

    `aliases` maps a dataclass field to the YAML key users write (e.g. source_column: from).
    """
    aliases = aliases or {}
    if not isinstance(data, dict):
        problems.append(f"{path}: {where}: expected a mapping, got {_kind(data)}")
        return None
    fields = cls.__dataclass_fields__
    known = set(fields) - set(extra)
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        allowed = sorted(aliases.get(k, k) for k in known)
        problems.append(f"{path}: {where}: unknown field(s) {unknown}: allowed are {allowed}")
        return None
    missing = sorted(aliases.get(k, k) for k, f in fields.items()
                     if k not in data and k not in extra
                     and f.default is MISSING and f.default_factory is MISSING)
    if missing:
        problems.append(f"{path}: {where}: missing required field(s) {missing}: add them")
        return None
    mistyped = False
    for key, value in data.items():
        types, what = _FIELD_TYPES.get(str(fields[key].type), ((object,), ""))
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            hint = "quote it" if str in types else f"write {what}"
            problems.append(f"{path}: {_sub(where, aliases.get(key, key))}: expected {what}, "
                            f"got {_kind(value)} {value!r}: {hint}")
            mistyped = True
    if mistyped:
        return None
    return cls(**data, **extra)


def _load_elements(path: Path, problems: list[str]) -> dict[str, Element]:
    elements = {}
    for name, data in _mapping(_read_yaml(path, problems).get("elements"), path, "elements",
                               problems).items():
        if isinstance(data, dict) and data.get("allowed") is not None:
            if not isinstance(data["allowed"], list):
                problems.append(f"{path}: elements.{name}.allowed: expected a list of values, "
                                f"got {_kind(data['allowed'])}: write [a, b, ...]")
                continue
            data = {**data, "allowed": tuple(data["allowed"])}
        element = _build(Element, path, f"elements.{name}", data, problems, name=name)
        if element is None:
            continue
        where = f"{path}: elements.{name}"
        if element.type not in TYPES:
            problems.append(f"{where}.type: '{element.type}' is not one of {list(TYPES)}")
        if element.security_level not in LEVELS + UNPUBLISHABLE_LEVELS:
            problems.append(
                f"{where}.security_level: '{element.security_level}' is not one of "
                f"{list(LEVELS + UNPUBLISHABLE_LEVELS)}"
            )
        if element.validator and element.validator not in VALIDATORS:
            problems.append(
                f"{where}.validator: unknown validator '{element.validator}': "
                f"use one of {sorted(VALIDATORS)}"
            )
        if element.policy not in POLICIES:
            problems.append(f"{where}.policy: '{element.policy}' is not one of {list(POLICIES)}")
        elements[name] = element
    return elements


def _load_source(path: Path, problems: list[str]) -> Source | None:
    data = _read_yaml(path, problems)
    if not data:
        return None
    columns = {}
    for col, spec in _mapping(data.get("columns"), path, "columns", problems).items():
        built = _build(SourceColumn, path, f"columns.{col}", spec, problems, name=col)
        if built:
            columns[col] = built
    data = {**data, "columns": columns}
    source = _build(Source, path, "source", data, problems, file=path)
    if source is None:
        return None
    if source.name != path.stem:
        problems.append(f"{path}: name: '{source.name}' must equal the file name '{path.stem}'")
    try:
        codecs.lookup(source.encoding)
    except LookupError:
        problems.append(f"{path}: encoding: unknown encoding '{source.encoding}': use one "
                        "Python knows, e.g. utf-8, gb18030 or utf-8-sig")
    try:
        source.location.format(**{name: "x" for name in LOCATION_PLACEHOLDERS})
    except (KeyError, ValueError, IndexError, AttributeError, TypeError) as exc:
        problems.append(f"{path}: location: '{source.location}' cannot be filled in "
                        f"({type(exc).__name__}: {exc}): use only the placeholders "
                        + ", ".join(f"{{{n}}}" for n in LOCATION_PLACEHOLDERS)
                        + " (write {{ and }} for literal braces)")
    return source


def _load_product(path: Path, problems: list[str]) -> Product | None:
    data = _read_yaml(path, problems)
    if not data:
        return None
    columns = {}
    for col, spec in _mapping(data.get("columns"), path, "columns", problems).items():
        if isinstance(spec, dict):
            if "source_column" in spec:  # the dataclass field, not a YAML key
                problems.append(f"{path}: columns.{col}: unknown field(s) ['source_column']: "
                                "allowed are ['from', 'policy', 'to']")
                continue
            # YAML `from` is the dataclass field `source_column`
            spec = {**({"source_column": spec["from"]} if "from" in spec else {}),
                    "policy": spec.get("policy", "keep"),
                    **{k: v for k, v in spec.items() if k not in ("from", "policy")}}
        built = _build(ProductColumn, path, f"columns.{col}", spec, problems,
                       aliases={"source_column": "from"}, name=col)
        if built:
            columns[col] = built
    lists = {}
    for key in ("quasi_identifiers", "exclude_rows"):
        value = data.get(key)
        if value is None:
            lists[key] = ()
        elif not isinstance(value, list):
            problems.append(f"{path}: {key}: expected a list, got {_kind(value)}: write [...]")
            lists[key] = ()
        else:
            lists[key] = tuple(value)
    for i, qi in enumerate(lists["quasi_identifiers"]):
        if not isinstance(qi, str):
            problems.append(f"{path}: quasi_identifiers[{i}]: expected an output column name, "
                            f"got {_kind(qi)} {qi!r}")
    data = {**data, "columns": columns, **lists}
    product = _build(Product, path, "product", data, problems, file=path)
    if product and product.name != path.stem:
        problems.append(f"{path}: name: '{product.name}' must equal the file name '{path.stem}'")
    return product


def _check_sources(cat: Catalog, problems: list[str]) -> None:
    claims: dict[str, list[str]] = {}
    for source in cat.sources.values():
        if not _NAME_RE.match(source.name):
            problems.append(f"{source.file}: name: use lower_snake_case")
        if source.key and source.key not in source.columns:
            problems.append(f"{source.file}: key: '{source.key}' is not one of its columns")
        for col in source.columns.values():
            element = cat.elements.get(col.element)
            if element is None:
                problems.append(
                    f"{source.file}: columns.{col.name}.element: unknown element "
                    f"'{col.element}': add it to elements.yaml or map the column to a known one"
                )
                continue
            if col.authoritative:
                claims.setdefault(col.element, []).append(source.name)
    for name, element in cat.elements.items():
        if element.source not in cat.sources:
            problems.append(
                f"{cat.root / 'elements.yaml'}: elements.{name}.source: unknown source "
                f"'{element.source}': name one of {sorted(cat.sources)}"
            )
        claimants = set(claims.get(name, ())) | {element.source}
        if len(claimants) > 1:
            problems.append(
                f"{cat.root / 'elements.yaml'}: elements.{name}.source: one source per element "
                f"(一数一源), but {sorted(claimants)} all claim authority: remove "
                "`authoritative: true` from all but one"
            )


def _check_products(cat: Catalog, problems: list[str]) -> None:
    for product in cat.products.values():
        where = str(product.file)
        if product.zone not in cat.zones:
            problems.append(f"{where}: zone: unknown zone '{product.zone}': use one of "
                            f"{sorted(cat.zones)}")
        if not product.scenario:
            problems.append(f"{where}: scenario: a product needs a scenario (无场景不登记)")
        source = cat.sources.get(product.source)
        if source is None:
            problems.append(f"{where}: source: unknown source '{product.source}'")
            continue
        quasi: list[tuple[str, Element]] = []
        for col in product.columns.values():
            field_ = f"{where}: columns.{col.name}"
            if col.source_column not in source.columns:
                problems.append(f"{field_}.from: '{col.source_column}' is not a column of "
                                f"source '{source.name}'")
                continue
            element = cat.elements.get(source.columns[col.source_column].element)
            if element is None:
                continue
            authority = cat.sources.get(element.source)
            # (a key that is not one of the authority's columns is reported by _check_sources)
            is_reference = bool(authority and authority.key in authority.columns and
                                authority.columns[authority.key].element == element.name)
            # A foreign key (the authority's own key, e.g. a station_id) references the
            # authoritative record rather than copying an attribute of it.
            if element.source != source.name and not is_reference:
                problems.append(
                    f"{field_}.from: element '{element.name}' must come from its authoritative "
                    f"source '{element.source}', not '{source.name}' (一数一源)"
                )
            if col.policy not in POLICIES:
                problems.append(f"{field_}.policy: '{col.policy}' is not one of {list(POLICIES)}")
            if col.policy == "generalize" and col.to not in GENERALIZE_TO:
                problems.append(f"{field_}.to: generalize needs `to:` one of {list(GENERALIZE_TO)}")
            if col.policy != "drop" and not element.publishable:
                problems.append(f"{field_}.policy: element '{element.name}' is "
                                f"{element.security_level} data and is never published, not "
                                f"even with policy '{col.policy}': use `policy: drop` or remove "
                                "the column")
            if col.policy != "drop" and (
                    element.quasi_identifier or
                    (col.policy == "generalize" and element.classification == "personal")):
                quasi.append((col.name, element))
        for i, rule in enumerate(product.exclude_rows):
            if not isinstance(rule, dict) or set(rule) - {"column", "starts_with", "why"} or \
                    not isinstance(rule.get("column"), str) or \
                    rule.get("column") not in source.columns:
                problems.append(f"{where}: exclude_rows[{i}]: use {{column: <source column>, "
                                "starts_with: <prefix>, why: <reason>}")
            elif not isinstance(rule.get("starts_with"), str) or not rule["starts_with"]:
                problems.append(f"{where}: exclude_rows[{i}].starts_with: expected a non-empty "
                                f"text prefix, got {_kind(rule.get('starts_with'))} "
                                f"{rule.get('starts_with')!r}: quote it, e.g. starts_with: '92'")
        if product.aggregate is not None:
            _check_aggregate(product, problems)
        for qi in product.quasi_identifiers:
            if isinstance(qi, str) and qi not in product.columns:
                problems.append(f"{where}: quasi_identifiers: '{qi}' is not an output column")
        if product.aggregate is None:
            # Without the declaration the k-anonymity gate would have nothing to check.
            for name, element in quasi:
                if name not in product.quasi_identifiers:
                    why = (f"element '{element.name}' has `quasi_identifier: true`"
                           if element.quasi_identifier else
                           f"it generalizes personal element '{element.name}'")
                    problems.append(f"{where}: quasi_identifiers: output column '{name}' is a "
                                    f"quasi-identifier ({why}): add '{name}' to "
                                    "quasi_identifiers")
        outputs = {n for n, c in product.columns.items() if c.policy != "drop"}
        if product.sensitive_attribute is not None and \
                product.sensitive_attribute not in outputs:
            problems.append(f"{where}: sensitive_attribute: '{product.sensitive_attribute}' is "
                            f"not an output column: name one of {sorted(outputs)}")
    for zone in cat.zones.values():
        if zone.max_level not in LEVELS:
            problems.append(f"{cat.root / 'zones.yaml'}: zones.{zone.name}.max_level: use L1..L4")
        if zone.min_quality_grade not in GRADES:
            problems.append(f"{cat.root / 'zones.yaml'}: zones.{zone.name}.min_quality_grade: "
                            "use A..E")


def _check_zone(zone: Zone, path: Path, problems: list[str]) -> None:
    where = f"{path}: zones.{zone.name}"
    if zone.k < 1:
        problems.append(f"{where}.k: {zone.k} is below 1: k-anonymity needs a whole number ≥ 1")
    if not 0 <= zone.max_suppression <= 1:
        problems.append(f"{where}.max_suppression: {zone.max_suppression} is a share of rows: "
                        "use a number from 0 to 1 (e.g. 0.05)")


AGGREGATE_OPS = ("count", "sum", "mean", "median", "min", "max")


def _check_aggregate(product: Product, problems: list[str]) -> None:
    where = f"{product.file}: aggregate"
    agg = product.aggregate
    if not isinstance(agg, dict) or set(agg) - {"group_by", "measures", "min_cell"}:
        problems.append(f"{where}: use {{group_by: [...], measures: {{name: {{op, column}}}}, "
                        "min_cell: N}")
        return
    group_by = agg.get("group_by")
    if not isinstance(group_by, list) or not group_by:
        got = "an empty list" if group_by == [] else _kind(group_by)
        problems.append(f"{where}.group_by: expected a non-empty list of output columns, got "
                        f"{got}: write group_by: [column, ...]")
    else:
        for col in group_by:
            if not isinstance(col, str) or col not in product.columns:
                problems.append(f"{where}.group_by: '{col}' is not an output column")
    measures = agg.get("measures")
    if not isinstance(measures, dict):
        problems.append(f"{where}.measures: expected a mapping {{name: {{op, column}}}}, got "
                        f"{_kind(measures)}")
        measures = {}
    for name, measure in measures.items():
        if not isinstance(measure, dict) or measure.get("op") not in AGGREGATE_OPS:
            problems.append(f"{where}.measures.{name}.op: use one of {list(AGGREGATE_OPS)}")
        elif measure["op"] != "count" and (not isinstance(measure.get("column"), str) or
                                           measure["column"] not in product.columns):
            problems.append(f"{where}.measures.{name}.column: name an output column")
    min_cell = agg.get("min_cell", 0)
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < 1:
        problems.append(f"{where}.min_cell: a positive whole number (small-cell suppression)")


def load_catalog(root: Path | None = None) -> Catalog:
    root = Path(root or settings.load().catalog_dir)
    problems: list[str] = []
    elements = _load_elements(root / "elements.yaml", problems)
    zones = {}
    zones_path = root / "zones.yaml"
    for name, data in _mapping(_read_yaml(zones_path, problems).get("zones"), zones_path,
                               "zones", problems).items():
        zone = _build(Zone, zones_path, f"zones.{name}", data, problems, name=name)
        if zone:
            _check_zone(zone, zones_path, problems)
            zones[name] = zone
    sources = {s.name: s for p in sorted((root / "sources").glob("*.yaml"))
               if (s := _load_source(p, problems))}
    products = {p.name: p for f in sorted((root / "products").glob("*.yaml"))
                if (p := _load_product(f, problems))}
    cat = Catalog(elements, zones, sources, products, root)
    if not problems:
        _check_sources(cat, problems)
        _check_products(cat, problems)
    if problems:
        raise CatalogError(problems)
    return cat
