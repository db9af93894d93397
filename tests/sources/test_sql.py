"""The SQL connector on SQLite and on a real PostgreSQL server: a table or a query, read
incrementally by a watermark kept per source and partition in the catalog database."""

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests import pg_server
from yishu.db.watermarks import Watermarks
from yishu.definitions import load_catalog
from yishu.definitions.connectors import SqlSpec
from yishu.settings import REPO_ROOT, Settings
from yishu.sources.collect import SourceUnavailable, collect

T0 = dt.datetime(2026, 10, 31, 8, 0)


@pytest.fixture(scope="module")
def pg_url():
    url, stop = pg_server.start()
    yield url
    stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def department_db(request, tmp_path):
    """A department database holding an `inspections` table (and its URL)."""
    url = (f"sqlite:///{tmp_path / 'dept.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table("inspections", meta, sa.Column("inspection_id", sa.String(20)),
                     sa.Column("station_id", sa.String(20)),
                     sa.Column("inspection_date", sa.Date),
                     sa.Column("result", sa.String(20)), sa.Column("remark", sa.Text),
                     sa.Column("cost", sa.Numeric(10, 2)),
                     sa.Column("updated_at", sa.DateTime))
    meta.drop_all(engine)
    meta.create_all(engine)
    yield url, engine, table
    meta.drop_all(engine)
    engine.dispose()


def _insert(engine, table, first: int, count: int) -> None:
    with engine.begin() as c:
        c.execute(table.insert(), [
            {"inspection_id": f"I{n:05d}", "station_id": f"S{n % 7:03d}",
             "inspection_date": dt.date(2026, 10, 31), "result": "合格",
             "remark": None if n % 2 else f"第{n}次巡检", "cost": "12.50",
             "updated_at": T0 + dt.timedelta(minutes=n)} for n in range(first, first + count)])


def _source(**sql):
    source = load_catalog(REPO_ROOT / "catalog").sources["station_inspections"]
    return dataclasses.replace(source, connector="sql", location=None, sql=SqlSpec(**sql))


def _collect(res, source, partition, settings=None):
    return collect(source, partition, settings=settings or res.settings, storage=res.storage,
                   watermarks=Watermarks(res.db))


def test_incremental_by_watermark_and_reruns_read_the_same_rows(fresh_res, department_db):
    url, engine, table = department_db
    _insert(engine, table, 0, 5)
    source = _source(url=url, table="inspections", watermark="updated_at")

    first = _collect(fresh_res, source, "2026-11-01")
    assert first.problem is None and first.rows == 5
    snapshot = pq.read_table(first.snapshot)
    assert snapshot.column("inspection_id").to_pylist() == [f"I{n:05d}" for n in range(5)]
    assert snapshot.column("remark").to_pylist()[:2] == ["第0次巡检", None]  # NULL stays null

    _insert(engine, table, 5, 3)
    second = _collect(fresh_res, source, "2026-11-02")
    assert second.rows == 3  # only the rows above the first partition's watermark
    assert pq.read_table(second.snapshot).column("inspection_id").to_pylist() == [
        "I00005", "I00006", "I00007"]

    again = _collect(fresh_res, source, "2026-11-01")  # a rerun: same range, same bytes
    assert again.sha256 == first.sha256
    folder = Path(first.original).parent
    assert sorted(p.suffix for p in folder.iterdir()) == [".jsonl", ".parquet"]  # no duplicate


def test_a_query_from_a_url_held_by_the_environment(fresh_res, department_db):
    url, engine, table = department_db
    _insert(engine, table, 0, 4)
    source = _source(url_env="DEPT_DB_URL", watermark="updated_at",
                     query="SELECT inspection_id, station_id, inspection_date, result, remark, "
                           "updated_at FROM inspections WHERE result = '合格'")
    settings = dataclasses.replace(fresh_res.settings, environment={"DEPT_DB_URL": url})
    assert _collect(fresh_res, source, "2026-11-01", settings).rows == 4
    _insert(engine, table, 4, 2)
    assert _collect(fresh_res, source, "2026-11-02", settings).rows == 2
    with pytest.raises(SourceUnavailable, match="DEPT_DB_URL is not set"):
        _collect(fresh_res, source, "2026-11-03")


def test_a_table_that_is_not_there_is_one_clear_line(fresh_res, tmp_path):
    source = _source(url=f"sqlite:///{tmp_path / 'empty.db'}", table="nope")
    with pytest.raises(SourceUnavailable, match="sql: the database refused the read"):
        _collect(fresh_res, source, "2026-11-01")


def test_a_password_in_yaml_is_refused(catalog_copy):
    from yishu.definitions import CatalogError

    spec = catalog_copy / "catalog" / "sources" / "station_inspections.yaml"
    text = spec.read_text(encoding="utf-8").replace(
        "location: '{home}/inbox/station_inspections/{partition}.csv'",
        "connector: sql\nsql: {url: 'postgresql://u:hunter2@db/x', table: t}")
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog_copy / "catalog")
    assert any("sql.url: holds a password" in p for p in caught.value.problems)


def test_settings_hand_credentials_from_the_environment():
    from yishu import settings

    loaded = settings.load({"DEPT_DB_URL": "postgresql://u:s3cret@db/x", "YISHU_HOME": "/tmp/x"})
    assert loaded.credential("DEPT_DB_URL") == "postgresql://u:s3cret@db/x"
    assert loaded.credential("OTHER") is None
    assert "s3cret" not in repr(loaded)
    assert Settings.for_home(Path("/tmp/x")).credential("DEPT_DB_URL") is None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_null_watermark_never_makes_the_next_partition_read_everything(
        request, fresh_res, tmp_path, backend):
    """PostgreSQL sorts NULLs last: the highest value read must skip them."""
    url = (f"sqlite:///{tmp_path / 'dept.db'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("DROP TABLE IF EXISTS numbered"))
        c.execute(sa.text("CREATE TABLE numbered (inspection_id TEXT, station_id TEXT, "
                          "inspection_date TEXT, result TEXT, remark TEXT, seq INTEGER)"))
        c.execute(sa.text("INSERT INTO numbered VALUES ('I1','S1','2026-10-31','ok',NULL,1),"
                          "('I2','S1','2026-10-31','ok',NULL,2),"
                          "('I3','S1','2026-10-31','ok',NULL,NULL)"))
    source = _source(url=url, table="numbered", watermark="seq")
    assert _collect(fresh_res, source, "2026-11-01").rows == 3
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO numbered VALUES ('I4','S1','2026-11-01','ok',NULL,3)"))
    second = _collect(fresh_res, source, "2026-11-02")
    assert pq.read_table(second.snapshot).column("inspection_id").to_pylist() == ["I4"]
    with engine.begin() as c:
        c.execute(sa.text("DROP TABLE numbered"))
    engine.dispose()
