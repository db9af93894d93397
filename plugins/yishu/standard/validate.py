"""Run a Great Expectations suite (1.x suite JSON as a dict) over a pandas DataFrame.

GE is imported lazily: the import costs seconds and most CLI paths never validate.
Each run gets its own ephemeral context (a few ms once GE is imported), so runs never see each
other's suites or results, and Data Docs contain exactly this run.
"""

from __future__ import annotations

import math
import os
import pathlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

EXAMPLE_ROWS = 5
DATA_DOCS_SITE = "yishu_local_site"

# Bounded result format: SUMMARY gives counts + the first few unexpected index labels
# (COMPLETE would keep every unexpected value and index of 1M-row runs in the result).
# Unexpected values are excluded because they are often personal data (IDs, phone numbers)
# and would otherwise land in the result and in the Data Docs HTML.
_RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": EXAMPLE_ROWS,
    "return_unexpected_index_query": False,
    "exclude_unexpected_values": True,
}


@dataclass
class ExpectationOutcome:
    type: str
    column: str | None
    kwargs: dict[str, Any]
    severity: str
    dimension: str | None
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    missing_count: int | None = None
    example_rows: list = field(default_factory=list)
    observed_value: Any = None
    exception: str | None = None


@dataclass
class ValidationOutcome:
    suite_name: str
    results: list[ExpectationOutcome]
    data_docs_index: pathlib.Path | None = None

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity != "critical"]

    @property
    def passed(self) -> bool:
        return not self.critical_failures

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(
            {
                "suite_name": self.suite_name,
                "passed": self.passed,
                "critical_failures": len(self.critical_failures),
                "results": [asdict(r) for r in self.results],
                "data_docs_index": str(self.data_docs_index) if self.data_docs_index else None,
            }
        )


def run_suite(
    df: pd.DataFrame, suite: dict, *, data_docs_dir: pathlib.Path | None = None
) -> ValidationOutcome:
    """Validate df against suite; optionally write GE Data Docs for this run to data_docs_dir."""
    run = validate_frame(df, suite)
    outcome = ValidationOutcome(suite_name=run.suite_name, results=run.outcomes())
    if data_docs_dir is not None:
        outcome.data_docs_index = build_data_docs(run.context, pathlib.Path(data_docs_dir))
    return outcome


@dataclass
class FrameRun:
    """One GE validation of one frame: its context (for Data Docs) and its results."""

    context: Any
    suite_name: str
    result: Any  # GE's ExpectationSuiteValidationResult, results in suite order

    def outcomes(self) -> list[ExpectationOutcome]:
        return [_outcome(r) for r in self.result.results]


def validate_frame(df: pd.DataFrame, suite: dict) -> FrameRun:
    gx = _import_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}

    batch_definition = (
        context.data_sources.add_pandas("yishu_pandas")
        .add_dataframe_asset("dataframe")
        .add_batch_definition_whole_dataframe("whole_dataframe")
    )
    gx_suite = context.suites.add(_build_suite(gx, suite))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=gx_suite.name, data=batch_definition, suite=gx_suite)
    )
    result = validation.run(batch_parameters={"dataframe": df}, result_format=_RESULT_FORMAT)

    # GE groups results by domain; report them in suite order instead.
    order = {e.id: i for i, e in enumerate(gx_suite.expectations)}
    result.results = sorted(
        result.results, key=lambda r: order.get(r.expectation_config.id, len(order))
    )
    return FrameRun(context=context, suite_name=gx_suite.name, result=result)


def _import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    import yishu.standard.expectations  # noqa: F401 - registers the custom expectation types

    return gx


def _build_suite(gx, suite: dict):
    """An ExpectationSuite from its JSON dict, failing loudly on a bad expectation:
    ExpectationSuite(expectations=[dict, ...]) only logs and drops invalid ones."""
    from great_expectations.exceptions import GreatExpectationsError
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = []
    for position, entry in enumerate(suite.get("expectations", [])):
        meta = dict(entry.get("meta") or {})
        # Our suites carry severity in meta; mirror it into GE's own severity field.
        severity = meta.get("severity") or entry.get("severity") or "critical"
        try:
            config = ExpectationConfiguration(
                type=entry["type"],
                kwargs=dict(entry.get("kwargs") or {}),
                meta=meta,
                notes=entry.get("notes"),
                description=entry.get("description"),
                severity=severity,
            )
            expectations.append(config.to_domain_obj())
        except (GreatExpectationsError, ValueError) as exc:  # unknown type, bad kwargs (pydantic)
            raise ValueError(f"expectation #{position} {entry.get('type')!r}: {exc}") from exc
    return gx.ExpectationSuite(
        name=suite.get("name") or "yishu_suite",
        expectations=expectations,
        meta=dict(suite.get("meta") or {}),
    )


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    details = result.result or {}
    return ExpectationOutcome(
        type=config.type,
        column=kwargs.get("column"),
        kwargs=kwargs,
        severity=str(getattr(config.severity, "value", config.severity)),
        dimension=(config.meta or {}).get("dimension"),
        success=bool(result.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        missing_count=details.get("missing_count"),
        example_rows=list(details.get("partial_unexpected_index_list") or [])[:EXAMPLE_ROWS],
        observed_value=details.get("observed_value"),
        exception=_exception_message(result.exception_info),
    )


def _exception_message(info: dict | None) -> str | None:
    """GE reports either {"exception_message": ...} or, when a metric failed (e.g. a missing
    column), {metric_id: {"exception_message": ...}}."""
    info = info or {}
    if "exception_message" in info:
        return info["exception_message"]
    messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
    return next((m for m in messages if m), None)


def build_data_docs(context, docs_dir: pathlib.Path) -> pathlib.Path:
    docs_dir = docs_dir.resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        site_name=DATA_DOCS_SITE,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
        },
    )
    context.build_data_docs(site_names=[DATA_DOCS_SITE])
    return docs_dir / "index.html"


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars from metrics become Python numbers, NaN becomes None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
