"""Streaming columnar de-identification: CSV, Parquet or Excel in, Parquet (or CSV) out.

    plan = Plan({"patient_phone": ColumnAction("mask"), "doctor_note": ColumnAction("redact")},
                secret=keys.pseudonym_secret("health"))  # keys: a yishu.keys.Keys
    stats = deidentify_stream("visits.csv", "visits.parquet", plan, workers=2)

The source is read batch by batch (files.py) and each batch goes through the plan in a worker
process; results are written in source order. At most 2 x workers batches are in flight, so
memory stays flat whatever the file size. Structured columns use the vectorized operators (a
Python call per distinct value at most); free text goes through TextScanner.redact_many, the
expensive part. Everything a worker needs travels in the Plan (secrets as bytes): workers read no
keys or settings, so the engine runs the same under fork, forkserver or spawn. (Operators come
from the registry; one registered at run time reaches forked workers, not spawned ones.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import psutil
import pyarrow as pa

from yishu.deid import registry
from yishu.deid.files import FileWriter, iter_batches, source_schema_of
from yishu.errors import UserInputError

# Free text is cut into smaller tasks than the read batch: a scanner task takes ~1 s per 10k
# rows, and with big tasks one worker idles while the other finishes the last one.
TEXT_TASK_ROWS = 8_192
# Plan arguments that satisfy an operator's needs (registry.NEEDS)
_PLAN_ARGUMENT = {"secret": "secret", "key": "encryption_key", "zone": "zone"}


@dataclass(frozen=True)
class ColumnAction:
    policy: str
    to: str | None = None  # one of the operator's targets (generalize: registry.GENERALIZE_TO)

    def __post_init__(self):
        # checked against the registry now, not a list copied at import: operators registered
        # later are accepted too
        if self.policy not in registry.OPERATORS:
            raise ValueError(f"unknown policy {self.policy!r}; "
                             f"known: {', '.join(registry.policy_names())}")
        targets = registry.get(self.policy).targets
        if targets and self.to not in targets:
            raise ValueError(f"{self.policy} needs to= one of {', '.join(targets)}")
        if not targets and self.to is not None:
            raise ValueError(f"{self.policy} takes no to= (got {self.to!r})")

    def __str__(self) -> str:
        return self.policy + (f":{self.to}" if self.to else "")


@dataclass(frozen=True)
class Plan:
    """What to do with each column. Picklable: it is sent to the worker processes as is.

    secret: the zone's pseudonymization secret (keys.pseudonym_secret(zone)); encryption_key:
    keys.encryption_key(); reference_date: the day ages are computed on (age_band), default
    today. Source columns the plan does not name get `unlisted` (drop: a new source column
    never leaks by default)."""

    columns: dict[str, ColumnAction]
    secret: bytes | None = field(default=None, repr=False)
    encryption_key: bytes | None = field(default=None, repr=False)
    zone: str | None = None  # encrypt: the zone whose ciphertexts these are
    reference_date: str | None = None
    unlisted: str = "drop"

    def __post_init__(self):
        for action in self.columns.values():
            missing = [f"{_PLAN_ARGUMENT[n]}=" for n in sorted(registry.get(action.policy).needs)
                       if n in _PLAN_ARGUMENT and not getattr(self, _PLAN_ARGUMENT[n])]
            if missing:
                raise ValueError(f"a plan with policy '{action.policy}' needs "
                                 f"{' and '.join(missing)}")
        if self.unlisted not in ("drop", "keep"):
            raise ValueError("unlisted must be 'drop' or 'keep'")

    def action(self, column: str) -> ColumnAction:
        return self.columns.get(column) or ColumnAction(self.unlisted)

    @property
    def needs(self) -> frozenset[str]:
        return registry.needs_of([*(a.policy for a in self.columns.values()), self.unlisted])

    @property
    def has_free_text(self) -> bool:
        """The plan scans text: the slow part, the only one worth worker processes."""
        return "scanner" in self.needs


@dataclass
class EngineStats:
    rows: int = 0
    seconds: float = 0.0  # wall clock, start-up of the workers included
    startup_seconds: float = 0.0  # until every worker was ready (scanner loaded)
    entities: Counter = field(default_factory=Counter)  # spans redacted in free text
    peak_rss_mb: float = 0.0  # this process and its workers, summed

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def steady_rows_per_s(self) -> float:
        """Throughput once the workers are up: what a long run approaches."""
        busy = self.seconds - self.startup_seconds
        return self.rows / busy if busy > 0 else 0.0



# ----------------------------------------------------------------------------- operators


@functools.lru_cache(maxsize=1)
def shared_scanner():
    """One TextScanner per process (importing presidio and loading jieba takes ~2.5 s). Forked
    workers inherit the parent's, already loaded."""
    from yishu.deid.text_scanner import TextScanner

    return TextScanner()


class _Applier:
    """A plan made ready to run: the scanner is only loaded if an operator needs it."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.context = registry.Context(
            secret=plan.secret, key=plan.encryption_key, zone=plan.zone,
            on=(dt.date.fromisoformat(plan.reference_date) if plan.reference_date
                else dt.date.today()),
            scanner=shared_scanner() if "scanner" in plan.needs else None)

    def column(self, array: pa.Array, action: ColumnAction, counts: Counter) -> pa.Array:
        out, found = registry.apply(array, action.policy,
                                    dataclasses.replace(self.context, to=action.to))
        counts.update(found)
        return out

    def batch(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter]:
        counts: Counter = Counter()
        names, arrays = [], []
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            action = self.plan.action(name)
            if registry.get(action.policy).publishes:
                names.append(name)
                arrays.append(self.column(array, action, counts))
        return pa.RecordBatch.from_arrays(arrays, names=names), counts


# ----------------------------------------------------------------------------- workers

_APPLIER = None  # this worker's applier: anything with .batch(batch) -> (batch, Counter)


def _init_worker(make_applier, barrier) -> None:
    global _APPLIER
    _APPLIER = make_applier()
    # every worker waits for the others, so the parent can time start-up apart from the work
    try:
        barrier.wait(timeout=300)
    except threading.BrokenBarrierError:  # the parent gave up (an error): just carry on
        pass


def _run(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter]:
    return _APPLIER.batch(batch)


class _PeakRss:
    """Samples the RSS of this process and its children (the workers) every 50 ms."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:  # a worker that just exited
                pass
        self.peak = max(self.peak, total)

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()


def _tasks(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


def _output_schema(schema: pa.Schema, plan: Plan) -> pa.Schema:
    fields = []
    for f in schema:
        operator = registry.get(plan.action(f.name).policy)
        if operator.publishes:
            fields.append(f if operator.passthrough else pa.field(f.name, pa.string()))
    return pa.schema(fields)


# ----------------------------------------------------------------------------- the engine


def deidentify_stream(source_path: str | Path, out_path: str | Path, plan: Plan, *,
                      workers: int = 2, batch_rows: int = 65_536,
                      mp_context: str | None = None) -> EngineStats:
    """Apply `plan` to every row of source_path and write the result to out_path (Parquet, or
    CSV if it ends with .csv). Rows keep their order. Free text is scanned in up to `workers`
    processes; workers=1, or a plan without free text, runs inline, without a pool.
    mp_context: how workers start; default "fork" where there is fork (Linux: the workers share
    the parent's loaded scanner), else "spawn" (workers load their own)."""
    source_path, out_path = Path(source_path), Path(out_path)
    stats = EngineStats()
    started = time.perf_counter()
    source_schema = source_schema_of(source_path)
    missing = sorted(set(plan.columns) - set(source_schema.names))
    if missing:
        raise UserInputError(f"{source_path}: the plan names columns the file lacks: {missing}")
    # dropped columns are not even read (a free-text column is most of the bytes)
    wanted = [n for n in source_schema.names if registry.get(plan.action(n).policy).publishes]
    batches = iter_batches(source_path, batch_rows, wanted)
    first = next(batches, None)
    schema = source_schema if first is None else first.schema

    def all_batches():
        if first is not None:
            yield first
            yield from batches

    writer = FileWriter(out_path, batch_rows)
    with _PeakRss() as rss:
        try:
            apply_batches(functools.partial(_Applier, plan), all_batches(), writer, stats,
                          workers=workers, free_text=plan.has_free_text, batch_rows=batch_rows,
                          mp_context=mp_context, started=started)
            writer.close(_output_schema(schema, plan))
        except BaseException:
            writer.abort()
            raise
    stats.seconds = time.perf_counter() - started
    stats.peak_rss_mb = rss.peak / 2**20
    return stats


def apply_batches(make_applier, batches: Iterator[pa.RecordBatch], writer, stats: EngineStats,
                  *, workers: int = 2, free_text: bool = False, batch_rows: int = 65_536,
                  mp_context: str | None = None, started: float | None = None) -> None:
    """The engine's loop, for any applier: `make_applier()` (picklable, called once in each
    worker) returns an object whose .batch(batch) gives (out batch, Counter). Results go to
    `writer.write` in source order; rows and counts add up in `stats`. The product stage
    (pipeline/product_deid.py) runs its column policy through here."""
    if mp_context is None:
        mp_context = "fork" if "fork" in get_all_start_methods() else "spawn"
    started = time.perf_counter() if started is None else started
    tasks = _tasks(batches, min(batch_rows, TEXT_TASK_ROWS) if free_text else batch_rows)
    # Without free text the vectorized operators outrun the pickling of batches to and from
    # workers (and their start-up): only free text is worth a process pool.
    if workers <= 1 or not free_text:
        applier = make_applier()
        stats.startup_seconds = time.perf_counter() - started
        for task in tasks:
            _collect(stats, writer, *applier.batch(task))
    else:
        _run_pool(make_applier, tasks, workers, mp_context, stats, writer, started)


def _collect(stats: EngineStats, writer: FileWriter, batch: pa.RecordBatch, counts: Counter):
    stats.rows += batch.num_rows
    stats.entities.update(counts)
    writer.write(batch)


def _run_pool(make_applier, tasks, workers, mp_context, stats, writer, started) -> None:
    ctx = get_context(mp_context)
    if ctx.get_start_method() == "fork":
        make_applier()  # load the scanner once here: the forked workers start with it ready
    barrier = ctx.Barrier(workers + 1)
    in_flight: deque = deque()
    ready = False

    def wait_ready():
        # the first submits started the workers; the start-up ends when all of them are ready
        nonlocal ready
        barrier.wait(timeout=300)
        stats.startup_seconds = time.perf_counter() - started
        ready = True

    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(make_applier, barrier)) as pool:
        try:
            for task in tasks:
                in_flight.append(pool.submit(_run, task))
                if not ready and len(in_flight) >= workers:
                    wait_ready()
                if len(in_flight) >= 2 * workers:  # bounded: memory stays flat
                    _collect(stats, writer, *in_flight.popleft().result())
            if not ready and in_flight:  # fewer tasks than workers
                wait_ready()
            while in_flight:
                _collect(stats, writer, *in_flight.popleft().result())
        except BaseException:
            barrier.abort()  # never leave a worker waiting for us at the barrier
            for future in in_flight:
                future.cancel()
            raise

