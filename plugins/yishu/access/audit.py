"""Append-only, hash-chained audit log (事后可审计), its head signed outside the database.

Every entry stores the previous entry's hash and the SHA-256 of that and its own canonical
content, so editing, deleting or reordering an entry breaks the chain. An entry is added inside
the transaction of the act it records (`append`): the act never commits without its entry
(acts that change no table, such as API requests, go through audit_group's group commit).
After each commit the new head is signed with the bureau key into `YISHU_HOME/audit/head.json`
(see checkpoint.py), so cutting the newest entries, rewriting the chain or swapping the database
leaves a log that no longer reaches the signed head. Writers refuse to extend such a log (fail
closed); integrity.py says what is wrong (`yishu audit verify`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from yishu.access import checkpoint
from yishu.db.database import Database
from yishu.db.models import AuditEntry, AuditHead
from yishu.errors import UserInputError
from yishu.resources import Resources

GENESIS = "0" * 64
# the tables themselves: the checks and the group commit are plain SQL statements, which work
# the same in an ORM session and on its connection (the ORM's unit of work costs ~1 ms a group)
_ENTRIES = AuditEntry.__table__
_HEAD = AuditHead.__table__
_PENDING = "yishu.audit.pending_head"  # Session.info key: the head to sign after commit

# built once: building a statement (coercing its clauses) cost more CPU than running it
_LOCK_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq)
              .returning(_HEAD.c.seq, _HEAD.c.hash))
_ADD_HEAD = insert(_HEAD).values(id=1, seq=0, hash=None)
_LAST = select(_ENTRIES.c.seq, _ENTRIES.c.hash).order_by(_ENTRIES.c.seq.desc()).limit(1)
_HASH_AT = select(_ENTRIES.c.hash).where(_ENTRIES.c.seq == bindparam("at_seq"))
_SET_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"),
                                                         hash=bindparam("new_hash"))
_ADD_ENTRIES = insert(_ENTRIES).returning(_ENTRIES.c.seq, sort_by_parameter_order=True)


class AuditRefused(UserInputError):
    """The log does not reach its signed head (or that head is not trustworthy): nothing is
    recorded, so the act that needed the entry does not happen either."""


class HeadNotSigned(UserInputError):
    """The act and its entry committed, but the new head could not be written to the
    checkpoint file (the log is then as after a crash before signing: still verifiable)."""


def utc(at: dt.datetime) -> dt.datetime:
    """A stored timestamp in UTC, whatever the database returns: SQLite gives naive UTC,
    PostgreSQL gives the session's time zone (e.g. Asia/Shanghai)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def digest(prev_hash: str, at: dt.datetime, actor: str, action: str, subject: str,
           detail: dict) -> str:
    body = json.dumps([prev_hash, utc(at).isoformat(), actor, action, subject, detail],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def entry_digest(e: AuditEntry | Recorded) -> str:
    """What an entry's hash must be, given its stored content."""
    return digest(e.prev_hash, e.at, e.actor, e.action, e.subject, e.detail)


def current_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


def _lock(session: Session | Connection):
    """Take the writers' lock: an UPDATE of the one head row (a row lock on PostgreSQL, the
    write lock on SQLite), so the head read next is the latest and stays so until commit.
    Returns the row's (seq, hash): the head the database last wrote."""
    remembered = session.execute(_LOCK_HEAD).first()
    if remembered is None:  # a database made without the migrations' row
        session.execute(_ADD_HEAD)
    return remembered


def _last(session: Session | Connection):
    """(seq, hash) of the latest entry, or None."""
    return session.execute(_LAST).first()


def lock(res: Resources, session: Session | Connection, adopt_unsigned: bool = False):
    """Take the writers' lock in the caller's transaction and check the log reaches its signed
    head (else `AuditRefused`); returns the latest entry's (seq, hash), or None. Acts that must
    not happen unrecorded call it before they change anything outside the database
    (publishing moves a folder)."""
    remembered = _lock(session)
    last = _last(session)
    _guard(res, session, last, remembered, adopt_unsigned)
    return last


def _guard(res: Resources, session: Session | Connection, last, remembered,
           adopt_unsigned: bool) -> None:
    """Refuse to extend a log that does not reach its signed head, or whose head could not be
    signed afterwards."""
    if remembered is not None and remembered.seq > (last.seq if last else 0):
        raise AuditRefused(f"the database last wrote audit entry {remembered.seq} but the log "
                           f"ends at {last.seq if last else 0}: entries were deleted; nothing "
                           "was recorded: run `yishu audit verify`")
    if remembered is not None and remembered.hash is not None and last is not None and (
            last.seq, last.hash) != (remembered.seq, remembered.hash):
        raise AuditRefused(f"the latest audit entry is {last.seq}, not entry {remembered.seq} "
                           "that the database last wrote: entries were renumbered or edited; "
                           "nothing was recorded: run `yishu audit verify`")
    path = res.storage.audit_checkpoint()
    if not os.access(path.parent, os.W_OK):
        raise AuditRefused(f"{path.parent} is not writable: the audit log's head could not be "
                           "signed; nothing was recorded")
    try:
        signed = checkpoint.read(path, res.keys.signing_key().public_key())
    except checkpoint.CheckpointInvalid as exc:
        raise AuditRefused(f"{exc}; nothing was recorded: run `yishu audit verify`") from None
    if signed is None:
        if last is not None and not adopt_unsigned:
            raise AuditRefused(
                f"the audit log has {last.seq} entries but no signed head ({path}); nothing "
                "was recorded: run `yishu audit verify`, then `yishu audit repair --reason "
                "TEXT` signs the head of a log written before checkpoints existed")
        if last is None:  # sign the empty log first: a second writer that takes the lock
            try:  # before the first one signs entry 1 then finds a head, not none
                checkpoint.write(path, 0, GENESIS, res.keys.signing_key())
            except OSError as exc:
                raise AuditRefused(f"the audit log's head could not be signed into {path} "
                                   f"({exc}); nothing was recorded") from None
        return
    if (signed.seq, signed.hash) == (0, GENESIS):  # the empty log's head: every log extends it
        return
    found = (last.hash if last is not None and last.seq == signed.seq else  # the usual case
             session.scalar(_HASH_AT, {"at_seq": signed.seq}))
    if found != signed.hash:
        raise AuditRefused(
            f"the audit log no longer holds its signed head (entry {signed.seq}): entries were "
            "cut or rewritten, or the database was swapped; nothing was recorded: run "
            "`yishu audit verify`")


def append(res: Resources, session: Session, action: str, subject: str,
           detail: dict | None = None, actor: str | None = None, *,
           adopt_unsigned: bool = False) -> AuditEntry:
    """Add an entry to the caller's transaction: it commits with the act it records, or
    neither does. The new head is signed once the transaction commits. `adopt_unsigned` is
    for `yishu audit repair` only: extend a log that has no checkpoint yet."""
    entry = _extend(session, lock(res, session, adopt_unsigned), action, subject, detail, actor)
    session.flush()  # the entry gets its seq
    _remember_head(session, entry.seq, entry.hash)
    if not event.contains(session, "after_commit", _sign_committed_head):
        event.listen(session, "after_commit", _sign_committed_head)
    session.info[_PENDING] = (res, entry)  # the latest entry of the transaction
    return entry


def _extend(session: Session, last, action: str, subject: str, detail: dict | None,
            actor: str | None) -> AuditEntry:
    """The entry after `last` (the caller holds the writers' lock), added to the session."""
    entry = AuditEntry(**_row(last.hash if last else GENESIS, action, subject, detail, actor))
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Recorded:
    """An entry as written by `extend`: its columns, without an ORM object (building one cost
    0.3 ms an entry, more than writing it)."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    detail: dict
    prev_hash: str
    hash: str


def extend(res: Resources, connection: Connection, entries: list[tuple]) -> list[Recorded]:
    """Entries (action, subject, detail, actor) after the latest, in the caller's transaction
    (it writes nothing before): one check of the log, one INSERT of them all (their seq
    numbers returned in order), one update of the head row. The caller commits, then signs."""
    last = lock(res, connection)
    prev, rows = last.hash if last else GENESIS, []
    for args in entries:
        rows.append(_row(prev, *args))
        prev = rows[-1]["hash"]
    seqs = connection.execute(_ADD_ENTRIES, rows).scalars().all()
    _remember_head(connection, seqs[-1], prev)
    return [Recorded(seq=seq, **row) for seq, row in zip(seqs, rows, strict=True)]


def _row(prev: str, action: str, subject: str, detail: dict | None, actor: str | None) -> dict:
    """The columns of the entry after the one whose hash is `prev` (all but its seq)."""
    detail = json.loads(json.dumps(detail or {}, default=str))
    actor = actor or current_actor()
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {"at": at, "actor": actor, "action": action, "subject": subject, "detail": detail,
            "prev_hash": prev, "hash": digest(prev, at, actor, action, subject, detail)}


def _remember_head(session: Session | Connection, seq: int, head_hash: str) -> None:
    """The head row, in the same transaction: a later cut of the log shows against it."""
    session.execute(_SET_HEAD, {"new_seq": seq, "new_hash": head_hash})


def _sign_committed_head(session: Session) -> None:
    res, entry = session.info.pop(_PENDING, (None, None))
    # a rolled-back entry is transient again: only a committed one becomes the signed head
    if entry is not None and inspect(entry).persistent:
        sign_head(res, entry.seq, entry.hash)


def sign_head(res: Resources, seq: int, head_hash: str) -> None:
    path = res.storage.audit_checkpoint()
    try:
        checkpoint.write(path, seq, head_hash, res.keys.signing_key())
    except OSError as exc:  # the act is committed: say so, the next entry signs the head
        raise HeadNotSigned(f"the act and its audit entry {seq} were recorded, but the head "
                            f"could not be signed into {path} ({exc}): fix that; the next "
                            "entry signs the head") from None


@contextlib.contextmanager
def queued(res: Resources):
    """Wait in line (a file lock) for a whole write transaction that starts with the audit
    lock: SQLite's busy handler retries a locked database by sleeping up to 100 ms at a time,
    so under load writers slept far longer than they worked. Only an ordering aid: the database
    lock still decides. Only for transactions that write nothing before the audit lock, so a
    writer holding the database never waits here."""
    path = res.storage.audit_checkpoint().with_name("writers.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AuditRefused(f"{path} cannot be opened ({exc.strerror}): the audit log's head "
                           "could not be signed either; nothing was recorded") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def head(db: Database) -> str | None:
    """Hash of the latest entry: vouchers carry it, so a truncated log is noticed."""
    with db.session() as s:
        last = _last(s)
        return last.hash if last else None


def entries(db: Database) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
