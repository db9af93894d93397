"""Helpers of the tests that start the real Airflow (`yishu airflow`) and drive it through its
REST API (/api/v2)."""

from __future__ import annotations

from pathlib import Path

import psutil

from yishu.airflow.rest_client import (  # noqa: F401 (the tests import them from here)
    UNFINISHED,
    YISHU,
    Api,
    read_until,
    start_yishu_airflow,
    stop_yishu_airflow,
    wait_for_runs,
)
from yishu.settings import environment_without_airflow


def new_database(pg_url: str, prefix: str) -> str:
    """The URL of a new database on the tests' PostgreSQL server."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return pg_url.replace("/yishu?", f"/{name}?")


def clean_environment() -> dict[str, str]:
    """The test process's environment without the Airflow settings an in-process run of an
    earlier test left there (they would name the session's Airflow home)."""
    return environment_without_airflow()


def airflow_processes(airflow_home: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("AIRFLOW_HOME") == str(airflow_home):
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found
