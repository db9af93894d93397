"""End-to-end benchmark through the real Airflow: an N-row `health_visits` source collected by
its DAG under the scheduler (`yishu airflow`, LocalExecutor), and every product DAG that reads
it run asset-triggered, on a fresh state folder.

    python -m yishu.bench.airflow [--rows N] [--without-free-text] [--keep]

It writes the sample into the source's inbox (not counted), starts `yishu airflow`, unpauses
the DAGs, triggers `collect__health_visits` through the REST API and waits until each product
run has finished. It prints the wall time from the trigger to the last product run's end,
each task's own duration as Airflow recorded it, and peak memory sampled every 0.2 s over the
whole process tree: the largest single process (a task, under LocalExecutor a process of its
own) and all of Airflow's processes together (scheduler, API server, dag-processor, triggerer,
tasks). `--without-free-text` drops `doctor_note` instead of redacting it, as in
`yishu.bench.e2e`. Unpausing also starts the latest scheduled collect interval (today, an
empty inbox): it is left to fail beside ours, as it would in production.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

SOURCE = "health_visits"
PARTITION = "2026-11-01"


class PeakMemory(threading.Thread):
    """The largest RSS of one process, and of the tree together, under `pid`."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.every = psutil.Process(pid), every
        self.largest, self.total, self._done = 0, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            rss = []
            for proc in [self.root, *self.root.children(recursive=True)]:
                try:
                    rss.append(proc.memory_info().rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            self.largest = max(self.largest, max(rss, default=0))
            self.total = max(self.total, sum(rss))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _wait(api, collect: str, ours: str, publish: list[str], timeout: float) -> dict:
    """The runs once our collect run and a run of each product DAG have finished (the
    scheduled collect run of today may wait for its delivery: not ours)."""
    from yishu.airflow.rest_client import UNFINISHED

    deadline = time.monotonic() + timeout
    while True:
        runs = {dag_id: api.runs(dag_id) for dag_id in (collect, *publish)}
        mine = [r for r in runs[collect] if r["dag_run_id"] == ours]
        if mine and mine[0]["state"] not in UNFINISHED and mine[0]["state"] != "success":
            raise SystemExit(f"{collect} run {ours} ended {mine[0]['state']}")
        if mine and mine[0]["state"] == "success" and all(
                runs[d] and runs[d][0]["state"] not in UNFINISHED for d in publish):
            return runs
        if time.monotonic() > deadline:
            raise SystemExit(f"runs not done after {timeout:.0f} s")
        time.sleep(1)


def bench(rows: int, home: Path, without_free_text: bool, timeout: float) -> dict:
    from yishu.airflow.rest_client import start_yishu_airflow, stop_yishu_airflow
    from yishu.airflow.server import free_port
    from yishu.bench.e2e import _settings
    from yishu.resources import Resources
    from yishu.samples import write_sample
    from yishu.settings import Settings, environment_without_airflow, load

    _settings(home, load().fanout_rows, without_free_text)
    chosen = json.loads((home / "bench-settings.json").read_text(encoding="utf-8"))
    cfg = Settings.for_home(home, catalog_dir=Path(chosen["catalog_dir"]))
    res = Resources.from_settings(cfg)
    started = time.perf_counter()
    write_sample(res.storage, SOURCE, PARTITION, rows, seed=7, dirty=False)
    print(f"generated {rows:,} {SOURCE} rows ({time.perf_counter() - started:.0f} s, not "
          "counted)", flush=True)
    products = [p.name for p in res.catalog.products.values() if SOURCE in p.source_names]
    env = {**environment_without_airflow(), **cfg.environ()}
    process, _, api = start_yishu_airflow(["--port", str(free_port())], env)
    peak = PeakMemory(process.pid)
    peak.start()
    try:
        for dag_id in (f"collect__{SOURCE}", *(f"publish__{p}" for p in products)):
            api.unpause(dag_id)
        started = time.perf_counter()
        ours = api.call("POST", f"/api/v2/dags/collect__{SOURCE}/dagRuns",
                        {"logical_date": None, "conf": {"partition": PARTITION}})["dag_run_id"]
        publish = [f"publish__{p}" for p in products]
        runs = _wait(api, f"collect__{SOURCE}", ours, publish, timeout)
        wall = time.perf_counter() - started
        collect = next(r for r in runs[f"collect__{SOURCE}"] if r["dag_run_id"] == ours)
        measured = [(f"collect__{SOURCE}", collect), *((d, runs[d][0]) for d in publish)]
        tasks = {dag_id: api.task_instances(dag_id, run["dag_run_id"])
                 for dag_id, run in measured}
    finally:
        peak.stop()
        stop_yishu_airflow(process)
    print(f"{'DAG run / task':<44} {'state':>9} {'seconds':>9}")
    for dag_id, run in measured:
        print(f"{dag_id:<44} {run['state']:>9} "
              f"{_seconds(run['start_date'], run['end_date']):>9.1f}")
        for t in sorted(tasks[dag_id], key=lambda t: (t["start_date"] or "",
                                                      t.get("map_index", -1))):
            mapped = f"[{t['map_index']}]" if t.get("map_index", -1) >= 0 else ""
            print(f"  {t['task_id'] + mapped:<42} {t['state'] or '-':>9} "
                  f"{t['duration'] or 0:>9.1f}")
    print(f"total, trigger to the last product run's end: {wall:.1f} s; peak RSS: largest "
          f"process {peak.largest / 2**20:,.0f} MB, all Airflow processes "
          f"{peak.total / 2**20:,.0f} MB", flush=True)
    return {"wall_s": wall, "largest_rss_mb": peak.largest / 2**20,
            "total_rss_mb": peak.total / 2**20}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--without-free-text", action="store_true",
                        help="drop doctor_note instead of redacting it (no name model)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for runs")
    parser.add_argument("--keep", action="store_true", help="keep the state folder (printed)")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 50_000_000:
        parser.error("--rows must be from 1 to 50,000,000")
    from yishu.bench.e2e import fresh_home

    with fresh_home("yishu-bench-airflow-", args.keep) as home:
        bench(args.rows, home, args.without_free_text, args.timeout)


if __name__ == "__main__":
    main()
