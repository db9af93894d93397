"""Alembic environment of the catalog database; run by yishu.db.database.migrate()."""

from alembic import context
from sqlalchemy import create_engine

from yishu.db.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata,
                      render_as_batch=True)  # SQLite needs batch mode to alter tables
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic` command line with -x url=... (for autogenerate by developers)
    with create_engine(context.get_x_argument(as_dictionary=True)["url"]).connect() as conn:
        _run(conn)
