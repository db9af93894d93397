"""The real Airflow on the project's state: api-server, scheduler, dag-processor and triggerer
(`airflow standalone`, LocalExecutor) with the same AIRFLOW_HOME, dags and plugins folders as
the in-process runner, so what `make demo` ran is what the UI shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from yishu.airflow.runner import airflow_environment, prepare
from yishu.settings import Settings

USER = "admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment(cfg: Settings, port: int, path: str = "") -> dict[str, str]:
    """Airflow's settings for a server on `port`, on top of the in-process runner's; `path`
    is the inherited PATH."""
    bin_dir = os.path.dirname(sys.executable)
    return {
        **airflow_environment(cfg),
        **cfg.environ(),  # the tasks build their Yishu settings from these
        # standalone starts its components by the name `airflow`: the venv's bin/ comes first
        "PATH": bin_dir + os.pathsep + path,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        # without this, tasks call the execution API on 8080 and fail with "connection refused"
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "PYTHONWARNINGS": "ignore",
    }


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    home: Path
    log: Path

    def password(self) -> str | None:
        """The admin password standalone generated (shown once in its output, kept here)."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        try:
            return json.loads(path.read_text()).get(USER)
        except (OSError, ValueError):
            return None

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=2) as r:
                health = json.load(r)
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return (health.get("scheduler", {}).get("status") == "healthy"
                and health.get("dag_processor", {}).get("status") == "healthy")

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Airflow stopped (exit {self.process.returncode}); "
                                   f"see {self.log}")
            if self.ready() and self.password():
                return
            time.sleep(1)
        raise TimeoutError(f"Airflow not ready after {timeout:.0f} s; see {self.log}")

    def stop(self, timeout: float = 30) -> int:
        """Stop every component: standalone is asked as Ctrl-C would (it stops its
        components); whatever of its process tree is left (some components start their own
        process groups) is terminated, then killed."""
        try:
            tree = [psutil.Process(self.process.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _, alive = psutil.wait_procs(tree, timeout=timeout)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        return self.process.wait()


def start(cfg: Settings, port: int | None = None) -> Server:
    """Start `airflow standalone` on the project's state; its chatty output goes to a log file
    under AIRFLOW_HOME."""
    port = port or free_port()
    prepare(cfg)  # migrates the Airflow database once per home, as the demo does
    env = os.environ.copy()  # the whole environment goes on to Airflow's processes
    env.update(server_environment(cfg, port, env.get("PATH", "")))
    log = cfg.airflow_home / "logs" / "standalone.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115 - the child writes to it for its whole life
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    process = subprocess.Popen(
        [airflow, "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True)  # its own process group: stopped as one
    return Server(process, f"http://localhost:{port}", cfg.airflow_home, log)
