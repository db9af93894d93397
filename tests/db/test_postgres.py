"""The catalog database on a real PostgreSQL server (YISHU_DB_URL), as in production."""

import pytest
from sqlalchemy import create_engine, inspect

from tests import pg_server
from yishu.access import audit
from yishu.db.database import Database, migrate


@pytest.fixture(scope="module")
def pg_url():
    url, stop = pg_server.start()
    yield url
    stop()


def test_migrations_and_audit_chain_on_postgresql(pg_url):
    engine = create_engine(pg_url)
    migrate(engine)
    assert {"batches", "product_versions", "product_runs", "audit_log"} <= set(
        inspect(engine).get_table_names())
    db = Database(pg_url)
    for i in range(3):
        audit.record(db, "product.publish", f"open/p/v{i}", {"rows": i}, actor="bureau")
    assert audit.verify(db) == []
    assert [e.subject for e in audit.entries(db)][-3:] == ["open/p/v0", "open/p/v1", "open/p/v2"]
