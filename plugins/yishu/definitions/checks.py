"""The rules of the catalog beyond field types: within a file, and between files.

`check_files` runs on whatever loaded; `check_references` (one source per element, products
take elements from their authority, quasi-identifiers declared, aggregates) only once every
file loaded, so that one typo does not cascade into a page of follow-up problems.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from yishu.definitions.join_checks import authority_problem, check_inputs, column_of
from yishu.definitions.models import (
    AGGREGATE_OPS,
    PERSONAL_CLASSIFICATIONS,
    SINGLE_VALUE_OPS,
    Catalog,
    Element,
    Product,
    ProductColumn,
    Scenario,
    Zone,
    resolve_column,
)
from yishu.definitions.problems import describe
from yishu.definitions.source_checks import check_source
from yishu.deid import registry
from yishu.names import NAME_RE
from yishu.standard.identifiers import VALIDATORS

# operators whose output still tells one person from another (a masked phone, a pseudonym)
DERIVED_IDENTIFIER_POLICIES = ("mask", "pseudonymize", "encrypt")


def check_files(cat: Catalog, problems: list[str]) -> None:
    """Rules each file can be checked against on its own."""
    elements_yaml = cat.root / "elements.yaml"
    for element in cat.elements.values():
        _check_element(element, elements_yaml, problems)
    for zone in cat.zones.values():
        _check_zone(zone, cat.root / "zones.yaml", problems)
    for source in cat.sources.values():
        check_source(source, problems)
    for product in cat.products.values():
        if product.file is not None and product.name != product.file.stem:
            problems.append(f"{product.file}: name: '{product.name}' must equal the file name "
                            f"'{product.file.stem}': rename one of them")
        if not NAME_RE.fullmatch(product.name):  # it becomes a folder under products/ and work/
            problems.append(f"{product.file}: name: product name '{product.name}' is not "
                            "lower_snake_case: rename it and its file, e.g. insurance_visits "
                            "(a lowercase letter, then lowercase letters, digits, _)")


def check_references(cat: Catalog, problems: list[str]) -> None:
    """Rules between files: every name a file uses must exist where it points to."""
    _check_authority(cat, problems)
    for product in cat.products.values():
        _check_product(cat, product, problems)
    for scenario in cat.scenarios.values():
        _check_scenario(cat, scenario, problems)


def expired_scenarios(cat: Catalog, today: dt.date) -> list[str]:
    """Problems for scenarios past `valid_until`. Asked by `yishu check` and wherever a
    scenario is used (licences, deliveries), not when DAGs are parsed: an expiry stops
    delivery, it must not stop the pipelines."""
    return [f"{cat.root / 'scenarios.yaml'}: scenarios.{s.name}.valid_until: expired on "
            f"{s.valid_until}: renew it (a later date, after approval) or remove the scenario"
            for s in cat.scenarios.values() if s.expired(today)]


def _check_scenario(cat: Catalog, scenario: Scenario, problems: list[str]) -> None:
    where = f"{cat.root / 'scenarios.yaml'}: scenarios.{scenario.name}"
    if not NAME_RE.fullmatch(scenario.name):
        problems.append(f"{where}: scenario id '{scenario.name}' is not lower_snake_case: "
                        "rename it, e.g. insurance_claims")
    if scenario.zone not in cat.zones:
        problems.append(f"{where}.zone: unknown zone '{scenario.zone}': use one of "
                        f"{sorted(cat.zones)}")
    if not scenario.products:
        problems.append(f"{where}.products: a scenario names the products it may use")
    for name in scenario.products:
        product = cat.products.get(name)
        if product is None:
            problems.append(f"{where}.products: unknown product '{name}': name one of "
                            f"{sorted(cat.products)}")
        elif product.zone != scenario.zone:
            problems.append(f"{where}.products: '{name}' is a product of zone "
                            f"'{product.zone}', not of the scenario's zone '{scenario.zone}': "
                            "a scenario uses products of its own zone only")


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
    if element.policy is None and element.pii_entity:
        problems.append(f"{where}.policy: the element carries personal data (pii_entity "
                        f"{element.pii_entity}) but has no default policy: add one, e.g. "
                        "`policy: drop`, mask or pseudonymize")
    elif element.policy is not None and (unknown := _unknown_policy(element.policy, where)):
        problems.append(unknown)


def _check_zone(zone: Zone, path: Path, problems: list[str]) -> None:
    where = f"{path}: zones.{zone.name}"
    if not NAME_RE.fullmatch(zone.name):
        problems.append(f"{where}: zone name '{zone.name}' is not lower_snake_case: rename it, "
                        "e.g. `open_data:` (a lowercase letter, then lowercase letters, digits, "
                        "_)")
    if zone.k < 1:
        problems.append(f"{where}.k: {zone.k} is below 1: k-anonymity needs a whole number ≥ 1")
    if zone.l < 1:
        problems.append(f"{where}.l: {zone.l} is below 1: l-diversity needs a whole number ≥ 1")
    if not 0 <= zone.max_suppression <= 1:
        problems.append(f"{where}.max_suppression: {zone.max_suppression} is a share of rows: "
                        "use a number from 0 to 1 (e.g. 0.05)")


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
    if not product.scenarios:
        problems.append(f"{where}: scenarios: a product needs a scenario (无场景不登记): "
                        "name the ids in scenarios.yaml of the uses it serves")
    for name in product.scenarios:
        scenario = cat.scenarios.get(name)
        if scenario is None:
            problems.append(f"{where}: scenarios: unknown scenario '{name}': declare it in "
                            f"scenarios.yaml or name one of {sorted(cat.scenarios)}")
        elif product.name not in scenario.products:
            problems.append(f"{where}: scenarios: scenario '{name}' does not list this "
                            f"product: add '{product.name}' to its `products` in "
                            "scenarios.yaml, or remove the scenario here")
    if not check_inputs(cat, product, problems):
        return
    quasi: list[tuple[str, Element]] = []
    for col in product.columns.values():
        field = f"{where}: columns.{col.name}"
        found = column_of(cat, product, col.source_column, f"{field}.from", problems)
        element = cat.elements.get(found[1].element) if found else None
        if element is None:  # reported by column_of or _check_authority
            continue
        if problem := authority_problem(cat, product, found[0], element):
            problems.append(f"{field}.from: {problem}")
        if col.policy is None or (unknown := _unknown_policy(col.policy, field)):
            problems.append(unknown or f"{field}.policy: missing: name an operator")
            continue
        _check_keep(col, element, field, problems)
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
        column_of(cat, product, rule["column"], f"{where}: exclude_rows[{i}].column", problems)
        if not rule["starts_with"]:
            problems.append(f"{where}: exclude_rows[{i}].starts_with: an empty prefix would "
                            "exclude every row: write the prefix, e.g. starts_with: '92'")
    for qi in product.quasi_identifiers:
        if qi not in product.columns:
            problems.append(f"{where}: quasi_identifiers: '{qi}' is not an output column: "
                            f"name one of {sorted(product.columns)}")
    _check_subjects(cat, product, problems)
    if product.aggregate is not None:
        _check_aggregate(product, problems)
        _check_personal_measures(cat, product, problems)
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


def _element(cat: Catalog, product: Product, column: str) -> Element | None:
    col = product.columns.get(column)
    found = resolve_column(product, col.source_column, cat.sources) if col else None
    return cat.elements.get(found[1].element) if found else None


def _check_subjects(cat: Catalog, product: Product, problems: list[str]) -> None:
    """Who a row is about: k and min_cell count subjects, and nothing derived from a personal
    identifier sits beside the quasi-identifiers uncounted."""
    where = f"{product.file}"
    outputs = {n: c for n, c in product.columns.items() if c.policy != "drop"}
    elements = {n: _element(cat, product, n) for n in outputs}
    personal = sorted(n for n, e in elements.items()
                      if e and e.classification in PERSONAL_CLASSIFICATIONS and e.pii_entity)
    if product.subject_key is not None and product.subject_key not in outputs:
        problems.append(f"{where}: subject_key: '{product.subject_key}' is not an output column: "
                        f"name the column that identifies a row's subject, one of "
                        f"{sorted(outputs)}")
    counted = product.quasi_identifiers or product.aggregate is not None
    if counted and personal and product.subject_key is None:
        problems.append(f"{where}: subject_key: the product carries personal data ({personal}) "
                        "and k-anonymity must count people, not rows: name the output column "
                        "that identifies the person, e.g. the pseudonymized resident ID")
    if not product.quasi_identifiers or product.aggregate is not None:
        return
    for name, col in outputs.items():
        element = elements[name]
        if (element and element.classification == "personal" and element.pii_entity and
                col.policy in DERIVED_IDENTIFIER_POLICIES and name != product.subject_key
                and name not in product.quasi_identifiers):
            problems.append(
                f"{where}: columns.{name}: derived from the personal identifier "
                f"'{element.name}' by {col.policy}, it links rows beside the quasi-identifiers "
                "without being counted: add it to quasi_identifiers, make it the subject_key "
                "or drop it")
    sensitive = sorted(n for n, e in elements.items() if e and e.sensitive_attribute)
    for name in sensitive:
        if name != product.sensitive_attribute:
            problems.append(f"{where}: sensitive_attribute: output column '{name}' carries a "
                            f"sensitive attribute ('{elements[name].name}') and is published "
                            "without an l-diversity check: name it as sensitive_attribute (one "
                            "per product) or drop it")


def _check_personal_measures(cat: Catalog, product: Product, problems: list[str]) -> None:
    """A median, minimum or maximum publishes one subject's own value: on a personal measure
    only under a dominance rule (no cell where one subject contributes over a share)."""
    agg = product.aggregate or {}
    dominance = agg.get("dominance")
    for name, measure in (agg.get("measures") or {}).items():
        if not isinstance(measure, dict) or measure.get("op") not in SINGLE_VALUE_OPS:
            continue
        element = _element(cat, product, str(measure.get("column")))
        if element is None or element.classification not in PERSONAL_CLASSIFICATIONS:
            continue
        if dominance is None or product.subject_key is None:
            problems.append(f"{product.file}: aggregate.measures.{name}: {measure['op']} of the "
                            f"personal measure '{element.name}' publishes one person's value: "
                            "set aggregate.dominance (e.g. 0.5: no cell where one subject "
                            "contributes over half) and subject_key, or use count/sum/mean")


def _check_keep(col: ProductColumn, element: Element, field: str, problems: list[str]) -> None:
    """A personal element is published as it is only with a reason the product states."""
    if col.policy == "keep" and element.pii_entity and not (col.keep_reason or "").strip():
        problems.append(f"{field}.policy: keep publishes element '{element.name}' "
                        f"({element.pii_entity}) as it is (the column's policy or the element's "
                        "default): choose drop, mask, pseudonymize, generalize or encrypt, or "
                        "say why it may be published with `keep_reason:`")
    elif col.keep_reason is not None and col.policy != "keep":
        problems.append(f"{field}.keep_reason: only a column with `policy: keep` takes a "
                        f"reason (this one is {col.policy}): remove it")


def _check_aggregate(product: Product, problems: list[str]) -> None:
    where = f"{product.file}: aggregate"
    agg = product.aggregate or {}
    outputs = sorted(product.columns)
    if unknown := sorted(str(k) for k in set(agg) - {"group_by", "measures", "min_cell",
                                                      "dominance"}):
        problems.append(f"{where}: unknown field(s) {unknown}: allowed are "
                        "['dominance', 'group_by', 'measures', 'min_cell']")
    dominance = agg.get("dominance")
    if dominance is not None and (isinstance(dominance, bool) or
                                  not isinstance(dominance, int | float) or
                                  not 0 < dominance < 1):
        problems.append(f"{where}.dominance: expected a share between 0 and 1 (cells where one "
                        f"subject contributes more are suppressed), got {describe(dominance)}: "
                        "write e.g. dominance: 0.5")
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
