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
from yishu.sources import snapshot as parquet_snapshot
from yishu.sources.delivery import Delivery, SourceUnavailable
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
    tmp = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    try:
        try:
            if delivery.batches is not None:  # streamed: never the whole table in memory
                schema, batches = delivery.batches(original)
            else:
                table = delivery.read(original)
                schema, batches = table.schema, iter(table.to_batches())
            rows, problem = parquet_snapshot.write(schema, batches, source, delivery.where, tmp)
        except Unreadable as exc:
            rows, problem = None, str(exc)
        if problem:
            return CollectResult(source.name, partition, sha, str(original), None, 0, problem)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(0o440)  # the raw zone is bureau-only and immutable
        os.replace(tmp, snapshot)  # atomic: a half-written snapshot is never visible
        raw.fsync_dir(folder)
    finally:
        tmp.unlink(missing_ok=True)
    return CollectResult(source.name, partition, sha, str(original), str(snapshot), rows)
