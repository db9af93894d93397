"""transport_chargers (市交通运输局): the public charging station register, as the bureau's
open-data JSON API serves it, page by page; the demo starts that API on a free local port.

One record per station of the UrbanEV station list (`urbanev/inf_raw.csv`, CC0): its
`station_id` (the key of ev_stations, referenced), and a name, DC and AC piles adding up to the
station's `charge_count`, the strongest charger's power, the price and the opening hours,
drawn deterministically from the seed. `GET /api/v1/chargers?page=N&size=K` answers
`{"code": 0, "data": {"total", "page", "size", "items": [...]}}`; pages are capped at
MAX_PAGE_SIZE records and a page past the end is empty, as such APIs do.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

STATIONS = Path(__file__).with_name("urbanev") / "inf_raw.csv"
PATH = "/api/v1/chargers"
MAX_PAGE_SIZE = 100
_PLACES = ["福田口岸", "会展中心", "车公庙", "科技园", "深圳湾", "西丽", "宝安中心", "机场东",
           "龙华", "坂田", "布吉", "大运", "坪山", "光明", "盐田港", "蛇口", "前海", "石岩",
           "观澜", "沙井"]
_KINDS = ["公共充电站", "超级充电站", "停车场充电站", "公交场站充电站"]
_DC_POWER = [60, 120, 160, 240, 480]
_AC_POWER = [7, 11, 21]
_HOURS = ["07:00-23:00", "06:00-24:00", "08:00-22:00"]


def charger_records(seed: int = 7) -> list[dict]:
    """The register's records, in station order; the same seed gives the same records."""
    with open(STATIONS, encoding="utf-8", newline="") as fh:
        stations = [(int(r["station_id"]), int(r["charge_count"])) for r in csv.DictReader(fh)]
    rng = np.random.default_rng([seed, 5])
    records = []
    for station_id, piles in stations:
        dc = int(round(piles * rng.uniform(0.3, 1.0)))
        power = (_DC_POWER[rng.integers(len(_DC_POWER))] if dc else
                 _AC_POWER[rng.integers(len(_AC_POWER))])
        records.append({
            "station_id": station_id,
            "station_name": f"{_PLACES[rng.integers(len(_PLACES))]}"
                            f"{_KINDS[rng.integers(len(_KINDS))]}（{station_id}）",
            "dc_piles": dc, "ac_piles": piles - dc, "max_power_kw": power,
            "price_yuan_per_kwh": round(float(rng.uniform(0.85, 1.65)), 2),
            "open_hours": "24小时" if rng.random() < 0.8 else _HOURS[rng.integers(len(_HOURS))],
        })
    return records


def page_of(records: list[dict], query: dict[str, str]) -> dict:
    """The answer to one request's `page` and `size` (from 1; the size capped)."""
    page = max(int(query.get("page", 1)), 1)
    size = min(max(int(query.get("size", MAX_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    items = records[(page - 1) * size:page * size]
    return {"code": 0, "data": {"total": len(records), "page": page, "size": size,
                                "items": items}}


@contextmanager
def serve(records: list[dict]) -> Iterator[str]:
    """The API on a free port of 127.0.0.1 in a thread, while the block runs; yields its URL
    (`http://127.0.0.1:PORT/api/v1/chargers`)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # the demo tells its own story
            pass

        def do_GET(self):
            url = urlparse(self.path)
            try:
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, body = ((200, page_of(records, query)) if url.path == PATH else
                                (404, {"code": 404, "message": f"no such path {url.path}"}))
            except ValueError:
                status, body = 400, {"code": 400, "message": "page and size are numbers"}
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="chargers-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
