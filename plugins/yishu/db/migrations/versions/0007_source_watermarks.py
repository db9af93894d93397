"""source watermarks: how far each partition of an incremental SQL source was read

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 02:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('source_watermarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('partition', sa.String(length=10), nullable=False),
    sa.Column('low', sa.Text(), nullable=True),
    sa.Column('high', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'partition')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('source_watermarks')
