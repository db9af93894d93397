"""The catalog database on a real PostgreSQL server (YISHU_DB_URL), as in production."""

import dataclasses
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, inspect, text

from yishu.access import audit, audit_group, integrity
from yishu.db.database import Database, migrate
from yishu.db.reservations import reserve_version
from yishu.resources import Resources
from yishu.settings import Settings


@pytest.fixture(scope="module")
def pg_res(pg_url, tmp_path_factory):
    """One state folder for the module: the signed head lives there, the log in PostgreSQL."""
    home = tmp_path_factory.mktemp("pg-home")
    return Resources.from_settings(Settings.for_home(home, db_url=pg_url))


def test_migrations_and_audit_chain_on_postgresql(pg_url, pg_res):
    engine = create_engine(pg_url)
    migrate(engine)
    assert {"batches", "product_versions", "product_runs", "audit_log", "audit_head",
            "version_reservations"} <= set(inspect(engine).get_table_names())
    for i in range(3):
        audit_group.record(pg_res, "product.publish", f"open/p/v{i}", {"rows": i}, actor="bureau")
    assert integrity.verify(pg_res) == []
    assert [e.subject for e in audit.entries(pg_res.db)][-3:] == ["open/p/v0", "open/p/v1",
                                                                  "open/p/v2"]


def test_a_session_in_another_time_zone_verifies_the_same_log(pg_url, pg_res):
    audit_group.record(pg_res, "reidentify", "tz", actor="bureau")
    shanghai_url = pg_url + "&options=-c%20TimeZone%3DAsia/Shanghai"
    with create_engine(shanghai_url).connect() as c:
        assert c.execute(text("SHOW TimeZone")).scalar() == "Asia/Shanghai"
    shanghai = dataclasses.replace(pg_res, db=Database(shanghai_url))
    at = audit.entries(shanghai.db)[-1].at
    assert at.utcoffset() == dt.timedelta(hours=8)  # what PostgreSQL hands back there
    assert integrity.verify(shanghai) == []


def test_concurrent_writers_keep_one_chain_on_postgresql(pg_res):
    def write(worker):
        for i in range(8):
            audit_group.record(pg_res, "reidentify", f"w{worker}/{i}", actor="bureau")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    assert integrity.verify(pg_res) == []


def test_concurrent_reservations_get_distinct_versions_on_postgresql(pg_res):
    def reserve(i):
        return reserve_version(pg_res.db, "pg_product", f"{i:064d}", f"run{i}")

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(reserve, range(12)))
    assert sorted(versions) == list(range(1, 13))
    assert reserve(3) == versions[3]  # the same inputs keep their number


def test_operators_licences_and_tokens_on_postgresql(pg_res):
    """Dates, time zones and unique constraints of the licensing tables on PostgreSQL."""
    from yishu.access import licences, tokens
    from yishu.errors import UserInputError

    licences.add_operator(pg_res, "pg-operator", "91440300MA5F000007")
    with pytest.raises(UserInputError, match="already registered"):
        licences.add_operator(pg_res, "pg-operator", "913100007109325157")
    licence = licences.grant(pg_res, "pg-operator", "insurance_claims", "L3",
                             dt.date(2030, 6, 30), today=dt.date(2026, 11, 24))
    now = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)
    token, row = tokens.issue(pg_res, licence.id, 7, now=now)
    grant = tokens.authenticate(pg_res, token, now=now + dt.timedelta(days=7, seconds=-1))
    assert (grant.valid_until, grant.zone) == (dt.date(2030, 6, 30), "insurance")
    with pytest.raises(tokens.AccessDenied, match="expired_token"):
        tokens.authenticate(pg_res, token, now=now + dt.timedelta(days=7))
    assert integrity.verify(pg_res) == []


def test_a_group_of_entries_commits_in_order_on_postgresql(pg_res):
    # one INSERT of the whole group, its seq numbers returned in the group's order
    before = len(audit.entries(pg_res.db))
    group = [audit_group._Waiting(pg_res, ("api.request", f"/g/{i}", {"i": i}, "bench"))
             for i in range(5)]
    assert audit_group._commit_group(pg_res, group) is None
    seqs = [w.entry.seq for w in group]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    log = audit.entries(pg_res.db)
    assert [e.subject for e in log[before:]] == [f"/g/{i}" for i in range(5)]
    assert [e.hash for e in log[before:]] == [w.entry.hash for w in group]
    audit.sign_head(pg_res, seqs[-1], group[-1].entry.hash)
    assert integrity.verify(pg_res) == []
