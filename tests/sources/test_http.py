"""The HTTP connector against a local JSON API started in the test: page, offset and cursor
pagination, a record path, an auth header from the environment, 429 with Retry-After and 500
retried, timeouts, and an HTML error page kept in the raw zone."""

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyarrow.parquet as pq
import pytest

from yishu.definitions import load_catalog
from yishu.definitions.connectors import HttpAuth, HttpSpec, Pagination
from yishu.settings import REPO_ROOT
from yishu.sources import http
from yishu.sources.collect import SourceUnavailable, collect

STATIONS = [{"station_id": f"S{n:04d}", "longitude": f"114.{n:03d}", "latitude": "22.5",
             "charge_count": n % 9, "TAZID": None, "area": 1.5, "perimeter": 7}
            for n in range(23)]
TOKEN = "t0ken-from-env"


class Api(BaseHTTPRequestHandler):
    """/page?page=N&size=K, /offset?offset=N&limit=K, /cursor?cursor=C; `script` holds
    answers to give first (status, headers, body) and `seen` every request."""

    script: list = []
    seen: list = []
    delay = 0.0

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        Api.seen.append((url.path, q, self.headers.get("Authorization")))
        if Api.delay:
            time.sleep(Api.delay)
        if Api.script:
            status, headers, body = Api.script.pop(0)
            return self._send(status, body, headers)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, json.dumps({"error": "unauthorized"}))
        if url.path == "/page":
            page, size = int(q.get("page", 1)), int(q.get("size", 10))
            items = STATIONS[(page - 1) * size:page * size]
            return self._send(200, json.dumps({"data": {"items": items}}))
        if url.path == "/offset":
            start, size = int(q.get("offset", 0)), int(q.get("limit", 10))
            return self._send(200, json.dumps({"rows": STATIONS[start:start + size]}))
        if url.path == "/cursor":
            start = int(q.get("cursor") or 0)
            rest = STATIONS[start:start + 10]
            nxt = str(start + 10) if start + 10 < len(STATIONS) else None
            return self._send(200, json.dumps({"results": rest, "next": nxt}))
        self._send(404, "not found")

    def _send(self, status, body, headers=None):
        data = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api():
    Api.script, Api.seen, Api.delay = [], [], 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _source(url, **spec):
    source = load_catalog(REPO_ROOT / "catalog").sources["ev_stations"]
    spec.setdefault("auth", HttpAuth(env="STATIONS_TOKEN"))
    spec.setdefault("backoff", 0)
    return dataclasses.replace(source, connector="http", location=None,
                               http=HttpSpec(url=url, **spec))


@pytest.fixture
def settings(fresh_res):
    return dataclasses.replace(fresh_res.settings, environment={"STATIONS_TOKEN": TOKEN})


def _collect(res, settings, source):
    return collect(source, "2026-11-01", settings=settings, storage=res.storage)


def _ids(result):
    return pq.read_table(result.snapshot).column("station_id").to_pylist()


@pytest.mark.parametrize("path,records,pagination", [
    ("/page", "data.items", Pagination(type="page", param="page", size_param="size", size=10)),
    ("/offset", "rows", Pagination(type="offset", param="offset", size_param="limit", size=10)),
    ("/cursor", "results", Pagination(type="cursor", param="cursor", cursor_path="next")),
])
def test_pagination_reads_every_record_once(fresh_res, settings, api, path, records,
                                            pagination):
    result = _collect(fresh_res, settings, _source(api + path, records=records,
                                                   pagination=pagination))
    assert result.problem is None, result.problem
    assert _ids(result) == [s["station_id"] for s in STATIONS]
    pages = 3 if pagination.type == "cursor" else 4  # page/offset: until an empty page
    assert len(Api.seen) == pages and all(auth == f"Bearer {TOKEN}" for *_, auth in Api.seen)
    table = pq.read_table(result.snapshot)
    assert table.column("charge_count").to_pylist()[:3] == ["0", "1", "2"]  # values as text
    bodies = Path(result.original).read_text(encoding="utf-8").splitlines()
    assert len(bodies) == pages and TOKEN not in "".join(bodies)  # kept, never the token
    again = _collect(fresh_res, settings, _source(api + path, records=records,
                                                  pagination=pagination))
    assert again.sha256 == result.sha256  # the same answers: no second snapshot


def test_an_api_capping_the_page_size_loses_no_row(fresh_res, settings, api):
    """Asked for 50 per page, the API gives 10: paging goes on until an empty page."""
    source = _source(api + "/offset", records="rows",
                     pagination=Pagination(type="offset", param="offset", size_param="size",
                                           size=50))
    result = _collect(fresh_res, settings, source)
    assert _ids(result) == [s["station_id"] for s in STATIONS]


def test_429_and_500_are_retried_honouring_retry_after(settings, api):
    Api.script = [(429, {"Retry-After": "7"}, "slow down"), (500, {}, "oops"),
                  (503, {}, "busy")]
    waits = []
    source = _source(api + "/offset", records="rows", backoff=0.5,
                     pagination=Pagination(type="offset", param="offset",
                                           size_param="limit", size=50))
    delivery = http.fetch(source, "2026-11-01", settings, sleep=waits.append)
    assert waits == [7.0, 1.0, 2.0]  # Retry-After, then backoff 0.5 doubled each attempt
    first = json.loads(b"".join(delivery.chunks).decode().splitlines()[0])
    assert first["status"] == 200 and len(json.loads(first["body"])["rows"]) == 23


def test_retries_give_up_with_one_clear_line(settings, api):
    Api.script = [(500, {}, "down")] * 3
    source = _source(api + "/page", records="data.items", retries=2)
    with pytest.raises(SourceUnavailable, match=r"no answer after 3 attempt\(s\) .*HTTP 500"):
        http.fetch(source, "2026-11-01", settings, sleep=lambda s: None)


def test_a_timeout_is_retried_then_reported(settings, api):
    Api.delay = 0.5
    source = _source(api + "/page", records="data.items", timeout=0.1, retries=1)
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        http.fetch(source, "2026-11-01", settings, sleep=lambda s: None)


def test_rate_limit_spaces_requests(settings, api):
    waits = []
    source = _source(api + "/page", records="data.items", rate_limit=2,
                     pagination=Pagination(type="page", size_param="size", size=10))
    http.fetch(source, "2026-11-01", settings, sleep=waits.append)
    assert len(waits) == 4 and all(w > 0.3 for w in waits[1:])  # 0.5 s apart at 2/s


def test_an_html_error_page_is_kept_and_quarantines_with_a_reason(fresh_res, settings, api):
    Api.script = [(200, {"Content-Type": "text/html"}, "<html><body>维护中</body></html>")]
    result = _collect(fresh_res, settings, _source(api + "/page", records="data.items"))
    assert result.snapshot is None and "is not JSON (it starts with '<html>" in result.problem
    assert "维护中" in Path(result.original).read_text(encoding="utf-8")


def test_missing_token_and_refused_token(fresh_res, settings, api):
    source = _source(api + "/page", records="data.items")
    with pytest.raises(SourceUnavailable, match="STATIONS_TOKEN is not set"):
        _collect(fresh_res, fresh_res.settings, source)
    wrong = dataclasses.replace(settings, environment={"STATIONS_TOKEN": "wrong"})
    result = _collect(fresh_res, wrong, source)
    assert "HTTP 401" in result.problem
