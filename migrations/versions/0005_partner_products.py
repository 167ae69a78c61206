"""partner products, stream cursors and push states; inbox keys as long as a webhook id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.alter_column('delivery_key', existing_type=sa.String(length=64),
                              type_=sa.String(length=256), existing_nullable=False)

    op.create_table('partner_product',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('image_url', sa.String(length=1000), nullable=True),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('listed', JSON, nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name=op.f('ck_partner_product_status_known')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_partner_product_price_not_negative')),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_partner_product_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_partner_product_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_product')),
    sa.UniqueConstraint('connection_id', 'external_id', name=op.f('uq_partner_product_connection_id_external_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('partner_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_product_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_product_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('push_state',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('internal_id', ID, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_push_state_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_push_state_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_state')),
    sa.UniqueConstraint('connection_id', 'entity_type', 'internal_id', name=op.f('uq_push_state_connection_id_entity_type_internal_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('push_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_state_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_state_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('stream_cursor',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('stream', sa.String(length=64), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_stream_cursor_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stream_cursor_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stream_cursor')),
    sa.UniqueConstraint('connection_id', 'stream', name=op.f('uq_stream_cursor_connection_id_stream')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('stream_cursor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_cursor_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stream_cursor_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stream_cursor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stream_cursor_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_stream_cursor_connection_id'))

    op.drop_table('stream_cursor')
    with op.batch_alter_table('push_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_state_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_push_state_connection_id'))

    op.drop_table('push_state')
    with op.batch_alter_table('partner_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_product_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_partner_product_connection_id'))

    op.drop_table('partner_product')

    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.alter_column('delivery_key', existing_type=sa.String(length=256),
                              type_=sa.String(length=64), existing_nullable=False)
