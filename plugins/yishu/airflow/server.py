"""The real Airflow on the project's state: api-server, scheduler, dag-processor and triggerer
with the same AIRFLOW_HOME, dags and plugins folders as the in-process runner, so what
`make demo` ran is what the UI shows. LocalExecutor: `airflow standalone` starts them;
CeleryExecutor: each component, and the Celery workers, started here.
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

from yishu.airflow import workers
from yishu.airflow.runner import airflow_environment, migrate, prepare
from yishu.settings import Settings

USER = "admin"
EXECUTORS = ("local", "celery")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


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
        # a busy machine (or SQLite's one writer) can make an answer outlast the default 5 s,
        # and a task whose start timed out fails before it ran
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "PYTHONWARNINGS": "ignore",
    }


@dataclass
class Server:
    processes: dict[str, subprocess.Popen]  # component -> its process, each its own group
    url: str
    home: Path
    log: Path  # standalone's log, or the folder of one log per component
    broker: str | None = None  # Celery: where the workers are pinged
    workers: tuple[str, ...] = ()  # Celery hostnames of the workers started here

    def password(self) -> str | None:
        """The admin password the API server generated (shown once by standalone, kept here)."""
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
        if not (health.get("scheduler", {}).get("status") == "healthy"
                and health.get("dag_processor", {}).get("status") == "healthy"):
            return False
        return not self.workers or set(self.workers) <= workers.workers_up(self.broker)

    def exited(self) -> tuple[str, int] | None:
        """The first component that stopped by itself, and its exit code."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stopped := self.exited():
                raise RuntimeError(f"Airflow's {stopped[0]} stopped (exit {stopped[1]}); "
                                   f"see {self.log}")
            if self.ready() and self.password():
                return
            time.sleep(1)
        raise TimeoutError(f"Airflow not ready after {timeout:.0f} s; see {self.log}")

    def wait(self) -> tuple[str, int]:
        """Block until a component stops by itself."""
        while not (stopped := self.exited()):
            time.sleep(1)
        return stopped

    def stop(self, timeout: float = 30) -> None:
        """Stop every component: each is asked as Ctrl-C would (standalone stops its own);
        whatever of their process trees is left (some components start process groups of
        their own) is terminated, then killed."""
        tree = []
        for process in self.processes.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                root = psutil.Process(process.pid)
                tree += [root, *root.children(recursive=True)]
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _, alive = psutil.wait_procs(tree, timeout=timeout)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        for process in self.processes.values():
            process.wait()


def start(cfg: Settings, port: int | None = None, executor: str = "local",
          worker_count: int = 0) -> Server:
    """Start Airflow on the project's state; its chatty output goes to log files under
    AIRFLOW_HOME/logs. Celery: raises CeleryNotConfigured before starting anything."""
    port = port or free_port()
    env = os.environ.copy()  # the whole environment goes on to Airflow's processes
    env.update(server_environment(cfg, port, env.get("PATH", "")))
    logs = cfg.airflow_home / "logs"
    if executor == "celery":
        env.update(workers.celery_environment(cfg))
        # no component may take another's port on this machine (8793 and 8794 by default)
        env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
    prepare(cfg)  # migrates the Airflow database once per home, as the demo does
    logs.mkdir(parents=True, exist_ok=True)
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    url = f"http://localhost:{port}"
    if executor == "local":
        log = logs / "standalone.log"
        return Server({"standalone": _spawn([airflow, "standalone"], env, log)}, url,
                      cfg.airflow_home, log)
    migrate(env)  # the components expect a migrated database: standalone would do it
    processes = {name: _spawn([airflow, name], env, logs / f"{name}.log") for name in COMPONENTS}
    names = tuple(workers.worker_name(n) for n in range(1, worker_count + 1))
    for name in names:
        own = {**env, **workers.worker_environment(name, free_port())}
        pid_file = str(cfg.airflow_home / f"{name}.pid")
        processes[name] = _spawn(workers.worker_command(airflow, name, pid_file), own,
                                 logs / f"{name}.log")
    return Server(processes, url, cfg.airflow_home, logs, env[workers.BROKER], names)


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - the child writes to it for its whole life
    with out:  # the child holds its own copy
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)  # its own process group: stopped as one
