"""`yishu audit verify / repair / ls` and `yishu reidentify` on a damaged log: one clear
message naming the damage, never a traceback, and nothing revealed without its entry."""

import dataclasses

import pyarrow as pa
from sqlalchemy import select
from typer.testing import CliRunner

from yishu.access import audit, audit_group, integrity
from yishu.access.audit import AuditEntry
from yishu.cli import app
from yishu.db.database import Database
from yishu.db.models import ProductVersion
from yishu.deid.operators import encrypt
from yishu.pipeline.voucher import sign

runner = CliRunner()


def _yishu(res, *args):
    result = runner.invoke(app, list(args), obj=res)
    assert "Traceback" not in result.output
    return result


def _fill(res, n=3):
    for i in range(n):
        audit_group.record(res, "reidentify", f"zone: {i}", {"reason": "court order"}, actor="b")


def _publication_without_entry(res, version=1, key_res=None):
    """A version row as a publish killed before its entry used to leave it (older Yishu)."""
    body = {"product": "p", "version": version, "audit_head": audit.head(res.db), "files": {}}
    voucher = sign(body, (key_res or res).keys)
    with res.db.session() as s:
        s.add(ProductVersion(product="p", zone="open", version=version, partition="2026-11-01",
                             rows=3, security_level="L1", quality_grade="A",
                             fingerprint=f"{version:064d}", path="/nowhere", voucher=voucher))
        s.commit()


def test_verify_passes_on_an_intact_log(fresh_res):
    _fill(fresh_res)
    result = _yishu(fresh_res, "audit", "verify")
    assert result.exit_code == 0 and "3 entries" in result.output


def test_verify_fails_when_the_last_entry_is_deleted(fresh_res):
    _fill(fresh_res)
    with fresh_res.db.session() as s:
        s.delete(s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first())
        s.commit()
    result = _yishu(fresh_res, "audit", "verify")
    assert result.exit_code == 1
    assert "tail cut" in result.output and "first bad entry 3" in result.output


def test_verify_fails_on_a_database_swapped_for_an_older_copy(fresh_res, tmp_path):
    _fill(fresh_res, 2)
    _copy_database(fresh_res.settings.home / "yishu.db", tmp_path / "old.db")
    _fill(fresh_res, 1)
    older = dataclasses.replace(fresh_res, db=Database(f"sqlite:///{tmp_path / 'old.db'}"))
    result = _yishu(older, "audit", "verify")
    assert result.exit_code == 1 and "database swapped" in result.output


def test_an_interrupted_publish_is_not_called_tampering_and_repair_records_it(fresh_res):
    _fill(fresh_res, 1)
    _publication_without_entry(fresh_res)
    result = _yishu(fresh_res, "audit", "verify")
    assert result.exit_code == 1 and "interrupted" in result.output
    assert "tampered" not in result.output and "yishu audit repair" in result.output
    assert _yishu(fresh_res, "audit", "repair").exit_code == 2  # --reason is required
    repaired = _yishu(fresh_res, "audit", "repair", "--reason", "worker lost on 11-02",
                      "--actor", "admin")
    assert repaired.exit_code == 0 and "recorded product.publish open/p/v1" in repaired.output
    assert _yishu(fresh_res, "audit", "verify").exit_code == 0
    kinds = [(e.action, e.actor) for e in audit.entries(fresh_res.db)[-2:]]
    assert kinds == [("product.publish", "admin"), ("audit.repair", "admin")]
    again = _yishu(fresh_res, "audit", "repair", "--reason", "again")
    assert again.exit_code == 0 and "nothing to repair" in again.output


def test_a_version_not_signed_by_the_bureau_is_not_taken_for_an_interrupted_act(fresh_res,
                                                                                 tmp_path):
    from yishu.resources import Resources
    from yishu.settings import Settings

    _fill(fresh_res, 1)
    intruder = Resources.from_settings(Settings.for_home(tmp_path / "intruder"))
    _publication_without_entry(fresh_res, key_res=intruder)  # inserted with another key
    assert [d.kind for d in integrity.verify(fresh_res)] == [integrity.MISSING]
    refused = _yishu(fresh_res, "audit", "repair", "--reason", "looks fine")
    assert refused.exit_code == 1 and "tampering" in refused.output


def test_the_voucher_anchor_catches_a_rewritten_chain(fresh_res):
    _fill(fresh_res, 2)
    anchor = audit.head(fresh_res.db)  # entry 2: the head when the version is signed
    voucher = sign({"product": "p", "version": 1, "audit_head": anchor, "files": {}},
                   fresh_res.keys)
    with fresh_res.db.session() as s:  # published with its entry, as publish does
        s.add(ProductVersion(product="p", zone="open", version=1, partition="2026-11-01",
                             rows=3, security_level="L1", quality_grade="A",
                             fingerprint="1" * 64, path="/nowhere", voucher=voucher))
        audit.append(fresh_res, s, "product.publish", "open/p/v1", {}, "bureau")
        s.commit()
    prev = audit.GENESIS
    with fresh_res.db.session() as s:  # edit entry 2 and recompute every hash after it
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            if e.seq == 2:
                e.detail = {"reason": "nothing to see"}
            e.prev_hash, e.hash = prev, audit.digest(prev, e.at, e.actor, e.action,
                                                     e.subject, e.detail)
            prev = e.hash
        s.commit()
    fresh_res.storage.audit_checkpoint().unlink()  # and the signed head is gone as well
    damage = integrity.verify(fresh_res)
    assert [d.kind for d in damage] == [integrity.NO_CHECKPOINT, integrity.MISSING]
    assert f"names audit entry {anchor[:12]}" in damage[1].message
    refused = _yishu(fresh_res, "audit", "repair", "--reason", "sign it")
    assert refused.exit_code == 1 and "tampering" in refused.output


def test_reidentify_reveals_nothing_when_the_log_is_damaged(fresh_res):
    sealed = encrypt(pa.array(["440305199001011234"]), fresh_res.keys.encryption_key(),
                     "finance")[0].as_py()
    _fill(fresh_res)
    with fresh_res.db.session() as s:
        s.delete(s.get(AuditEntry, 3))
        s.commit()
    result = _yishu(fresh_res, "reidentify", "--zone", "finance", "--reason", "court", "--",
                    sealed)  # a sealed value may start with "-"
    assert result.exit_code == 1 and "nothing revealed" in result.output
    assert "440305199001011234" not in result.output
    assert len(audit.entries(fresh_res.db)) == 2


def test_audit_ls_shows_times_in_utc(fresh_res):
    _fill(fresh_res, 1)
    result = _yishu(fresh_res, "audit", "ls")
    assert result.exit_code == 0 and "at (UTC)" in result.output


def _copy_database(source, target) -> None:
    """A copy of the live database (WAL mode keeps recent commits in `-wal`: copy through
    SQLite, as a backup would)."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
