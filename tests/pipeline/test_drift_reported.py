"""Schema drift through validation, the steward's views and publication: an added column is
reported and never published; a retyped column lowers the quality score, never crashes."""

import csv
import dataclasses
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yishu.cli.main import app
from yishu.pipeline import batches
from yishu.pipeline import products as stages
from yishu.reports.steward import write_report
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

PARTITION = "2026-10-01"
PHONES = [f"139{n:08d}" for n in range(37000001, 37000801)]


def _plant(path, column, values):
    """Add a column to a sample CSV (the provider's export grew a column)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[0].append(column)
    for row, value in zip(rows[1:], values, strict=False):
        row.append(value)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    res = Resources.from_settings(Settings.for_home(tmp_path_factory.mktemp("drift")))
    path = write_sample(res.storage, "health_visits", PARTITION, 800, seed=3, dirty=False)
    _plant(path, "contact_phone", PHONES)
    collected = collect(res.catalog.sources["health_visits"], PARTITION,
                        settings=res.settings, storage=res.storage)
    batch = batches.validate_and_land(res, collected)
    assert batch.status == "landed", batch.reason
    return res


def test_added_column_is_in_the_validation_and_the_steward_report(planted):
    html, js = write_report(planted, "health_visits", PARTITION)
    report = json.loads(js.read_text(encoding="utf-8"))
    assert report["drift"]["added"] == ["contact_phone"]
    page = html.read_text(encoding="utf-8")
    drift_table = page[page.index('id="drift"'):page.index("Consistency with")]
    assert "contact_phone" in drift_table and "added (unmapped)" in drift_table
    assert PHONES[0] not in page and PHONES[0] not in js.read_text(encoding="utf-8")


def test_added_column_is_in_quarantine_show(planted):
    result = CliRunner().invoke(app, ["quarantine", "show", "health_visits", PARTITION],
                                obj=planted)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "added column" in x)
    assert "contact_phone" in line and "never published" in line


def test_planted_personal_column_never_reaches_a_product_version(planted):
    ref = stages.build(planted, "insurance_visits", PARTITION)
    ref = stages.publish(planted, stages.check_risk(planted, stages.deidentify(planted, ref)))
    assert ref.blocked is None and ref.version >= 1
    from yishu.db.queries import published_versions

    folder = Path(next(v.path for v in published_versions(planted.db)
                       if v.product == "insurance_visits" and v.version == ref.version))
    table = pq.read_table(folder / "data.parquet")
    assert "contact_phone" not in table.column_names
    values = {str(v) for col in table.columns for v in col.to_pylist()}
    assert not values & set(PHONES)
    for name in ("data.csv", "voucher.json", "deid_report.json"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "contact_phone" not in text and not any(p in text for p in PHONES[:50]), name


def test_retyped_column_is_reported_and_lowers_conformity(fresh_res, tmp_path):
    weather = fresh_res.catalog.sources["futian_weather"]
    header = "time,T,P0,P,U,nRAIN,Td\n"
    scores = {}
    for case, temperature in (("clean", "27.3"), ("retyped", "warm")):
        path = tmp_path / f"{case}.csv"
        rows = "".join(f"2022/9/{d} 0:00,{temperature},750.6,756.1,87,0,24.9\n"
                       for d in range(1, 21))
        path.write_text(header + rows, encoding="utf-8")
        source = dataclasses.replace(weather, location=str(path))
        partition = "2026-11-01" if case == "clean" else "2026-11-02"
        batch = batches.validate_and_land(fresh_res, collect(
            source, partition, settings=fresh_res.settings, storage=fresh_res.storage))
        result = json.loads(open(batch.validation_path, encoding="utf-8").read())
        scores[case] = result["quality"]["dimensions"]["conformity"]
        if case == "retyped":
            assert result["drift"]["retyped"] == [{"column": "T", "type": "decimal",
                                                   "failing": 20, "checked": 20, "share": 1.0}]
            out = CliRunner().invoke(app, ["quarantine", "show", "futian_weather", partition],
                                     obj=fresh_res).output
            assert "retyped: column T: 100% of 20 values are not a valid decimal" in out
            assert "warm" not in out
    assert scores["retyped"] < scores["clean"]


def test_digits_in_a_required_date_column_are_a_reason_not_a_crash(tmp_path):
    """visit_date delivered as 20261001 (digits where the element is a date): validation
    runs to the end, names the retyped column with its share and scores it."""
    res = Resources.from_settings(Settings.for_home(tmp_path / "home"))
    path = write_sample(res.storage, "health_visits", PARTITION, 200, seed=5, dirty=False)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    at = rows[0].index("visit_date")
    for row in rows[1:]:
        row[at] = row[at].replace("-", "")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    batch = batches.validate_and_land(res, collect(
        res.catalog.sources["health_visits"], PARTITION, settings=res.settings,
        storage=res.storage))
    result = json.loads(open(batch.validation_path, encoding="utf-8").read())
    assert result["drift"]["retyped"] == [{"column": "visit_date", "type": "date",
                                           "failing": 200, "checked": 200, "share": 1.0}]
    assert result["quality"]["dimensions"]["conformity"] < 100
    report = json.loads(write_report(res, "health_visits", PARTITION)[1].read_text("utf-8"))
    assert report["drift"]["retyped"][0]["column"] == "visit_date"
