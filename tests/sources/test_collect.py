import functools

import pyarrow.parquet as pq
import pytest

from yishu.definitions import load_catalog
from yishu.settings import REPO_ROOT
from yishu.sources import collect as collect_module
from yishu.sources.collect import SourceUnavailable


@pytest.fixture
def weather(tmp_path):
    import dataclasses

    source = load_catalog(REPO_ROOT / "catalog").sources["futian_weather"]
    path = tmp_path / "weather.csv"
    return dataclasses.replace(source, location=str(path)), path


@pytest.fixture
def collect(fresh_res):
    """collect() into a state folder of the test's own."""
    return functools.partial(collect_module.collect, settings=fresh_res.settings,
                             storage=fresh_res.storage)


def test_snapshot_is_content_hashed_and_idempotent(weather, collect):
    source, path = weather
    path.write_text("time,T,P0,P,U,nRAIN,Td,extra\n2022/9/1 0:00,27.3,750.6,756.1,87,0,24.9,x\n",
                    encoding="utf-8")
    first = collect(source, "2026-11-01")
    again = collect(source, "2026-11-01")
    assert first.snapshot == again.snapshot and first.sha256 in first.snapshot
    table = pq.read_table(first.snapshot)
    assert table.column_names == list(source.columns)  # undeclared 'extra' never enters
    assert table.column("T").to_pylist() == ["27.3"]  # raw values kept as text


def test_wrong_encoding_keeps_the_bytes_and_names_the_problem(weather, collect):
    source, path = weather
    path.write_bytes("time,T,P0,P,U,nRAIN,Td\n二〇二二,1,2,3,4,0,5\n".encode("gb18030"))
    result = collect(source, "2026-11-01")
    assert result.snapshot is None and "not valid utf-8" in result.problem
    assert str(path) in result.problem and "encoding" in result.problem
    assert open(result.original, "rb").read() == path.read_bytes()


def test_missing_column_is_named(weather, collect):
    source, path = weather
    path.write_text("time,T\n2022/9/1 0:00,27.3\n", encoding="utf-8")
    result = collect(source, "2026-11-01")
    assert "missing column(s) ['P0', 'P', 'U', 'nRAIN', 'Td']" in result.problem


def test_absent_file_says_what_to_do(weather, collect):
    source, _ = weather
    with pytest.raises(SourceUnavailable, match="^source file .*weather.csv not found: deliver it"):
        collect(source, "2026-11-01")


def test_duplicate_header_column_is_a_problem_not_a_crash(weather, collect):
    source, path = weather
    path.write_text("time,T,T,P0,P,U,nRAIN,Td\n2022/9/1 0:00,1,1,2,3,4,0,5\n", encoding="utf-8")
    result = collect(source, "2026-11-01")
    assert result.snapshot is None and "['T'] appear more than once" in result.problem


def test_raw_zone_is_private_and_read_only(weather, collect):
    import stat

    source, path = weather
    path.write_text("time,T,P0,P,U,nRAIN,Td\n2022/9/1 0:00,27.3,750.6,756.1,87,0,24.9\n",
                    encoding="utf-8")
    result = collect(source, "2026-11-01")
    from pathlib import Path

    snapshot = Path(result.snapshot)
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o440
    assert stat.S_IMODE(Path(result.original).stat().st_mode) == 0o440
    assert stat.S_IMODE(snapshot.parent.stat().st_mode) == 0o700


def test_bad_partition_never_becomes_a_path(weather, collect):
    from yishu.errors import UserInputError

    source, path = weather
    path.write_text("time,T,P0,P,U,nRAIN,Td\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="YYYY-MM-DD"):
        collect(source, "../../escape")
