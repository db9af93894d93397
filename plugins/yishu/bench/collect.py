"""Collection benchmark: rows/s and peak memory of collecting a GB18030 CSV (encoding detected)
and a SQL table, into a fresh state folder, then validating and landing each snapshot.

    python -m yishu.bench.collect [--rows N] [--db-url URL]

Validation reads the snapshot in chunks of YISHU_VALIDATE_CHUNK_ROWS rows (set it in the
environment to compare chunk sizes). CPU-seconds are the process's own (user + system).

The `health_visits` sample is written once as GB18030 CSV and loaded into the database
(`--db-url`, a SQLite file in the temporary folder by default; e.g. a PostgreSQL URL). Each
collect runs in a process of its own so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from yishu.bench.machine import load_average


def _prepare(folder: Path, rows: int, db_url: str) -> Path:
    import pyarrow.csv as pv
    import sqlalchemy as sa

    from yishu.samples import iter_generate

    csv_path, engine = folder / "visits.csv", sa.create_engine(db_url)
    with engine.begin() as c:
        c.execute(sa.text("DROP TABLE IF EXISTS bench_visits"))
    with open(csv_path, "wb") as out:
        for i, chunk in enumerate(iter_generate("health_visits", rows, seed=7, dirty=False)):
            sink = io.BytesIO()
            pv.write_csv(chunk, sink, pv.WriteOptions(include_header=i == 0))
            out.write(sink.getvalue().decode("utf-8").encode("gb18030"))
            chunk.to_pandas().to_sql("bench_visits", engine, if_exists="append", index=False,
                                     chunksize=20_000)
    engine.dispose()
    return csv_path


def _one(kind: str, csv_path: Path, db_url: str, home: Path) -> dict:
    """Collect once in this process; returns seconds, rows and peak RSS."""
    from yishu.definitions.connectors import SqlSpec
    from yishu.pipeline.batches import validate_and_land
    from yishu.resources import Resources
    from yishu.settings import Settings, load
    from yishu.sources.collect import collect

    chunk_rows = load().validate_chunk_rows
    res = Resources.from_settings(Settings.for_home(home, validate_chunk_rows=chunk_rows))
    source = res.catalog.sources["health_visits"]
    if kind == "csv":
        source = dataclasses.replace(source, location=str(csv_path), encoding=None)
    else:
        source = dataclasses.replace(source, connector="sql", location=None,
                                     sql=SqlSpec(url=db_url, table="bench_visits"))
    started = time.perf_counter()
    result = collect(source, "2026-11-01", settings=res.settings, storage=res.storage)
    seconds, collect_cpu = time.perf_counter() - started, _cpu()
    collect_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    batch = validate_and_land(res, result)
    validate_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "rows": result.rows, "seconds": round(seconds, 1),
            "rows_per_s": round(result.rows / seconds), "peak_rss_mb": round(collect_mb),
            "cpu_s": round(collect_cpu, 1), "validate_s": round(validate_s, 1),
            "validate_cpu_s": round(_cpu() - collect_cpu, 1),
            "total_peak_rss_mb": round(peak_mb), "status": batch.status,
            "chunk_rows": chunk_rows, "problem": result.problem}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db-url", default=None, help="SQLAlchemy URL of the source database")
    parser.add_argument("--only", choices=("csv", "sql"), help="collect one kind only")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)  # kind csv db home
    args = parser.parse_args(argv)
    if args.one:
        kind, csv_path, db_url, home = args.one
        print(json.dumps(_one(kind, Path(csv_path), db_url, Path(home))))
        return
    if not 1 <= args.rows <= 50_000_000:
        parser.error("--rows must be from 1 to 50,000,000")
    with tempfile.TemporaryDirectory(prefix="yishu-bench-collect-") as tmp:
        folder = Path(tmp)
        db_url = args.db_url or f"sqlite:///{folder / 'department.db'}"
        started = time.perf_counter()
        csv_path = _prepare(folder, args.rows, db_url)
        print(f"prepared {args.rows:,} rows: {csv_path.stat().st_size / 2**20:,.0f} MB GB18030 "
              f"CSV and a table in {db_url.split(':')[0]} ({time.perf_counter() - started:.0f} s)")
        print(f"load average {load_average()}")
        for kind in (args.only,) if args.only else ("csv", "sql"):
            done = subprocess.run([sys.executable, "-m", "yishu.bench.collect", "--one", kind,
                                   str(csv_path), db_url, str(folder / f"home-{kind}")],
                                  capture_output=True, text=True)
            if done.returncode:
                print(f"{kind}: failed:\n{done.stderr[-2000:]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            label = "GB18030 CSV (detected)" if kind == "csv" else "SQL table"
            print(f"{label:<24} {r['rows']:>10,} rows  {r['seconds']:>7} s  "
                  f"{r['rows_per_s']:>9,} rows/s  {r['cpu_s']} CPU-s  peak RSS "
                  f"{r['peak_rss_mb']:,} MB"
                  + (f"  problem: {r['problem']}" if r["problem"] else ""))
            print(f"{'  + validate and land':<24} {r['status']:>15}  {r['validate_s']:>7} s  "
                  f"{r['validate_cpu_s']} CPU-s  peak RSS {r['total_peak_rss_mb']:,} MB "
                  f"(chunks of {r['chunk_rows']:,} rows)")
        print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
