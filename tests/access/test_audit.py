from sqlalchemy import select, update

from yishu.access import audit


def test_chain_verifies_and_detects_edit_and_delete(fresh_res):
    db = fresh_res.db
    for i in range(3):
        audit.record(db, "batch.release", f"s/{i}", {"reason": "ok"}, actor="steward")
    assert audit.verify(db) == []
    with db.session() as s:
        s.execute(update(audit.AuditEntry).where(audit.AuditEntry.seq == 2)
                  .values(detail={"reason": "changed"}))
        s.commit()
    assert any("entry 2" in p and "edited" in p for p in audit.verify(db))


def test_deleted_entry_breaks_the_chain(fresh_res):
    db = fresh_res.db
    for i in range(3):
        audit.record(db, "product.publish", f"p/v{i}", actor="bureau")
    with db.session() as s:
        s.delete(s.get(audit.AuditEntry, 2))
        s.commit()
    assert any("entry 3" in p and "does not follow" in p for p in audit.verify(db))


def test_removed_tail_is_noticed_through_catalog_facts(fresh_res):
    from yishu.pipeline import batches

    db = fresh_res.db
    # a steward's decision is a catalog fact: its audit entry must exist
    batches._upsert(fresh_res, "s", "2026-11-01", status="quarantined",
                    snapshot_sha256="x" * 64, raw_path="r", rows=1, validation_path="v.json")
    batches.review(fresh_res, "s", "2026-11-01", "released", "checked")
    assert audit.verify(db) == []
    with db.session() as s:
        s.delete(s.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.seq.desc()))
                 .first())
        s.commit()
    assert any("s/2026-11-01 is released" in p for p in audit.verify(db))


def test_a_second_successor_of_the_same_entry_is_refused(fresh_res):
    import pytest
    from sqlalchemy.exc import IntegrityError

    first = audit.record(fresh_res.db, "x", "a", actor="t")
    with fresh_res.db.session() as s:
        s.add(audit.AuditEntry(at=first.at, actor="t", action="x", subject="fork", detail={},
                               prev_hash=first.prev_hash, hash="f" * 64))
        with pytest.raises(IntegrityError):
            s.commit()
