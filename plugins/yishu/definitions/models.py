"""The typed models of the catalog as code: elements, zones, scenarios, sources and products.

The models check the shape and types of what the YAML files hold (pydantic); the rules that
need other files or other registries live in `checks`, the reading of the files in `loader`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, get_args

from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic.dataclasses import dataclass
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from yishu.definitions.connectors import Connector, FileFormat, HttpSpec, SqlSpec
from yishu.definitions.problems import CatalogError

Level = Literal["L1", "L2", "L3", "L4"]
Unpublishable = Literal["important", "core"]  # GB/T 43697 important and core data
ElementType = Literal["string", "integer", "decimal", "date", "datetime", "text"]
Grade = Literal["A", "B", "C", "D", "E"]

LEVELS: tuple[str, ...] = get_args(Level)
UNPUBLISHABLE_LEVELS: tuple[str, ...] = get_args(Unpublishable)
TYPES: tuple[str, ...] = get_args(ElementType)
GRADES: tuple[str, ...] = get_args(Grade)
LOCATION_PLACEHOLDERS = ("home", "repo", "partition")
AGGREGATE_OPS = ("count", "sum", "mean", "median", "min", "max")
# ops that publish one subject's own value (or close to it): refused on personal measures
# unless the aggregate sets a dominance share
SINGLE_VALUE_OPS = ("median", "min", "max")
# element classifications whose values are about a person
PERSONAL_CLASSIFICATIONS = ("personal", "health")

# Strict scalars: YAML `true` is not a whole number, 'five' is not a number, 5 is not a
# string. Containers stay lax so that YAML lists become tuples and mappings dataclasses.
# Validation by field name keeps `ProductColumn(source_column=...)` and `dataclasses.replace`
# working; the loader validates YAML by alias only, so users write `from`.
_CONFIG = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


@dataclass(frozen=True, config=_CONFIG)
class Element:
    name: StrictStr
    code: StrictStr
    name_zh: StrictStr
    name_en: StrictStr
    type: ElementType
    security_level: Literal[Level, Unpublishable]
    source: StrictStr
    classification: StrictStr = "public"
    validator: StrictStr | None = None
    pattern: StrictStr | None = None
    allowed: tuple | None = None
    min: Any = None
    max: Any = None
    quasi_identifier: StrictBool = False
    sensitive_attribute: StrictBool = False
    free_text: StrictBool = False
    pii_entity: StrictStr | None = None
    # the default operator of a product column that names none; an element with a
    # `pii_entity` must have one (checks), others default to keep
    policy: StrictStr | None = None

    @property
    def publishable(self) -> bool:
        return self.security_level in LEVELS

    @property
    def default_policy(self) -> str:
        return self.policy or "keep"


@dataclass(frozen=True, config=_CONFIG)
class SourceColumn:
    name: StrictStr
    element: StrictStr
    required: StrictBool = False
    authoritative: StrictBool | None = None  # None: decided by elements.yaml


@dataclass(frozen=True, config=_CONFIG)
class Source:
    name: StrictStr
    title_zh: StrictStr
    provider: StrictStr
    columns: dict[str, SourceColumn]
    connector: Connector = "file"
    format: FileFormat = "csv"  # files; http and sql deliver JSON Lines
    location: StrictStr | None = None  # files: a path or glob inside the source's folder
    sheet: StrictStr | None = None  # xlsx: the sheet to read (default: the first)
    http: HttpSpec | None = None
    sql: SqlSpec | None = None
    key: StrictStr | None = None
    encoding: StrictStr | None = None  # CSV; None: detected (UTF-8, UTF-8 BOM, GB18030/GBK)
    schedule: StrictStr | None = "@daily"
    title_en: StrictStr = ""
    file: Path | None = None

    def resolve_location(self, partition: str, *, home: Path, repo: Path) -> Path:
        """The file of a partition: `location` with {home}, {repo} and {partition} filled in."""
        return Path(self.location.format(home=home, repo=repo, partition=partition)).resolve()


@dataclass(frozen=True, config=_CONFIG)
class ProductColumn:
    name: StrictStr
    # YAML `from` (a Python keyword): the column of the product's source it is made of
    source_column: Annotated[StrictStr, Field(alias="from")]
    # None in YAML: the loader fills in the element's default policy
    policy: StrictStr | None = None
    to: StrictStr | None = None
    # why a personal element (one with a `pii_entity`) is published as it is (`keep`)
    keep_reason: StrictStr | None = None


class ExcludeRow(TypedDict):
    """A row out of the product's scope: its `column` starts with `starts_with`."""

    __pydantic_config__ = _CONFIG
    column: StrictStr
    starts_with: StrictStr
    why: NotRequired[StrictStr]


@dataclass(frozen=True, config=_CONFIG)
class Join:
    """How a product of several sources matches their rows: by the element `on`, the key of
    its authoritative source (one of the product's sources), an inner join."""

    on: StrictStr


@dataclass(frozen=True, config=_CONFIG)
class Product:
    name: StrictStr
    title_zh: StrictStr
    zone: StrictStr
    scenarios: tuple[StrictStr, ...]  # ids in scenarios.yaml: the uses it is licensed for
    columns: dict[str, ProductColumn]
    # the one source it reads (`from: column`), or several joined by `join` (`from:
    # source.column`); exactly one of the two (checks)
    source: StrictStr | None = None
    sources: tuple[StrictStr, ...] = ()
    join: Join | None = None
    quasi_identifiers: tuple[StrictStr, ...] = ()
    # the output column naming the person (or enterprise) a row is about, e.g. the pseudonym of
    # the resident ID: k-anonymity and min_cell count distinct subjects, not rows
    subject_key: StrictStr | None = None
    sensitive_attribute: StrictStr | None = None
    # rows out of the product's scope: [{column, starts_with, why}]
    exclude_rows: tuple[ExcludeRow, ...] = ()
    # statistics instead of rows: {group_by: [...], measures: {name: {op, column}}, min_cell}
    # (its inner shape is checked with the output columns it names, in `checks`)
    aggregate: dict | None = None
    title_en: StrictStr = ""
    file: Path | None = None

    @property
    def source_names(self) -> tuple[str, ...]:
        """The sources it reads, in the order written."""
        return self.sources or ((self.source,) if self.source else ())


def resolve_column(product: Product, reference: str,
                   sources: dict[str, Source]) -> tuple[Source, SourceColumn] | None:
    """The source and column a product's `from` (or an `exclude_rows` column) names: a column
    of its one `source`, or `source.column` of one of its `sources`; None if it names none."""
    if product.sources:
        name, dot, column = reference.partition(".")
        if not dot or name not in product.sources:
            return None
    else:
        name, column = product.source, reference
    source = sources.get(name)
    spec = source.columns.get(column) if source else None
    return (source, spec) if spec else None


@dataclass(frozen=True, config=_CONFIG)
class Zone:
    name: StrictStr
    name_zh: StrictStr
    max_level: Level
    k: StrictInt = 5
    l: StrictInt = 2  # noqa: E741 (the l of l-diversity): distinct sensitive values per class
    max_suppression: StrictFloat = 0.05
    min_quality_grade: Grade = "C"
    name_en: StrictStr = ""


@dataclass(frozen=True, config=_CONFIG)
class Scenario:
    """An approved use of data (应用场景): what for, on which legal basis, in which zone, with
    which products, until when. Licences are granted for one scenario (无场景不登记)."""

    name: StrictStr  # its id, the YAML key
    name_zh: StrictStr
    purpose: StrictStr
    legal_basis: StrictStr
    zone: StrictStr
    products: tuple[StrictStr, ...]
    valid_until: dt.date
    name_en: StrictStr = ""

    def expired(self, today: dt.date) -> bool:
        return today > self.valid_until


@dataclasses.dataclass
class Catalog:
    """The whole catalog; a plain dataclass, since it is assembled from validated parts."""

    elements: dict[str, Element]
    zones: dict[str, Zone]
    sources: dict[str, Source]
    products: dict[str, Product]
    root: Path = dataclasses.field(default_factory=Path)
    scenarios: dict[str, Scenario] = dataclasses.field(default_factory=dict)

    def element_of(self, source: str, column: str) -> Element:
        return self.elements[self.sources[source].columns[column].element]

    def product_element(self, product: Product, reference: str) -> Element:
        """The element of the source column a product's `from` names (a checked catalog)."""
        found = resolve_column(product, reference, self.sources)
        if found is None:
            raise KeyError(f"product {product.name}: '{reference}' names no source column")
        return self.elements[found[1].element]

    def product_or_source(self, name: str) -> Source | Product:
        if name in self.sources:
            return self.sources[name]
        if name in self.products:
            return self.products[name]
        known = ", ".join(sorted([*self.sources, *self.products]))
        raise CatalogError([f"unknown source or product '{name}': known are {known}"])
