"""The same DAGs on Airflow's CeleryExecutor: `yishu airflow --executor celery --workers 2`
with a PostgreSQL metadata database (also Celery's result backend), the catalog database on
PostgreSQL and a Redis broker, all on this machine (Debian's postgresql and redis-server). A
collect run triggered through the REST API and its asset-triggered product run are executed
by the two Celery workers, never by the scheduler."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.airflow.real_airflow import (
    YISHU,
    airflow_processes,
    clean_environment,
    new_database,
    start_yishu_airflow,
    stop_yishu_airflow,
    wait_for_runs,
)
from yishu.airflow.server import free_port
from yishu.db.queries import published_versions
from yishu.resources import Resources
from yishu.settings import Settings

PARTITION = "2026-11-01"
WORKERS = {"yishu-worker-1", "yishu-worker-2"}


@pytest.fixture
def redis_url(tmp_path):
    """A Redis server of the test's own on a free loopback port, nothing kept on disk."""
    server = shutil.which("redis-server")
    if not server:  # `make test` installs it (system-packages)
        pytest.fail("redis-server not found: install Debian's redis-server package")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + 20
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert process.poll() is None and time.monotonic() < deadline, "redis did not start"
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def test_celery_workers_run_collect_and_asset_triggered_publish(tmp_path, pg_url, redis_url):
    # fanout_rows: the product's 1,587 stations are de-identified in mapped parts
    cfg = Settings.for_home(tmp_path / "home", db_url=new_database(pg_url, "catalog"),
                            airflow_db_url=new_database(pg_url, "airflow"), fanout_rows=500)
    env = {**clean_environment(), **cfg.environ(), "COLUMNS": "200",
           "AIRFLOW__CELERY__BROKER_URL": redis_url}
    port = free_port()
    process, out, api = start_yishu_airflow(
        ["--executor", "celery", "--workers", "2", "--port", str(port)], env)
    try:
        assert "Celery workers: yishu-worker-1, yishu-worker-2" in out
        for dag_id in ("collect__ev_stations", "publish__ev_charging_stations"):
            api.unpause(dag_id)
        # unpausing also starts the latest weekly interval: with our manual run, two collect
        # runs at once, so both workers have work
        ours = api.call("POST", "/api/v2/dags/collect__ev_stations/dagRuns",
                        {"logical_date": None, "conf": {"partition": PARTITION}})["dag_run_id"]
        runs = wait_for_runs(api, ["collect__ev_stations", "publish__ev_charging_stations"],
                             lambda runs: runs["publish__ev_charging_stations"])
        collect, publish = runs["collect__ev_stations"], runs["publish__ev_charging_stations"]
        assert {r["dag_run_id"]: r["state"] for r in collect}[ours] == "success"
        assert {(r["state"], r["run_type"]) for r in publish} == {("success", "asset_triggered")}
        hosts, parts = {}, []
        for dag_id, dag_runs in runs.items():
            for run in dag_runs:
                for ti in api.task_instances(dag_id, run["dag_run_id"]):
                    assert ti["state"] in ("success", "skipped"), ti
                    if ti["state"] == "success":
                        hosts[f"{dag_id}.{ti['task_id']}.{ti['map_index']}.{run['dag_run_id']}"
                              ] = ti["hostname"]
                    if ti["task_id"] == "deidentify":
                        parts.append((run["dag_run_id"], ti["map_index"], ti["state"],
                                      ti["hostname"]))
        # each product run ran in mapped parts, each a task of its own that a worker took
        for run in publish:
            assert sorted(p[1] for p in parts if p[0] == run["dag_run_id"]) == [0, 1, 2, 3], parts
        assert all(state == "success" and host in WORKERS for *_, state, host in parts), parts
        # every task ran on a Celery worker (the scheduler's would be the machine's name),
        # and both workers took some
        assert set(hosts.values()) == WORKERS, hosts
        assert any(k.startswith("publish__") for k in hosts)
    finally:
        rest = stop_yishu_airflow(process)
    assert process.returncode == 0 and "Airflow stopped." in rest, rest
    assert not airflow_processes(cfg.airflow_home), "a component outlived Ctrl-C"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API server still listens"
    versions = [v for v in published_versions(Resources.from_settings(cfg).db)
                if v.product == "ev_charging_stations"]
    assert [v.version for v in versions] == [1]  # in the PostgreSQL catalog database
    assert (Path(versions[0].path) / "voucher.json").is_file()


def test_celery_needs_postgresql_and_a_broker(tmp_path):
    """Refused before anything starts, with the setting to give."""
    base = {**clean_environment(), "YISHU_HOME": str(tmp_path / "home")}
    for extra, message in (
            ({"AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:1/0"}, "YISHU_AIRFLOW_DB_URL"),
            ({"YISHU_AIRFLOW_DB_URL": "postgresql+psycopg://a@/b"}, "AIRFLOW__CELERY__BROKER_URL")):
        done = subprocess.run([str(YISHU), "airflow", "--executor",
                               "celery"], env={**base, **extra}, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode != 0 and message in done.stdout + done.stderr, done
        assert "Traceback" not in done.stdout + done.stderr
        assert not (tmp_path / "home" / "airflow" / "logs" / "scheduler.log").exists()


def test_each_local_worker_records_its_own_hostname(monkeypatch):
    from yishu.airflow import workers

    env = workers.worker_environment("yishu-worker-2", 18999)
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "yishu.airflow.workers.hostname"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "18999"
    monkeypatch.setenv(workers.HOSTNAME, "yishu-worker-2")
    assert workers.hostname() == "yishu-worker-2"
    monkeypatch.delenv(workers.HOSTNAME)
    assert workers.hostname() == socket.getfqdn()  # a worker on a machine of its own


def test_postgresql_metadata_database_is_async_through_psycopg():
    from yishu.airflow.runner import metadata_database

    url = "postgresql+psycopg://airflow@/airflow?host=/run/pg&port=5432"
    assert metadata_database(url) == {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC":
            "postgresql+psycopg_async://airflow@/airflow?host=/run/pg&port=5432"}
    sqlite = metadata_database("sqlite:////tmp/a.db")
    assert sqlite["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] == (
        "yishu.airflow.runner.SQLITE_CONNECT_ARGS")
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC" not in sqlite
