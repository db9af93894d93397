"""Operator API load benchmark: concurrent clients listing products and downloading a large
product over loopback, against `uvicorn` in a process of its own.

    python -m yishu.bench.api [--rows N] [--clients N] [--seconds S] [--workers N]

A fresh state folder gets a synthetic `insurance_visits` version of `--rows` rows (Parquet and
CSV, signed voucher, published with its audit entry as publishing does), an operator, a
licence and one token per client. Each phase (listing, Parquet download, CSV download) runs
`--clients` keep-alive connections (one asyncio loop) for `--seconds`, after an untimed second
of warm-up; it prints requests/s, MB/s, p50/p99 latency (a download's latency is the whole
file), the server's CPU time per request (and the clients') and its peak RSS (both summed
over its process tree; CPU per request stays meaningful on a busy machine), with the load
average. At the end the audit log is verified and its entries counted against the requests
made: the guarantees (every request audited, every delivery metered) hold under load, or it
says so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from yishu.bench.machine import load_average

PRODUCT = "insurance_visits"
WARM_UP_SECONDS = 1.0


def _publish(res, rows: int) -> None:
    """One signed version of `rows` synthetic rows, recorded with its audit entry."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    from yishu.access import audit
    from yishu.db.models import ProductVersion
    from yishu.pipeline.voucher import file_sha256, sign

    spec = res.catalog.products[PRODUCT]
    folder = res.storage.product_version_dir(spec.zone, PRODUCT, 1)
    rng = np.random.default_rng(7)
    tokens = pa.array(rng.integers(0, 2**63, rows).astype("uint64")).cast(pa.string())
    table = pa.table({
        "visit_id": pa.array(np.arange(rows)),
        "patient_token": tokens,  # random digits: compresses like real pseudonyms
        "age_band": pa.array(rng.choice(["0-17", "18-39", "40-59", "60+"], rows)),
        "district": pa.array(rng.choice(["福田区", "南山区", "罗湖区", "宝安区"], rows)),
        "icd10": pa.array(rng.choice(["J06.9", "I10", "E11.9", "K29.7", "M54.5"], rows)),
        "amount": pa.array(rng.gamma(2.0, 300.0, rows).round(2)),
        "visit_date": pa.array(np.datetime64("2026-01-01") + rng.integers(0, 300, rows)
                               .astype("timedelta64[D]")),
    })
    pq.write_table(table, folder / "data.parquet")
    pv.write_csv(table, folder / "data.csv")
    (folder / "deid_report.json").write_text("{}")
    body = {"product": PRODUCT, "version": 1, "zone": spec.zone, "rows": rows,
            "security_level": "L2", "files": {n: file_sha256(folder / n) for n in (
                "data.parquet", "data.csv", "deid_report.json")}, "schema": {}}
    voucher = sign(body, res.keys)
    with res.db.session() as s:
        s.add(ProductVersion(product=PRODUCT, zone=spec.zone, version=1, partition="2026-11-01",
                             rows=rows, security_level="L2", quality_grade="A",
                             fingerprint="bench", path=str(folder), voucher=voucher))
        audit.append(res, s, "product.publish", f"{spec.zone}/{PRODUCT}/v1",
                     {"rows": rows, "voucher_signature": voucher["signature"]})
        s.commit()


def _prepare(res, rows: int, clients: int) -> list[str]:
    from yishu.access import licences, tokens

    res.keys.signing_key()
    _publish(res, rows)
    licences.add_operator(res, "bench", "91440300MA5F000007")
    lic = licences.grant(res, "bench", "insurance_claims", "L3",
                         dt.date.today() + dt.timedelta(days=30))
    return [tokens.issue(res, lic.id, 1)[0] for _ in range(clients)]


def _start(env: dict, port: int, workers: int) -> subprocess.Popen:
    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "yishu.api.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning", "--no-access-log"], env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/public-key", timeout=2)
            return process
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit("the API server did not start") from None
            time.sleep(0.3)


class PeakRss:
    """The peak of the summed RSS of a process and its children, sampled every 50 ms."""

    def __init__(self, pid: int):
        import psutil

        self.root, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.05):
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                continue

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    bytes: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the server's, during the phase
    client_cpu_seconds: float = 0.0  # the clients' (this process), during the phase


async def _client(port: int, token: str, path: str, until: float, phase: Phase) -> None:
    """One keep-alive connection asking for `path` until `until`. A few lines of asyncio on a
    socket, not an HTTP library: the clients share the 2 cores with the server, and httpx in
    threads spent about as much CPU per request as the server did."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            found = _CONTENT_LENGTH.search(head)
            if found is None:
                phase.failures.append(f"{status} without Content-Length")
                return
            expected, size = int(found.group(1)), 0
            while size < expected:
                chunk = await reader.read(min(1 << 20, expected - size))
                if not chunk:
                    break
                size += len(chunk)
            phase.latencies.append(time.perf_counter() - started)
            phase.bytes += size
            if status != 200 or size != expected:
                phase.failures.append(f"{status} ({size} of {expected} B)")
                return
    finally:
        writer.close()


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process and its (living) children: the cost
    of the requests, which a busy machine does not change the way it changes req/s."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in (root, *root.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _run_phase(name: str, port: int, tokens: list[str], path: str, seconds: float,
               server_pid: int) -> tuple[Phase, int]:
    phase = Phase(name)
    rss = PeakRss(server_pid)
    cpu, own = server_cpu_seconds(server_pid), _own_cpu_seconds()
    started = time.perf_counter()

    async def clients():
        await asyncio.gather(*(_client(port, t, path, started + seconds, phase)
                               for t in tokens))

    asyncio.run(clients())
    phase.seconds = time.perf_counter() - started
    phase.cpu_seconds = server_cpu_seconds(server_pid) - cpu
    phase.client_cpu_seconds = _own_cpu_seconds() - own
    return phase, rss.stop()


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _line(phase: Phase, peak: int) -> str:
    n = len(phase.latencies)
    ordered = sorted(phase.latencies)
    p50 = statistics.median(ordered) * 1000 if n else 0
    p99 = ordered[min(n - 1, int(n * 0.99))] * 1000 if n else 0
    return (f"{phase.name:<16} {n:>6} req {n / phase.seconds:>8.1f} req/s "
            f"{phase.bytes / phase.seconds / 1e6:>8.1f} MB/s  p50 {p50:>8.1f} ms  "
            f"p99 {p99:>8.1f} ms  server CPU {phase.cpu_seconds * 1000 / max(n, 1):>6.2f} "
            f"ms/req (clients {phase.client_cpu_seconds * 1000 / max(n, 1):.2f})  peak RSS "
            f"{peak / 2**20:>6.0f} MB"
            + (f"  FAILED {len(phase.failures)}: {phase.failures[0]}" if phase.failures else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients per phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 50_000_000 or not 1 <= args.clients <= 256 \
            or not 1 <= args.workers <= 32 or not 0 < args.seconds <= 3600:
        parser.error("give --rows 1..50,000,000, --clients 1..256, --workers 1..32 and "
                     "--seconds up to 3600")
    from yishu import settings
    from yishu.access import audit, integrity
    from yishu.airflow.server import free_port
    from yishu.resources import Resources
    from yishu.settings import Settings

    with tempfile.TemporaryDirectory(prefix="yishu-bench-api-") as tmp:
        cfg = Settings.for_home(Path(tmp) / "home")
        res = Resources.from_settings(cfg)
        started = time.perf_counter()
        tokens = _prepare(res, args.rows, args.clients)
        folder = Path(res.storage.product_version_dir(
            res.catalog.products[PRODUCT].zone, PRODUCT, 1))
        sizes = {n: (folder / n).stat().st_size / 1e6 for n in ("data.parquet", "data.csv")}
        print(f"prepared {args.rows:,} rows in {time.perf_counter() - started:.1f} s: Parquet "
              f"{sizes['data.parquet']:.1f} MB, CSV {sizes['data.csv']:.1f} MB; "
              f"{args.clients} clients, {args.workers} worker(s), {args.seconds:g} s per phase, "
              f"{os.cpu_count()} CPUs, load average {load_average()}", flush=True)
        before = len(audit.entries(res.db))
        port = free_port()
        # the server gets this environment (as settings.py read it) and the bench's state
        server = _start({**settings.load().environment, **cfg.environ()}, port, args.workers)
        requests = 0
        try:
            download = f"/api/v1/products/{PRODUCT}/versions/1/download"
            for name, path in (("list products", "/api/v1/products"),
                               ("download parquet", f"{download}?format=parquet"),
                               ("download csv", f"{download}?format=csv")):
                # untimed warm-up: a worker's first request loads the catalog and opens the
                # database, seconds on a busy machine that would otherwise be the p99
                warm, _ = _run_phase(name, port, tokens, path, WARM_UP_SECONDS, server.pid)
                phase, peak = _run_phase(name, port, tokens, path, args.seconds, server.pid)
                requests += len(warm.latencies) + len(phase.latencies)
                print(_line(phase, peak), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
        logged = len(audit.entries(res.db)) - before
        damage = integrity.verify(res)
        print(f"load average at the end {load_average()}", flush=True)
        print(f"audit log: {logged} new entries for {requests} requests; "
              + ("chain and signed head verified" if not damage else
                 f"DAMAGED: {damage[0]}"), flush=True)
        if damage or logged != requests:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
