"""Test-wide setup: one temporary YISHU_HOME per session, set before Airflow is imported."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from yishu.resources import Resources
from yishu.settings import Settings

_HOME = Path(tempfile.mkdtemp(prefix="yishu-test-"))
os.environ["YISHU_HOME"] = str(_HOME)
os.environ["GX_ANALYTICS_ENABLED"] = "False"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def yishu_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def res() -> Resources:
    """The resources of the session's state folder (what the CLI and DAGs of the tests use)."""
    return Resources.from_settings(Settings.for_home(_HOME))


@pytest.fixture
def fresh_res(tmp_path) -> Resources:
    """Resources on an empty state folder of the test's own."""
    return Resources.from_settings(Settings.for_home(tmp_path / "home"))


@pytest.fixture
def catalog_copy(tmp_path, monkeypatch) -> Path:
    """A writable copy of catalog/ and expectations/ for tests that break them on purpose."""
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    shutil.copytree(REPO / "expectations", tmp_path / "expectations")
    monkeypatch.setenv("YISHU_CATALOG", str(tmp_path / "catalog"))
    monkeypatch.setenv("YISHU_EXPECTATIONS", str(tmp_path / "expectations"))
    return tmp_path


@pytest.fixture(scope="session")
def pg_url():
    """A real PostgreSQL server for the session (one: they all listen on one port)."""
    from tests import pg_server

    url, stop = pg_server.start()
    yield url
    stop()


@pytest.fixture
def pg_database(pg_url) -> str:
    """The URL of a new, empty database of the test's own on the session's server."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return pg_url.replace("/yishu?", f"/{name}?")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)
