"""The engines under test, each run in a fresh subprocess (`python -m yishu.bench --_worker`)
so that its peak RSS (the process and its workers, polled every 50 ms) is its own."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

# ----------------------------------------------------------------------------- subprocesses


def _measure(args: list[str]) -> dict:
    """Run `python -m yishu.bench --_worker ...` and poll the RSS of its process tree."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-m", "yishu.bench", "--_worker", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    tree = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            rss = tree.memory_info().rss
            for child in tree.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench worker {args[0]} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 2**20
    # CPU seconds of the whole process tree (its workers were reaped by it): on a machine
    # shared with other jobs, rows per CPU-second says more than the wall clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def _worker(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="yishu.bench --_worker")
    parser.add_argument("engine", choices=["yishu", "presidio"])
    parser.add_argument("src")
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    result = _run_yishu(args) if args.engine == "yishu" else _run_presidio(args)
    print(json.dumps(result))


def _run_yishu(args) -> dict:
    import secrets

    from yishu.deid import auto
    from yishu.deid.engine import deidentify_stream

    started = time.perf_counter()
    classes = auto.classify(auto.read_sample(args.src, 10_000))
    plan = auto.auto_plan(classes, secrets.token_bytes(32))
    classified = time.perf_counter() - started
    stats = deidentify_stream(args.src, args.out, plan, workers=args.workers)
    return {"rows": stats.rows, "wall_s": time.perf_counter() - started,
            "classify_s": classified, "engine_s": stats.seconds,
            "startup_s": stats.startup_seconds, "steady_rows_per_s": stats.steady_rows_per_s,
            "engine_peak_rss_mb": stats.peak_rss_mb, "entities": dict(stats.entities),
            "plan": {c: str(a) for c, a in plan.columns.items()}}


def _run_presidio(args) -> dict:
    import logging

    import pyarrow as pa
    import pyarrow.parquet as pq
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasAnalysisBuilder, PandasDataProcessor, StructuredEngine

    from yishu.deid.recognizers import build_analyzer

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    df = pq.read_table(args.src).slice(0, args.rows).to_pandas()
    started = time.perf_counter()
    analyzer = build_analyzer()  # knows the Chinese entities; loads jieba
    built = time.perf_counter()
    analysis = PandasAnalysisBuilder(analyzer=analyzer).generate_analysis(df, language="zh")
    # operators close to Yishu's defaults: keyed hashing is not available, plain SHA-256 is
    operators = {
        "CN_RESIDENT_ID": OperatorConfig("hash"), "CN_PASSPORT": OperatorConfig("hash"),
        "PERSON": OperatorConfig("hash"),
        "CN_PHONE": OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 8,
                                            "from_end": True}),
    }
    out = StructuredEngine(PandasDataProcessor()).anonymize(df, analysis, operators)
    done = time.perf_counter()
    pq.write_table(pa.Table.from_pandas(out, preserve_index=False), args.out)
    return {"rows": len(df), "wall_s": time.perf_counter() - started,
            "steady_rows_per_s": len(df) / (done - built),
            "plan": dict(analysis.entity_mapping)}
