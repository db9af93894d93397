"""The catalog database: one engine per URL, migrated to the latest revision on first use."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_SECONDS = 60
MIGRATE_LOCK = 0x59495348  # "YISH": the advisory lock key of catalog migrations on PostgreSQL


def migrate(engine) -> None:
    """Bring the catalog database to the latest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # workers on several machines may start on a new database at once: one migrates,
            # the others wait for its commit and find the schema at head
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_FIRST_USE = threading.Lock()  # Alembic's context is process-global: one migration at a time


def _engine(url: str):
    with _FIRST_USE:
        return _migrated_engine(url)


@cache
def _migrated_engine(url: str):
    database = make_url(url).database
    guard = contextlib.nullcontext()
    if url.startswith("sqlite") and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        # personal data and the audit log: owner only (SQLite gives its journal the same mode)
        os.close(os.open(database, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(database, 0o600)
        guard = _file_lock(Path(f"{database}.migrate.lock"))  # first runs in two processes
    # SQLite has one writer at a time; concurrent runs wait for the lock rather than fail
    # after pysqlite's default 5 s when a publisher's fsyncs are slow on a busy disk
    args = {"timeout": SQLITE_BUSY_SECONDS} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=args)
    if url.startswith("sqlite") and database and database != ":memory:":
        event.listen(engine, "connect", _sqlite_wal)
    with guard:
        migrate(engine)
    return engine


def _sqlite_wal(connection, _record) -> None:
    """WAL: readers (every API request authenticates) and the one writer no longer block each
    other. synchronous=FULL keeps every commit on disk before the audit head is signed, as
    the default journal did (NORMAL could lose the last commits to a power cut, and the log
    would then look cut)."""
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")


@contextlib.contextmanager
def _file_lock(path: Path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Database:
    """The catalog database at one SQLAlchemy URL (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, prepare: Callable[[], None] | None = None):
        self.url = url
        self._prepare = prepare  # run before the first connection (creates the state folder)
        self._engine: Engine | None = None  # kept: every request opens a session

    def session(self) -> Session:
        return Session(self.engine(), expire_on_commit=False)

    def connect(self) -> Connection:
        """A plain connection, for the hot paths that run SQL statements only (an ORM session
        costs more CPU than their queries)."""
        return self.engine().connect()

    def engine(self) -> Engine:
        if self._engine is None:
            if self._prepare is not None:
                self._prepare()
                self._prepare = None
            self._engine = _engine(self.url)
        return self._engine

    def upsert(self, model, keys: dict, **fields):
        """Insert or update the one row of `model` with these key values (reruns are safe)."""
        with self.session() as s:
            row = s.scalar(select(model).filter_by(**keys))
            if row is None:
                row = model(**keys)
                s.add(row)
            for name, value in fields.items():
                setattr(row, name, value)
            s.commit()
            return row
