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

import os
from pathlib import Path

from yishu import settings


def home() -> Path:
    return settings.load().home


def _dir(*parts: str) -> Path:
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def inbox_path(source: str, partition: str, suffix: str = ".csv") -> Path:
    return _dir("inbox", source) / f"{partition}{suffix}"


def raw_dir(source: str, partition: str) -> Path:
    return _dir("raw", source, partition)


def raw_snapshot(source: str, partition: str, sha256: str, suffix: str) -> Path:
    return raw_dir(source, partition) / f"{sha256}{suffix}"


def quarantine_record(source: str, partition: str) -> Path:
    return _dir("quarantine", source) / f"{partition}.json"


def report_dir(source: str, partition: str) -> Path:
    return _dir("reports", source, partition)


def work_dir(product: str, partition: str) -> Path:
    return _dir("work", product, partition)


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
