"""The Alembic migrations build exactly the schema the models describe."""

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from yishu.db.database import MIGRATIONS, migrate


def test_migrations_match_models_and_are_idempotent(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    assert {"batches", "product_versions", "product_runs", "audit_log"} <= set(
        inspect(engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises if the models changed without a new revision


def test_a_log_written_before_checkpoints_upgrades_and_is_signed_by_repair(fresh_res):
    """Revision 0003 seeds the writers' head row from the log; the log then verifies once a
    person signs its head (`yishu audit repair`), and writers refuse until then."""
    import datetime as dt

    import pytest
    from sqlalchemy import text

    from yishu.access import audit, audit_group, integrity

    fresh_res.settings.home.mkdir(parents=True)
    engine = create_engine(fresh_res.settings.db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        prev = audit.GENESIS
        for i in range(2):  # as the previous version of Yishu wrote them
            at = dt.datetime(2026, 11, 1, 8, i, tzinfo=dt.UTC)
            row = dict(at=at, actor="steward", action="batch.release", subject=f"s/{i}",
                       detail='{"reason": "ok"}', prev_hash=prev)
            row["hash"] = audit.digest(prev, at, "steward", "batch.release", f"s/{i}",
                                       {"reason": "ok"})
            connection.execute(text("INSERT INTO audit_log (at, actor, action, subject, detail, "
                                    "prev_hash, hash) VALUES (:at, :actor, :action, :subject, "
                                    ":detail, :prev_hash, :hash)"), row)
            prev = row["hash"]
    engine.dispose()
    assert [d.kind for d in integrity.verify(fresh_res)] == [integrity.NO_CHECKPOINT]
    with pytest.raises(audit.AuditRefused, match="no signed head"):
        audit_group.record(fresh_res, "reidentify", "x")
    integrity.repair(fresh_res, "upgrade to checkpoints: log reviewed")
    assert integrity.verify(fresh_res) == []
