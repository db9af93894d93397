"""Airflow's CeleryExecutor for `yishu airflow --executor celery`: what every component must
share (a PostgreSQL metadata database, the broker; results go to the metadata database unless
AIRFLOW__CELERY__RESULT_BACKEND names another), and the Celery workers started beside the
scheduler, each under a hostname of its own that its task instances record.
"""

from __future__ import annotations

import socket

from yishu.settings import Settings

BROKER = "AIRFLOW__CELERY__BROKER_URL"
HOSTNAME = "YISHU_WORKER_HOSTNAME"  # set for the workers `yishu airflow` starts


class CeleryNotConfigured(ValueError):
    """A setting the CeleryExecutor needs is missing; the message says which and how."""


def celery_environment(cfg: Settings) -> dict[str, str]:
    """The settings every component (scheduler, API server, workers) runs with."""
    if not cfg.airflow_metadata_url.startswith("postgresql"):
        raise CeleryNotConfigured(
            "the CeleryExecutor needs a PostgreSQL metadata database that every component "
            "reaches: set YISHU_AIRFLOW_DB_URL (e.g. postgresql+psycopg://airflow@db/airflow)")
    if not cfg.environment.get(BROKER):
        raise CeleryNotConfigured(
            f"the CeleryExecutor needs a broker: set {BROKER} (e.g. redis://127.0.0.1:6379/0)")
    return {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", BROKER: cfg.environment[BROKER]}


def worker_name(number: int) -> str:
    return f"yishu-worker-{number}"


def worker_command(airflow: str, name: str, pid_file: str) -> list[str]:
    """One worker taking one task at a time (a task may use a core of its own)."""
    return [airflow, "celery", "worker", "--celery-hostname", name, "--concurrency", "1",
            "--pid", pid_file]


def worker_environment(name: str, log_port: int) -> dict[str, str]:
    """What differs between workers on one machine: the hostname their task instances record
    (all would record the machine's name) and the port serving their logs."""
    return {HOSTNAME: name, "AIRFLOW__CORE__HOSTNAME_CALLABLE": "yishu.airflow.workers.hostname",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port)}


def hostname() -> str:
    """Airflow's `hostname_callable` for the workers `yishu airflow` starts: their Celery
    hostname; elsewhere the machine's name, as Airflow's default."""
    from yishu import settings

    return settings.load().environment.get(HOSTNAME) or socket.getfqdn()


def workers_up(broker_url: str, timeout: float = 1.0) -> set[str]:
    """The Celery hostnames of the workers answering a ping through the broker."""
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(timeout=timeout) or []
    except OSError:
        return set()
    finally:
        app.close()
    return {node.split("@", 1)[-1] for reply in replies for node in reply}
