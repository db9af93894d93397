"""audit head row (writers' lock) and version reservations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:12:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    # the one row writers lock, holding the head of the log as it stands
    op.execute("INSERT INTO audit_head (id, seq, hash) SELECT 1, COALESCE(MAX(seq), 0), "
               "(SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) FROM audit_log")
    op.create_table('version_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('product', 'fingerprint'),
    sa.UniqueConstraint('product', 'version')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('version_reservations')
    op.drop_table('audit_head')
