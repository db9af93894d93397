"""Run a Yishu DAG in-process with `dag.test()` on an embedded SQLite Airflow under YISHU_HOME.

Airflow reads its configuration when first imported, so `prepare()` sets it before any import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from yishu.airflow.lineage import transport_settings
from yishu.settings import Settings


def airflow_environment(cfg: Settings) -> dict[str, str]:
    home = cfg.airflow_home
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(cfg.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(cfg.repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",  # two cores
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        **metadata_database(cfg.airflow_metadata_url),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX": "regexp",  # glob syntax warns via pathspec
        "GX_ANALYTICS_ENABLED": "False",
        **transport_settings(cfg.home / "lineage"),
    }


# SQLite has one writer: an `airflow backfill create` or a clear next to the scheduler and the
# API server waits for the lock instead of failing "database is locked" after 5 s
SQLITE_CONNECT_ARGS = {"timeout": 60}


def metadata_database(url: str) -> dict[str, str]:
    """Airflow's settings for its metadata database. Airflow derives the async URL of
    PostgreSQL for asyncpg, which is not installed: psycopg serves both."""
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url}
    if url.startswith("sqlite"):
        for key in ("SQL_ALCHEMY_CONNECT_ARGS", "SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
            env[f"AIRFLOW__DATABASE__{key}"] = "yishu.airflow.runner.SQLITE_CONNECT_ARGS"
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = (
            "postgresql+psycopg_async://" + url.split("://", 1)[1])
    return env


def prepare(cfg: Settings) -> None:
    """Configure and migrate the embedded Airflow (once per YISHU_HOME)."""
    env = airflow_environment(cfg)
    env["PYTHONWARNINGS"] = "ignore"  # library deprecation chatter is not the user's business
    warnings.filterwarnings("ignore")
    for key, value in env.items():
        os.environ.setdefault(key, value)  # Airflow reads its configuration once per process
    os.environ.update(cfg.environ())  # the tasks of dag.test() build their settings from it
    home = cfg.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    (cfg.home / "lineage").mkdir(exist_ok=True)  # the file transport does not create it
    migrate(os.environ.copy())


def migrate(env: dict[str, str]) -> None:
    """`airflow db migrate` on the database `env` names, once (AIRFLOW_HOME/.migrated holds the
    database last migrated: another one is migrated too)."""
    stamp = Path(env["AIRFLOW_HOME"]) / ".migrated"
    database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if stamp.exists() and stamp.read_text() == database:
        return
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    done = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`airflow db migrate` failed in {stamp.parent}:\n"
                           f"{done.stderr[-2000:]}")
    stamp.write_text(database)


@dataclass
class RunResult:
    dag_id: str
    state: str
    tasks: dict[str, str]  # task_id -> state (a mapped task: its instances' worst)
    instances: dict[str, int] = field(default_factory=dict)  # task_id -> instances run


def load_dags(cfg: Settings) -> dict:
    prepare(cfg)
    from airflow.dag_processing.dagbag import DagBag

    logging.getLogger("py.warnings").disabled = True  # Airflow routes warnings to logging

    bag = DagBag(dag_folder=str(cfg.dags_dir))
    if bag.import_errors:
        problems = "\n".join(f"{f}: {e.strip().splitlines()[-1]}"
                             for f, e in bag.import_errors.items())
        raise RuntimeError(f"DAG files failed to import:\n{problems}")
    return bag.dags


def log_path(cfg: Settings, dag_id: str, partition: str):
    """Where `run_dag` keeps the task logs of a local run."""
    return cfg.airflow_home / "logs" / f"{dag_id}.{partition}.log"


def run_dag(cfg: Settings, dag_id: str, partition: str) -> RunResult:
    """Run one DAG for a partition; retries are off so a local run fails fast."""
    dags = load_dags(cfg)
    if dag_id not in dags:
        raise KeyError(f"no DAG '{dag_id}': known are {', '.join(sorted(dags))}")
    dag = dags[dag_id]
    for t in dag.tasks:
        t.retries = 0
    logging.getLogger("airflow").setLevel(logging.WARNING)
    logical = dt.datetime.fromisoformat(partition).replace(tzinfo=dt.UTC)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # Airflow resets filters
    # the tasks' own log lines (a compliance stop's reason and traceback) go to the run's log
    # file, as in a deployment, not into the command's story
    log_file = log_path(cfg, dag_id, partition)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as out, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(out):
        dr = dag.test(logical_date=logical, run_conf={"partition": partition})
    from airflow.settings import Session

    with Session() as s:
        states: dict[str, list[str]] = {}
        for ti in dr.get_task_instances(session=s):
            states.setdefault(ti.task_id, []).append(str(getattr(ti.state, "value", ti.state)))
    tasks = {tid: _worst(states[tid]) for tid in dag.task_ids if tid in states}
    return RunResult(dag_id, str(getattr(dr.state, "value", dr.state)), tasks,
                     {tid: len(states[tid]) for tid in tasks})


def _worst(states: list[str]) -> str:
    """One state for the instances of a task (a mapped task has one per part)."""
    for state in ("failed", "upstream_failed", "skipped"):
        if state in states:
            return state
    return states[0] if len(set(states)) == 1 else "mixed"
