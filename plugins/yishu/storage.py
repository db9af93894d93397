"""Every path Yishu reads or writes under YISHU_HOME. Stages ask here; none builds a path by hand.

Layout:
    inbox/<source>/<partition>.csv          sample source files (what a government system drops)
    raw/<source>/<partition>/<sha256>.*      immutable raw snapshots (bureau only)
    quarantine/<source>/<partition>.json     why a batch was stopped
    reports/<source>/<partition>/            validation results and steward reports
    work/<product>/<partition>/              intermediate product files of a run
    products/<zone>/<product>/v<N>/          published, immutable product versions
    keys/                                    signing and pseudonymization keys (0600)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from yishu import settings
from yishu.errors import UserInputError

_PARTITION_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_partition(partition: str) -> str:
    """A partition is a real date written YYYY-MM-DD (it becomes part of paths)."""
    try:
        if _PARTITION_RE.fullmatch(partition) and dt.date.fromisoformat(partition):
            return partition
    except ValueError:
        pass
    raise UserInputError(f"partition '{partition}' is not a date written YYYY-MM-DD "
                         "(e.g. 2026-11-01)")


def home() -> Path:
    return settings.load().home


def _dir(*parts: str) -> Path:
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def inbox_path(source: str, partition: str, suffix: str = ".csv") -> Path:
    return _dir("inbox", source) / f"{check_partition(partition)}{suffix}"


def raw_dir(source: str, partition: str) -> Path:
    path = _dir("raw", source, check_partition(partition))
    for folder in (path, path.parent, path.parent.parent):
        folder.chmod(0o700)  # raw data never leaves the bureau (原始数据不出域)
    return path


def raw_snapshot(source: str, partition: str, sha256: str, suffix: str) -> Path:
    return raw_dir(source, partition) / f"{sha256}{suffix}"


def quarantine_record(source: str, partition: str) -> Path:
    return _dir("quarantine", source) / f"{check_partition(partition)}.json"


def report_dir(source: str, partition: str) -> Path:
    return _dir("reports", source, check_partition(partition))


def work_dir(product: str, partition: str) -> Path:
    return _dir("work", product, check_partition(partition))


def product_version_dir(zone: str, product: str, version: int) -> Path:
    return _dir("products", zone, product, f"v{version}")


def keys_dir() -> Path:
    path = _dir("keys")
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a secret readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
