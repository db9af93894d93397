"""A product run too big for one task is de-identified in parts (one mapped task each in
Airflow) and merged: the version is the same, byte for byte, as a run of one part, and every
task of it can be retried."""

import dataclasses
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.pipeline.test_retries import _twice
from yishu.pipeline import batches, deid_parts
from yishu.pipeline import products as stages
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

PARTITION = "2026-10-01"
ROWS = 900


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Resources:
    res = Resources.from_settings(Settings.for_home(tmp_path_factory.mktemp("parts")))
    write_sample(res.storage, "health_visits", PARTITION, ROWS, seed=5, dirty=False)
    collected = collect(res.catalog.sources["health_visits"], PARTITION, settings=res.settings,
                        storage=res.storage)
    assert batches.validate_and_land(res, collected).status == "landed"
    return res


def _with_parts(res: Resources, rows: int) -> Resources:
    return Resources.from_settings(dataclasses.replace(res.settings, fanout_rows=rows))


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _deidentified(res: Resources, product: str):
    ref = stages.build(res, product, PARTITION)
    ref, parts = stages.deidentify_plan(res, ref)
    done = [stages.deidentify_part(res, ref, part) for part in parts]
    return stages.deidentify_merge(res, ref, done), parts


@pytest.mark.parametrize("product", ["insurance_visits", "enterprise_profile"])
def test_parts_merge_into_the_file_one_part_writes(landed, product):
    if product == "enterprise_profile":  # a product whose rules exclude rows
        write_sample(landed.storage, "market_enterprise", PARTITION, 700, seed=5, dirty=False)
        collected = collect(landed.catalog.sources["market_enterprise"], PARTITION,
                            settings=landed.settings, storage=landed.storage)
        assert batches.validate_and_land(landed, collected).status == "landed"
    one, one_parts = _deidentified(_with_parts(landed, 10**6), product)
    many, many_parts = _deidentified(_with_parts(landed, 250), product)
    assert one_parts == [{"index": 0, "row_groups": None}]
    assert len(many_parts) >= 3 and [p["index"] for p in many_parts] == list(
        range(len(many_parts)))
    assert not one.blocked and not many.blocked, (one.blocked, many.blocked)
    assert pq.ParquetFile(many.deidentified).metadata.num_rows > 0
    assert _sha(many.deidentified) == _sha(one.deidentified)
    report = [json.loads(Path(r.report).read_text(encoding="utf-8")) for r in (one, many)]
    assert report[0] == report[1]
    assert (one.level, one.policy_sha256) == (many.level, many.policy_sha256)
    # the published version too (risk check and suppression read the merged file)
    final = [stages.check_risk(landed, r) for r in (one, many)]
    assert _sha(final[0].final) == _sha(final[1].final)


def test_redacted_spans_add_up_over_parts(landed):
    many, _ = _deidentified(_with_parts(landed, 250), "insurance_visits")
    report = json.loads(Path(many.report).read_text(encoding="utf-8"))
    redacted = report["columns"]["doctor_note"]["entities_redacted"]
    assert redacted.get("PERSON", 0) > 0 and redacted.get("CN_RESIDENT_ID", 0) > 0, redacted


def test_every_task_of_a_run_in_parts_can_be_retried(landed):
    res = _with_parts(landed, 250)
    ref = stages.build(res, "insurance_visits", PARTITION)
    (planned, parts), _ = _twice(res, stages.deidentify_plan, res, ref)
    assert len(parts) >= 3
    done = [_twice(res, stages.deidentify_part, res, planned, part)[0] for part in parts]
    merged, again = _twice(res, stages.deidentify_merge, res, planned, done)
    assert merged == again
    final = stages.check_risk(res, merged)
    work = Path(final.final).parent
    assert (work / deid_parts.IN_SCOPE).exists()
    published = stages.publish(res, final)
    assert published.version and not published.blocked
    assert not deid_parts.work_files(work) or not any(p.exists() for p in deid_parts.work_files(
        work)), "the parts' files are dropped once the run is published"


def test_a_blocked_run_passes_through_its_one_part(landed):
    ref = stages.build(landed, "insurance_visits", PARTITION).but(blocked="drift: test")
    ref, parts = stages.deidentify_plan(landed, ref)
    done = [stages.deidentify_part(landed, ref, part) for part in parts]
    assert len(parts) == 1 and done[0]["rows"] == 0
    assert stages.deidentify_merge(landed, ref, done).blocked == "drift: test"
