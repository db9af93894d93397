"""A client of the real Airflow that `yishu airflow` starts: the process started and stopped
as a user does (its output read until it is ready, Ctrl-C), and its REST API (/api/v2). The
tests that run the real scheduler and the benchmark through the DAGs both drive it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

YISHU = Path(sys.executable).with_name("yishu")
UNFINISHED = {"queued", "running", "up_for_retry", "restarting", "scheduled", "deferred"}


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
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")[
            "task_instances"]

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


def start_yishu_airflow(args: list[str], env: dict[str, str], timeout: float = 240):
    """Start `yishu airflow ARGS`; returns the process, its output until ready and the API."""
    process = subprocess.Popen([str(YISHU), "airflow", *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        out = "".join(read_until(process, r"Ctrl-C stops Airflow", timeout))
        url = re.search(r"Airflow is ready\S*: (\S+)", out).group(1)
        password = re.search(r"login: admin / (\S+)", out).group(1)
        return process, out, Api(url, "admin", password)
    except BaseException:
        stop_yishu_airflow(process)
        raise


def stop_yishu_airflow(process: subprocess.Popen) -> str:
    """Ctrl-C, as a user stops it; returns the rest of its output."""
    process.send_signal(signal.SIGINT)
    try:  # Server.stop allows 30 s for SIGINT and 30 s for SIGTERM; a loaded machine needs more
        rest, _ = process.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, _ = process.communicate()
    return rest


def read_until(process: subprocess.Popen, pattern: str, timeout: float) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"`yishu airflow` never printed {pattern!r}:\n{''.join(lines)}")


def wait_for_runs(api: Api, dag_ids: list[str], done, timeout: float = 300) -> dict:
    """Poll the runs of `dag_ids` until `done(runs)` holds and none is unfinished."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            runs = {dag_id: api.runs(dag_id) for dag_id in dag_ids}
        except TimeoutError:  # an API server on a busy machine: ask again, up to the deadline
            runs = None
        if runs is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the Airflow API did not answer within {timeout:.0f} s")
            continue
        unfinished = [r for rs in runs.values() for r in rs if r["state"] in UNFINISHED]
        if done(runs) and not unfinished:
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(f"runs not done after {timeout:.0f} s: {runs}")
        time.sleep(3)
