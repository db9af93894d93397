"""A new catalog database is created and migrated once, however many threads or processes
open it first at the same moment (two first `yishu run`s, Airflow tasks starting together, on
SQLite and on PostgreSQL)."""

import subprocess
import sys
import threading

from sqlalchemy import select

from yishu.db.database import Database
from yishu.db.models import AuditEntry


def test_threads_opening_a_new_database_at_once(tmp_path):
    url, start, errors = f"sqlite:///{tmp_path / 'new.db'}", threading.Barrier(6), []

    def first_use():
        start.wait()
        try:
            with Database(url).session() as s:
                s.scalars(select(AuditEntry)).all()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _first_use_in_processes(url: str, count: int = 4) -> list[str]:
    code = ("import sys\nfrom sqlalchemy import select\nfrom yishu.db.database import Database\n"
            "from yishu.db.models import AuditEntry\n"
            "with Database(sys.argv[1]).session() as s:\n"
            "    s.scalars(select(AuditEntry)).all()\n")
    runs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE,
                             text=True) for _ in range(count)]
    return [err for p in runs if (err := p.communicate()[1]) and p.returncode]


def test_processes_opening_a_new_database_at_once(tmp_path):
    assert _first_use_in_processes(f"sqlite:///{tmp_path / 'new.db'}") == []


def test_processes_opening_a_new_postgresql_database_at_once(pg_database):
    # Celery workers on several machines starting on a new catalog database: without the
    # advisory lock two of them created Alembic's table at once ("duplicate key ... pg_type")
    assert _first_use_in_processes(pg_database) == []


def test_a_writer_waits_for_a_long_held_write_lock(fresh_res):
    # a publisher holds the writers' lock while it renames and fsyncs: on a busy disk that can
    # outlast pysqlite's default 5 s, and the other run must wait, not fail "database is locked"
    from sqlalchemy import update

    from yishu.access import audit_group
    from yishu.db.models import AuditHead

    audit_group.record(fresh_res, "reidentify", "z/0", actor="b")
    held, done = threading.Event(), []

    def slow_publisher():
        with fresh_res.db.session() as s:
            s.execute(update(AuditHead).values(seq=AuditHead.seq))  # the writers' lock
            held.set()
            threading.Event().wait(6)
            s.commit()

    holder = threading.Thread(target=slow_publisher)
    holder.start()
    held.wait()
    done.append(audit_group.record(fresh_res, "reidentify", "z/1", actor="b").seq)
    holder.join()
    assert done == [2]
