"""Benchmark: Yishu's streaming engine against presidio-structured on the same planted data.

    python -m yishu.bench                          # 1M rows, two scenarios (+ validation)
    python -m yishu.bench --rows 50000 --presidio-rows 2000
    python -m yishu.bench --stream-rows 10000000   # also stream a big file (takes minutes)
    python -m yishu.bench --validate-rows 1000000  # time the health_visits quality suite

Every engine runs in a fresh subprocess (engines.py), so its peak RSS is its own; quality is
measured against what the generator planted (quality.py). The engine's spawned workers import
this package: heavy imports stay inside functions.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from yishu.bench.engines import _measure, _worker
from yishu.bench.machine import machine
from yishu.bench.quality import quality

STRUCTURED = ["visit_id", "patient_name", "patient_resident_id", "patient_phone", "department",
              "visit_date"]
FREE_TEXT = STRUCTURED + ["doctor_note"]
SCENARIOS = {"structured": STRUCTURED, "free text": FREE_TEXT}
DEFAULT_ROWS = 1_000_000  # large enough that fixed start-up costs do not dominate
DEFAULT_PRESIDIO_ROWS = 5_000
# the 1M-row health_visits suite (issue: validation time on 1M rows) takes ~15 s here
DEFAULT_VALIDATE_ROWS = 1_000_000


# ----------------------------------------------------------------------------- scenarios


def _generate(path: Path, rows: int, columns: list[str] | None = None) -> None:
    """health_visits rows written chunk by chunk (a 10M-row file never sits in memory)."""
    import pyarrow.parquet as pq

    from yishu import samples as sample

    writer = None
    for chunk in sample.iter_generate("health_visits", rows, chunk_rows=100_000):
        chunk = chunk.select(columns) if columns else chunk
        writer = writer or pq.ParquetWriter(path, chunk.schema)
        writer.write_table(chunk)
    if writer:
        writer.close()


def run_scenarios(tmp: Path, rows: int, presidio_rows: int, workers: int) -> list[dict]:
    import pyarrow.parquet as pq

    _generate(tmp / "health_visits.parquet", rows, FREE_TEXT)
    data = pq.read_table(tmp / "health_visits.parquet")
    results = []
    for scenario, columns in SCENARIOS.items():
        src = tmp / f"{scenario.replace(' ', '_')}.parquet"
        pq.write_table(data.select(columns), src)  # the same rows for both scenarios
        for engine, extra in (("Yishu", ["--workers", str(workers)]),
                              ("presidio-structured", ["--rows", str(min(rows, presidio_rows))])):
            out = tmp / f"{scenario.replace(' ', '_')}.{engine}.out.parquet"
            print(f"  {scenario}: {engine} …", flush=True)
            kind = "yishu" if engine == "Yishu" else "presidio"
            result = _measure([kind, str(src), str(out), *extra])
            result.update(scenario=scenario, engine=engine,
                          **quality(data, pq.read_table(out), columns))
            results.append(result)
    return results


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def print_results(console, results: list[dict]) -> None:
    from rich.table import Table

    table = Table(title="De-identification: Yishu engine (auto mode) vs presidio-structured")
    for name in ("Scenario", "Engine", "Rows", "Rows/s wall", "Rows/s steady", "Speed-up",
                 "Peak RSS MB", "Strong-ID recall", "Name recall", "Precision"):
        table.add_column(name, justify="left" if name in ("Scenario", "Engine") else "right")
    base = {r["scenario"]: r for r in results if r["engine"] != "Yishu"}
    for r in results:
        other = base[r["scenario"]]
        wall = r["rows"] / r["wall_s"]
        speedup = "1×" if r is other else (
            f"{wall / (other['rows'] / other['wall_s']):.0f}× "
            f"({r['steady_rows_per_s'] / other['steady_rows_per_s']:.0f}×)")
        table.add_row(r["scenario"], r["engine"], f"{r['rows']:,}", f"{wall:,.0f}",
                      f"{r['steady_rows_per_s']:,.0f}", speedup, f"{r['peak_rss_mb']:,.0f}",
                      _pct(r["strong_recall"]), _pct(r["name_recall"]), _pct(r["precision"]))
    console.print(table)
    console.print(
        "[dim]Rows/s wall: from a cold start to the file written (Yishu: sampling 10,000 rows, "
        "classifying, starting the workers; presidio: building the analyzer). Rows/s steady: "
        "without those fixed costs (presidio: analysis + anonymization). Speed-up: wall "
        "(steady). presidio-structured ran on the first rows only (it is slow).\n"
        "structured: 6 columns. Strong-ID recall = planted resident IDs and phones no longer "
        "present in the output row; name recall = the same for patient names; precision = "
        "changed cells that held planted PII / all changed cells.\n"
        "free text: the same 6 columns + doctor_note, scored on doctor_note only (the rest is "
        "the structured scenario). Planted = every value the note template filled in (patient, "
        "doctor, family member). Recall = planted IDs/phones (names) no longer in the output "
        "note; precision = redacted spans overlapping a planted value / all redacted spans (a "
        "note replaced whole is one span).[/dim]")
    for r in results:
        extra = (f"; classify {r['classify_s']:.1f} s, worker start-up {r['startup_s']:.1f} s, "
                 f"entities redacted {r['entities']}" if r["engine"] == "Yishu" else "")
        unparsed = f"; {r['unparsed']} notes unparsed" if r.get("unparsed") else ""
        console.print(f"[dim]{r['scenario']} / {r['engine']}: plan {r['plan']}{extra}"
                      f"{unparsed}[/dim]")


def run_stream(console, tmp: Path, rows: int, workers: int, columns: list[str]) -> None:
    path = tmp / "stream.parquet"
    console.print(f"streaming {rows:,} rows ({len(columns)} columns): generating …")
    started = time.perf_counter()
    _generate(path, rows, columns)
    console.print(f"  generated in {time.perf_counter() - started:.0f} s "
                  f"({path.stat().st_size / 2**20:,.0f} MiB Parquet); de-identifying …")
    r = _measure(["yishu", str(path), str(tmp / "stream.out.parquet"), "--workers",
                  str(workers)])
    path.unlink()
    console.print(
        f"[bold]stream[/bold]: {r['rows']:,} rows in {r['wall_s']:,.0f} s → "
        f"{r['rows'] / r['wall_s']:,.0f} rows/s wall, {r['steady_rows_per_s']:,.0f} rows/s "
        f"steady; peak RSS {r['peak_rss_mb']:,.0f} MB (target ≤ 2,048); plan {r['plan']}")


def run_validation(console, tmp: Path, rows: int, cat, expectations_dir: Path) -> None:
    """Time the health_visits suite; `cat` is the loaded Catalog (see main)."""
    from yishu.pipeline.batches import typed_frame
    from yishu.standard.suites import read_suite
    from yishu.standard.validate import run_suite

    path = tmp / "validate.parquet"
    _generate(path, rows)
    started = time.perf_counter()
    df = typed_frame(cat, cat.sources["health_visits"], str(path))
    typed = time.perf_counter() - started
    suite = read_suite(expectations_dir, "health_visits")
    started = time.perf_counter()
    outcome = run_suite(df, suite)
    seconds = time.perf_counter() - started
    console.print(
        f"[bold]validation[/bold]: health_visits suite ({len(outcome.results)} expectations) on "
        f"{rows:,} rows: {seconds:.1f} s → {rows / seconds:,.0f} rows/s (typing the frame "
        f"{typed:.1f} s more); {len(outcome.critical_failures)} critical failures (planted)")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        return _worker(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m yishu.bench", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--presidio-rows", type=int, default=DEFAULT_PRESIDIO_ROWS,
                        help="rows given to presidio-structured (at most --rows)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stream-rows", type=int, default=0,
                        help="also stream this many rows through the engine (e.g. 10000000)")
    parser.add_argument("--stream-scenario", choices=list(SCENARIOS), default="free text")
    parser.add_argument("--validate-rows", type=int, default=DEFAULT_VALIDATE_ROWS,
                        help="also time the health_visits quality suite on this many rows")
    args = parser.parse_args(argv)

    from rich.console import Console

    from yishu import settings as yishu_settings
    from yishu.definitions import load_catalog

    # The one place the benchmark reads the environment; the rest is handed objects.
    settings = yishu_settings.load()
    cat = load_catalog(settings.catalog_dir) if args.validate_rows else None

    console = Console(width=150)  # a wide table, also when piped to a file
    console.print(f"$ {shlex.join([Path(sys.executable).name, '-m', 'yishu.bench', *argv])}")
    console.print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="yishu-bench-") as tmp:
        tmp = Path(tmp)
        if args.rows:
            console.print(f"generating {args.rows:,} health_visits rows …")
            print_results(console, run_scenarios(tmp, args.rows, args.presidio_rows,
                                                 args.workers))
        if args.stream_rows:
            run_stream(console, tmp, args.stream_rows, args.workers,
                       SCENARIOS[args.stream_scenario])
        if args.validate_rows:
            run_validation(console, tmp, args.validate_rows, cat, settings.expectations_dir)
