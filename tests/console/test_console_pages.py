"""What the pages show: no raw identifier on a steward's batch page, server-side SVG charts,
the steward's decisions through the CLI's rules, the admin's audit Verify naming the first
bad entry."""

from __future__ import annotations

import re

import pyarrow.parquet as pq

from tests.console.conftest import QUARANTINED, form_csrf, signed_in
from yishu.access import audit
from yishu.console import charts
from yishu.db.models import AuditEntry
from yishu.db.queries import get_batch


def test_batch_page_never_shows_raw_identifiers(console_world):
    res = console_world.res
    source, partition = QUARANTINED
    client = signed_in(console_world, "steward")
    page = client.get(f"/console/steward/batch/{source}/{partition}").text
    batch = get_batch(res.db, source, partition)
    raw = pq.read_table(res.storage.raw_snapshot(source, partition, batch.snapshot_sha256,
                                                 ".parquet")).to_pandas()
    for column in ("patient_resident_id", "patient_phone", "patient_name"):
        values = [str(v) for v in raw[column].dropna() if len(str(v)) >= 2]
        assert values and not [v for v in values if v in page], column
    assert not re.search(r"\d{15,}", re.sub(r"[0-9a-f]{64}", "", page))
    assert "patient_resident_id" in page and batch.snapshot_sha256[:12] in page


def test_release_needs_a_reason_and_the_snapshot_shown(console_world):
    source, partition = QUARANTINED
    client = signed_in(console_world, "steward")
    path = f"/console/steward/batch/{source}/{partition}"
    csrf = form_csrf(client.get(path).text)
    no_reason = client.post(f"{path}/release", data={"csrf": csrf, "reason": " ",
                                                     "snapshot": "abcdef12"})
    assert "a reason is required" in no_reason.text
    wrong = client.post(f"{path}/release", data={"csrf": csrf, "reason": "ok",
                                                 "snapshot": "abcdef12"})
    assert "redelivered since" in wrong.text
    assert get_batch(console_world.res.db, source, partition).status == "quarantined"


def test_quality_trend_is_svg_with_escaped_labels():
    svg = str(charts.quality_trend([
        {"partition": "2026-11-01", "score": 90.0, "dimensions": {"conformity": 80.0}},
        {"partition": "<b>2026-11-02</b>", "score": 95.0, "dimensions": {}}], "t"))
    assert svg.startswith("<svg") and svg.count("<polyline") == 1  # only the score has two
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "规范性" in svg and "综合得分" in svg


def test_monthly_bars_scale_to_the_peak():
    svg = str(charts.monthly_bars(["2026-11", "2026-12"], {"a": [1, 4], "b": [2, 0]},
                                  "t", "次"))
    heights = [float(h) for h in re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" '
                                            r'height="([^"]+)"', svg)]
    bars = heights[:4]  # then the legend's swatches
    assert bars[1] == 2 * bars[0] and bars[2] == 4 * bars[0] and bars[3] == 0
    assert "no deliveries" in str(charts.monthly_bars([], {}, "t", "次"))


def test_audit_verify_names_the_first_bad_entry(fresh_res):
    from tests.console.conftest import ConsoleWorld, sign_in
    from yishu.access import users

    res = fresh_res
    users.add_user(res, "adam", "admin", "correct horse battery")
    world = ConsoleWorld(res, {})
    client = world.client()
    assert sign_in(client, "adam").status_code == 303
    csrf = form_csrf(client.get("/console/admin/audit").text)
    intact = client.post("/console/admin/audit/verify", data={"csrf": csrf})
    assert "chain intact" in intact.text
    with res.db.session() as s:  # someone edits entry 1 behind the log's back
        entry = s.get(AuditEntry, 1)
        entry.detail = {"role": "steward"}
        s.commit()
    damaged = client.post("/console/admin/audit/verify", data={"csrf": csrf})
    assert "the log is damaged" in damaged.text and "#1" in damaged.text
    assert "edited" in damaged.text
    last = audit.entries(res.db)[-1]  # the check itself is on the record, with its finding
    assert last.action == "audit.verify" and last.actor == "admin:adam"
    assert "edited" in last.detail["damage"][0]
