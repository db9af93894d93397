"""Benchmark: Yishu's streaming engine against presidio-structured on the same planted data.

    python -m yishu.bench                          # 200,000 rows, two scenarios (+ validation)
    python -m yishu.bench --rows 50000 --presidio-rows 2000
    python -m yishu.bench --stream-rows 10000000   # also stream a big file (takes minutes)
    python -m yishu.bench --validate-rows 1000000  # time the health_visits quality suite

Every engine runs in a fresh subprocess (`--_worker`), so its peak RSS (the process and its
workers, polled every 50 ms) is its own. Quality is measured against what the generator
planted: the patients' names, resident IDs and phones in the structured columns, and in
doctor_note every value a note template filled in (patient, doctor, family member).
This module is also imported by the engine's spawned workers: imports stay inside functions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STRUCTURED = ["visit_id", "patient_name", "patient_resident_id", "patient_phone", "department",
              "visit_date"]
FREE_TEXT = STRUCTURED + ["doctor_note"]
SCENARIOS = {"structured": STRUCTURED, "free text": FREE_TEXT}
STRONG_COLUMNS = ("patient_resident_id", "patient_phone")
NAME_COLUMNS = ("patient_name",)
# note-template fields that are personal data; the strong ones and the names count for recall,
# all of them for precision (联系人：王先生's 王 is too short to test for presence)
NOTE_STRONG = ("id", "phone", "phone_dashed", "family_phone", "family_phone_spaced")
NOTE_NAMES = ("name", "doctor", "family")
NOTE_PII = NOTE_STRONG + NOTE_NAMES + ("family_surname",)
_FIELD_RES = {
    "id": r"[0-9]{17}[0-9Xx]|[0-9]{15}", "phone": r"1[0-9]{10}", "family_phone": r"1[0-9]{10}",
    "phone_dashed": r"[0-9]{3}-[0-9]{4}-[0-9]{4}",
    "family_phone_spaced": r"[0-9]{3} [0-9]{4} [0-9]{4}",
    "name": r"[\u4e00-\u9fff·]{2,5}?", "doctor": r"[\u4e00-\u9fff·]{2,5}?",
    "family": r"[\u4e00-\u9fff·]{2,5}?", "family_surname": r"[\u4e00-\u9fff]",
    "gender": "[男女]", "age": r"-?[0-9]+", "title": "先生|女士",
}
PLACEHOLDER = re.compile(r"<[^<>\s]{1,24}>")
DEFAULT_ROWS = 1_000_000  # large enough that fixed start-up costs do not dominate
DEFAULT_PRESIDIO_ROWS = 5_000
# the 1M-row health_visits suite (issue: validation time on 1M rows) takes ~15 s here
DEFAULT_VALIDATE_ROWS = 1_000_000


# ----------------------------------------------------------------------------- machine


def machine() -> str:
    import psutil

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB RAM;"
            f" load average {load}; Python {platform.python_version()}")


# ----------------------------------------------------------------------------- subprocesses


def _measure(args: list[str]) -> dict:
    """Run `python -m yishu.bench --_worker ...` and poll the RSS of its process tree."""
    import psutil

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


# ----------------------------------------------------------------------------- quality


def _note_patterns() -> list[re.Pattern]:
    """One regex per note template of the generator, a named group per filled-in field."""
    from yishu.samples.health import _NOTE_TEMPLATES

    patterns = []
    for _, parts in _NOTE_TEMPLATES:
        body = "".join(
            f"(?P<{p[1:-1]}>{_FIELD_RES.get(p[1:-1], '.+?')})" if p.startswith("{")
            else re.escape(p) for p in parts)
        patterns.append(re.compile(body))
    return patterns


def _planted_in_note(note: str, patterns) -> dict[str, tuple[int, int]] | None:
    """{field: (start, end)} of the personal data a template put in this note."""
    for pattern in patterns:
        m = pattern.fullmatch(note)
        if m:
            return {f: m.span(f) for f in NOTE_PII if f in m.groupdict()}
    return None


def redacted_spans(src: str, out: str) -> list[tuple[int, int]]:
    """Where the input text was replaced: the literal text between the output's placeholders
    is found again in the input, and the gaps are the replaced spans. A cell replaced whole
    (presidio-structured) is one span."""
    if src == out:
        return []
    pieces = PLACEHOLDER.split(out)
    if len(pieces) > 1 and src.startswith(pieces[0]) and src.endswith(pieces[-1]):
        spans, pos = [], len(pieces[0])
        for piece in pieces[1:-1]:
            at = src.find(piece, pos + 1)  # a replaced span has at least one character
            if at < 0:
                break
            spans.append((pos, at))
            pos = at + len(piece)
        else:
            end = len(src) - len(pieces[-1])
            if end > pos:
                return spans + [(pos, end)]
    import difflib

    ops = difflib.SequenceMatcher(None, src, out, autojunk=False).get_opcodes()
    return [(i1, max(i2, i1 + 1)) for op, i1, i2, _, _ in ops if op != "equal"] or [(0, len(src))]


def quality(src, out, columns: list[str]) -> dict:
    """Recall and precision of one engine's output against the planted values (rows align)."""
    src = src.slice(0, out.num_rows)
    if "doctor_note" in columns:
        return _note_quality(src.column("doctor_note").to_pylist(),
                             out.column("doctor_note").to_pylist()
                             if "doctor_note" in out.column_names else [None] * out.num_rows)
    pii = set(STRONG_COLUMNS + NAME_COLUMNS)
    inputs = {c: src.column(c).to_pylist() for c in columns}
    outputs = {c: (out.column(c).cast("string").to_pylist() if c in out.column_names
                   else [None] * out.num_rows) for c in columns}
    # [hits, total]: [gone from the output, planted]; [changed cells that held PII, changed]
    strong, names, changed = [0, 0], [0, 0], [0, 0]
    for i in range(out.num_rows):
        row_out = "\x1f".join(str(outputs[c][i]) for c in columns)
        for c in columns:
            value = inputs[c][i]
            if value is None:
                continue
            if c in pii:
                tally = strong if c in STRONG_COLUMNS else names
                tally[0] += value not in row_out
                tally[1] += 1
            if outputs[c][i] != value:
                changed[0] += c in pii
                changed[1] += 1
    return {"strong_recall": _share(strong), "name_recall": _share(names),
            "precision": _share(changed), "planted": strong[1] + names[1], "unparsed": 0}


def _note_quality(notes: list, outs: list) -> dict:
    patterns = _note_patterns()
    strong, names, spans = [0, 0], [0, 0], [0, 0]  # [hits, total], as in quality()
    unparsed = 0
    for note, out in zip(notes, outs, strict=True):
        if not note:
            continue
        planted = _planted_in_note(note, patterns)
        if planted is None:
            unparsed += 1
            planted = {}
        out = out or ""
        for field, (a, b) in planted.items():
            tally = strong if field in NOTE_STRONG else names if field in NOTE_NAMES else None
            if tally is not None:
                tally[0] += note[a:b] not in out
                tally[1] += 1
        for a, b in redacted_spans(note, out):
            spans[0] += any(a < pe and ps < b for ps, pe in planted.values())
            spans[1] += 1
    return {"strong_recall": _share(strong), "name_recall": _share(names),
            "precision": _share(spans), "planted": strong[1] + names[1], "unparsed": unparsed}


def _share(pair) -> float | None:
    """[hits, total] -> hits / total."""
    return pair[0] / pair[1] if pair[1] else None


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


def run_validation(console, tmp: Path, rows: int) -> None:
    from yishu.definitions import load_catalog
    from yishu.pipeline.batches import typed_frame
    from yishu.settings import load
    from yishu.standard.suites import read_suite
    from yishu.standard.validate import run_suite

    path = tmp / "validate.parquet"
    _generate(path, rows)
    settings = load()
    cat = load_catalog(settings.catalog_dir)
    started = time.perf_counter()
    df = typed_frame(cat, cat.sources["health_visits"], str(path))
    typed = time.perf_counter() - started
    suite = read_suite(settings.expectations_dir, "health_visits")
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
            run_validation(console, tmp, args.validate_rows)


if __name__ == "__main__":
    main()
