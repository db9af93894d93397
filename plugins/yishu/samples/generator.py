"""Deterministic, Shenzhen-flavoured sample data for the demo sources.

``generate(source, rows, seed=...)`` returns a pyarrow Table of strings (None for null) with the
columns of ``catalog/sources/<source>.yaml`` in order; the same arguments give byte-identical
output. Faker (zh_CN) is slow, so it only fills small pools of names, streets and company names
once per seed; rows are assembled from those pools with numpy draws and pyarrow string kernels,
which keeps a million rows to a few seconds.

Identifiers are valid by construction: resident IDs use a county code that GB/T 2260 lists for
the birth year plus the MOD 11-2 check digit; USCCs follow GB 32100 (including legal codes that
start with a letter, which stdnum rejects). ``dirty=True`` then plants a deterministic, recorded
share of bad values; ``dirty_rows()`` says which rows and why. Duplicates are counted within
``rows``: a planted duplicate overwrites a row with an exact copy of another clean row, so a
table always has exactly ``rows`` rows.

The ~20 hospitals are fixed (independent of the seed): they are rows of ``market_enterprise``
(industry Q) and the hospitals of ``health_visits``, so the cross-source check of
hospital_uscc → hospital_name agrees except for the planted old names.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from yishu.samples.arrays import _arr
from yishu.samples.enterprise import _market_enterprise
from yishu.samples.health import _health_visits
from yishu.samples.hospitals import _HOSPITALS, _hospital_table
from yishu.samples.inspections import _station_inspections
from yishu.storage import Storage

COLUMNS = {
    "health_visits": [
        "visit_id", "patient_name", "patient_resident_id", "patient_phone", "hospital_uscc",
        "hospital_name", "department", "diagnosis_icd10", "visit_date", "visit_cost",
        "doctor_note",
    ],
    "market_enterprise": [
        "uscc", "enterprise_name", "legal_rep_name", "legal_rep_resident_id", "enterprise_phone",
        "registered_address", "district", "industry", "registered_capital", "established_date",
    ],
    "station_inspections": ["inspection_id", "station_id", "inspection_date", "result", "remark"],
}
SOURCES = tuple(COLUMNS)
_SOURCE_IDS = {"health_visits": 1, "market_enterprise": 2, "station_inspections": 3}

# Share of rows planted dirty per category (rounded to whole rows; categories are disjoint).
# market_enterprise stays mild and never breaks a critical expectation, so it lands in the demo
# while health_visits is quarantined.
DIRTY_SHARES = {
    "health_visits": {
        "resident_id_check_digit": 0.02,
        "null_patient_name": 0.005,
        "null_visit_date": 0.005,
        "bad_phone": 0.01,
        "negative_cost": 0.002,
        "hospital_name_mismatch": 0.01,
        "duplicate": 0.005,
    },
    "market_enterprise": {
        "bad_phone": 0.01,
        "capital_out_of_range": 0.005,
        "null_industry": 0.005,
    },
    # Inspectors sometimes write the station manager's phone into the public remark: the remark
    # is declared L1, so drift detection must stop the product built from it.
    "station_inspections": {
        "phone_in_remark": 0.03,
    },
}


# ----------------------------------------------------------------------------- public API


def generate(source: str, rows: int, *, seed: int = 7, partition: str = "2026-11-01",
             dirty: bool = True) -> pa.Table:
    """``rows`` rows of ``source``; identical arguments give an identical table."""
    _check(source, rows, seed)
    return _chunk(source, rows, seed=seed, partition=partition, dirty=dirty, chunk=0, offset=0)


def iter_generate(source: str, rows: int, chunk_rows: int = 100_000, *, seed: int = 7,
                  partition: str = "2026-11-01", dirty: bool = True) -> Iterator[pa.Table]:
    """``rows`` rows in Tables of at most ``chunk_rows``; keys are unique across chunks. The
    first chunk equals ``generate(source, min(rows, chunk_rows), ...)``."""
    _check(source, rows, seed)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    for chunk, offset in enumerate(range(0, rows, chunk_rows)):
        yield _chunk(source, min(chunk_rows, rows - offset), seed=seed, partition=partition,
                     dirty=dirty, chunk=chunk, offset=offset)


def dirty_rows(source: str, rows: int, seed: int = 7) -> dict[str, list[int]]:
    """Row positions planted dirty by ``generate(source, rows, seed=seed, dirty=True)``, per
    reason (the keys of DIRTY_SHARES). Reasons are disjoint; "duplicate" lists the copies."""
    _check(source, rows, seed)
    plan, _ = _plan_dirty(source, rows, seed, chunk=0)
    return {reason: positions.tolist() for reason, positions in plan.items()}


def write_sample(storage: Storage, source: str, partition: str, rows: int, *, seed: int = 7,
                 dirty: bool = True) -> Path:
    """Write the sample CSV (UTF-8, header, strings quoted) to the source's inbox and return its
    path. Written in chunks of 100,000 rows (``iter_generate``), so up to that size the file
    holds exactly ``generate(source, rows, ...)``."""
    _check(source, rows, seed)
    path = storage.inbox_path(source, partition)
    tmp = path.with_name(path.name + ".tmp")  # renamed at the end: nobody reads half a file
    options = pacsv.WriteOptions(quoting_style="needed")  # quotes every string: commas survive
    schema = pa.schema([(name, pa.string()) for name in COLUMNS[source]])
    with pacsv.CSVWriter(tmp, schema, write_options=options) as writer:
        for table in iter_generate(source, rows, seed=seed, partition=partition, dirty=dirty):
            writer.write_table(table)
    os.replace(tmp, path)
    return path


def sample_rows(source: str, rows: int) -> int:
    """Rows of each sample source when the biggest (health_visits) has ``rows``."""
    share = {"health_visits": 1, "market_enterprise": 2, "station_inspections": 4}[source]
    return max(rows // share, 50)


def hospitals() -> list[dict[str, str]]:
    """The fixed hospital rows of market_enterprise (the same for every seed)."""
    return _hospital_table().to_pylist()


# ----------------------------------------------------------------------------- plumbing


def _check(source: str, rows: int, seed: int) -> None:
    if source not in COLUMNS:
        raise ValueError(f"unknown sample source {source!r}; known: {', '.join(SOURCES)}")
    if rows < 0 or seed < 0:
        raise ValueError("rows and seed must be non-negative")


def _rng(seed: int, source: str, chunk: int, stream: int) -> np.random.Generator:
    """Independent streams per purpose, so planting dirt never shifts the clean values."""
    return np.random.default_rng([seed, _SOURCE_IDS[source], chunk, stream])


def _chunk(source: str, n: int, *, seed: int, partition: str, dirty: bool, chunk: int,
           offset: int) -> pa.Table:
    plan, dup_sources = _plan_dirty(source, n, seed, chunk) if dirty else ({}, None)
    day = np.datetime64(dt.date.fromisoformat(partition), "D")
    build = {"health_visits": _health_visits, "market_enterprise": _market_enterprise,
             "station_inspections": _station_inspections}[source]
    columns = build(_rng(seed, source, chunk, 0), n, seed, day, offset, plan,
                    _rng(seed, source, chunk, 2))
    table = pa.table({name: columns[name] for name in COLUMNS[source]})
    if dup_sources is not None:
        take = np.arange(n)
        take[plan["duplicate"]] = dup_sources  # exact copies of clean rows
        table = table.take(_arr(take))
    return table


def _plan_dirty(source: str, n: int, seed: int, chunk: int):
    """Disjoint seeded row positions per dirty reason, and the clean rows the duplicates copy."""
    rng = _rng(seed, source, chunk, 1)
    first = len(_HOSPITALS) if source == "market_enterprise" and chunk == 0 else 0
    candidates = rng.permutation(np.arange(min(first, n), n))  # the hospital rows stay clean
    plan, used = {}, 0
    for reason, share in DIRTY_SHARES[source].items():
        count = min(int(round(n * share)), len(candidates) - used)
        plan[reason] = np.sort(candidates[used:used + count])
        used += count
    dup_sources = None
    if len(plan.get("duplicate", ())):
        clean = candidates[used:]
        if len(clean):
            dup_sources = rng.choice(clean, size=len(plan["duplicate"]))
        else:  # too few rows to have a clean one to copy
            plan["duplicate"] = plan["duplicate"][:0]
    return plan, dup_sources
