"""The audit log's defences, each tried: the hash chain (every hashed field edited alone), the
signed head outside the database (tail cut, rewritten chain, older copy of the database, a
forged checkpoint), the voucher's anchor, and writers that refuse a damaged log."""

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import delete, select, update

from yishu.access import audit, audit_group, integrity
from yishu.access.audit import AuditEntry
from yishu.db.database import Database
from yishu.db.models import AuditHead, Batch


def _kinds(res):
    return [(d.kind, d.seq) for d in integrity.verify(res)]


def _fill(res, n=3, action="batch.release"):
    return [audit_group.record(res, action, f"s/{i}", {"reason": "ok"}, actor="steward")
            for i in range(n)]


def _edit(res, seq, **values):
    with res.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**values))
        s.commit()


def test_an_intact_log_verifies(fresh_res):
    _fill(fresh_res)
    assert integrity.verify(fresh_res) == []
    assert json.loads(fresh_res.storage.audit_checkpoint().read_text())["seq"] == 3


@pytest.mark.parametrize("field, value", [
    ("at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)), ("actor", "someone else"),
    ("action", "batch.reject"), ("subject", "s/other"), ("detail", {"reason": "changed"}),
    ("prev_hash", "1" * 64), ("hash", "2" * 64)])
def test_every_hashed_field_edited_alone_is_detected(fresh_res, field, value):
    _fill(fresh_res)
    _edit(fresh_res, 2, **{field: value})
    assert _kinds(fresh_res)[0] == (integrity.EDITED, 2)
    assert len(integrity.verify(fresh_res)) == 1  # named once, no cascade on entry 3


def _renumber(res, seq, new):
    with res.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=new))
        s.commit()


def test_swapped_sequence_numbers_are_detected(fresh_res):
    # seq orders the chain rather than being hashed: swapping two numbers reorders it
    _fill(fresh_res, 4, action="reidentify")
    _renumber(fresh_res, 2, 99)
    _renumber(fresh_res, 3, 2)
    _renumber(fresh_res, 99, 3)
    assert _kinds(fresh_res)[0] == (integrity.DELETED, 2)


@pytest.mark.parametrize("seq, new", [(4, 40), (2, 20), (1, 10)])
def test_a_renumbered_entry_is_detected(fresh_res, seq, new):
    # moved to the end, or a gap where the signed head (entry 4) was: either way noticed
    _fill(fresh_res, 4, action="reidentify")
    _renumber(fresh_res, seq, new)
    damage = integrity.verify(fresh_res)
    assert damage and damage[0].kind in (integrity.DELETED, integrity.TAIL_CUT), damage
    with pytest.raises(audit.AuditRefused):
        audit_group.record(fresh_res, "reidentify", "x")


def test_a_deleted_entry_breaks_the_chain(fresh_res):
    _fill(fresh_res)
    with fresh_res.db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
        s.commit()
    assert _kinds(fresh_res) == [(integrity.DELETED, 3)]


def _cut_last(res):
    with res.db.session() as s:
        s.delete(s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first())
        s.commit()


def test_a_cut_tail_is_detected_by_the_signed_head(fresh_res):
    _fill(fresh_res, action="reidentify")  # no catalog fact vouches for these entries
    _cut_last(fresh_res)
    assert _kinds(fresh_res) == [(integrity.TAIL_CUT, 3)]
    with pytest.raises(audit.AuditRefused):  # fail closed: no new entry
        audit_group.record(fresh_res, "reidentify", "x")


def test_a_tail_cut_also_in_the_head_row_is_still_detected(fresh_res):
    _fill(fresh_res, action="reidentify")
    _cut_last(fresh_res)
    with fresh_res.db.session() as s:  # a careful intruder rewinds the database's own head
        s.execute(update(AuditHead).values(seq=2))
        s.commit()
    assert [k for k, _ in _kinds(fresh_res)] == [integrity.SWAPPED]


def test_a_database_swapped_for_an_older_copy_is_detected(fresh_res, tmp_path):
    _fill(fresh_res, 2)
    db_file = fresh_res.settings.home / "yishu.db"
    _copy_database(db_file, tmp_path / "old.db")
    _fill(fresh_res, 2)
    older = dataclasses.replace(fresh_res, db=Database(f"sqlite:///{tmp_path / 'old.db'}"))
    assert _kinds(older) == [(integrity.SWAPPED, 3)]
    with pytest.raises(audit.AuditRefused):
        audit_group.record(older, "batch.release", "s/9")


def test_a_consistently_rewritten_chain_is_detected(fresh_res):
    _fill(fresh_res)
    prev = audit.GENESIS
    with fresh_res.db.session() as s:  # whoever writes the database can recompute every hash
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            e.detail = {"reason": "rewritten"}
            e.prev_hash, e.hash = prev, audit.digest(prev, e.at, e.actor, e.action,
                                                     e.subject, e.detail)
            prev = e.hash
        s.commit()
    assert _kinds(fresh_res) == [(integrity.REWRITTEN, 3)]


def test_a_forged_or_missing_checkpoint_is_detected(fresh_res):
    _fill(fresh_res)
    path = fresh_res.storage.audit_checkpoint()
    signed = json.loads(path.read_text())
    path.write_text(json.dumps({**signed, "seq": 2}))  # an older head without its signature
    assert [k for k, _ in _kinds(fresh_res)] == [integrity.BAD_CHECKPOINT]
    with pytest.raises(audit.AuditRefused, match="does not verify"):
        audit_group.record(fresh_res, "reidentify", "x")
    path.unlink()
    assert [k for k, _ in _kinds(fresh_res)] == [integrity.NO_CHECKPOINT]
    with pytest.raises(audit.AuditRefused, match="no signed head"):
        audit_group.record(fresh_res, "reidentify", "x")


def test_timestamps_are_hashed_in_utc_whatever_the_database_returns(fresh_res):
    entry = _fill(fresh_res, 1)[0]
    shanghai = dt.timezone(dt.timedelta(hours=8))  # as PostgreSQL returns it in Shanghai
    at = audit.utc(entry.at)
    assert audit.digest(entry.prev_hash, at.astimezone(shanghai), entry.actor, entry.action,
                        entry.subject, entry.detail) == entry.hash
    assert audit.digest(entry.prev_hash, at.replace(tzinfo=None), entry.actor, entry.action,
                        entry.subject, entry.detail) == entry.hash


def test_a_second_successor_of_the_same_entry_is_refused(fresh_res):
    from sqlalchemy.exc import IntegrityError

    first = audit_group.record(fresh_res, "x", "a", actor="t")
    with fresh_res.db.session() as s:
        s.add(AuditEntry(at=first.at, actor="t", action="x", subject="fork", detail={},
                         prev_hash=first.prev_hash, hash="f" * 64))
        with pytest.raises(IntegrityError):
            s.commit()


def _quarantined(res, partition="2026-11-01"):
    from yishu.pipeline import batches

    batches._upsert(res, "s", partition, status="quarantined", snapshot_sha256="ab" * 32,
                    raw_path="r", rows=1, validation_path="v.json")


def test_a_decision_and_its_entry_commit_together(fresh_res, monkeypatch):
    from yishu.db.queries import get_batch
    from yishu.pipeline import batches

    _quarantined(fresh_res)
    monkeypatch.setattr(audit, "_guard", _boom)  # the entry cannot be written
    with pytest.raises(RuntimeError, match="boom"):
        batches.review(fresh_res, "s", "2026-11-01", "released", "checked", "abababab")
    assert get_batch(fresh_res.db, "s", "2026-11-01").status == "quarantined"
    monkeypatch.undo()
    batches.review(fresh_res, "s", "2026-11-01", "released", "checked", "abababab")
    assert get_batch(fresh_res.db, "s", "2026-11-01").status == "released"
    assert integrity.verify(fresh_res) == []


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_a_removed_decision_entry_is_named(fresh_res):
    from yishu.pipeline import batches

    _quarantined(fresh_res)
    batches.review(fresh_res, "s", "2026-11-01", "released", "checked", "abababab")
    audit_group.record(fresh_res, "reidentify", "later")
    with fresh_res.db.session() as s:  # the decision's entry, in the middle of the log
        s.execute(delete(AuditEntry).where(AuditEntry.action == "batch.release"))
        s.commit()
    damage = integrity.verify(fresh_res)
    assert damage[0].kind == integrity.DELETED
    assert any(d.kind == integrity.MISSING and "s/2026-11-01 is released" in d.message
               for d in damage)


def test_an_interrupted_decision_is_told_from_tampering_and_repaired(fresh_res):
    _fill(fresh_res, 1)
    _quarantined(fresh_res)
    with fresh_res.db.session() as s:  # what a crash between act and entry used to leave
        s.execute(update(Batch).values(status="released", review_note="checked"))
        s.commit()
    assert _kinds(fresh_res) == [(integrity.INTERRUPTED, None)]
    with pytest.raises(ValueError, match="reason"):
        integrity.repair(fresh_res, "  ")
    settled = integrity.repair(fresh_res, "crash on 11-02, checked with the steward",
                               actor="admin")
    assert [d.fact[:2] for d in settled] == [("batch.release", "s/2026-11-01")]
    assert integrity.verify(fresh_res) == []
    last = audit.entries(fresh_res.db)[-1]
    assert last.action == "audit.repair" and last.actor == "admin"
    assert "crash on 11-02" in last.detail["reason"]


def test_repair_refuses_a_tampered_log(fresh_res):
    _fill(fresh_res)
    _edit(fresh_res, 2, actor="intruder")
    with pytest.raises(audit.AuditRefused, match="tampering"):
        integrity.repair(fresh_res, "make it pass")
    assert _kinds(fresh_res)[0] == (integrity.EDITED, 2)


def test_a_log_older_than_checkpoints_is_signed_by_repair(fresh_res):
    _fill(fresh_res)
    fresh_res.storage.audit_checkpoint().unlink()  # as written before checkpoints existed
    settled = integrity.repair(fresh_res, "upgrade: log reviewed by the security officer")
    assert [d.kind for d in settled] == [integrity.NO_CHECKPOINT]
    assert integrity.verify(fresh_res) == []
    audit_group.record(fresh_res, "reidentify", "after the upgrade")
    assert integrity.verify(fresh_res) == []


def test_a_rolled_back_entry_is_never_signed(fresh_res):
    _fill(fresh_res, 1)
    with fresh_res.db.session() as s:
        audit.append(fresh_res, s, "reidentify", "rolled back")
        s.rollback()
        s.commit()
    assert json.loads(fresh_res.storage.audit_checkpoint().read_text())["seq"] == 1
    assert integrity.verify(fresh_res) == []


def test_concurrent_writers_keep_one_chain(fresh_res):
    from concurrent.futures import ThreadPoolExecutor

    _fill(fresh_res, 1)

    def write(worker):
        for i in range(6):
            audit_group.record(fresh_res, "reidentify", f"w{worker}/{i}", actor="bureau")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    assert len(audit.entries(fresh_res.db)) == 25 and integrity.verify(fresh_res) == []
    assert json.loads(fresh_res.storage.audit_checkpoint().read_text())["seq"] == 25


def test_entries_cut_after_the_signed_head_are_noticed_and_refused(fresh_res, monkeypatch):
    from yishu.access import checkpoint

    _fill(fresh_res, 2, action="reidentify")
    monkeypatch.setattr(checkpoint, "write", lambda *a: False)  # as if killed before signing
    audit_group.record(fresh_res, "reidentify", "unsigned")
    monkeypatch.undo()
    assert integrity.verify(fresh_res) == []  # an honest crash is no damage
    _cut_last(fresh_res)  # the unsigned entry, which the signed head cannot vouch for
    assert _kinds(fresh_res) == [(integrity.TAIL_CUT, 3)]
    with pytest.raises(audit.AuditRefused, match="entries were deleted"):
        audit_group.record(fresh_res, "reidentify", "would sign over the cut")


def test_a_writer_between_the_first_commit_and_its_signature_is_no_tampering(fresh_res,
                                                                             monkeypatch):
    # the first entry committed, its writer not yet at (or never reaching) the signature: a
    # second writer must find the empty log's signed head, not "entries but no signed head"
    from yishu.access import checkpoint

    write = checkpoint.write
    monkeypatch.setattr(checkpoint, "write",
                        lambda path, seq, *a: False if seq == 1 else write(path, seq, *a))
    audit_group.record(fresh_res, "reidentify", "z/1", actor="b")
    assert json.loads(fresh_res.storage.audit_checkpoint().read_text())["seq"] == 0
    assert integrity.verify(fresh_res) == []
    audit_group.record(fresh_res, "reidentify", "z/2", actor="b")
    assert json.loads(fresh_res.storage.audit_checkpoint().read_text())["seq"] == 2
    assert integrity.verify(fresh_res) == []


def test_first_writers_at_once_all_record(fresh_res):
    import threading

    start, errors = threading.Barrier(4), []

    def write(i):
        start.wait()
        try:
            audit_group.record(fresh_res, "reidentify", f"z/{i}", actor="b")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(audit.entries(fresh_res.db)) == 4 and integrity.verify(fresh_res) == []


def _copy_database(source, target) -> None:
    """A copy of the live database (WAL mode keeps recent commits in `-wal`: copy through
    SQLite, as a backup would)."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
