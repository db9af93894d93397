"""End-to-end benchmark: an N-row `health_visits` source through its collect DAG's stages
(collect → validate → land) and then the stages of every product DAG that reads it
(build → de-identify → risk check → publish), into a fresh state folder. The sample is clean
(a dirty one is quarantined, rightly, and no product is built; should a clean one be
quarantined anyway, it is released as a steward would, and the run says so).

    python -m yishu.bench.e2e [--rows N] [--parts-of N] [--without-free-text] [--keep]
                              [--until validate]

Each stage runs in a process of its own, called as the DAG's task calls it (the same stage
function, the reference of the previous task passed as JSON, as XCom would): Airflow's
LocalExecutor also runs every task in a process of its own, so a stage's peak RSS here is the
task's own, without the scheduler's overhead. Per stage and in total it prints wall time,
CPU-seconds (user + system, its worker processes included) and peak RSS, and the load average:
on a shared machine wall time means little, CPU-seconds do.

De-identification runs as the DAG runs it: `plan_parts`, then each part in a process of its
own (the mapped tasks: YISHU_FANOUT_ROWS rows a part, `--parts-of` here; one after another,
as on one worker slot), then `merge_parts`. `--without-free-text` publishes `doctor_note`
nowhere (a catalog copy in which its policy is `drop`): it measures everything but the name
model, whose cost is per row of free text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from yishu.bench.machine import load_average

SOURCE = "health_visits"
PARTITION = "2026-11-01"


def _resources(home: Path):
    from yishu.resources import Resources
    from yishu.settings import Settings

    settings = json.loads((home / "bench-settings.json").read_text(encoding="utf-8"))
    return Resources.from_settings(Settings.for_home(
        home, fanout_rows=settings["fanout_rows"], catalog_dir=Path(settings["catalog_dir"])))


def _settings(home: Path, fanout_rows: int, without_free_text: bool) -> None:
    """What every stage's process reads: the part size, and which catalog."""
    from yishu.settings import REPO_ROOT

    catalog = REPO_ROOT / "catalog"
    if without_free_text:
        catalog = home / "catalog"
        shutil.copytree(REPO_ROOT / "catalog", catalog)
        spec = catalog / "products" / "insurance_visits.yaml"
        text = spec.read_text(encoding="utf-8")
        redacted = "doctor_note: {from: doctor_note, policy: redact}"
        if redacted not in text:
            raise SystemExit(f"{spec}: no '{redacted}' line to change")
        spec.write_text(text.replace(redacted, "doctor_note: {from: doctor_note, policy: drop}"),
                        encoding="utf-8")
    (home / "bench-settings.json").write_text(json.dumps(
        {"fanout_rows": fanout_rows, "catalog_dir": str(catalog)}), encoding="utf-8")


def _stage(name: str, home: Path, ref: dict | None, product: str | None) -> dict | None:
    """One task's body, as the DAG factory (yishu/airflow/factory.py) writes it."""
    res = _resources(home)
    if name == "collect":
        from yishu.sources.collect import collect

        return collect(res.catalog.sources[SOURCE], PARTITION, settings=res.settings,
                       storage=res.storage).to_dict()
    if name == "validate":
        from yishu.pipeline.batches import validate_and_land
        from yishu.sources.collect import CollectResult

        batch = validate_and_land(res, CollectResult(**ref))
        if batch.status == "quarantined":
            # a clean sample should land (the generator once repeated 60 visit_ids at a million
            # rows): released as a steward would after review, so the product stages still run
            from yishu.pipeline.batches import review

            print(f"  quarantined ({batch.reason}): released for the benchmark", flush=True)
            batch = review(res, SOURCE, PARTITION, "released", "benchmark: reviewed",
                           snapshot=batch.snapshot_sha256, actor="bench")
        return {"status": batch.status, "reason": batch.reason, "grade": batch.quality_grade}
    from yishu.pipeline import products as stages
    from yishu.pipeline.refs import ProductRef

    if name == "build":
        return stages.build(res, product, PARTITION, run_id="bench").to_dict()
    if name == "plan_parts":
        planned, parts = stages.deidentify_plan(res, ProductRef.from_dict(ref))
        return {"ref": planned.to_dict(), "parts": parts}
    if name == "deidentify":  # one part: {ref, part}
        return stages.deidentify_part(res, ProductRef.from_dict(ref["ref"]), ref["part"])
    if name == "merge_parts":  # {ref, parts}
        return stages.deidentify_merge(res, ProductRef.from_dict(ref["ref"]),
                                       ref["parts"]).to_dict()
    return getattr(stages, name)(res, ProductRef.from_dict(ref)).to_dict()


def _run(name: str, home: Path, ref: dict | None, product: str | None = None) -> tuple[dict, dict]:
    """Run a stage in a child process; its result and its wall time, CPU-seconds, peak RSS."""
    out = home / "bench-ref.json"
    args = [sys.executable, "-m", "yishu.bench.e2e", "--stage", name, "--home", str(home),
            "--ref", json.dumps(ref), "--out", str(out)] + (["--product", product] if product
                                                           else [])
    started = time.perf_counter()
    child = subprocess.Popen(args)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"stage {name} failed (exit {child.returncode}): see its output above")
    # ru_maxrss of wait4 is the child's own peak (its worker processes: the larger of theirs)
    figures = {"stage": name + (f" ({product})" if product else ""), "wall_s": wall,
               "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}
    return json.loads(out.read_text(encoding="utf-8")), figures


def _print(row: dict) -> None:
    print(f"{row['stage']:<34} {row['wall_s']:>8.1f} s {row['cpu_s']:>8.1f} CPU-s "
          f"{row['peak_rss_mb']:>8,.0f} MB", flush=True)


def bench(rows: int, home: Path, fanout_rows: int, without_free_text: bool,
          until: str | None = None) -> list[dict]:
    from yishu.samples import write_sample

    _settings(home, fanout_rows, without_free_text)
    res = _resources(home)
    started = time.perf_counter()
    path = write_sample(res.storage, SOURCE, PARTITION, rows, seed=7, dirty=False)
    print(f"generated {rows:,} {SOURCE} rows ({path.stat().st_size / 2**20:,.0f} MB CSV, "
          f"{time.perf_counter() - started:.0f} s, not counted)", flush=True)
    print(f"{'stage':<34} {'wall':>10} {'CPU':>12} {'peak RSS':>11}")
    figures = []
    collected, row = _run("collect", home, None)
    figures.append(row), _print(row)
    landed, row = _run("validate", home, collected)
    figures.append(row), _print(row)
    if landed["status"] not in ("landed", "released"):
        raise SystemExit(f"the batch was {landed['status']}: {landed['reason']}")
    products = [p.name for p in res.catalog.products.values() if SOURCE in p.source_names
                and until is None]  # --until validate: the collect DAG's stages only
    for product in products:
        ref, row = _run("build", home, None, product)
        figures.append(row), _print(row)
        plan, row = _run("plan_parts", home, ref, product)
        figures.append(row), _print(row)
        done = []
        for part in plan["parts"]:
            result, row = _run("deidentify", home, {"ref": plan["ref"], "part": part}, product)
            done.append(result)
            figures.append({**row, "stage": f"deidentify part {part['index'] + 1}/"
                                            f"{len(plan['parts'])}"}), _print(figures[-1])
        ref, row = _run("merge_parts", home, {"ref": plan["ref"], "parts": done}, product)
        figures.append(row), _print(row)
        for stage in ("check_risk", "publish"):
            ref, row = _run(stage, home, ref, product)
            figures.append(row), _print(row)
        outcome = f"v{ref['version']}" if ref.get("version") else f"blocked: {ref['blocked']}"
        print(f"  {product}: {ref.get('rows_out') or 0:,} rows published, k={ref['k_achieved']},"
              f" {outcome}", flush=True)
    total = {"stage": "total", "wall_s": sum(f["wall_s"] for f in figures),
             "cpu_s": sum(f["cpu_s"] for f in figures),
             "peak_rss_mb": max(f["peak_rss_mb"] for f in figures)}
    _print(total)
    return figures + [total]


@contextlib.contextmanager
def fresh_home(prefix: str, keep: bool) -> Iterator[Path]:
    """A new state folder for one benchmark, the load average printed before and after (on a
    shared machine wall time means little without it); removed afterwards unless kept."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        print(f"load average before: {load_average()}  ({os.cpu_count()} CPUs)", flush=True)
        yield home
        print(f"load average after:  {load_average()}")
    finally:
        if keep:
            print(f"state kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the state folder (printed)")
    parser.add_argument("--parts-of", type=int, default=None, metavar="ROWS",
                        help="rows per de-identification part (default: YISHU_FANOUT_ROWS)")
    parser.add_argument("--without-free-text", action="store_true",
                        help="drop doctor_note instead of redacting it (no name model)")
    parser.add_argument("--until", choices=["validate"], help="stop after that stage")
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # the child: one stage
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--ref", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--product", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        result = _stage(args.stage, Path(args.home), json.loads(args.ref), args.product)
        Path(args.out).write_text(json.dumps(result, default=str), encoding="utf-8")
        return
    if not 1 <= args.rows <= 50_000_000:
        parser.error("--rows must be from 1 to 50,000,000")
    from yishu.settings import load

    with fresh_home("yishu-bench-e2e-", args.keep) as home:
        bench(args.rows, home, args.parts_of or load().fanout_rows, args.without_free_text,
              args.until)


if __name__ == "__main__":
    main()
