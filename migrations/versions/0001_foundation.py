"""foundation: tenants, catalog, stock, connections, tokens, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 10:19:33.089881
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('tenant_id', ID, nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', ID, nullable=True),
    sa.Column('before_digest', sa.String(length=64), nullable=True),
    sa.Column('after_digest', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tenant',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('settlement_cycle', sa.String(length=16), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant')),
    sa.UniqueConstraint('code', name=op.f('uq_tenant_code')),
    sqlite_autoincrement=True
    )
    op.create_table('api_token',
    sa.Column('tenant_id', ID, nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_api_token_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('box',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('images', JSON, nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('capacity_per_round', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_version_id', ID, nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity_per_round >= 0', name=op.f('ck_box_capacity_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_box_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_box')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_box_tenant_id_code')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('box', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_box_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('connection',
    sa.Column('connector', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('config', JSON, nullable=False),
    sa.Column('secrets_encrypted', sa.Text(), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_connection_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_connection_tenant_id_name')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connection_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', JSON, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_idempotency_record_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('tenant_id', 'endpoint', 'key', name=op.f('uq_idempotency_record_tenant_id_endpoint_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_record_expires_at'), ['expires_at'], unique=False)

    op.create_table('merchant',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('business_number', sa.String(length=10), nullable=False),
    sa.Column('tax_type', sa.String(length=16), nullable=False),
    sa.Column('representative', sa.String(length=100), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('payout_bank', sa.String(length=60), nullable=True),
    sa.Column('payout_account_holder', sa.String(length=100), nullable=True),
    sa.Column('payout_account_encrypted', sa.Text(), nullable=True),
    sa.Column('payout_account_last4', sa.String(length=4), nullable=True),
    sa.Column('fee_model', sa.String(length=16), nullable=False),
    sa.Column('commission_rate_bp', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('commission_rate_bp IS NULL OR (commission_rate_bp >= 0 AND commission_rate_bp <= 10000)', name=op.f('ck_merchant_commission_rate_range')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_merchant_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant')),
    sa.UniqueConstraint('tenant_id', 'business_number', name=op.f('uq_merchant_tenant_id_business_number')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('stock_location',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stock_location_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_location')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_stock_location_tenant_id_code')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('stock_location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_location_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('binding',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('internal_id', ID, nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_binding_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_binding_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding')),
    sa.UniqueConstraint('connection_id', 'entity_type', 'external_id', name=op.f('uq_binding_connection_id_entity_type_external_id')),
    sa.UniqueConstraint('connection_id', 'entity_type', 'internal_id', name=op.f('uq_binding_connection_id_entity_type_internal_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_binding_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_binding_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('box_version',
    sa.Column('box_id', ID, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['box_id'], ['box.id'], name=op.f('fk_box_version_box_id_box'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_box_version')),
    sa.UniqueConstraint('box_id', 'number', name=op.f('uq_box_version_box_id_number')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('box_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_box_version_box_id'), ['box_id'], unique=False)

    # box and box_version point at each other; the box's side is added once both exist.
    with op.batch_alter_table('box', schema=None,
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_box_current_version_id_box_version'),
                                    'box_version', ['current_version_id'], ['id'],
                                    ondelete='SET NULL')

    op.create_table('item',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('list_price', sa.Integer(), nullable=False),
    sa.Column('supply_price', sa.Integer(), nullable=True),
    sa.Column('tax_category', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('list_price >= 0', name=op.f('ck_item_list_price_not_negative')),
    sa.CheckConstraint('supply_price IS NULL OR supply_price >= 0', name=op.f('ck_item_supply_price_not_negative')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_item_merchant_id_merchant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_item_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('tenant_id', 'sku', name=op.f('uq_item_tenant_id_sku')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('plan',
    sa.Column('box_id', ID, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('prepaid_rounds', sa.Integer(), nullable=False),
    sa.Column('term_rounds', sa.Integer(), nullable=True),
    sa.Column('round_price', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('prepaid_rounds >= 1', name=op.f('ck_plan_prepaid_rounds_positive')),
    sa.CheckConstraint('round_price >= 0', name=op.f('ck_plan_round_price_not_negative')),
    sa.CheckConstraint('term_rounds IS NULL OR term_rounds >= prepaid_rounds', name=op.f('ck_plan_term_covers_prepaid')),
    sa.ForeignKeyConstraint(['box_id'], ['box.id'], name=op.f('fk_plan_box_id_box'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_plan_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_plan_tenant_id_code')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_box_id'), ['box_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('box_component',
    sa.Column('box_version_id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_box_component_quantity_positive')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_box_component_weight_positive')),
    sa.ForeignKeyConstraint(['box_version_id'], ['box_version.id'], name=op.f('fk_box_component_box_version_id_box_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_box_component_item_id_item'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_box_component')),
    sa.UniqueConstraint('box_version_id', 'item_id', name=op.f('uq_box_component_box_version_id_item_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('box_component', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_box_component_box_version_id'), ['box_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_box_component_item_id'), ['item_id'], unique=False)

    op.create_table('pricing_rule',
    sa.Column('plan_id', ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('from_round', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('percent_bp', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('funder', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint("(kind = 'percent' AND percent_bp > 0 AND percent_bp <= 10000 AND amount IS NULL) OR (kind = 'fixed' AND amount > 0 AND percent_bp IS NULL)", name=op.f('ck_pricing_rule_kind_matches_value')),
    sa.CheckConstraint('from_round >= 1', name=op.f('ck_pricing_rule_from_round_positive')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_pricing_rule_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pricing_rule')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('pricing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pricing_rule_plan_id'), ['plan_id'], unique=False)

    op.create_table('stock_level',
    sa.Column('item_id', ID, nullable=False),
    sa.Column('location_id', ID, nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_level_on_hand_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_stock_level_item_id_item'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['stock_location.id'], name=op.f('fk_stock_level_location_id_stock_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stock_level_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('item_id', 'location_id', name=op.f('uq_stock_level_item_id_location_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_level_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_level_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_level_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('stock_movement',
    sa.Column('stock_level_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('on_hand_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['stock_level_id'], ['stock_level.id'], name=op.f('fk_stock_movement_stock_level_id_stock_level'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stock_movement_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_stock_level_id'), ['stock_level_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_stock_level_id'))

    op.drop_table('stock_movement')
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_level_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_stock_level_location_id'))
        batch_op.drop_index(batch_op.f('ix_stock_level_item_id'))

    op.drop_table('stock_level')
    with op.batch_alter_table('pricing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pricing_rule_plan_id'))

    op.drop_table('pricing_rule')
    with op.batch_alter_table('box_component', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_box_component_item_id'))
        batch_op.drop_index(batch_op.f('ix_box_component_box_version_id'))

    op.drop_table('box_component')
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_plan_box_id'))

    op.drop_table('plan')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_item_merchant_id'))

    op.drop_table('item')
    with op.batch_alter_table('box', schema=None,
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_box_current_version_id_box_version'),
                                 type_='foreignkey')

    with op.batch_alter_table('box_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_box_version_box_id'))

    op.drop_table('box_version')
    with op.batch_alter_table('binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_binding_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_binding_connection_id'))

    op.drop_table('binding')
    with op.batch_alter_table('stock_location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_location_tenant_id'))

    op.drop_table('stock_location')
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_tenant_id'))

    op.drop_table('merchant')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_record_expires_at'))

    op.drop_table('idempotency_record')
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connection_tenant_id'))

    op.drop_table('connection')
    with op.batch_alter_table('box', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_box_tenant_id'))

    op.drop_table('box')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_tenant_id'))

    op.drop_table('api_token')
    op.drop_table('tenant')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))

    op.drop_table('audit_log')
