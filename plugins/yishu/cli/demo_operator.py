"""The demo's last act: a licensed operator receives a product over HTTP.

The bureau registers a demo operator (reused on reruns), grants it a licence for the insurance
scenario, issues a token and a Delta Sharing profile; the operator API starts on a free local
port; the operator downloads the latest version, checks it against its voucher with the pinned
public key, reads the same table through the Delta Sharing protocol, and sees its usage.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
from rich.console import Console

from yishu.access import licences, tokens
from yishu.pipeline.voucher import check_signature, file_sha256
from yishu.resources import Resources

OPERATOR, USCC = "示例保险科技有限公司", "91440300MA5F000007"  # a valid demo USCC
SCENARIO, PRODUCT = "insurance_claims", "insurance_visits"


def _licence(res: Resources) -> int:
    """The demo operator's active licence for the scenario: granted on the first run."""
    if not any(op.name == OPERATOR for op in licences.list_operators(res)):
        licences.add_operator(res, OPERATOR, USCC, "demo", actor="demo")
    today = dt.date.today()
    for lic, op in licences.list_licences(res):
        if (op.name == OPERATOR and op.status == "active" and lic.status == "active"
                and lic.scenario == SCENARIO and lic.valid_until > today):
            return lic.id
    until = min(res.catalog.scenarios[SCENARIO].valid_until, today + dt.timedelta(days=365))
    return licences.grant(res, OPERATOR, SCENARIO, "L3", until, actor="demo").id


class _Server:
    """The operator API on a free loopback port, in a thread, for the length of a `with`."""

    def __init__(self, res: Resources):
        import uvicorn

        from yishu.airflow.server import free_port
        from yishu.api.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(res), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the operator API did not start on {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def operator_story(console: Console, res: Resources) -> None:
    console.print("\n[bold]5. A licensed operator receives the product[/] (operator API)")
    licence_id = _licence(res)
    token, row = tokens.issue(res, licence_id, 1, actor="demo")
    folder = res.settings.home / "operator"
    folder.mkdir(exist_ok=True)
    profile = folder / "demo.share"
    profile.unlink(missing_ok=True)  # the demo's own file, rewritten with today's token
    with _Server(res) as server:
        tokens.write_profile(profile, token, f"{server.url}/delta-sharing", row.expires_at)
        console.print(f"  operator '{OPERATOR}', licence {licence_id} ({SCENARIO}, up to L3), "
                      f"token {row.id} (profile {profile})", highlight=False, soft_wrap=True)
        with httpx.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            _receive(console, http, folder)


def _receive(console: Console, http: httpx.Client, folder: Path) -> None:
    latest = http.get(f"/api/v1/products/{PRODUCT}").raise_for_status().json()["latest"]
    if latest is None:
        console.print(f"  [yellow]{PRODUCT} has no published version to deliver[/]")
        return
    version = latest["version"]
    base = f"/api/v1/products/{PRODUCT}/versions/{version}"
    data = folder / f"{PRODUCT}_v{version}.parquet"
    with http.stream("GET", f"{base}/download") as response, data.open("wb") as out:
        for chunk in response.raise_for_status().iter_bytes():
            out.write(chunk)
    voucher = http.get(f"{base}/voucher").raise_for_status().json()
    key = folder / "bureau.pub"  # pinned once: a later key that differs is not trusted
    if not key.exists():
        key.write_text(http.get("/api/v1/public-key").raise_for_status().text)
    problem = check_signature(voucher, key.read_text())
    if problem is None and file_sha256(data) != voucher["body"]["files"]["data.parquet"]:
        problem = "the downloaded file's SHA-256 differs from the voucher"
    rows = pq.read_metadata(data).num_rows
    console.print(f"  GET {base}/download → {data} ({rows} rows, "
                  f"{data.stat().st_size:,} bytes)", highlight=False, soft_wrap=True)
    console.print("  voucher signature and SHA-256 checked with the pinned key "
                  f"{key}: " + ("[green]valid[/]" if problem is None else f"[red]{problem}[/]"),
                  highlight=False, soft_wrap=True)
    shared = _delta_sharing_rows(http)
    console.print(f"  Delta Sharing (insurance.{SCENARIO}.{PRODUCT}): {shared.num_rows} rows, "
                  + ("the same table" if shared.equals(pq.read_table(data)) else
                     "[red]differs from the download[/]"), highlight=False)
    used = http.get("/api/v1/usage").raise_for_status().json()
    console.print(f"  usage this month ({used['month']}): {used['downloads']} downloads, "
                  f"{used['rows']} rows, {used['bytes']:,} bytes", highlight=False)


def _delta_sharing_rows(http: httpx.Client):
    """What a Delta Sharing client does: query the table, then fetch its signed file link."""
    table = f"/delta-sharing/shares/insurance/schemas/{SCENARIO}/tables/{PRODUCT}"
    lines = http.post(f"{table}/query", json={}).raise_for_status().text.splitlines()
    url = next(json.loads(line)["file"]["url"] for line in lines if '"file"' in line)
    with httpx.Client(timeout=60) as anonymous:  # the link alone is the credential
        return pq.read_table(io.BytesIO(anonymous.get(url).raise_for_status().content))
