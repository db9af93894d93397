"""Append-only, hash-chained audit log (事后可审计).

Every entry stores the SHA-256 of the previous entry's hash and its own canonical content, so
editing, deleting or reordering any entry breaks the chain from that point, which `verify()`
reports. Writers only ever insert.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from yishu.db.database import Database
from yishu.db.models import AuditEntry, Batch, ProductVersion

GENESIS = "0" * 64


def _digest(prev_hash: str, at: str, actor: str, action: str, subject: str,
            detail: dict) -> str:
    body = json.dumps([prev_hash, at, actor, action, subject, detail], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def current_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


def record(db: Database, action: str, subject: str, detail: dict | None = None,
           actor: str | None = None) -> AuditEntry:
    detail = json.loads(json.dumps(detail or {}, default=str))
    actor = actor or current_actor()
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for _attempt in range(5):
        with db.session() as s:
            prev = head(db) or GENESIS
            entry = AuditEntry(at=at, actor=actor, action=action, subject=subject,
                               detail=detail, prev_hash=prev,
                               hash=_digest(prev, at.isoformat(), actor, action, subject, detail))
            s.add(entry)
            try:
                s.commit()
                return entry
            except IntegrityError:  # another writer extended the chain first: re-read
                s.rollback()
    raise RuntimeError("audit log busy: could not append after 5 attempts")


def head(db: Database) -> str | None:
    """Hash of the latest entry: vouchers carry it, so a truncated log is noticed."""
    with db.session() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        return last.hash if last else None


def entries(db: Database) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def verify(db: Database) -> list[str]:
    """Problems in the chain (empty when intact), and catalog facts the log does not hold:
    a published version without its publish entry, a voucher's audit head missing from the
    chain, or a steward's decision without its entry, means entries were removed."""
    problems, prev = [], GENESIS
    log = entries(db)
    for e in log:
        at = e.at.replace(tzinfo=dt.UTC) if e.at.tzinfo is None else e.at
        expected = _digest(prev, at.isoformat(), e.actor, e.action, e.subject, e.detail)
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: does not follow the previous entry (deleted or "
                            "reordered entries)")
        if e.hash != expected:
            problems.append(f"entry {e.seq}: content does not match its hash (edited)")
        prev = e.hash
    return problems + _missing_facts(db, log)


def _missing_facts(db: Database, log: list[AuditEntry]) -> list[str]:
    hashes = {e.hash for e in log}
    seen = {(e.action, e.subject) for e in log}
    problems = []
    with db.session() as s:
        for v in s.scalars(select(ProductVersion)):
            if ("product.publish", f"{v.zone}/{v.product}/v{v.version}") not in seen:
                problems.append(f"{v.zone}/{v.product}/v{v.version} was published but its "
                                "audit entry is missing (entries removed)")
            anchor = (v.voucher or {}).get("body", {}).get("audit_head")
            if anchor and anchor not in hashes:
                problems.append(f"the voucher of {v.product} v{v.version} names audit entry "
                                f"{anchor[:12]}…, which is not in the log (entries removed)")
        for b in s.scalars(select(Batch).where(Batch.status.in_(("released", "rejected")))):
            action = "batch.release" if b.status == "released" else "batch.reject"
            if (action, f"{b.source}/{b.partition}") not in seen:
                problems.append(f"{b.source}/{b.partition} is {b.status} but the steward's "
                                "decision is not in the audit log (entries removed)")
    return problems
