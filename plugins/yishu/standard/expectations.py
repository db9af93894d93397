"""Great Expectations custom expectations for Chinese identifiers, one per identifiers.VALIDATORS.

Importing this module registers, for each validator name ``x``, a metric
``column_values.valid_x`` and an expectation ``expect_column_values_to_be_valid_x`` (class
``ExpectColumnValuesToBeValid<X>``), usable in suite JSON by type name. Pandas only.
GE registers both kinds of class from their metaclass at class creation, so building them with
``types.new_class`` is enough; the expectation type is derived from the class name.
Nulls never reach the condition: GE map metrics filter them out and count them as missing.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.render import LegacyRendererType, RenderedStringTemplateContent
from great_expectations.render.renderer.renderer import renderer
from great_expectations.render.util import num_to_str

from yishu.standard.identifiers import VALIDATORS


def valid_mask(column: pd.Series, validator: Callable[[object], bool]) -> pd.Series:
    """validator(value) for every row, calling it once per distinct value: real columns repeat
    a lot (codes, phone pools), and the python-level check dominates on 1M rows."""
    codes, uniques = pd.factorize(column)
    ok = np.fromiter((validator(v) for v in uniques), dtype=bool, count=len(uniques))
    # code -1 (a null, if one ever got through) must not wrap around to the last unique
    return pd.Series(np.append(ok, False)[codes], index=column.index)


class IdentifierExpectation(ColumnMapExpectation):
    """Shared base; abstract (no map_metric) so GE does not register it as a type itself."""

    identifier: ClassVar[str] = ""

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(cls, configuration=None, result=None, **kwargs):
        # Data Docs line, e.g. "id_no values must be valid cn_resident_id, at least 99 % ..."
        params = {"column": configuration.kwargs.get("column"), "identifier": cls.identifier}
        template = "$column values must be valid $identifier"
        mostly = configuration.kwargs.get("mostly")
        if isinstance(mostly, int | float) and mostly < 1:
            params["mostly_pct"] = num_to_str(mostly * 100, no_scientific=True)
            template += ", at least $mostly_pct % of the time"
        string_template = {"template": template + ".", "params": params}
        return [
            RenderedStringTemplateContent(
                content_block_type="string_template", string_template=string_template
            )
        ]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _make_expectation(name: str) -> type[IdentifierExpectation]:
    validator = VALIDATORS[name]
    metric_name = f"column_values.valid_{name}"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return valid_mask(column, validator)

    types.new_class(
        f"ColumnValuesValid{_camel(name)}",
        (ColumnMapMetricProvider,),
        exec_body=lambda ns: ns.update(
            __module__=__name__, condition_metric_name=metric_name, _pandas=_pandas
        ),
    )
    doc = f"Expect column values to pass yishu.standard.identifiers.{validator.__name__}."
    return types.new_class(
        f"ExpectColumnValuesToBeValid{_camel(name)}",
        (IdentifierExpectation,),
        exec_body=lambda ns: ns.update(
            __module__=__name__,
            __doc__=doc,
            identifier=name,
            map_metric=metric_name,
            success_keys=("mostly",),
        ),
    )


# Spelled out (not a loop over globals()) so the names are greppable and importable.
ExpectColumnValuesToBeValidCnResidentId = _make_expectation("cn_resident_id")
ExpectColumnValuesToBeValidCnUscc = _make_expectation("cn_uscc")
ExpectColumnValuesToBeValidCnMobile = _make_expectation("cn_mobile")
ExpectColumnValuesToBeValidCnLandline = _make_expectation("cn_landline")
ExpectColumnValuesToBeValidCnPhone = _make_expectation("cn_phone")
ExpectColumnValuesToBeValidCnDivisionCode = _make_expectation("cn_division_code")
ExpectColumnValuesToBeValidIcd10 = _make_expectation("icd10")
ExpectColumnValuesToBeValidBankCard = _make_expectation("bank_card")

# validator name -> expectation type, e.g. "cn_uscc" -> "expect_column_values_to_be_valid_cn_uscc"
EXPECTATION_TYPES = {name: f"expect_column_values_to_be_valid_{name}" for name in VALIDATORS}
