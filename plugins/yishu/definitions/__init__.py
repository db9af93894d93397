"""The catalog as code: elements, zones, scenarios, sources and products declared in
catalog/*.yaml.

`models` holds the typed models, `loader` reads and validates the files (`load_catalog`),
`checks` holds the rules beyond types, `problems` how every problem is worded.
"""

from yishu.definitions.loader import load_catalog
from yishu.definitions.models import (
    AGGREGATE_OPS,
    GRADES,
    LEVELS,
    LOCATION_PLACEHOLDERS,
    TYPES,
    UNPUBLISHABLE_LEVELS,
    Catalog,
    Element,
    ExcludeRow,
    Product,
    ProductColumn,
    Scenario,
    Source,
    SourceColumn,
    Zone,
)
from yishu.definitions.problems import CatalogError

__all__ = ["AGGREGATE_OPS", "GRADES", "LEVELS", "LOCATION_PLACEHOLDERS", "TYPES",
           "UNPUBLISHABLE_LEVELS", "Catalog", "CatalogError", "Element", "ExcludeRow", "Product",
           "ProductColumn", "Scenario", "Source", "SourceColumn", "Zone", "load_catalog"]
