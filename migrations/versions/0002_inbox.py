"""inbox: verified webhook deliveries, unique per connection and delivery key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('delivery_key', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.CheckConstraint("status IN ('pending', 'done', 'dead')", name=op.f('ck_inbox_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_inbox_attempts_not_negative')),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_inbox_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_inbox_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('connection_id', 'delivery_key', name=op.f('uq_inbox_connection_id_delivery_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_inbox_status'))

    op.drop_table('inbox')
