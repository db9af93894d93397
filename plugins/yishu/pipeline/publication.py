"""Putting a product version's folder in place atomically.

The files are written into a staging folder beside `v<N>` (a hidden name readers skip),
flushed to disk, and the folder renamed into place: a reader sees the whole version, voucher
included, or no version. The rename happens while the publisher holds the audit writers' lock,
right before the transaction that records the version, so a `v<N>` found without its database
row at that moment can only be left by a run killed between the two: it is replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from yishu.storage import fsync_dir


def fresh(staging: Path) -> Path:
    """An empty staging folder (an earlier attempt of the same run may have left one)."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def flush(staging: Path) -> None:
    """Make every file of the staging folder, and the folder, durable before the rename."""
    for path in staging.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_dir(staging)


def move_into_place(staging: Path, final: Path, discard: Path) -> None:
    if final.exists():  # left by a run killed after its rename, before its commit
        if discard.exists():
            shutil.rmtree(discard)
        os.rename(final, discard)
    os.rename(staging, final)
    fsync_dir(final.parent)
    if discard.exists():
        shutil.rmtree(discard)


def withdraw(final: Path, staging: Path) -> None:
    """The transaction failed after the rename: take the folder out of sight again."""
    with contextlib.suppress(OSError):
        os.rename(final, staging)
        fsync_dir(final.parent)
