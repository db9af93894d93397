"""The official Delta Sharing client (`delta-sharing==1.4.2`) lists and loads a product from
`yishu serve` with a profile written by `yishu token issue --profile`.

The client pins pandas < 3 and pyarrow ≤ 23, so it lives in a virtualenv of its own,
`.venv-delta/` in the repository (git-ignored), which `make test` creates and this test
creates when it is missing (PyPI must then be reachable)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq

from tests.api.conftest import publish
from yishu.airflow.server import free_port
from yishu.resources import Resources
from yishu.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CLIENT = "delta-sharing==1.4.2"
VENV = REPO / ".venv-delta"
STAMP = VENV / ".installed-delta-sharing-1.4.2"  # the Makefile writes the same stamp

SCRIPT = textwrap.dedent("""
    import json, sys
    import delta_sharing
    profile = sys.argv[1]
    tables = delta_sharing.SharingClient(profile).list_all_tables()
    frame = delta_sharing.load_as_pandas(f"{profile}#insurance.insurance_claims.insurance_visits")
    print(json.dumps({"tables": [[t.share, t.schema, t.name] for t in tables],
                      "rows": frame.to_dict(orient="records")}, ensure_ascii=False))
""")


def client_python() -> Path:
    if not STAMP.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        done = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                               CLIENT], capture_output=True, text=True)
        assert done.returncode == 0, f"pip install {CLIENT} into {VENV} failed: {done.stderr}"
        STAMP.touch()
    return VENV / "bin" / "python"


def _yishu(env, *args) -> str:
    done = subprocess.run([str(Path(sys.executable).with_name("yishu")), *args], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_official_client_lists_and_loads_a_product(tmp_path):
    python = client_python()
    cfg = Settings.for_home(tmp_path / "home")
    res = Resources.from_settings(cfg)
    res.keys.signing_key()
    publish(res, "insurance_visits", 1, "L2", 3)
    publish(res, "insurance_visits", 2, "L3", 4)
    env = {**os.environ, **cfg.environ()}
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/delta-sharing"
    _yishu(env, "operator", "add", "保险公司", "--uscc", "91440300MA5F000007")
    licence = _yishu(env, "licence", "grant", "保险公司", "--scenario", "insurance_claims",
                     "--max-level", "L3", "--until", "2030-01-01")
    profile = tmp_path / "insurer.share"
    _yishu(env, "token", "issue", "--licence", licence, "--profile", str(profile),
           "--endpoint", endpoint)
    server = subprocess.Popen([str(Path(sys.executable).with_name("yishu")), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/public-key", timeout=2)
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
        done = subprocess.run([str(python), "-c", SCRIPT, str(profile)], capture_output=True,
                              text=True, timeout=120, env={"PATH": os.environ["PATH"]})
        assert done.returncode == 0, done.stderr
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["tables"] == [["insurance", "insurance_claims", "insurance_visits"]]
    folder = res.storage.product_version_dir("insurance", "insurance_visits", 2)
    assert got["rows"] == pq.read_table(folder / "data.parquet").to_pylist()
    with res.db.session() as s:
        from yishu.db.models import Delivery
        assert [(d.product, d.version, d.rows) for d in s.query(Delivery)] == [
            ("insurance_visits", 2, 4)]
