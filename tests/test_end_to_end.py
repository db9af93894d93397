"""End to end on real Airflow (dag.test), real Great Expectations, real Presidio recognizers:
sample sources → collect → validate → quarantine → steward release → publish → catalog."""

import dataclasses
import json
from pathlib import Path

import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from yishu.airflow import runner
from yishu.db.queries import get_batch
from yishu.db.queries import published_versions as versions_in
from yishu.pipeline import batches
from yishu.pipeline.voucher import verify
from yishu.samples import power, write_sample

PARTITION = "2026-11-01"


@pytest.fixture(scope="module")
def flow(res):
    global RES
    RES = res
    raw = {name: write_sample(res.storage, name, PARTITION, rows, seed=11)
           for name, rows in (("health_visits", 1500), ("market_enterprise", 600))}
    runs = {name: run_dag(f"collect__{name}", PARTITION)
            for name in ("market_enterprise", "health_visits", "ev_stations")}
    quarantined = get_batch(res.db, "health_visits", PARTITION)
    return {"raw": raw, "runs": runs, "quarantined": quarantined}


RES = None  # the session's resources, set by `flow` (every test here depends on it)


def run_dag(dag_id: str, partition: str):
    return runner.run_dag(RES.settings, dag_id, partition)


def published_versions():
    return versions_in(RES.db)


def _published_text(version) -> str:
    folder = Path(version.path)
    return (folder / "data.csv").read_text(encoding="utf-8")


def test_dirty_batch_is_quarantined_with_a_readable_reason_and_nothing_lost(flow):
    batch = flow["quarantined"]
    assert batch.status == "quarantined"
    assert "patient_resident_id: be_valid_cn_resident_id failed on" in batch.reason
    assert Path(batch.raw_path).read_bytes() == flow["raw"]["health_visits"].read_bytes()
    assert flow["runs"]["health_visits"].tasks["land"] == "skipped"
    record = json.loads((Path(batch.raw_path).parents[3] / "quarantine" / "health_visits" /
                         f"{PARTITION}.json").read_text(encoding="utf-8"))
    assert record["reason"] == batch.reason
    assert get_batch(RES.db, "market_enterprise", PARTITION).status == "landed"
    assert get_batch(RES.db, "ev_stations", PARTITION).status == "landed"  # real UrbanEV data


def test_planted_dirty_rows_are_caught_by_the_right_expectations(flow):
    from yishu.samples import dirty_rows

    planted = dirty_rows("health_visits", 1500, seed=11)
    result = json.loads(Path(flow["quarantined"].validation_path).read_text(encoding="utf-8"))
    failed = {(r["column"], r["type"].removeprefix("expect_column_values_to_")):
              r["unexpected_count"] for r in result["results"] if not r["success"]}
    assert failed[("patient_resident_id", "be_valid_cn_resident_id")] == \
        len(planted["resident_id_check_digit"])
    assert failed[("patient_name", "not_be_null")] == len(planted["null_patient_name"])
    assert failed[("visit_date", "not_be_null")] == len(planted["null_visit_date"])
    assert failed[("patient_phone", "be_valid_cn_mobile")] == len(planted["bad_phone"])
    assert failed[("visit_cost", "be_between")] == len(planted["negative_cost"])
    # a duplicate and the row it copies are both flagged
    assert failed[("visit_id", "be_unique")] >= len(planted["duplicate"]) * 2 > 0
    mismatches = result["consistency"]["checks"][0]
    assert mismatches["disagreed"] == len(planted["hospital_name_mismatch"])


def test_a_join_waits_for_every_source(flow):
    """The registry has landed, the power company's bills not yet: the joined product's build
    is skipped, naming the missing source (and nothing is published)."""
    result = run_dag("publish__enterprise_credit_profile", PARTITION)
    assert result.tasks["build"] == "skipped" and result.state == "success", result
    from yishu.db.queries import product_run

    run = product_run(RES.db, "enterprise_credit_profile", PARTITION)
    assert run.status == "skipped" and run.reason == (
        "product enterprise_credit_profile: source 'power_usage' has no landed or released "
        "batch up to 2026-11-01 (the join needs a batch of every source: market_enterprise, "
        "power_usage): see `yishu quarantine ls`")
    assert not [v for v in published_versions() if v.product == "enterprise_credit_profile"]


def test_quarantined_source_publishes_nothing_until_released(flow):
    result = run_dag("publish__insurance_visits", PARTITION)
    assert result.tasks["build"] == "skipped"
    assert not [v for v in published_versions() if v.product == "insurance_visits"]


def test_compliance_stop_fails_the_dag_run_with_its_reason(flow):
    """A product stopped by drift fails its publish task (the run is red and alerts), the
    reason is in the task log and in product_runs, and no version exists."""
    from yishu.db.queries import product_run

    write_sample(RES.storage, "station_inspections", PARTITION, 300, seed=11)
    assert run_dag("collect__station_inspections", PARTITION).tasks["land"] == "success"
    result = run_dag("publish__station_inspection_log", PARTITION)
    assert result.state == "failed" and result.tasks["publish"] == "failed", result
    run = product_run(RES.db, "station_inspection_log", PARTITION)
    assert run.status == "blocked" and run.reason.startswith("drift")
    assert "remark" in run.reason and "CN_PHONE" in run.reason
    assert not [v for v in published_versions() if v.product == "station_inspection_log"]
    # the task log names the stop and its reason (the runner keeps it in the run's log file)
    log = (RES.settings.airflow_home / "logs" /
           f"publish__station_inspection_log.{PARTITION}.log").read_text(encoding="utf-8")
    assert "AirflowFailException: not published (不合规不挂牌): drift" in log
    assert "remark" in log.split("AirflowFailException")[-1]


@pytest.fixture(scope="module")
def published(flow):
    batches.review(RES, "health_visits", PARTITION, "released", "test steward: reviewed",
                   flow["quarantined"].snapshot_sha256[:12])
    assert run_dag("collect__health_visits", PARTITION).tasks["land"] == "success"
    # the power company's department database (SQL), joined with the registry
    power.write_database(RES.storage.department_database("power_usage"), 600, seed=11,
                         partition=PARTITION)
    assert run_dag("collect__power_usage", PARTITION).tasks["land"] == "success"
    global FANNED_OUT
    # insurance_visits: its rows in mapped parts (the runner hands its settings to the tasks)
    FANNED_OUT = runner.run_dag(dataclasses.replace(RES.settings, fanout_rows=400),
                                "publish__insurance_visits", PARTITION)
    assert FANNED_OUT.state == "success", FANNED_OUT.tasks
    for product in ("enterprise_profile", "ev_charging_stations", "enterprise_credit_profile"):
        assert run_dag(f"publish__{product}", PARTITION).state == "success"
    return {v.product: v for v in published_versions()}


FANNED_OUT = None  # the insurance_visits run, de-identified in parts


def test_a_big_run_is_deidentified_in_mapped_parts_as_one_task_would(published):
    """Each part was a mapped task instance; the version is the file one task writes."""
    from yishu.pipeline import products as stages

    assert FANNED_OUT.instances["deidentify"] >= 3, FANNED_OUT.instances
    assert FANNED_OUT.tasks["deidentify"] == "success"
    one_task = stages.check_risk(RES, stages.deidentify(RES, stages.build(
        RES, "insurance_visits", PARTITION)))  # RES: the default, one part up to 1M rows
    version = Path(published["insurance_visits"].path)
    assert pq.read_metadata(version / "data.parquet").num_rows == one_task.rows_out
    assert (version / "data.parquet").read_bytes() == Path(one_task.final).read_bytes()


def test_products_are_published_with_levels_and_grades(published):
    assert set(published) == {"insurance_visits", "enterprise_profile", "ev_charging_stations",
                              "enterprise_credit_profile"}
    assert published["insurance_visits"].zone == "insurance"
    assert published["enterprise_profile"].zone == "finance"
    assert published["ev_charging_stations"].security_level == "L1"
    assert published["insurance_visits"].security_level == "L3"
    assert published["enterprise_credit_profile"].zone == "finance"


def test_the_joined_product_lists_both_snapshots_and_takes_the_registry_name(published):
    version = published["enterprise_credit_profile"]
    folder = Path(version.path)
    voucher = json.loads((folder / "voucher.json").read_text(encoding="utf-8"))
    assert verify(voucher, RES.keys.public_key_pem(), folder) == []
    landed = {name: get_batch(RES.db, name, PARTITION)
              for name in ("market_enterprise", "power_usage")}
    assert voucher["body"]["lineage"] == [
        {"source": name, "partition": PARTITION, "snapshot_sha256": b.snapshot_sha256}
        for name, b in landed.items()]
    grades = [b.quality_grade for b in landed.values()]
    assert version.quality_grade == max(grades, key="ABCDE".index)  # the worst of the two
    # provenance (`yishu catalog show`) finds the raw bytes of both
    from yishu.pipeline.provenance import provenance

    sources = provenance(RES, "enterprise_credit_profile")["sources"]
    assert [s["source"] for s in sources] == ["market_enterprise", "power_usage"]
    assert all(s["raw_path"] and Path(s["raw_path"]).exists() for s in sources)
    table = pq.read_table(folder / "data.parquet").to_pylist()
    registry = pv.read_csv(RES.storage.inbox_path("market_enterprise", PARTITION),
                           read_options=pv.ReadOptions(column_names=None)).to_pylist()
    names = {r["uscc"]: r["enterprise_name"] for r in registry}
    assert table and all(r["enterprise_name"] == names[r["uscc"]] for r in table)
    bills = power.power_usage(600, seed=11, partition=PARTITION).to_pylist()
    kept = [b for b in bills if not b["uscc"].startswith("92")]
    assert len(table) == len(kept)  # every bill of a legal entity, once


def test_no_published_file_holds_a_planted_identifier(flow, published):
    visits = pv.read_csv(flow["raw"]["health_visits"]).to_pandas()
    firms = pv.read_csv(flow["raw"]["market_enterprise"]).to_pandas()
    planted = set(visits["patient_resident_id"].dropna()) | set(visits["patient_phone"].dropna())
    planted |= set(firms["legal_rep_resident_id"].dropna()) | set(firms["enterprise_phone"]
                                                                   .dropna())
    planted = {v for v in planted if len(v) >= 11}
    for version in published.values():
        folder = Path(version.path)
        texts = [(folder / name).read_text(encoding="utf-8")
                 for name in ("data.csv", "deid_report.json", "voucher.json")]
        texts.append(str(pq.read_table(folder / "data.parquet").to_pylist()))
        leaked = {v for v in planted for text in texts if v in text}
        assert leaked == set(), (version.product, sorted(leaked)[:5])


def test_free_text_note_is_redacted(flow, published):
    table = pq.read_table(Path(published["insurance_visits"].path) / "data.parquet")
    notes = [n for n in table.column("doctor_note").to_pylist() if n]
    assert any("<身份证号>" in n for n in notes) and any("<人名>" in n for n in notes)
    raw = pv.read_csv(flow["raw"]["health_visits"]).to_pandas()
    names = {n for n in raw["patient_name"].dropna() if len(n) >= 2}
    joined = "\n".join(notes)
    leaked = {n for n in names if n in joined}
    assert leaked == set(), sorted(leaked)[:20]  # no planted name survives (issue 8)


def test_insurance_product_reaches_k5(published):
    cat = RES.catalog
    product = cat.products["insurance_visits"]
    df = pq.read_table(Path(published["insurance_visits"].path) / "data.parquet").to_pandas()
    sizes = df.groupby(list(product.quasi_identifiers), dropna=False).size()
    assert sizes.min() >= cat.zones["insurance"].k


def test_voucher_verifies_and_rerun_publishes_nothing_twice(published):
    for version in published.values():
        voucher = json.loads((Path(version.path) / "voucher.json").read_text(encoding="utf-8"))
        assert verify(voucher, RES.keys.public_key_pem(), Path(version.path)) == []
        assert voucher["body"]["lineage"][0]["snapshot_sha256"]
    # as an operator does: the bureau exports its key once, the operator pins it
    from typer.testing import CliRunner

    from yishu.cli import app

    cli, pub = CliRunner(), Path(next(iter(published.values())).path).parents[3] / "bureau.pub"
    assert cli.invoke(app, ["voucher", "export-key", "-o", str(pub)]).exit_code == 0
    for version in published.values():
        checked = cli.invoke(app, ["voucher", "verify", version.path, "--trusted-key", str(pub)])
        assert checked.exit_code == 0 and "each unchanged" in checked.output, checked.output
    before = len(published_versions())
    assert run_dag("collect__health_visits", PARTITION).state == "success"
    assert run_dag("publish__insurance_visits", PARTITION).state == "success"
    assert len(published_versions()) == before


def test_steward_report_shows_failures_and_decision(published):
    from yishu.reports.steward import write_report

    html, data = write_report(RES, "health_visits", PARTITION)
    report = json.loads(data.read_text(encoding="utf-8"))
    failed = {(f["column"], f["type"]) for f in report["failed"]}
    assert ("patient_resident_id", "expect_column_values_to_be_valid_cn_resident_id") in failed
    assert report["status"] == "released" and "test steward" in report["review_note"]
    assert report["consistency"]["checks"][0]["disagreed"] > 0
    page = html.read_text(encoding="utf-8")
    raw_ids = pv.read_csv(Path(report["raw_snapshot"])).column("patient_resident_id")
    assert not any(v in page for v in raw_ids.to_pylist()[:200] if v)  # no raw PII in report
    assert Path(report["data_docs_index"]).exists()


def test_steward_report_in_a_real_browser(published, tmp_path):
    """The steward opens the report in Chromium and follows the link to the Data Docs."""
    from playwright.sync_api import sync_playwright

    from yishu.reports.steward import write_report

    html, _ = write_report(RES, "health_visits", PARTITION, tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(html.as_uri())
        assert "数据质量报告" in page.title()
        assert page.locator("#status").inner_text() == "released"
        assert page.locator("#grade").inner_text() in "ABCDE"
        assert page.locator("#dimensions tr").count() == 7  # header + six indicators
        rows = page.locator("#failed tr").all_inner_texts()
        assert any("critical" in r and "patient_resident_id" in r for r in rows)
        assert "test steward" in page.locator("#review").inner_text()
        page.click("#data-docs")
        assert "Data Docs" in page.title()
        browser.close()
