"""The file connector: a partition's file found by `location` (a path or a glob) inside the
source's declared folder.

The declared folder is the part of `location` before the first glob character or `..`; a
match that resolves outside it (through `..` or a symbolic link) is refused, never read.
"""

from __future__ import annotations

import functools
import glob
import re
from pathlib import Path

from yishu.definitions import Source
from yishu.settings import Settings
from yishu.sources.delivery import Delivery, SourceUnavailable
from yishu.sources.raw import file_chunks
from yishu.sources.readers import read_batches, read_table

_GLOB_CHARS = re.compile(r"[*?\[]")
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet", "jsonl": ".jsonl"}


def declared_folder(pattern: str) -> Path:
    """The folder a filled-in location may not leave."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if part == ".." or _GLOB_CHARS.search(part):
            break
        fixed.append(part)
    return Path(*fixed).resolve() if fixed else Path.cwd().resolve()


def locate(source: Source, partition: str, settings: Settings) -> Path:
    """The one file of the partition, inside the declared folder."""
    pattern = source.location.format(home=settings.home, repo=settings.repo,
                                     partition=partition)
    folder = declared_folder(pattern)
    matches = sorted(glob.glob(pattern)) if _GLOB_CHARS.search(pattern) else [pattern]
    if not matches or not Path(matches[0]).exists():
        raise SourceUnavailable(f"source file {pattern} not found: deliver it (or fix "
                                f"`location:` in {source.file}) and collect {partition} again")
    if len(matches) > 1:
        raise SourceUnavailable(f"{source.file}: location: {pattern} matches {len(matches)} "
                                "files: a partition is one file; make the pattern name one")
    path = Path(matches[0])
    resolved = path.resolve()
    if not resolved.is_relative_to(folder):
        raise SourceUnavailable(f"{source.file}: location: {path} leads to {resolved}, outside "
                                f"the source's folder {folder}: refused; deliver the file "
                                "inside that folder")
    if not resolved.is_file():
        raise SourceUnavailable(f"{source.file}: location: {path} is not a file: deliver the "
                                "partition as one file")
    return resolved


def fetch(source: Source, partition: str, settings: Settings) -> Delivery:
    path = locate(source, partition, settings)
    suffix = path.suffix.lower() if path.suffix else SUFFIXES[source.format]
    options = dict(fmt=source.format, where=str(path), encoding=source.encoding,
                   sheet=source.sheet)
    return Delivery(chunks=file_chunks(path), suffix=suffix, where=str(path),
                    read=functools.partial(read_table, **options),
                    batches=functools.partial(read_batches, **options))
