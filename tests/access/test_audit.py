from sqlalchemy import select, update

from yishu.access import audit
from yishu.db.models import session


def test_chain_verifies_and_detects_edit_and_delete(tmp_path, monkeypatch):
    monkeypatch.setenv("YISHU_HOME", str(tmp_path))
    for i in range(3):
        audit.record("batch.release", f"s/{i}", {"reason": "ok"}, actor="steward")
    assert audit.verify() == []
    with session() as s:
        s.execute(update(audit.AuditEntry).where(audit.AuditEntry.seq == 2)
                  .values(detail={"reason": "changed"}))
        s.commit()
    assert any("entry 2" in p and "edited" in p for p in audit.verify())


def test_deleted_entry_breaks_the_chain(tmp_path, monkeypatch):
    monkeypatch.setenv("YISHU_HOME", str(tmp_path))
    for i in range(3):
        audit.record("product.publish", f"p/v{i}", actor="bureau")
    with session() as s:
        s.delete(s.get(audit.AuditEntry, 2))
        s.commit()
    assert any("entry 3" in p and "does not follow" in p for p in audit.verify())


def test_removed_tail_is_noticed_through_catalog_facts(tmp_path, monkeypatch):
    from yishu.pipeline import batches

    monkeypatch.setenv("YISHU_HOME", str(tmp_path))
    # a steward's decision is a catalog fact: its audit entry must exist
    batches._upsert("s", "2026-11-01", status="quarantined", snapshot_sha256="x" * 64,
                    raw_path="r", rows=1, validation_path="v.json")
    batches.review("s", "2026-11-01", "released", "checked")
    assert audit.verify() == []
    with session() as s:
        s.delete(s.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.seq.desc()))
                 .first())
        s.commit()
    assert any("s/2026-11-01 is released" in p for p in audit.verify())


def test_a_second_successor_of_the_same_entry_is_refused(tmp_path, monkeypatch):
    import pytest
    from sqlalchemy.exc import IntegrityError

    monkeypatch.setenv("YISHU_HOME", str(tmp_path))
    first = audit.record("x", "a", actor="t")
    with session() as s:
        s.add(audit.AuditEntry(at=first.at, actor="t", action="x", subject="fork", detail={},
                               prev_hash=first.prev_hash, hash="f" * 64))
        with pytest.raises(IntegrityError):
            s.commit()
