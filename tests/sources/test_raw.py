"""Crash-safe raw snapshots (issue 10 item 6): the file named by a hash holds those bytes or is
absent, whatever kills the collect."""

import dataclasses
import hashlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from yishu.definitions import load_catalog
from yishu.settings import REPO_ROOT
from yishu.sources.collect import collect
from yishu.sources.raw import store

WEATHER_HEADER = "time,T,P0,P,U,nRAIN,Td\n"
ROW = "2022/9/1 0:00,27.3,750.6,756.1,87,0,24.9\n"


def _weather(path: Path):
    source = load_catalog(REPO_ROOT / "catalog").sources["futian_weather"]
    return dataclasses.replace(source, location=str(path))


def _named_files_hold_their_hash(folder: Path) -> list[str]:
    """Names of files in `folder` whose bytes are not the hash they are named by."""
    wrong = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.suffix == ".parquet":
            continue
        sha = path.name.split(".", 1)[0]
        if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            wrong.append(path.name)
    return wrong


def test_a_truncated_file_under_the_hash_name_is_replaced(fresh_res, tmp_path):
    """A leftover cut short by a crash (0644, other bytes) is re-hashed and replaced."""
    delivered = tmp_path / "weather.csv"
    delivered.write_text(WEATHER_HEADER + ROW * 50, encoding="utf-8")
    sha = hashlib.sha256(delivered.read_bytes()).hexdigest()
    folder = fresh_res.storage.raw_dir("futian_weather", "2026-11-01")
    leftover = folder / f"{sha}.csv"
    leftover.write_bytes(delivered.read_bytes()[:100])  # what a killed writer left behind
    leftover.chmod(0o644)

    result = collect(_weather(delivered), "2026-11-01", settings=fresh_res.settings,
                     storage=fresh_res.storage)

    assert Path(result.original) == leftover
    assert leftover.read_bytes() == delivered.read_bytes()
    assert stat.S_IMODE(leftover.stat().st_mode) == 0o440
    assert result.rows == 50 and result.problem is None


def test_store_keeps_a_correct_file_and_leaves_no_temporary(tmp_path):
    first = store([b"a,b\n", b"1,2\n"], tmp_path, ".csv")
    second = store([b"a,b\n1,2\n"], tmp_path, ".csv")
    assert first == second and first[1].read_bytes() == b"a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == [first[1].name]


def test_leftover_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / f".incoming.{dead}.abc.tmp").write_bytes(b"half")
    store([b"x"], tmp_path, ".csv")
    assert not list(tmp_path.glob(".incoming.*"))


_CHILD = textwrap.dedent("""
    import dataclasses, sys
    from pathlib import Path
    from yishu.definitions import load_catalog
    from yishu.resources import Resources
    from yishu.settings import REPO_ROOT, Settings
    from yishu.sources.collect import collect
    res = Resources.from_settings(Settings.for_home(Path(sys.argv[1])))
    source = load_catalog(REPO_ROOT / "catalog").sources["futian_weather"]
    source = dataclasses.replace(source, location=sys.argv[2])
    collect(source, "2026-11-01", settings=res.settings, storage=res.storage)
""")


@pytest.mark.parametrize("delay", [0.0, 0.05])
def test_a_collect_killed_mid_write_leaves_the_whole_file_or_none(tmp_path, delay):
    """SIGKILL while the raw bytes are being written (a 120 MB source): no file under a hash
    name holds other bytes, and the rerun completes the snapshot."""
    delivered = tmp_path / "big.csv"
    with open(delivered, "w", encoding="utf-8") as fh:
        fh.write(WEATHER_HEADER)
        fh.write(ROW * 3_000_000)
    home = tmp_path / "home"
    folder = home / "raw" / "futian_weather" / "2026-11-01"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(home), str(delivered)], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            if folder.is_dir() and any(p.stat().st_size > 0 for p in folder.iterdir()):
                break  # bytes are reaching the raw zone
            time.sleep(0.001)
        time.sleep(delay)
        killed = child.poll() is None
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert killed, "the collect finished before it could be killed: make the source larger"
    assert _named_files_hold_their_hash(folder) == []

    subprocess.run([sys.executable, "-c", _CHILD, str(home), str(delivered)], env=env,
                   check=True)
    sha = hashlib.sha256(delivered.read_bytes()).hexdigest()
    assert (folder / f"{sha}.csv").stat().st_size == delivered.stat().st_size
    assert _named_files_hold_their_hash(folder) == []
    assert (folder / f"{sha}.parquet").exists()
