from sqlalchemy import update

from yishu.access import audit
from yishu.catalog.models import session


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
