"""Every path Yishu reads or writes under YISHU_HOME. Stages ask a `Storage`; none builds a path
by hand.

Layout:
    inbox/<source>/<partition>.csv          sample source files (what a government system drops)
    inbox/<source>/department.sqlite        a department's sample SQL database
    raw/<source>/<partition>/<sha256>.*      immutable raw snapshots (bureau only)
    (inbox/, raw/ and work/ hold personal data: owner only, 0700)
    quarantine/<source>/<partition>.json     why a batch was stopped
    reports/<source>/<partition>/            validation results and steward reports
    work/<product>/<partition>/<run id>/     intermediate product files of one run
    products/<zone>/<product>/v<N>/          published, immutable product versions
    keys/                                    signing and pseudonymization keys (0600)
    audit/head.json                          the audit log's signed head (outside the database)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import stat
from pathlib import Path

from yishu.errors import UserInputError
from yishu.names import check_name

_PARTITION_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
log = logging.getLogger(__name__)


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

    def ensure_home(self) -> None:
        """Create the state folder on first use, and say where: a command run from another
        folder would otherwise silently start a second installation (with its own keys)."""
        if not self.home.is_dir():
            self.home.mkdir(parents=True, exist_ok=True)
            log.warning("created YISHU_HOME at %s (set YISHU_HOME to use another state folder)",
                        self.home)

    def _dir(self, *parts: str) -> Path:
        self.ensure_home()
        path = self.home.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _private_dir(self, *parts: str) -> Path:
        """A folder and its parents up to the home, owner only (0700): personal data."""
        path = self._dir(*parts)
        for depth in range(len(parts)):
            os.chmod(self.home.joinpath(*parts[:depth + 1]), 0o700)
        return path

    def inbox_path(self, source: str, partition: str, suffix: str = ".csv") -> Path:
        return (self._private_dir("inbox", check_name(source, "source"))
                / f"{check_partition(partition)}{suffix}")

    def department_database(self, source: str) -> Path:
        """The sample SQL database of a department (what `sql.url` of the demo's source names:
        `sqlite:///{home}/inbox/<source>/department.sqlite`)."""
        return self._private_dir("inbox", check_name(source, "source")) / "department.sqlite"

    def raw_dir(self, source: str, partition: str) -> Path:
        # raw data never leaves the bureau (原始数据不出域)
        return self._private_dir("raw", check_name(source, "source"), check_partition(partition))

    def raw_snapshot(self, source: str, partition: str, sha256: str, suffix: str) -> Path:
        return self.raw_dir(source, partition) / f"{sha256}{suffix}"

    def quarantine_record(self, source: str, partition: str) -> Path:
        return (self._dir("quarantine", check_name(source, "source"))
                / f"{check_partition(partition)}.json")

    def report_dir(self, source: str, partition: str) -> Path:
        return self._dir("reports", check_name(source, "source"), check_partition(partition))

    def work_dir(self, product: str, partition: str) -> Path:
        return self._private_dir("work", check_name(product, "product"),
                                 check_partition(partition))

    def products_dir(self) -> Path:
        return self._dir("products")

    def product_version_dir(self, zone: str, product: str, version: int) -> Path:
        return self._dir("products", check_name(zone, "zone"), check_name(product, "product"),
                         f"v{_version(version)}")

    def has_published_versions(self) -> bool:
        """Whether a version folder exists (signed with this home's key: never replace it)."""
        return any((self.home / "products").glob("*/*/v[0-9]*"))

    def run_work_dir(self, product: str, partition: str, run_id: str) -> Path:
        """One folder per run: concurrent runs of a product and partition share no file."""
        return self._private_dir("work", check_name(product, "product"),
                                 check_partition(partition), self._run_id(run_id))

    def version_paths(self, zone: str, product: str, version: int,
                      run_id: str) -> tuple[Path, Path, Path]:
        """A version's folder (not created), the run's staging folder beside it (renamed into
        place once complete) and where a leftover folder is moved before it is removed."""
        parent = self._dir("products", check_name(zone, "zone"), check_name(product, "product"))
        run, version = self._run_id(run_id), _version(version)
        return (parent / f"v{version}", parent / f".v{version}.{run}.partial",
                parent / f".v{version}.{run}.discarded")

    def audit_checkpoint(self) -> Path:
        """The signed head of the audit log, kept outside the database, in a folder of the
        owner's only (every audited request asks: one stat when all is in place)."""
        folder = self.home / "audit"
        try:
            right = stat.S_IMODE(folder.stat().st_mode) == 0o700
        except FileNotFoundError:
            right = False
        if not right:
            os.chmod(self._dir("audit"), 0o700)
        return folder / "head.json"

    @staticmethod
    def _run_id(run_id: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", run_id):
            raise UserInputError(f"run id '{run_id}' must be letters, digits, '_', '.' or '-'")
        return run_id

    def keys_dir(self) -> Path:
        path = self._dir("keys")
        os.chmod(path, 0o700)
        return path


def _version(version: object) -> int:
    if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
        return version
    raise UserInputError(f"version '{version}' is not a whole number ≥ 1")


def create_private(path: Path, data: bytes) -> bool:
    """Create a secret readable by its owner only (0600), whole, and only if it is absent.
    The bytes go to a temporary file made with O_EXCL, then are linked to `path` (which fails
    if it exists): two processes creating one key at once keep the first, and no reader sees
    a half-written key. Returns False when `path` already existed; the caller re-reads it."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
