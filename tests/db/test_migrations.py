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
