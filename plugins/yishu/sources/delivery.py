"""What every connector hands to `collect`: the raw bytes of a partition and how to read them.

A connector (files.py, http.py, sql.py) turns a source and a partition into a `Delivery`:
the bytes exactly as received (kept in the raw zone before anything parses them), the suffix
of the raw file, and a reader from that file to an Arrow table of text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa


class SourceUnavailable(Exception):
    """Nothing to snapshot (no file, no answer, no credentials); the message says what to do."""


@dataclass
class Delivery:
    chunks: Iterable[bytes]  # the bytes as they arrived
    suffix: str  # of the raw file, e.g. ".csv", ".pages.jsonl"
    where: str  # names the origin in messages (a path, a URL, a database table)
    read: Callable[[Path], pa.Table]  # the stored raw file as a table of text
    # called once the raw bytes are stored (e.g. to keep the SQL watermark reached)
    stored: Callable[[], None] | None = None
    # the stored raw file as (schema, batches), streamed (readers.read_batches): used instead
    # of `read` when given, so a large delivery is never one table in memory
    batches: Callable[[Path], tuple[pa.Schema, Iterator[pa.RecordBatch]]] | None = None
