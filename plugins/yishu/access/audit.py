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

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from yishu.catalog.models import Base, session

GENESIS = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


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


def record(action: str, subject: str, detail: dict | None = None,
           actor: str | None = None) -> AuditEntry:
    detail = json.loads(json.dumps(detail or {}, default=str))
    actor = actor or current_actor()
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with session() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        prev = last.hash if last else GENESIS
        entry = AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail,
                           prev_hash=prev,
                           hash=_digest(prev, at.isoformat(), actor, action, subject, detail))
        s.add(entry)
        s.commit()
        return entry


def entries() -> list[AuditEntry]:
    with session() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def verify() -> list[str]:
    """Problems in the chain (empty when intact)."""
    problems, prev = [], GENESIS
    for e in entries():
        at = e.at.replace(tzinfo=dt.UTC) if e.at.tzinfo is None else e.at
        expected = _digest(prev, at.isoformat(), e.actor, e.action, e.subject, e.detail)
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: does not follow the previous entry (deleted or "
                            "reordered entries)")
        if e.hash != expected:
            problems.append(f"entry {e.seq}: content does not match its hash (edited)")
        prev = e.hash
    return problems
