"""No steward output quotes a raw identifier: a malformed CSV with personal data in the bad row
is quarantined, and its record, `yishu quarantine ls/show` and the steward report (HTML and
JSON) name the row by number only."""

import json

from typer.testing import CliRunner

from yishu.cli import app
from yishu.pipeline import batches
from yishu.pipeline.reasons import without_raw_values
from yishu.reports.steward import write_report
from yishu.samples import write_sample
from yishu.sources.collect import collect

PARTITION = "2026-10-07"
NAME, RESIDENT_ID, PHONE = "潘艳", "442622196110146986", "17742713680"


def test_a_malformed_row_is_named_by_number_never_quoted(fresh_res, tmp_path):
    res = fresh_res
    path = write_sample(res.storage, "health_visits", PARTITION, 20, seed=4, dirty=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(6, f'"{NAME}","{RESIDENT_ID}","{PHONE}",' + ",".join(["x"] * 30))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = batches.validate_and_land(res, collect(res.catalog.sources["health_visits"],
                                                   PARTITION, settings=res.settings,
                                                   storage=res.storage))
    assert batch.status == "quarantined" and "malformed CSV" in batch.reason
    assert "data row 6" in batch.reason, batch.reason  # the header, then rows 1-5 before it
    record = res.storage.quarantine_record("health_visits", PARTITION).read_text("utf-8")
    html, data = write_report(res, "health_visits", PARTITION, tmp_path)
    runner = CliRunner()
    outputs = {"record": record, "report.html": html.read_text("utf-8"),
               "report.json": data.read_text("utf-8"),
               "ls": runner.invoke(app, ["quarantine", "ls"], obj=res).output,
               "show": runner.invoke(app, ["quarantine", "show", "health_visits", PARTITION],
                                     obj=res).output}
    assert "malformed CSV" in outputs["ls"] and "malformed CSV" in outputs["show"]
    assert json.loads(outputs["report.json"])["reason"] == batch.reason
    for where, text in outputs.items():
        flat = text.replace("\n", "").replace("│", "").replace(" ", "")  # tables fold lines
        for value in (NAME, RESIDENT_ID, PHONE):
            assert value not in flat, (where, value)


def test_reasons_recorded_before_the_fix_are_cleaned_when_shown():
    old = (f'x.csv: malformed CSV (CSV parse error: Expected 12 columns, got 13: "{NAME}",'
           f'"{RESIDENT_ID}","{PHONE}"): fix the file and collect again')
    shown = without_raw_values(old)
    assert NAME not in shown and RESIDENT_ID not in shown and PHONE not in shown
    assert shown.endswith("row text withheld: it may hold personal data)): fix the file and "
                          "collect again")
    kept = "raw/ab12345678901cd.csv on 2026-10-07: failed on 40 of 1000000 rows"
    assert without_raw_values(kept) == kept  # hashes, dates and counts are not identifiers
    assert without_raw_values("call 13812345678 or 44030519900307123X") == \
        "call 138******** or 440***************"
