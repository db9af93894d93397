"""Every path Yishu reads or writes under YISHU_HOME. Stages ask a `Storage`; none builds a path
by hand.

Layout:
    inbox/<source>/<partition>.csv          sample source files (what a government system drops)
    raw/<source>/<partition>/<sha256>.*      immutable raw snapshots (bureau only)
    quarantine/<source>/<partition>.json     why a batch was stopped
    reports/<source>/<partition>/            validation results and steward reports
    work/<product>/<partition>/<run id>/     intermediate product files of one run
    products/<zone>/<product>/v<N>/          published, immutable product versions
    keys/                                    signing and pseudonymization keys (0600)
    audit/head.json                          the audit log's signed head (outside the database)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

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


class Storage:
    """The state folder (YISHU_HOME) of one installation; folders are created on first use."""

    def __init__(self, home: Path):
        self.home = Path(home)

    def _dir(self, *parts: str) -> Path:
        path = self.home.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def inbox_path(self, source: str, partition: str, suffix: str = ".csv") -> Path:
        return self._dir("inbox", source) / f"{check_partition(partition)}{suffix}"

    def raw_dir(self, source: str, partition: str) -> Path:
        path = self._dir("raw", source, check_partition(partition))
        for folder in (path, path.parent, path.parent.parent):
            folder.chmod(0o700)  # raw data never leaves the bureau (原始数据不出域)
        return path

    def raw_snapshot(self, source: str, partition: str, sha256: str, suffix: str) -> Path:
        return self.raw_dir(source, partition) / f"{sha256}{suffix}"

    def quarantine_record(self, source: str, partition: str) -> Path:
        return self._dir("quarantine", source) / f"{check_partition(partition)}.json"

    def report_dir(self, source: str, partition: str) -> Path:
        return self._dir("reports", source, check_partition(partition))

    def work_dir(self, product: str, partition: str) -> Path:
        return self._dir("work", product, check_partition(partition))

    def products_dir(self) -> Path:
        return self._dir("products")

    def product_version_dir(self, zone: str, product: str, version: int) -> Path:
        return self._dir("products", zone, product, f"v{version}")

    def run_work_dir(self, product: str, partition: str, run_id: str) -> Path:
        """One folder per run: concurrent runs of a product and partition share no file."""
        return self._dir("work", product, check_partition(partition), self._run_id(run_id))

    def version_paths(self, zone: str, product: str, version: int,
                      run_id: str) -> tuple[Path, Path, Path]:
        """A version's folder (not created), the run's staging folder beside it (renamed into
        place once complete) and where a leftover folder is moved before it is removed."""
        parent, run = self._dir("products", zone, product), self._run_id(run_id)
        return (parent / f"v{version}", parent / f".v{version}.{run}.partial",
                parent / f".v{version}.{run}.discarded")

    def audit_checkpoint(self) -> Path:
        """The signed head of the audit log, kept outside the database."""
        os.chmod(self._dir("audit"), 0o700)
        return self.home / "audit" / "head.json"

    @staticmethod
    def _run_id(run_id: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", run_id):
            raise UserInputError(f"run id '{run_id}' must be letters, digits, '_', '.' or '-'")
        return run_id

    def keys_dir(self) -> Path:
        path = self._dir("keys")
        os.chmod(path, 0o700)
        return path


def write_private(path: Path, data: bytes) -> None:
    """Write a secret readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
