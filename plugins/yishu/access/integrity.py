"""Is the audit log whole? `verify` checks the hash chain, the signed head kept outside the
database, and the catalog facts that must each have their entry; it names the first bad entry
and the kind of damage. An act interrupted before its entry existed (possible only before acts
and entries shared a transaction) is told apart from tampering, and `repair` records it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from yishu.access import audit, checkpoint
from yishu.db.models import AuditEntry, AuditHead, Batch, ProductVersion
from yishu.pipeline.voucher import VoucherError
from yishu.pipeline.voucher import verify as verify_voucher
from yishu.resources import Resources

EDITED = "edited"
DELETED = "deleted or reordered"
TAIL_CUT = "tail cut"
SWAPPED = "database swapped"
REWRITTEN = "rewritten"
BAD_CHECKPOINT = "checkpoint signature invalid"
NO_CHECKPOINT = "checkpoint missing"
MISSING = "entry missing"
INTERRUPTED = "interrupted"
# what `yishu audit repair` may settle after a person has looked: never tampering
REPAIRABLE = (INTERRUPTED, NO_CHECKPOINT)


@dataclass(frozen=True)
class Damage:
    kind: str
    message: str
    seq: int | None = None  # the entry concerned, when there is one
    fact: tuple[str, str, dict] | None = None  # for an interrupted act: its missing entry

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def verify(res: Resources) -> list[Damage]:
    """Everything wrong with the log, the first bad entry first (empty when intact)."""
    log = audit.entries(res.db)
    damage = _chain(log) + _against_checkpoint(res, log)
    intact = all(d.kind == NO_CHECKPOINT for d in damage)
    return damage + _missing_facts(res, log, intact)


def signed_head(res: Resources) -> checkpoint.Checkpoint | None:
    """The head signed outside the database (raises `CheckpointInvalid` if forged)."""
    return checkpoint.read(res.storage.audit_checkpoint(), res.keys.signing_key().public_key())


def _chain(log: list[AuditEntry]) -> list[Damage]:
    problems, follows, prev_seq = [], {audit.GENESIS}, None
    for e in log:
        own = audit.entry_digest(e)
        if e.hash != own:
            problems.append(Damage(EDITED, f"entry {e.seq} ({e.action} {e.subject}): its "
                                   "content does not match its hash: the entry was edited",
                                   e.seq))
        elif e.prev_hash not in follows:
            after = f"entry {prev_seq}" if prev_seq else "the start of the log"
            problems.append(Damage(DELETED, f"entry {e.seq} ({e.action} {e.subject}) does not "
                                   f"follow {after}: entries between them were deleted, the "
                                   "entries reordered, or the one before rehashed after an "
                                   "edit", e.seq))
        # an edited entry's successor may name its stored or its true hash: report it once
        follows, prev_seq = {e.hash, own}, e.seq
    return problems


def _against_checkpoint(res: Resources, log: list[AuditEntry]) -> list[Damage]:
    """Does the log reach the head signed outside the database? The head row the database
    last wrote tells a deleted tail (it remembers more) from an older copy (it does not)."""
    path = res.storage.audit_checkpoint()
    try:
        signed = signed_head(res)
    except checkpoint.CheckpointInvalid as exc:
        return [Damage(BAD_CHECKPOINT, f"{exc}: the log's signed head cannot be trusted")]
    by_seq = {e.seq: e for e in log}
    last = log[-1].seq if log else 0
    with res.db.session() as s:
        row = s.get(AuditHead, 1)
    remembered = row.seq if row else 0
    if signed is not None and signed.seq > last:
        if remembered >= signed.seq:
            return [Damage(TAIL_CUT, f"the signed head is entry {signed.seq} but the log ends "
                           f"at entry {last}: entries {last + 1}–{signed.seq} were deleted",
                           last + 1)]
        return [Damage(SWAPPED, f"the signed head is entry {signed.seq} but the log, and the "
                       f"database with it, end at entry {last}: the database was swapped for "
                       "an older copy", last + 1)]
    problems = []
    if remembered > last:  # entries written after the signed head (a crash before signing)
        problems.append(Damage(TAIL_CUT, f"the database last wrote entry {remembered} but the "
                               f"log ends at entry {last}: its newest entries were deleted",
                               last + 1))
    if signed is None:
        if log:
            problems.append(Damage(NO_CHECKPOINT, f"{path} is missing: nothing vouches that "
                                   "the log was not cut. For a log written before checkpoints "
                                   "existed, review it and sign its head with `yishu audit "
                                   "repair --reason TEXT`"))
    elif (signed.seq, signed.hash) == (0, audit.GENESIS):  # signed before the first entry
        pass
    elif signed.seq not in by_seq:
        problems.append(Damage(DELETED, f"entry {signed.seq}, the signed head, was deleted",
                               signed.seq))
    elif by_seq[signed.seq].hash != signed.hash:
        problems.append(Damage(REWRITTEN, f"entry {signed.seq} is not the signed head "
                               f"({signed.hash[:12]}…): the chain was rewritten up to it, or "
                               "the database swapped for another", signed.seq))
    return problems


def _missing_facts(res: Resources, log: list[AuditEntry], intact: bool) -> list[Damage]:
    """Catalog facts whose entry is not in the log. With the chain and the signed head intact,
    the entry was never written: an interrupted act. Otherwise entries were removed."""
    hashes = {e.hash for e in log}
    seen = {(e.action, e.subject) for e in log}
    bureau_key = res.keys.public_key_pem()
    problems = []
    with res.db.session() as s:
        for v in s.scalars(select(ProductVersion).order_by(ProductVersion.id)):
            subject = f"{v.zone}/{v.product}/v{v.version}"
            anchor = (v.voucher or {}).get("body", {}).get("audit_head")
            if anchor and anchor not in hashes:
                problems.append(Damage(MISSING, f"the voucher of {v.product} v{v.version} names "
                                       f"audit entry {anchor[:12]}…, which is not in the log "
                                       "(entries removed or rewritten)"))
            if ("product.publish", subject) in seen:
                continue
            genuine = _genuine(v.voucher, bureau_key)
            if intact and genuine and (not anchor or anchor in hashes):
                problems.append(_interrupted(subject, "published", (
                    "product.publish", subject,
                    {"rows": v.rows, "level": v.security_level, "grade": v.quality_grade,
                     "voucher_signature": v.voucher["signature"],
                     "published_at": v.created_at})))
            else:
                problems.append(Damage(MISSING, f"{subject} was published but its audit entry "
                                       "is missing (entries removed)"))
        for b in s.scalars(select(Batch).where(Batch.status.in_(("released", "rejected")))
                           .order_by(Batch.id)):
            action = "batch.release" if b.status == "released" else "batch.reject"
            subject = f"{b.source}/{b.partition}"
            if (action, subject) in seen:
                continue
            if intact:
                problems.append(_interrupted(subject, b.status, (
                    action, subject, {"reason": b.review_note,
                                      "snapshot_sha256": b.snapshot_sha256,
                                      "decided_at": b.updated_at})))
            else:
                problems.append(Damage(MISSING, f"{subject} is {b.status} but the steward's "
                                       "decision is not in the audit log (entries removed)"))
    return problems


def _genuine(voucher: dict | None, bureau_key: str) -> bool:
    try:
        return not verify_voucher(voucher or {}, bureau_key)
    except VoucherError:  # not even shaped like a voucher
        return False


def _interrupted(subject: str, what: str, fact: tuple[str, str, dict]) -> Damage:
    return Damage(INTERRUPTED, f"{subject} was {what} but the process stopped before its audit "
                  "entry was written (an interrupted act, not tampering): review it, then "
                  "`yishu audit repair --reason TEXT` records the entry", fact=fact)


def repair(res: Resources, reason: str, actor: str | None = None) -> list[Damage]:
    """Record the entries of interrupted acts (and sign the head of a log that has none),
    with the reason, in one transaction ending with an `audit.repair` entry. Refused when the
    log shows tampering: that is for an investigation, not a repair. Returns what it settled."""
    if not reason.strip():
        raise ValueError("a reason is required: it is recorded in the audit log")
    damage = verify(res)
    tampering = [d for d in damage if d.kind not in REPAIRABLE]
    if tampering:
        raise audit.AuditRefused(f"the log shows tampering ({tampering[0]}); repair records "
                                 "interrupted acts only: investigate, and restore the database "
                                 "from a backup")
    if not damage:
        return []
    adopt = any(d.kind == NO_CHECKPOINT for d in damage)
    settled = [d for d in damage if d.fact]
    with res.db.session() as s:
        for d in settled:
            action, subject, detail = d.fact
            audit.append(res, s, action, subject, {**detail, "recorded_by": "audit repair",
                                                   "repair_reason": reason},
                         actor, adopt_unsigned=adopt)
        audit.append(res, s, "audit.repair", f"{len(settled)} interrupted act(s)",
                     {"reason": reason, "recorded": [d.fact[1] for d in settled],
                      "signed_unsigned_head": adopt}, actor, adopt_unsigned=adopt)
        s.commit()
    return damage
