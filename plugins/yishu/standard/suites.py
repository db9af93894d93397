"""One suite per source (一标准), generated from the element standard.

Element-level expectations (not-null for required columns, uniqueness of the key, validators
with check digits, patterns, allowed values, ranges) are derived from `elements.yaml` and the
source's column mapping, and marked `meta.generated`. Expectations written by hand in the same
file (no `generated` flag) survive `yishu expectations build`.
"""

from __future__ import annotations

import json
from pathlib import Path

from yishu.definitions import Catalog, CatalogError, Source

# Identifiers whose check digit fails are wrong data, not style: they stop the batch.
CRITICAL_VALIDATORS = {"cn_resident_id", "cn_uscc"}
NUMERIC_TYPES = {"integer", "decimal"}


def _expectation(type_: str, column: str, severity: str, dimension: str, **kwargs) -> dict:
    return {
        "type": type_,
        "kwargs": {"column": column, **kwargs},
        "meta": {"severity": severity, "dimension": dimension, "generated": True},
    }


def generated_expectations(cat: Catalog, source: Source) -> list[dict]:
    out = []
    for col in source.columns.values():
        el = cat.elements[col.element]
        name = col.name
        if col.required:
            out.append(_expectation("expect_column_values_to_not_be_null", name, "critical",
                                    "completeness"))
        if source.key == name:
            out.append(_expectation("expect_column_values_to_be_unique", name, "critical",
                                    "accuracy"))
        if el.validator:
            severity = "critical" if el.validator in CRITICAL_VALIDATORS else "warning"
            out.append(_expectation(f"expect_column_values_to_be_valid_{el.validator}", name,
                                    severity, "conformity"))
        if el.pattern:
            out.append(_expectation("expect_column_values_to_match_regex", name, "warning",
                                    "conformity", regex=el.pattern))
        if el.type == "date":
            out.append(_expectation("expect_column_values_to_match_regex", name, "warning",
                                    "conformity", regex=r"^\d{4}-\d{2}-\d{2}$"))
        if el.allowed is not None:
            values = [str(v) for v in el.allowed] if el.type not in NUMERIC_TYPES else list(
                el.allowed)
            out.append(_expectation("expect_column_values_to_be_in_set", name, "warning",
                                    "accuracy", value_set=values))
        if el.min is not None or el.max is not None:
            bounds = {"min_value": el.min, "max_value": el.max}
            if el.type == "date":  # ISO date strings compare correctly as text
                bounds = {k: (str(v) if v is not None else None) for k, v in bounds.items()}
            out.append(_expectation("expect_column_values_to_be_between", name, "warning",
                                    "accuracy", **bounds))
    return out


def suite_path(folder: Path, source: str) -> Path:
    """The suite of a source in the expectations folder (one JSON file per source)."""
    return Path(folder) / f"{source}.json"


def read_suite(folder: Path, source: str) -> dict:
    path = suite_path(folder, source)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError([f"{path}: suite is missing: run `yishu expectations build`"]) from None
    except json.JSONDecodeError as exc:
        raise CatalogError([f"{path}: line {exc.lineno}: invalid JSON ({exc.msg}): fix it, "
                            "then run `yishu expectations build`"]) from None


def build_suite(cat: Catalog, source: Source, existing: dict | None = None) -> dict:
    manual = [e for e in (existing or {}).get("expectations", [])
              if not e.get("meta", {}).get("generated")]
    return {
        "name": source.name,
        "meta": {"source": source.name, "note": "generated expectations are rebuilt by "
                 "`yishu expectations build`; add hand-written ones without meta.generated"},
        "expectations": generated_expectations(cat, source) + manual,
    }


def write_suites(cat: Catalog, folder: Path) -> list[Path]:
    written = []
    for source in cat.sources.values():
        path = suite_path(folder, source.name)
        existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        suite = build_suite(cat, source, existing)
        text = json.dumps(suite, ensure_ascii=False, indent=2) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def stale_suites(cat: Catalog, folder: Path) -> list[str]:
    """Problems for suites that are missing or out of date with the catalog."""
    problems = []
    for source in cat.sources.values():
        path = suite_path(folder, source.name)
        try:
            suite = read_suite(folder, source.name)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        for exp in suite.get("expectations", []):
            column = exp.get("kwargs", {}).get("column")
            if column and column not in source.columns:
                problems.append(f"{path}: expectation {exp.get('type')}: column '{column}' is "
                                f"not a column of source '{source.name}'")
            if exp.get("meta", {}).get("severity", "critical") not in ("critical", "warning"):
                problems.append(f"{path}: expectation {exp.get('type')} on '{column}': "
                                "meta.severity must be critical or warning")
        generated = [e for e in suite.get("expectations", []) if e.get("meta", {}).get("generated")]
        if generated != generated_expectations(cat, source):
            problems.append(f"{path}: out of date with catalog/elements.yaml and "
                            f"sources/{source.name}.yaml: run `yishu expectations build`")
    return problems
