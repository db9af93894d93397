"""The rules of what a product reads: its one `source`, or several `sources` joined by
`join: {on: element}`, and which source each of its columns may come from (一数一源).

A join matches every row to the one authoritative record of its key: `on` is the element
that is the `key` of its authoritative source, that source is one of the product's sources,
and every joined source carries the key in exactly one column.
"""

from __future__ import annotations

from yishu.definitions.models import (
    Catalog,
    Element,
    Product,
    Source,
    SourceColumn,
    resolve_column,
)


def check_inputs(cat: Catalog, product: Product, problems: list[str]) -> bool:
    """Problems of `source` / `sources` / `join`; whether every source it names is known (the
    column checks need them)."""
    where = product.file
    if product.source is not None and product.sources:
        problems.append(f"{where}: sources: give `source:` (one source) or `sources:` (several, "
                        "joined by `join:`), not both")
        return False
    if not product.source_names:
        problems.append(f"{where}: source: missing: name the source the product reads "
                        "(`source: name`), or several with `sources: [a, b]` and `join: {on: "
                        "element}`")
        return False
    field = "sources" if product.sources else "source"
    unknown = [name for name in product.source_names if name not in cat.sources]
    for name in unknown:
        problems.append(f"{where}: {field}: unknown source '{name}': name one of "
                        f"{sorted(cat.sources)}")
    if product.source is not None:
        if product.join is not None:
            problems.append(f"{where}: join: only a product of several `sources:` joins: "
                            "remove `join:`, or list the sources with `sources:`")
        return not unknown
    if len(set(product.sources)) != len(product.sources) or len(product.sources) < 2:
        problems.append(f"{where}: sources: a join reads at least two different sources, got "
                        f"{list(product.sources)}: for one source write `source: name`")
    if product.join is None:
        problems.append(f"{where}: join: missing: a product of several sources says how their "
                        "rows match, e.g. `join: {on: uscc}` (the element of the key)")
    elif not unknown:
        _check_join(cat, product, problems)
    return not unknown


def key_columns(source: Source, element: str) -> list[str]:
    """The columns of `source` that carry `element`."""
    return [c.name for c in source.columns.values() if c.element == element]


def _check_join(cat: Catalog, product: Product, problems: list[str]) -> None:
    where, on = f"{product.file}: join.on", product.join.on
    element = cat.elements.get(on)
    if element is None:
        problems.append(f"{where}: unknown element '{on}': name the element of the key the "
                        f"sources share, e.g. uscc (one of elements.yaml)")
        return
    authority = cat.sources.get(element.source)
    own_key = authority is not None and authority.key in authority.columns and \
        authority.columns[authority.key].element == on
    if not own_key:
        problems.append(f"{where}: element '{on}' is not the key of its authoritative source "
                        f"'{element.source}': join by an authority's `key:` element, so that "
                        "each row meets one authoritative record")
    elif authority.name not in product.sources:
        problems.append(f"{where}: the authority of '{on}', source '{authority.name}', is not "
                        f"one of `sources` {list(product.sources)}: add it (rows are matched to "
                        "its records)")
    for name in product.sources:
        found = key_columns(cat.sources[name], on)
        if len(found) != 1:
            what = "no column" if not found else f"several columns {found}"
            problems.append(f"{where}: source '{name}' has {what} of element '{on}': the key "
                            "must be in every joined source, in one column")


def column_of(cat: Catalog, product: Product, reference: str, field: str,
              problems: list[str]) -> tuple[Source, SourceColumn] | None:
    """The source column `reference` names, or None with the problem reported at `field`."""
    found = resolve_column(product, reference, cat.sources)
    if found is not None:
        return found
    if not product.sources:
        source = cat.sources[product.source]
        problems.append(f"{field}: '{reference}' is not a column of source '{source.name}': "
                        f"name one of {sorted(source.columns)}")
        return None
    name, dot, column = reference.partition(".")
    if not dot:
        having = [f"{n}.{reference}" for n in product.sources
                  if n in cat.sources and reference in cat.sources[n].columns]
        problems.append(f"{field}: '{reference}' does not say which source it comes from: a "
                        "product of several sources writes `source.column`, e.g. "
                        f"{' or '.join(having) or f'{product.sources[0]}.{reference}'}")
    elif name not in product.sources:
        problems.append(f"{field}: '{name}' is not one of the product's sources "
                        f"{list(product.sources)}: name one of them")
    else:
        problems.append(f"{field}: '{column}' is not a column of source '{name}': name one of "
                        f"{sorted(cat.sources[name].columns)}")
    return None


def authority_problem(cat: Catalog, product: Product, source: Source,
                      element: Element) -> str | None:
    """Why `element` may not be taken from `source` (None if it may): 一数一源 takes it from
    its authoritative source; another source may carry only the authority's own key (e.g. a
    station_id) as a reference, and not when the product reads the authority itself."""
    if element.source == source.name:
        return None
    authority = cat.sources.get(element.source)
    if element.source in product.source_names and authority is not None:
        column = next(iter(key_columns(authority, element.name)), "<column>")
        return (f"element '{element.name}' must come from its authoritative source "
                f"'{element.source}', which this product reads, not from '{source.name}' "
                f"(一数一源): write `from: {element.source}.{column}`")
    # A foreign key (the authority's own key, e.g. a station_id) references the
    # authoritative record rather than copying an attribute of it.
    is_reference = bool(authority and authority.key in authority.columns and
                        authority.columns[authority.key].element == element.name)
    if is_reference:
        return None
    return (f"element '{element.name}' must come from its authoritative source "
            f"'{element.source}', not '{source.name}' (一数一源): make a product of "
            f"'{element.source}' or reference it by its key")
