"""Collect a source partition into the raw zone: an immutable, content-hashed snapshot.

The source's connector (`connector: file | http | sql`) delivers the partition's bytes; they
are kept as they arrived (so a malformed file is never lost) and, when they parse, a Parquet
snapshot of the table with every value as text (validation decides types). Collecting the same
bytes again is a no-op: the snapshot name is the SHA-256 of the content.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from yishu.definitions import Source
from yishu.settings import Settings
from yishu.sources import files, raw
from yishu.sources.delivery import Delivery, SourceUnavailable
from yishu.sources.drift import header_drift, missing_reason
from yishu.sources.readers import Unreadable
from yishu.storage import Storage

__all__ = ["CollectResult", "SourceUnavailable", "collect", "deliver", "why_not_collected"]


@dataclass
class CollectResult:
    source: str
    partition: str
    sha256: str
    original: str  # the bytes as they arrived
    snapshot: str | None  # Parquet snapshot, None when the file could not be parsed
    rows: int
    problem: str | None = None  # why the file could not be read, for the steward

    def to_dict(self) -> dict:
        return asdict(self)


def deliver(source: Source, partition: str, *, settings: Settings,
            watermarks=None) -> Delivery:
    """The partition's delivery from the source's connector."""
    if source.connector == "http":
        from yishu.sources import http

        return http.fetch(source, partition, settings)
    if source.connector == "sql":
        from yishu.sources import sql

        return sql.fetch(source, partition, settings, watermarks)
    return files.fetch(source, partition, settings)


def why_not_collected(source: Source, partition: str, *, settings: Settings) -> str | None:
    """Why a source has nothing to collect without reading it (a file: none, or outside its
    folder; an API: its URL's variable unset); None when it may be read."""
    if source.connector == "http":
        from yishu.sources import http

        try:
            http.endpoint(source, partition, settings)
        except SourceUnavailable as exc:
            return str(exc)
        return None
    if source.connector != "file":
        return None
    try:
        files.locate(source, partition, settings)
    except SourceUnavailable as exc:
        return str(exc)
    return None


def conform(table: pa.Table, source: Source, where: str) -> tuple[pa.Table | None, str | None]:
    """The declared columns of a parsed table, or why it cannot be used (schema drift: a
    repeated or missing column stops the batch; an added (unmapped) column never enters the
    zone and is recorded in the snapshot's metadata for the steward: see `drift.py`)."""
    names = table.column_names
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        return None, (f"{where}: column(s) {repeated} appear more than once in the header: "
                      "fix the export")
    drift = header_drift(names, source.columns)
    if drift.missing_required or drift.missing_optional:
        return None, missing_reason(drift, where, source.file)
    table = table.select(list(source.columns))  # undeclared columns never enter the zone
    if damaged := _control_characters(table):
        return None, f"{where}: {damaged}: the export is damaged: fix it and deliver it again"
    return table.replace_schema_metadata({"undeclared_columns": ",".join(drift.added),
                                          **drift.to_metadata()}), None


def _control_characters(table: pa.Table) -> str | None:
    """A NUL byte or a byte order mark (U+FEFF) inside a value: the mark of a damaged export
    (files joined together, binary data), never data."""
    import pyarrow.compute as pc

    for name in table.column_names:
        for char, what in (("\x00", "a NUL byte"), ("\ufeff", "a byte order mark (U+FEFF)")):
            hits = pc.match_substring(table[name], char)
            if count := pc.sum(hits).as_py():
                row = pc.index(hits, True).as_py() + 1
                return f"column {name}: {count} value(s) hold {what} (first in data row {row})"
    return None


def collect(source: Source, partition: str, *, settings: Settings, storage: Storage,
            watermarks=None) -> CollectResult:
    """Snapshot the partition into the raw zone (`watermarks`: the per-source store SQL
    sources read incrementally from; see `yishu.db.watermarks`)."""
    delivery = deliver(source, partition, settings=settings, watermarks=watermarks)
    folder = storage.raw_dir(source.name, partition)
    try:
        sha, original = raw.store(delivery.chunks, folder, delivery.suffix)
    except OSError as exc:
        raise SourceUnavailable(f"{delivery.where}: cannot be read ({exc.strerror or exc}): "
                                "make it a readable file and collect again") from None
    if delivery.stored:
        delivery.stored()
    snapshot = storage.raw_snapshot(source.name, partition, sha, ".parquet")
    with contextlib.suppress(OSError, pa.ArrowInvalid):
        if snapshot.exists():  # complete: written under a temporary name, then renamed
            rows = pq.ParquetFile(snapshot).metadata.num_rows
            return CollectResult(source.name, partition, sha, str(original), str(snapshot), rows)
    try:
        table, problem = conform(delivery.read(original), source, delivery.where)
    except Unreadable as exc:
        table, problem = None, str(exc)
    if table is None:
        return CollectResult(source.name, partition, sha, str(original), None, 0, problem)
    tmp = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(0o440)  # the raw zone is bureau-only and immutable
        os.replace(tmp, snapshot)  # atomic: a half-written snapshot is never visible
        raw.fsync_dir(folder)
    finally:
        tmp.unlink(missing_ok=True)
    return CollectResult(source.name, partition, sha, str(original), str(snapshot), table.num_rows)
