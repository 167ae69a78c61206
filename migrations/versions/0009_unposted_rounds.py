"""a partial index of the rounds delivered and not yet posted

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

UNPOSTED = sa.text("status = 'delivered' AND posted_at IS NULL")


def upgrade() -> None:
    op.create_index('ix_round_unposted', 'round', ['tenant_id', 'id'], unique=False,
                    postgresql_where=UNPOSTED, sqlite_where=UNPOSTED)


def downgrade() -> None:
    op.drop_index('ix_round_unposted', table_name='round')
