"""`yishu airflow` runs the real Airflow: a collect run triggered through the REST API emits
its Asset, the product DAG runs asset-triggered under the scheduler and publishes a version;
`airflow backfill create` collects a range of days once each; Ctrl-C stops every component."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.airflow.real_airflow import (
    YISHU,
    airflow_processes,
    clean_environment,
    new_database,
    start_yishu_airflow,
    stop_yishu_airflow,
    wait_for_runs,
)
from yishu.airflow.server import free_port, server_environment
from yishu.db.models import Batch
from yishu.db.queries import published_versions
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings

PARTITION = "2026-11-01"
BACKFILL = ("2026-10-01", "2026-10-03")  # three daily partitions of market_enterprise


@pytest.fixture(scope="module")
def real_airflow(tmp_path_factory, pg_url):
    """`yishu airflow` on a state folder of the module's own, started once; the last test of
    the module stops it. Its metadata database is PostgreSQL: on SQLite, a reprocessing
    backfill's clear next to the running scheduler can fail "database is locked" (a read
    transaction turning writer meets SQLite's one writer and is not retried)."""
    cfg = Settings.for_home(tmp_path_factory.mktemp("real") / "home",
                            airflow_db_url=new_database(pg_url, "airflow"))
    port = free_port()
    env = {**clean_environment(), **cfg.environ(), "COLUMNS": "200"}
    process, out, api = start_yishu_airflow(["--port", str(port)], env)
    state = {"cfg": cfg, "env": env, "api": api, "port": port, "process": process, "out": out}
    yield state
    if process.poll() is None:
        stop_yishu_airflow(process)


def test_yishu_airflow_runs_collect_and_asset_triggered_publish(real_airflow):
    cfg, env, api = real_airflow["cfg"], real_airflow["env"], real_airflow["api"]
    assert f"http://localhost:{real_airflow['port']}" in real_airflow["out"]
    _assert_operator_api_is_mounted(api.url, cfg)
    _assert_console_signs_in_airflow_users(api.url, cfg, api.token)
    for dag_id in ("collect__ev_stations", "publish__ev_charging_stations"):
        api.unpause(dag_id)
    # unpausing also lets the scheduler start the latest scheduled interval: ours is the
    # manual run with its partition, the other one is checked only for not failing
    ours = api.call("POST", "/api/v2/dags/collect__ev_stations/dagRuns",
                    {"logical_date": None, "conf": {"partition": PARTITION}})["dag_run_id"]
    runs = wait_for_runs(api, ["collect__ev_stations", "publish__ev_charging_stations"],
                         lambda runs: runs["publish__ev_charging_stations"])
    collect, publish = runs["collect__ev_stations"], runs["publish__ev_charging_stations"]
    assert {r["dag_run_id"]: r["state"] for r in collect}[ours] == "success"
    assert publish and {(r["state"], r["run_type"]) for r in publish} == {
        ("success", "asset_triggered")}
    versions = [v for v in published_versions(Resources.from_settings(cfg).db)
                if v.product == "ev_charging_stations"]
    # the scheduled run lands the same file for another partition: whichever publishes first
    # makes v1, the other finds nothing new (same snapshot, same policy)
    assert [v.version for v in versions] == [1]
    _assert_lineage(cfg, env, versions[0])


def test_backfill_collects_each_partition_once(real_airflow):
    """`airflow backfill create` over three days: one run per day under the scheduler, each
    collecting the partition of its data interval; the same backfill again (reprocessing
    completed runs) writes no second raw file and no second catalog row."""
    cfg, api = real_airflow["cfg"], real_airflow["api"]
    res = Resources.from_settings(cfg)
    days = [f"2026-10-0{d}" for d in (1, 2, 3)]
    # the day the scheduler starts on unpausing gets its delivery too, so it ends by itself
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for partition in [*days, today]:
        write_sample(res.storage, "market_enterprise", partition, 120, dirty=False)
    api.unpause("collect__market_enterprise")  # a paused DAG's backfill runs stay queued

    first = _backfill(real_airflow, [])
    assert sorted(first) == days and set(first.values()) == {"success"}, first
    raw, batches = _raw_files(cfg), _batches(res)
    # one snapshot per partition (its original bytes and their Parquet form, by one hash)
    assert sorted(raw) == days and all(len({f.split(".")[0] for f in files}) == 1
                                       for files in raw.values()), raw
    assert [(b.partition, b.status) for b in batches] == [(d, "landed") for d in days]

    again = _backfill(real_airflow, ["--reprocess-behavior", "completed"])
    assert sorted(again) == days and set(again.values()) == {"success"}, again
    assert _raw_files(cfg) == raw
    rerun = _batches(res)
    assert [(b.id, b.partition, b.snapshot_sha256) for b in rerun] == [
        (b.id, b.partition, b.snapshot_sha256) for b in batches]


def _backfill(real_airflow, options: list[str]) -> dict[str, str]:
    """Run `airflow backfill create` as an operator would, next to the running scheduler, and
    wait until the backfill completes; returns each backfill run's partition and state."""
    cfg, api = real_airflow["cfg"], real_airflow["api"]
    env = {**real_airflow["env"], **server_environment(
        cfg, real_airflow["port"], real_airflow["env"].get("PATH", ""))}
    done = subprocess.run([str(YISHU.with_name("airflow")), "backfill", "create", "--dag-id",
                           "collect__market_enterprise", "--from-date", BACKFILL[0],
                           "--to-date", BACKFILL[1], *options], env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = "/api/v2/backfills?dag_id=collect__market_enterprise&limit=100"
    deadline = time.monotonic() + 300
    while [b for b in api.call("GET", path)["backfills"] if not b["completed_at"]]:
        assert time.monotonic() < deadline, "the backfill did not complete in 300 s"
        time.sleep(3)
    runs = [r for r in api.runs("collect__market_enterprise") if r["run_type"] == "backfill"]
    # the partition comes from the run's data interval (its logical date, a daily schedule)
    return {r["logical_date"][:10]: r["state"] for r in runs}


def _raw_files(cfg: Settings) -> dict[str, list[str]]:
    folder = cfg.home / "raw" / "market_enterprise"
    return {p.name: sorted(f.name for f in p.iterdir()) for p in sorted(folder.iterdir())
            if p.name.startswith("2026-10-")}


def _batches(res: Resources) -> list:
    with res.db.session() as s:
        return list(s.scalars(select(Batch).where(Batch.source == "market_enterprise",
                                                  Batch.partition.like("2026-10-%"))
                              .order_by(Batch.partition)))


def test_ctrl_c_stops_every_component(real_airflow):
    cfg, port, process = real_airflow["cfg"], real_airflow["port"], real_airflow["process"]
    rest = stop_yishu_airflow(process)
    assert process.returncode == 0 and "Airflow stopped." in rest
    assert not airflow_processes(cfg.airflow_home), "a component outlived Ctrl-C"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API server still listens"


def _assert_lineage(cfg: Settings, env: dict, version) -> None:
    """OpenLineage events (file transport) name what each task read and wrote, and
    `yishu catalog show` answers which snapshot and which run produced the version."""
    events = [json.loads(line) for line in
              (cfg.home / "lineage" / "events.jsonl").read_text().splitlines()]
    done = {}
    for event in events:
        if event["eventType"] == "COMPLETE":
            done.setdefault(event["job"]["name"], []).append(
                ({i["name"] for i in event["inputs"]}, {o["name"] for o in event["outputs"]}))
    shown = json.loads(subprocess.run(
        [str(YISHU), "catalog", "show", "ev_charging_stations", "--version",
         str(version.version), "--json"], env=env, capture_output=True, text=True,
        check=True).stdout)
    (source,) = shown["sources"]
    raw = source["raw_path"]
    assert source["source"] == "ev_stations" and Path(raw).name.startswith(
        source["snapshot_sha256"])
    assert shown["run_id"].startswith("asset_triggered__") and shown["audit"]["seq"] >= 1
    collected = [outputs for inputs, outputs in done["collect__ev_stations.collect"]
                 if any(name.endswith("samples/urbanev/inf_raw.csv") for name in inputs)]
    assert any(raw in outputs for outputs in collected), collected
    published = [(inputs, outputs) for inputs, outputs
                 in done["publish__ev_charging_stations.publish"] if version.path in outputs]
    assert published and all(len(ins) == 1 and next(iter(ins)).endswith(".parquet")
                             and source["snapshot_sha256"] in next(iter(ins))
                             for ins, _ in published), published
    # a task that reports nothing carries nothing over from other tasks
    assert all(not i and not o for i, o in done["collect__ev_stations.validate"])


def test_server_environment_puts_the_venv_first_and_the_execution_api_on_its_port(tmp_path):
    from yishu.airflow.server import server_environment

    env = server_environment(Settings.for_home(tmp_path), 18123, "/usr/bin")
    assert env["PATH"].split(os.pathsep) == [str(YISHU.parent), "/usr/bin"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:18123/execution/"
    assert env["AIRFLOW__API__PORT"] == "18123"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW_HOME"] == str(tmp_path.resolve() / "airflow")


def _assert_console_signs_in_airflow_users(url: str, cfg: Settings, jwt: str) -> None:
    """Airflow's signed-in user (its JWT in the `_token` cookie, as the UI keeps it) signs in
    to the mounted console as the console account of the same name, with that account's
    role; without the cookie the same form is refused."""
    import httpx

    from yishu.access import users

    users.add_user(Resources.from_settings(cfg), "admin", "admin", "a long test password")
    for cookie, expected in ((None, 401), (jwt, 303)):
        with httpx.Client(base_url=url, timeout=20) as client:
            login = client.get("/yishu/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
            if cookie:
                client.cookies.set("_token", cookie)
            answer = client.post("/yishu/console/login/airflow", data={"csrf": csrf})
            assert answer.status_code == expected, answer.text[:300]
            if expected == 303:
                assert answer.headers["location"] == "/yishu/console/admin/"
                assert client.get("/yishu/console/admin/audit").status_code == 200


def _assert_operator_api_is_mounted(url: str, cfg: Settings) -> None:
    """The plugin mounts the operator API in Airflow's API server; it checks its own tokens
    (Airflow authenticates nothing there)."""
    key = Resources.from_settings(cfg).keys.public_key_pem()
    with urllib.request.urlopen(f"{url}/yishu/api/v1/public-key", timeout=20) as response:
        assert response.read().decode() == key
    try:
        urllib.request.urlopen(f"{url}/yishu/api/v1/products", timeout=20)
        raise AssertionError("the mounted API served a request without a token")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401 and json.load(exc)["error"] == "unknown_token"
    # the web console is mounted with it, its links under the same prefix
    with urllib.request.urlopen(f"{url}/yishu/console/login", timeout=20) as response:
        assert 'action="/yishu/console/login"' in response.read().decode()
