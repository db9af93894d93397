"""The catalog as code: elements.yaml, zones.yaml, sources/*.yaml, products/*.yaml.

`load_catalog()` reads and cross-checks everything once; every problem names the file and
field and says what to do, and all problems are reported together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


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
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problems.append(f"{path}:{where}: invalid YAML ({getattr(exc, 'problem', exc)}): fix it")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping at the top level")
        return {}
    return data


def _build(cls, path: Path, where: str, data: Any, problems: list[str], **extra):
    """Instantiate a dataclass from YAML, naming unknown or missing fields."""
    if not isinstance(data, dict):
        problems.append(f"{path}: {where}: expected a mapping, got {type(data).__name__}")
        return None
    known = set(cls.__dataclass_fields__) - set(extra)
    unknown = sorted(set(data) - known)
    if unknown:
        problems.append(f"{path}: {where}: unknown field(s) {unknown}: allowed are {sorted(known)}")
        return None
    try:
        return cls(**data, **extra)
    except TypeError as exc:
        missing = re.findall(r"'(\w+)'", str(exc))
        problems.append(f"{path}: {where}: missing required field(s) {missing}")
        return None


def _load_elements(path: Path, problems: list[str]) -> dict[str, Element]:
    elements = {}
    for name, data in (_read_yaml(path, problems).get("elements") or {}).items():
        if isinstance(data, dict) and "allowed" in data and data["allowed"] is not None:
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
    for col, spec in (data.get("columns") or {}).items():
        built = _build(SourceColumn, path, f"columns.{col}", spec, problems, name=col)
        if built:
            columns[col] = built
    data = {**data, "columns": columns}
    source = _build(Source, path, "source", data, problems, file=path)
    if source and source.name != path.stem:
        problems.append(f"{path}: name: '{source.name}' must equal the file name '{path.stem}'")
    return source


def _load_product(path: Path, problems: list[str]) -> Product | None:
    data = _read_yaml(path, problems)
    if not data:
        return None
    columns = {}
    for col, spec in (data.get("columns") or {}).items():
        if isinstance(spec, dict):
            spec = {"source_column": spec.get("from"), "policy": spec.get("policy", "keep"),
                    **{k: v for k, v in spec.items() if k not in ("from", "policy")}}
        built = _build(ProductColumn, path, f"columns.{col}", spec, problems, name=col)
        if built:
            columns[col] = built
    data = {**data, "columns": columns,
            "quasi_identifiers": tuple(data.get("quasi_identifiers") or ()),
            "exclude_rows": tuple(data.get("exclude_rows") or ())}
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
            is_reference = bool(authority and authority.key and
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
            if col.policy == "keep" and not element.publishable:
                problems.append(f"{field_}: element '{element.name}' is {element.security_level} "
                                "data and is never published: drop it")
        for i, rule in enumerate(product.exclude_rows):
            if not isinstance(rule, dict) or set(rule) - {"column", "starts_with", "why"} or \
                    rule.get("column") not in source.columns or not rule.get("starts_with"):
                problems.append(f"{where}: exclude_rows[{i}]: use {{column: <source column>, "
                                "starts_with: <prefix>, why: <reason>}")
        if product.aggregate is not None:
            _check_aggregate(product, problems)
        for qi in product.quasi_identifiers:
            if qi not in product.columns:
                problems.append(f"{where}: quasi_identifiers: '{qi}' is not an output column")
    for zone in cat.zones.values():
        if zone.max_level not in LEVELS:
            problems.append(f"{cat.root / 'zones.yaml'}: zones.{zone.name}.max_level: use L1..L4")
        if zone.min_quality_grade not in GRADES:
            problems.append(f"{cat.root / 'zones.yaml'}: zones.{zone.name}.min_quality_grade: "
                            "use A..E")


AGGREGATE_OPS = ("count", "sum", "mean", "median", "min", "max")


def _check_aggregate(product: Product, problems: list[str]) -> None:
    where = f"{product.file}: aggregate"
    agg = product.aggregate
    if not isinstance(agg, dict) or set(agg) - {"group_by", "measures", "min_cell"}:
        problems.append(f"{where}: use {{group_by: [...], measures: {{name: {{op, column}}}}, "
                        "min_cell: N}")
        return
    for col in agg.get("group_by") or []:
        if col not in product.columns:
            problems.append(f"{where}.group_by: '{col}' is not an output column")
    for name, measure in (agg.get("measures") or {}).items():
        if not isinstance(measure, dict) or measure.get("op") not in AGGREGATE_OPS:
            problems.append(f"{where}.measures.{name}.op: use one of {list(AGGREGATE_OPS)}")
        elif measure["op"] != "count" and measure.get("column") not in product.columns:
            problems.append(f"{where}.measures.{name}.column: name an output column")
    if not isinstance(agg.get("min_cell", 0), int) or agg.get("min_cell", 0) < 1:
        problems.append(f"{where}.min_cell: a positive whole number (small-cell suppression)")


def load_catalog(root: Path | None = None) -> Catalog:
    root = Path(root or settings.load().catalog_dir)
    problems: list[str] = []
    elements = _load_elements(root / "elements.yaml", problems)
    zones = {}
    for name, data in (_read_yaml(root / "zones.yaml", problems).get("zones") or {}).items():
        zone = _build(Zone, root / "zones.yaml", f"zones.{name}", data, problems, name=name)
        if zone:
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
