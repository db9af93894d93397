"""Streaming columnar de-identification: CSV, Parquet or Excel in, Parquet (or CSV) out.

    plan = Plan({"patient_phone": ColumnAction("mask"), "doctor_note": ColumnAction("redact")},
                secret=keys.pseudonym_secret("health"))
    stats = deidentify_stream("visits.csv", "visits.parquet", plan, workers=2)

The source is read batch by batch and each batch goes through the plan in a worker process;
results are written in source order. At most 2 x workers batches are in flight, so memory stays
flat whatever the file size. Structured columns use the vectorized operators (a Python call per
distinct value at most); free text goes through TextScanner.redact_many, the expensive part.
Everything a worker needs travels in the Plan (secrets as bytes): workers read no keys or
settings, so the engine runs the same under fork, forkserver or spawn.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
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
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from yishu.definitions import models as spec
from yishu.deid import operators
from yishu.errors import UserInputError

POLICIES = spec.POLICIES
GENERALIZATIONS = spec.GENERALIZE_TO
# Free text is cut into smaller tasks than the read batch: a scanner task takes ~1 s per 10k
# rows, and with big tasks one worker idles while the other finishes the last one.
TEXT_TASK_ROWS = 8_192


@dataclass(frozen=True)
class ColumnAction:
    policy: str
    to: str | None = None  # generalize: one of GENERALIZATIONS

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}; known: {', '.join(POLICIES)}")
        if self.policy == "generalize" and self.to not in GENERALIZATIONS:
            raise ValueError(f"generalize needs to= one of {', '.join(GENERALIZATIONS)}")

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
        policies = {a.policy for a in self.columns.values()}
        if "pseudonymize" in policies and not self.secret:
            raise ValueError("a plan that pseudonymizes needs secret=")
        if "encrypt" in policies and not (self.encryption_key and self.zone):
            raise ValueError("a plan that encrypts needs encryption_key= and zone=")
        if self.unlisted not in ("drop", "keep"):
            raise ValueError("unlisted must be 'drop' or 'keep'")

    def action(self, column: str) -> ColumnAction:
        return self.columns.get(column) or ColumnAction(self.unlisted)

    @property
    def has_free_text(self) -> bool:
        return any(a.policy == "redact" for a in self.columns.values())


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
    """A plan made ready to run: the scanner is only loaded if the plan has free text."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.on = (dt.date.fromisoformat(plan.reference_date) if plan.reference_date
                   else dt.date.today())
        self.scanner = shared_scanner() if plan.has_free_text else None

    def column(self, array: pa.Array, action: ColumnAction, counts: Counter) -> pa.Array:
        out, found = operators.apply(array, action.policy, action.to, secret=self.plan.secret,
                                     key=self.plan.encryption_key, zone=self.plan.zone,
                                     on=self.on,
                                     scanner=self.scanner)
        counts.update(found)
        return out

    def batch(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter]:
        counts: Counter = Counter()
        names, arrays = [], []
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            action = self.plan.action(name)
            if action.policy != "drop":
                names.append(name)
                arrays.append(self.column(array, action, counts))
        return pa.RecordBatch.from_arrays(arrays, names=names), counts


# ----------------------------------------------------------------------------- workers

_APPLIER: _Applier | None = None


def _init_worker(plan: Plan, barrier) -> None:
    global _APPLIER
    _APPLIER = _Applier(plan)
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


# ----------------------------------------------------------------------------- reading


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `rows` rows (the last one shorter), whatever the reader yields."""
    pending, have = [], 0
    for batch in batches:
        pending.append(batch)
        have += batch.num_rows
        if have < rows:
            continue
        table = pa.Table.from_batches(pending)
        start = 0
        while table.num_rows - start >= rows:
            yield table.slice(start, rows).combine_chunks().to_batches()[0]
            start += rows
        rest = table.slice(start)
        pending, have = rest.to_batches(), rest.num_rows
    if have:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def _csv_batches(path: Path, rows: int, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    # all strings (IDs and phones must keep their leading zeros); only an empty unquoted field
    # is null: a quoted "" stays an empty string, a literal "NA" or "null" stays text
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                   null_values=[""], strings_can_be_null=True,
                                   quoted_strings_can_be_null=False, include_columns=columns)
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=8 << 20),
                            convert_options=convert)
    yield from _rebatch(reader, rows)


def _cell(value) -> str | None:
    """An Excel cell as the text a person sees: 13812345678.0 is a phone number."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _excel_batches(path: Path, rows: int, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        values = book.active.iter_rows(values_only=True)
        header = [str(h) for h in next(values, ())]
        chunk: list[tuple] = []

        def flush() -> pa.RecordBatch:
            columns = list(zip(*chunk, strict=True)) if chunk else [()] * len(header)
            return pa.RecordBatch.from_arrays(
                [pa.array([_cell(v) for v in col], pa.string()) for col in columns],
                names=header)

        for row in values:
            chunk.append(tuple(row[:len(header)]) + (None,) * (len(header) - len(row)))
            if len(chunk) == rows:
                yield _select(flush(), columns)
                chunk = []
        if chunk:
            yield _select(flush(), columns)
    finally:
        book.close()


def _select(batch: pa.RecordBatch, columns: list[str] | None) -> pa.RecordBatch:
    return batch if columns is None else batch.select(columns)


def iter_batches(path: str | Path, batch_rows: int = 65_536,
                 columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of a CSV (all strings), Parquet or Excel (.xlsx, strings) file in batches of
    batch_rows; only `columns` (in source order) if given."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _excel_batches(path, batch_rows, columns)
    elif suffix in (".csv", ".txt"):
        yield from _csv_batches(path, batch_rows, columns)
    else:
        raise UserInputError(f"{path}: unsupported input: use CSV, Parquet or .xlsx")


def _tasks(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


# ----------------------------------------------------------------------------- writing


class FileWriter:
    """Parquet (row groups of ~batch_rows) or CSV, into a temporary name renamed at the end:
    nobody reads half a file."""

    def __init__(self, path: Path, batch_rows: int):
        self.path, self.batch_rows = path, batch_rows
        self.tmp = path.with_name(path.name + ".tmp")
        self.csv = path.suffix.lower() == ".csv"
        self.writer = None
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        if self.pending_rows >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        table = pa.Table.from_batches(self.pending)
        if self.writer is None:
            if self.csv:
                self.writer = pacsv.CSVWriter(self.tmp, table.schema)
            else:
                self.writer = pq.ParquetWriter(self.tmp, table.schema)
        self.writer.write_table(table)
        self.pending, self.pending_rows = [], 0

    def close(self, schema: pa.Schema) -> None:
        self.flush()
        if self.writer is None:  # an empty source still gives a file with its columns
            self.writer = (pacsv.CSVWriter(self.tmp, schema) if self.csv
                           else pq.ParquetWriter(self.tmp, schema))
        self.writer.close()
        os.replace(self.tmp, self.path)


def _output_schema(schema: pa.Schema, plan: Plan) -> pa.Schema:
    fields = []
    for f in schema:
        action = plan.action(f.name)
        if action.policy != "drop":
            fields.append(f if action.policy == "keep" else pa.field(f.name, pa.string()))
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
    if mp_context is None:
        mp_context = "fork" if "fork" in get_all_start_methods() else "spawn"
    source_path, out_path = Path(source_path), Path(out_path)
    stats = EngineStats()
    started = time.perf_counter()
    source_schema = source_schema_of(source_path)
    missing = sorted(set(plan.columns) - set(source_schema.names))
    if missing:
        raise UserInputError(f"{source_path}: the plan names columns the file lacks: {missing}")
    # dropped columns are not even read (a free-text column is most of the bytes)
    wanted = [n for n in source_schema.names if plan.action(n).policy != "drop"]
    batches = iter_batches(source_path, batch_rows, wanted)
    first = next(batches, None)
    schema = source_schema if first is None else first.schema

    def all_batches():
        if first is not None:
            yield first
            yield from batches

    task_rows = min(batch_rows, TEXT_TASK_ROWS) if plan.has_free_text else batch_rows
    tasks = _tasks(all_batches(), task_rows)
    writer = FileWriter(out_path, batch_rows)
    with _PeakRss() as rss:
        try:
            # Without free text the vectorized operators outrun the pickling of batches to
            # and from workers (and their start-up): only free text is worth a process pool.
            if workers <= 1 or not plan.has_free_text:
                applier = _Applier(plan)
                stats.startup_seconds = time.perf_counter() - started
                for task in tasks:
                    _collect(stats, writer, *applier.batch(task))
            else:
                _run_pool(plan, tasks, workers, mp_context, stats, writer, started)
            writer.close(_output_schema(schema, plan))
        except BaseException:
            if writer.writer is not None:
                writer.writer.close()
            writer.tmp.unlink(missing_ok=True)
            raise
    stats.seconds = time.perf_counter() - started
    stats.peak_rss_mb = rss.peak / 2**20
    return stats


def _collect(stats: EngineStats, writer: FileWriter, batch: pa.RecordBatch, counts: Counter):
    stats.rows += batch.num_rows
    stats.entities.update(counts)
    writer.write(batch)


def _run_pool(plan, tasks, workers, mp_context, stats, writer, started) -> None:
    ctx = get_context(mp_context)
    if ctx.get_start_method() == "fork":
        _Applier(plan)  # load the scanner once here: the forked workers start with it ready
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
                             initargs=(plan, barrier)) as pool:
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


def source_schema_of(path: str | Path) -> pa.Schema:
    """The columns of a source, read from its header (Parquet: its schema)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pq.read_schema(path)
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        header = [str(h) for h in next(book.active.iter_rows(values_only=True), ())]
        book.close()
    else:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    return pa.schema([(name, pa.string()) for name in header])
