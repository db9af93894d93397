"""Schema drift found before validation: added, missing, renamed and retyped columns."""

import dataclasses

import pandas as pd
import pyarrow.parquet as pq

from yishu.definitions import load_catalog
from yishu.settings import REPO_ROOT
from yishu.sources.collect import collect
from yishu.sources.drift import Drift, header_drift, retyped

CATALOG = load_catalog(REPO_ROOT / "catalog")


def _collect(res, source_name, tmp_path, text):
    path = tmp_path / f"{source_name}.csv"
    path.write_text(text, encoding="utf-8")
    source = dataclasses.replace(CATALOG.sources[source_name], location=str(path))
    return collect(source, "2026-11-01", settings=res.settings, storage=res.storage)


def test_each_missing_column_gets_its_own_likely_rename(fresh_res, tmp_path):
    header = "time,T,P0,P,U,n_rain,td_c\n"
    result = _collect(fresh_res, "futian_weather", tmp_path, header + "2022/9/1 0:00,1,2,3,4,0,5\n")
    assert result.snapshot is None
    assert "optional nRAIN (renamed to n_rain?), Td (renamed to td_c?)" in result.problem
    assert len(result.problem.splitlines()) == 1 and "columns:" in result.problem


def test_missing_required_column_is_named_as_required(fresh_res, tmp_path):
    source = CATALOG.sources["health_visits"]
    names = [("visit_day" if c == "visit_date" else c) for c in source.columns]
    result = _collect(fresh_res, "health_visits", tmp_path, ",".join(names) + "\n"
                      + ",".join("1" for _ in names) + "\n")
    assert "required visit_date (renamed to visit_day?)" in result.problem
    assert str(source.file) in result.problem


def test_added_column_is_recorded_for_the_steward_not_kept(fresh_res, tmp_path):
    result = _collect(fresh_res, "futian_weather", tmp_path,
                      "time,T,P0,P,U,nRAIN,Td,owner_phone\n2022/9/1 0:00,1,2,3,4,0,5,13912345678\n")
    schema = pq.read_schema(result.snapshot)
    assert "owner_phone" not in schema.names
    assert Drift.from_metadata(schema.metadata).added == ["owner_phone"]


def test_header_drift_without_a_similar_name_guesses_no_rename():
    columns = {"a_long_name": type("C", (), {"required": True})(),
               "other": type("C", (), {"required": False})()}
    drift = header_drift(["other", "zzz", "qqq"], columns)
    assert drift.missing_required == ["a_long_name"] and drift.renamed == {}
    assert drift.added == ["zzz", "qqq"]


def test_retyped_columns_by_element_type_with_the_failing_share():
    df = pd.DataFrame({
        "day": ["20261101", "20261102", "2026-11-03", None],  # digits where a date is due
        "count": ["many", "few", "3", "4.5"],  # text (and a fraction) where an integer is due
        "price": ["1.5", "2", "", "x"],  # one bad of three: dirt, not a retyped column
        "when": ["2022/9/1 0:00", "2022-09-01 01:00", "2022/9/1 2:00", "x"],
    })
    found = {r["column"]: r for r in retyped(df, {"day": "date", "count": "integer",
                                                  "price": "decimal", "when": "datetime"})}
    assert found["day"] == {"column": "day", "type": "date", "failing": 2, "checked": 3,
                            "share": round(2 / 3, 4)}
    assert found["count"]["failing"] == 3 and found["count"]["share"] == 0.75
    assert set(found) == {"day", "count"}
