"""why a contract was cancelled

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('contract', sa.Column('cancel_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contract') as batch:
        batch.drop_column('cancel_reason')
