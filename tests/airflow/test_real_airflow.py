"""`yishu airflow` runs the real Airflow: a collect run triggered through the REST API emits
its Asset, the product DAG runs asset-triggered under the scheduler and publishes a version;
Ctrl-C stops every component."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from yishu.airflow.server import free_port
from yishu.db.queries import published_versions
from yishu.resources import Resources
from yishu.settings import Settings

YISHU = Path(sys.executable).with_name("yishu")
PARTITION = "2026-11-01"
UNFINISHED = {"queued", "running"}


class Api:
    def __init__(self, url: str, user: str, password: str):
        self.url = url
        self.token = self.call("POST", "/auth/token", {"username": user, "password": password},
                               auth=False)["access_token"]

    def call(self, method: str, path: str, body: dict | None = None, *, auth: bool = True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.load(response)

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"]

    def unpause(self, dag_id: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:  # the dag-processor may not have parsed the file yet
            try:
                self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                return
            except urllib.error.HTTPError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise
                time.sleep(2)


def _read_until(process: subprocess.Popen, pattern: str, timeout: float) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"`yishu airflow` never printed {pattern!r}:\n{''.join(lines)}")


def test_yishu_airflow_runs_collect_and_asset_triggered_publish(tmp_path):
    cfg = Settings.for_home(tmp_path / "home")
    port = free_port()
    env = {**os.environ, **cfg.environ(), "COLUMNS": "200"}
    process = subprocess.Popen([str(YISHU), "airflow", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
    try:
        out = "".join(_read_until(process, r"login: admin / \S+", timeout=240))
        assert f"http://localhost:{port}" in out
        password = re.search(r"login: admin / (\S+)", out).group(1)
        api = Api(f"http://localhost:{port}", "admin", password)
        _assert_operator_api_is_mounted(f"http://localhost:{port}", cfg)
        _assert_console_signs_in_airflow_users(f"http://localhost:{port}", cfg, api.token)
        for dag_id in ("collect__ev_stations", "publish__ev_charging_stations"):
            api.unpause(dag_id)
        # unpausing also lets the scheduler start the latest scheduled interval: ours is the
        # manual run with its partition, the other one is checked only for not failing
        ours = api.call("POST", "/api/v2/dags/collect__ev_stations/dagRuns",
                        {"logical_date": None, "conf": {"partition": PARTITION}})["dag_run_id"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            collect, publish = api.runs("collect__ev_stations"), api.runs(
                "publish__ev_charging_stations")
            if publish and not [r for r in collect + publish if r["state"] in UNFINISHED]:
                break
            time.sleep(3)
        assert {r["dag_run_id"]: r["state"] for r in collect}[ours] == "success"
        assert publish and {(r["state"], r["run_type"]) for r in publish} == {
            ("success", "asset_triggered")}
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and "Airflow stopped." in rest
    assert not _airflow_processes(cfg.airflow_home), "a component outlived Ctrl-C"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API server still listens"
    versions = [v for v in published_versions(Resources.from_settings(cfg).db)
                if v.product == "ev_charging_stations"]
    # the scheduled run lands the same file for another partition: whichever publishes first
    # makes v1, the other finds nothing new (same snapshot, same policy)
    assert [v.version for v in versions] == [1]
    _assert_lineage(cfg, env, versions[0])


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


def _airflow_processes(airflow_home: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("AIRFLOW_HOME") == str(airflow_home):
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


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
