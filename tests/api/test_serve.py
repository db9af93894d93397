"""`yishu serve` serves the operator API alone, with its OpenAPI document, and the console."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from yishu.airflow.server import free_port
from yishu.resources import Resources
from yishu.settings import Settings


def test_yishu_serve_answers_and_refuses_without_a_token(tmp_path):
    cfg = Settings.for_home(tmp_path / "home")
    key = Resources.from_settings(cfg).keys.public_key_pem()
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("yishu")), "serve", "--port", str(port)],
        env={**os.environ, **cfg.environ()}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/public-key", timeout=2) as r:
                    assert r.read().decode() == key
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline and process.poll() is None, \
                    process.stdout.read().decode()
                time.sleep(0.3)
        with urllib.request.urlopen(f"{url}/openapi.json", timeout=5) as r:
            assert "/api/v1/products" in json.load(r)["paths"]
        try:
            urllib.request.urlopen(f"{url}/api/v1/products", timeout=5)
            raise AssertionError("served without a token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401 and json.load(exc)["error"] == "unknown_token"
        with urllib.request.urlopen(f"{url}/console/login", timeout=5) as r:  # the console
            assert 'action="/console/login"' in r.read().decode()
        with urllib.request.urlopen(f"{url}/console/static/console.css", timeout=5) as r:
            assert r.headers["content-type"].startswith("text/css")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_server_loads_the_catalog_and_opens_the_database_before_the_first_request(
        fresh_res, catalog_copy, caplog):
    from fastapi.testclient import TestClient

    from yishu.api.app import create_app

    with TestClient(create_app(fresh_res)):  # runs the app's startup
        assert fresh_res._catalog, "the catalog was left for the first request to load"
    (catalog_copy / "catalog" / "zones.yaml").write_text("zones: [unclosed\n")
    broken = Resources.from_settings(dataclasses.replace(
        fresh_res.settings, catalog_dir=catalog_copy / "catalog"))
    with TestClient(create_app(broken)) as client:  # starts anyway, and says why
        assert client.get("/api/v1/public-key").status_code == 200
    assert any("operator API" in r.getMessage() and "zones.yaml" in r.getMessage()
               for r in caplog.records)
