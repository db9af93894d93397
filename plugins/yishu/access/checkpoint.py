"""The signed head of the audit log, kept outside the database (`YISHU_HOME/audit/head.json`).

Whoever can write the database can recompute a hash chain; they cannot sign. After every
entry the bureau's Ed25519 key signs the head (seq and hash) into this file, so a log that was
cut, rewritten or swapped for an older copy no longer reaches the signed head.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yishu.storage import fsync_dir

# signed with the head, so no other signature of the bureau key (a voucher) passes for one
PURPOSE = "yishu audit log head"


class CheckpointInvalid(Exception):
    """The checkpoint file is unreadable or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str


def _payload(seq: int, head: str) -> bytes:
    return json.dumps({"purpose": PURPOSE, "seq": seq, "hash": head}, sort_keys=True,
                      separators=(",", ":")).encode()


def read(path: Path, public_key: Ed25519PublicKey) -> Checkpoint | None:
    """The signed head, or None when there is no checkpoint yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    mine = _WRITTEN.get(path)
    if mine is not None and mine[0] == raw and mine[1] == public_key.public_bytes_raw():
        return mine[2]  # the bytes this process signed last: nothing to verify
    return _verified(raw, public_key.public_bytes_raw(), str(path))


# path -> (bytes, public key, checkpoint) this process last wrote there: every audited request
# reads the head back, usually the one this process just signed
_WRITTEN: dict[Path, tuple[bytes, bytes, Checkpoint]] = {}


@functools.lru_cache(maxsize=16)
def _verified(raw: bytes, public_key: bytes, where: str) -> Checkpoint:
    """The checkpoint in `raw` if its signature verifies with `public_key`. Memoized: every
    audited request reads the head, and the same bytes under the same key verify the same way
    (a failure raises, so it is never remembered)."""
    try:
        data = json.loads(raw.decode("utf-8"))
        seq, head = int(data["seq"]), str(data["hash"])
        signature = base64.b64decode(data["signature"], validate=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CheckpointInvalid(f"{where} is not a checkpoint ({exc})") from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _payload(seq, head))
    except InvalidSignature:
        raise CheckpointInvalid(f"the signature of {where} does not verify with the bureau's "
                                "key: the checkpoint was altered or forged") from None
    return Checkpoint(seq, head)


def write(path: Path, seq: int, head: str, key: Ed25519PrivateKey) -> bool:
    """Sign and store the head atomically (temporary file, fsync, rename). Writers that commit
    in one order may get here in another: an older head never replaces a newer one."""
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read(path, key.public_key())  # an invalid checkpoint is evidence: keep it
        if current is not None and current.seq >= seq:
            return False
        record = {"seq": seq, "hash": head, "algorithm": "Ed25519",
                  "signature": base64.b64encode(key.sign(_payload(seq, head))).decode()}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        raw = json.dumps(record, indent=1).encode()
        try:
            with open(tmp, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        fsync_dir(path.parent)
        _WRITTEN[path] = (raw, key.public_key().public_bytes_raw(), Checkpoint(seq, head))
        return True

