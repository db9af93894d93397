"""Collect a source partition into the raw zone: an immutable, content-hashed snapshot.

The original bytes are kept as they arrived (so a malformed file is never lost) and, when they
parse, a Parquet snapshot of the table with every value as text (validation decides types).
Collecting the same bytes again is a no-op: the snapshot name is the SHA-256 of the content.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from yishu.definitions import Source
from yishu.settings import Settings
from yishu.storage import Storage

READERS = ("csv",)


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


class SourceUnavailable(Exception):
    """The source file is not there: nothing to snapshot, the run should retry later."""


def _parse_csv(data: bytes, source: Source, where: str) -> tuple[pa.Table | None, str | None]:
    try:
        text = data.decode(source.encoding)
    except UnicodeDecodeError as exc:
        return None, (f"{where}: not valid {source.encoding} (byte {exc.start}): re-export the "
                      f"file as {source.encoding} or set `encoding:` in {source.file}")
    text = text.removeprefix("\ufeff")
    try:
        table = pv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            convert_options=pv.ConvertOptions(
                column_types={c: pa.string() for c in source.columns},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        return None, f"{where}: malformed CSV ({exc}): fix the file and collect again"
    repeated = sorted({c for c in table.column_names if table.column_names.count(c) > 1})
    if repeated:
        return None, (f"{where}: column(s) {repeated} appear more than once in the header: "
                      "fix the export")
    missing = [c for c in source.columns if c not in table.column_names]
    if missing:
        return None, (f"{where}: missing column(s) {missing} declared in {source.file}: "
                      "fix the export or the source's `columns:`")
    extra = [c for c in table.column_names if c not in source.columns]
    table = table.select(list(source.columns))  # undeclared columns never enter the zone
    return table.replace_schema_metadata({"undeclared_columns": ",".join(extra)}), None


def collect(source: Source, partition: str, *, settings: Settings,
            storage: Storage) -> CollectResult:
    """Snapshot the partition's file into the raw zone (the location is filled in from the
    settings' state folder and repository)."""
    path = source.resolve_location(partition, home=settings.home, repo=settings.repo)
    if not path.is_file():
        raise SourceUnavailable(
            f"{source.file}: location: {path} does not exist for partition {partition}: "
            "deliver the file (or fix `location:`) and run again"
        )
    if source.format not in READERS:
        raise SourceUnavailable(f"{source.file}: format: '{source.format}' is not supported: "
                                f"use one of {list(READERS)}")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    original = storage.raw_snapshot(source.name, partition, sha, path.suffix or ".bin")
    if not original.exists():
        original.write_bytes(data)
        original.chmod(0o440)
    snapshot = storage.raw_snapshot(source.name, partition, sha, ".parquet")
    if snapshot.exists():
        rows = pq.ParquetFile(snapshot).metadata.num_rows
        return CollectResult(source.name, partition, sha, str(original), str(snapshot), rows)
    table, problem = _parse_csv(data, source, str(path))
    if table is None:
        return CollectResult(source.name, partition, sha, str(original), None, 0, problem)
    tmp = snapshot.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.chmod(0o440)  # the raw zone is bureau-only and immutable
    tmp.rename(snapshot)  # atomic: a half-written snapshot is never visible
    return CollectResult(source.name, partition, sha, str(original), str(snapshot), table.num_rows)
