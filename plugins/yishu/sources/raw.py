"""Raw bytes into the raw zone, crash-safe: the file named by a hash holds those bytes or is absent.

Bytes go to a temporary name in the same folder, are flushed to disk, hashed again as read back,
renamed to `<sha256><suffix>` and made read-only (0440). A file already under that name is
hashed again: a leftover with other bytes (a copy cut short by a crash under an older version)
is replaced, so one hash never names other bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from yishu.storage import fsync_dir

CHUNK = 1 << 20
_TMP_PREFIX = ".incoming."


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def file_chunks(path: Path) -> Iterable[bytes]:
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            yield block


def store(chunks: Iterable[bytes], folder: Path, suffix: str) -> tuple[str, Path]:
    """Write `chunks` into `folder` as `<sha256><suffix>`; returns (sha256, path)."""
    _remove_leftovers(folder)
    tmp = folder / f"{_TMP_PREFIX}{os.getpid()}.{uuid.uuid4().hex}.tmp"
    digest = hashlib.sha256()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for block in chunks:
                digest.update(block)
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        sha = digest.hexdigest()
        if sha256_of(tmp) != sha:  # what reached the disk is what arrived
            raise OSError(f"{tmp}: bytes read back differ from the bytes written: check the disk")
        final = folder / f"{sha}{suffix}"
        if final.exists() and sha256_of(final) == sha:
            final.chmod(0o440)
            return sha, final
        os.chmod(tmp, 0o440)
        os.replace(tmp, final)  # atomic: the final name never shows part of the bytes
        fsync_dir(folder)
        return sha, final
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of writers that died (their process is gone)."""
    for leftover in folder.glob(f"{_TMP_PREFIX}*.tmp"):
        pid = leftover.name.removeprefix(_TMP_PREFIX).split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

