"""orders, their lines, contracts, claims and customers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('customer',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('ref_digest', sa.String(length=64), nullable=False),
    sa.Column('masked', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_customer_connection_id_connection'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_customer_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('connection_id', 'ref_digest', name=op.f('uq_customer_connection_id_ref_digest')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('order',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_rank', sa.Integer(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_digest', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('unpaid', 'paid', 'fulfilled', 'cancelled', 'refunded')", name=op.f('ck_order_status_known')),
    sa.CheckConstraint('total >= 0 AND refunded >= 0', name=op.f('ck_order_amounts_not_negative')),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_order_connection_id_connection'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_order_customer_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_order_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order')),
    sa.UniqueConstraint('connection_id', 'external_id', name=op.f('uq_order_connection_id_external_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('claim',
    sa.Column('order_id', ID, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded_total', sa.BigInteger(), nullable=True),
    sa.Column('lines', JSON, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.CheckConstraint("kind IN ('cancel', 'return', 'refund')", name=op.f('ck_claim_kind_known')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_claim_amount_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_claim_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_claim_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('order_id', 'key', name=op.f('uq_claim_order_id_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('order_line',
    sa.Column('order_id', ID, nullable=False),
    sa.Column('external_line_id', sa.String(length=200), nullable=False),
    sa.Column('external_product_id', sa.String(length=200), nullable=True),
    sa.Column('external_variant_id', sa.String(length=200), nullable=True),
    sa.Column('sku', sa.String(length=200), nullable=True),
    sa.Column('box_id', ID, nullable=True),
    sa.Column('box_version_id', ID, nullable=True),
    sa.Column('plan_id', ID, nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_quantity', sa.Integer(), nullable=False),
    sa.Column('refunded_quantity', sa.Integer(), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint('cancelled_quantity >= 0 AND refunded_quantity >= 0', name=op.f('ck_order_line_claimed_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_line_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_order_line_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['box_id'], ['box.id'], name=op.f('fk_order_line_box_id_box'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['box_version_id'], ['box_version.id'], name=op.f('fk_order_line_box_version_id_box_version'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_order_line_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_order_line_plan_id_plan'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line')),
    sa.UniqueConstraint('order_id', 'external_line_id', name=op.f('uq_order_line_order_id_external_line_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_box_id'), ['box_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_box_version_id'), ['box_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_plan_id'), ['plan_id'], unique=False)

    op.create_table('contract',
    sa.Column('order_id', ID, nullable=False),
    sa.Column('order_line_id', ID, nullable=False),
    sa.Column('plan_id', ID, nullable=False),
    sa.Column('box_id', ID, nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('prepaid_rounds', sa.Integer(), nullable=False),
    sa.Column('term_rounds', sa.Integer(), nullable=True),
    sa.Column('rounds_delivered', sa.Integer(), nullable=False),
    sa.Column('next_round_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'cancelled', 'ended')", name=op.f('ck_contract_status_known')),
    sa.CheckConstraint('prepaid_rounds >= 1 AND rounds_delivered >= 0', name=op.f('ck_contract_rounds_not_negative')),
    sa.ForeignKeyConstraint(['box_id'], ['box.id'], name=op.f('fk_contract_box_id_box'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_contract_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_contract_order_line_id_order_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_contract_plan_id_plan'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_contract_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_contract_order_line_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_box_id'), ['box_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_contract_plan_id'))
        batch_op.drop_index(batch_op.f('ix_contract_order_id'))
        batch_op.drop_index(batch_op.f('ix_contract_box_id'))

    op.drop_table('contract')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_plan_id'))
        batch_op.drop_index(batch_op.f('ix_order_line_box_version_id'))
        batch_op.drop_index(batch_op.f('ix_order_line_box_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_tenant_id'))

    op.drop_table('claim')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_order_customer_id'))

    op.drop_table('order')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_tenant_id'))

    op.drop_table('customer')
