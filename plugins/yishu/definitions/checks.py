"""The rules of the catalog beyond field types: within a file, and between files.

`check_files` runs on whatever loaded; `check_references` (one source per element, products
take elements from their authority, quasi-identifiers declared, aggregates) only once every
file loaded, so that one typo does not cascade into a page of follow-up problems.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from yishu.definitions.models import (
    AGGREGATE_OPS,
    LOCATION_PLACEHOLDERS,
    Catalog,
    Element,
    Product,
    Source,
    Zone,
)
from yishu.definitions.problems import describe
from yishu.deid import registry
from yishu.standard.identifiers import VALIDATORS

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")  # names of sources and zones: lower_snake_case


def check_files(cat: Catalog, problems: list[str]) -> None:
    """Rules each file can be checked against on its own."""
    elements_yaml = cat.root / "elements.yaml"
    for element in cat.elements.values():
        _check_element(element, elements_yaml, problems)
    for zone in cat.zones.values():
        _check_zone(zone, cat.root / "zones.yaml", problems)
    for source in cat.sources.values():
        _check_source(source, problems)
    for product in cat.products.values():
        if product.file is not None and product.name != product.file.stem:
            problems.append(f"{product.file}: name: '{product.name}' must equal the file name "
                            f"'{product.file.stem}': rename one of them")


def check_references(cat: Catalog, problems: list[str]) -> None:
    """Rules between files: every name a file uses must exist where it points to."""
    _check_authority(cat, problems)
    for product in cat.products.values():
        _check_product(cat, product, problems)


def _unknown_policy(policy: str, field: str) -> str | None:
    # asked at check time: operators may be registered after this module is imported
    names = registry.policy_names()
    if policy in names:
        return None
    return f"{field}.policy: '{policy}' is not one of {list(names)}: use one of them"


def _check_element(element: Element, path: Path, problems: list[str]) -> None:
    where = f"{path}: elements.{element.name}"
    if element.pattern is not None:
        try:
            re.compile(element.pattern)
        except re.error as exc:
            problems.append(f"{where}.pattern: '{element.pattern}' is not a valid regular "
                            f"expression ({exc}): fix it (YAML: quote it in single quotes)")
    if element.validator and element.validator not in VALIDATORS:
        problems.append(f"{where}.validator: unknown validator '{element.validator}': "
                        f"use one of {sorted(VALIDATORS)}")
    if unknown := _unknown_policy(element.policy, where):
        problems.append(unknown)


def _check_zone(zone: Zone, path: Path, problems: list[str]) -> None:
    where = f"{path}: zones.{zone.name}"
    if not _NAME_RE.match(zone.name):
        problems.append(f"{where}: zone name '{zone.name}' is not lower_snake_case: rename it, "
                        "e.g. `open_data:` (a lowercase letter, then lowercase letters, digits, "
                        "_)")
    if zone.k < 1:
        problems.append(f"{where}.k: {zone.k} is below 1: k-anonymity needs a whole number ≥ 1")
    if not 0 <= zone.max_suppression <= 1:
        problems.append(f"{where}.max_suppression: {zone.max_suppression} is a share of rows: "
                        "use a number from 0 to 1 (e.g. 0.05)")


def _check_source(source: Source, problems: list[str]) -> None:
    path = source.file
    if path is not None and source.name != path.stem:
        problems.append(f"{path}: name: '{source.name}' must equal the file name "
                        f"'{path.stem}': rename one of them")
    if not _NAME_RE.match(source.name):
        problems.append(f"{path}: name: source name '{source.name}' is not lower_snake_case: "
                        "rename it and its file, e.g. health_visits (a lowercase letter, then "
                        "lowercase letters, digits, _)")
    if source.encoding is not None:
        try:
            codecs.lookup(source.encoding)
        except LookupError:
            problems.append(f"{path}: encoding: unknown encoding '{source.encoding}': use one "
                            "Python knows, e.g. utf-8, gb18030 or utf-8-sig, or leave it out "
                            "to detect it")
    _check_connector(source, problems)
    if source.schedule is not None and not _valid_schedule(source.schedule):
        problems.append(f"{path}: schedule: '{source.schedule}' is neither a cron expression "
                        f"nor one of {list(SCHEDULE_PRESETS)}: fix it (it would break the "
                        "import of every DAG)")


SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly",
                    "@quarterly", "@yearly", "@annually")


def _valid_schedule(schedule: str) -> bool:
    from croniter import croniter

    return schedule in SCHEDULE_PRESETS or (not schedule.startswith("@")
                                            and croniter.is_valid(schedule))


def _check_connector(source: Source, problems: list[str]) -> None:
    """The block the source's `connector` needs is there, and only that one."""
    path, kind = source.file, source.connector
    blocks = {"file": source.location, "http": source.http, "sql": source.sql}
    field = "location" if kind == "file" else kind
    if blocks[kind] is None:
        problems.append(f"{path}: {field}: missing for `connector: {kind}`: add it (see README, "
                        "'The catalog')")
    for other, value in blocks.items():
        if other != kind and value is not None:
            problems.append(f"{path}: {'location' if other == 'file' else other}: not used by "
                            f"`connector: {kind}`: remove it or change `connector:`")
    if source.location is not None:
        try:
            source.location.format(**{name: "x" for name in LOCATION_PLACEHOLDERS})
        except (KeyError, ValueError, IndexError, AttributeError, TypeError) as exc:
            problems.append(f"{path}: location: '{source.location}' cannot be filled in "
                            f"({type(exc).__name__}: {exc}): use only the placeholders "
                            + ", ".join(f"{{{n}}}" for n in LOCATION_PLACEHOLDERS)
                            + " (write {{ and }} for literal braces)")
    if source.sheet is not None and source.format != "xlsx":
        problems.append(f"{path}: sheet: only `format: xlsx` has sheets: remove it")
    if sql := source.sql:
        if (sql.table is None) == (sql.query is None):
            problems.append(f"{path}: sql: give exactly one of `table:` or `query:`")
        if (sql.url is None) == (sql.url_env is None):
            problems.append(f"{path}: sql: give exactly one of `url:` or `url_env:` (the name "
                            "of the environment variable holding the URL)")
        if sql.url and re.search(r"://[^/@]*:[^/@]*@", sql.url):
            problems.append(f"{path}: sql.url: holds a password: never write secrets in YAML; "
                            "put the URL in an environment variable named by `url_env:`")
    if (http := source.http) and http.pagination.type == "cursor" and not (
            http.pagination.cursor_path):
        problems.append(f"{path}: http.pagination.cursor_path: cursor pagination needs the "
                        "path of the next cursor in a response (e.g. next_cursor)")


def _check_authority(cat: Catalog, problems: list[str]) -> None:
    """一数一源: every element has exactly one authoritative source."""
    claims: dict[str, list[str]] = {}
    for source in cat.sources.values():
        if source.key and source.key not in source.columns:
            problems.append(f"{source.file}: key: '{source.key}' is not one of its columns: "
                            f"name one of {sorted(source.columns)}")
        for col in source.columns.values():
            if col.element not in cat.elements:
                problems.append(
                    f"{source.file}: columns.{col.name}.element: unknown element "
                    f"'{col.element}': add it to elements.yaml or map the column to a known one"
                )
            elif col.authoritative:
                claims.setdefault(col.element, []).append(source.name)
    elements_yaml = cat.root / "elements.yaml"
    for name, element in cat.elements.items():
        if element.source not in cat.sources:
            problems.append(f"{elements_yaml}: elements.{name}.source: unknown source "
                            f"'{element.source}': name one of {sorted(cat.sources)}")
        claimants = set(claims.get(name, ())) | {element.source}
        if len(claimants) > 1:
            problems.append(
                f"{elements_yaml}: elements.{name}.source: one source per element "
                f"(一数一源), but {sorted(claimants)} all claim authority: remove "
                "`authoritative: true` from all but one"
            )


def _check_product(cat: Catalog, product: Product, problems: list[str]) -> None:
    where = str(product.file)
    if product.zone not in cat.zones:
        problems.append(f"{where}: zone: unknown zone '{product.zone}': use one of "
                        f"{sorted(cat.zones)}")
    if not product.scenario:
        problems.append(f"{where}: scenario: a product needs a scenario (无场景不登记): "
                        "name the use it is licensed for")
    source = cat.sources.get(product.source)
    if source is None:
        problems.append(f"{where}: source: unknown source '{product.source}': name one of "
                        f"{sorted(cat.sources)}")
        return
    quasi: list[tuple[str, Element]] = []
    for col in product.columns.values():
        field = f"{where}: columns.{col.name}"
        if col.source_column not in source.columns:
            problems.append(f"{field}.from: '{col.source_column}' is not a column of source "
                            f"'{source.name}': name one of {sorted(source.columns)}")
            continue
        element = cat.elements.get(source.columns[col.source_column].element)
        if element is None:  # reported by _check_authority
            continue
        authority = cat.sources.get(element.source)
        # A foreign key (the authority's own key, e.g. a station_id) references the
        # authoritative record rather than copying an attribute of it.
        is_reference = bool(authority and authority.key in authority.columns and
                            authority.columns[authority.key].element == element.name)
        if element.source != source.name and not is_reference:
            problems.append(
                f"{field}.from: element '{element.name}' must come from its authoritative "
                f"source '{element.source}', not '{source.name}' (一数一源): make a product "
                f"of '{element.source}' or reference it by its key"
            )
        if unknown := _unknown_policy(col.policy, field):
            problems.append(unknown)
            continue
        targets = registry.get(col.policy).targets
        if targets and col.to not in targets:
            problems.append(f"{field}.to: {col.policy} needs `to:` one of {list(targets)}")
        elif not targets and col.to is not None:
            problems.append(f"{field}.to: {col.policy} takes no `to:`: remove it")
        if col.policy != "drop" and not element.publishable:
            problems.append(f"{field}.policy: element '{element.name}' is "
                            f"{element.security_level} data and is never published, not even "
                            f"with policy '{col.policy}': use `policy: drop` or remove the column")
        if col.policy != "drop" and (
                element.quasi_identifier or
                (col.policy == "generalize" and element.classification == "personal")):
            quasi.append((col.name, element))
    for i, rule in enumerate(product.exclude_rows):
        if rule["column"] not in source.columns:
            problems.append(f"{where}: exclude_rows[{i}].column: '{rule['column']}' is not a "
                            f"column of source '{source.name}': name one of "
                            f"{sorted(source.columns)}")
        if not rule["starts_with"]:
            problems.append(f"{where}: exclude_rows[{i}].starts_with: an empty prefix would "
                            "exclude every row: write the prefix, e.g. starts_with: '92'")
    for qi in product.quasi_identifiers:
        if qi not in product.columns:
            problems.append(f"{where}: quasi_identifiers: '{qi}' is not an output column: "
                            f"name one of {sorted(product.columns)}")
    if product.aggregate is not None:
        _check_aggregate(product, problems)
    else:
        # Without the declaration the k-anonymity gate would have nothing to check.
        for name, element in quasi:
            if name not in product.quasi_identifiers:
                why = (f"element '{element.name}' has `quasi_identifier: true`"
                       if element.quasi_identifier else
                       f"it generalizes personal element '{element.name}'")
                problems.append(f"{where}: quasi_identifiers: output column '{name}' is a "
                                f"quasi-identifier ({why}): add '{name}' to quasi_identifiers")
    outputs = {n for n, c in product.columns.items() if c.policy != "drop"}
    if product.sensitive_attribute is not None and product.sensitive_attribute not in outputs:
        problems.append(f"{where}: sensitive_attribute: '{product.sensitive_attribute}' is "
                        f"not an output column: name one of {sorted(outputs)}")


def _check_aggregate(product: Product, problems: list[str]) -> None:
    where = f"{product.file}: aggregate"
    agg = product.aggregate or {}
    outputs = sorted(product.columns)
    if unknown := sorted(str(k) for k in set(agg) - {"group_by", "measures", "min_cell"}):
        problems.append(f"{where}: unknown field(s) {unknown}: allowed are "
                        "['group_by', 'measures', 'min_cell']")
    group_by = agg.get("group_by")
    if not isinstance(group_by, list) or not group_by:
        got = "an empty list" if group_by == [] else describe(group_by)
        problems.append(f"{where}.group_by: expected a non-empty list of output columns, got "
                        f"{got}: write group_by: [column, ...]")
    else:
        for col in group_by:
            if not isinstance(col, str) or col not in product.columns:
                problems.append(f"{where}.group_by: {col!r} is not an output column: name one "
                                f"of {outputs}")
    measures = agg.get("measures")
    if not isinstance(measures, dict):
        problems.append(f"{where}.measures: expected a mapping {{name: {{op, column}}}}, got "
                        f"{describe(measures)}: write one `name: {{op: ..., column: ...}}` "
                        "per line")
        measures = {}
    for name, measure in measures.items():
        if not isinstance(measure, dict) or measure.get("op") not in AGGREGATE_OPS:
            got = describe(measure.get("op") if isinstance(measure, dict) else measure)
            problems.append(f"{where}.measures.{name}.op: expected one of "
                            f"{list(AGGREGATE_OPS)}, got {got}: use one of them")
        elif measure["op"] != "count" and (not isinstance(measure.get("column"), str) or
                                           measure["column"] not in product.columns):
            problems.append(f"{where}.measures.{name}.column: {measure.get('column')!r} is "
                            f"not an output column: name one of {outputs}")
    min_cell = agg.get("min_cell")
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < 1:
        problems.append(f"{where}.min_cell: expected a positive whole number (cells with "
                        f"fewer rows are suppressed), got {describe(min_cell)}: write e.g. "
                        "min_cell: 5")
