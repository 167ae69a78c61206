"""rounds, vouchers, the ledger, periods, statements and reconciliation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 16:03:38.005412
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hub.services import ledger_guard

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('coupon',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('funder', sa.String(length=16), nullable=False),
    sa.Column('percent_bp', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("funder IN ('municipality', 'merchant', 'operator', 'channel')", name=op.f('ck_coupon_funder_known')),
    sa.CheckConstraint('(percent_bp IS NOT NULL AND percent_bp > 0 AND percent_bp <= 10000 AND amount IS NULL) OR (amount IS NOT NULL AND amount > 0 AND percent_bp IS NULL)', name=op.f('ck_coupon_one_value')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_coupon_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_coupon_tenant_id_code')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('settlement_period',
    sa.Column('key', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_before', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_settlement_period_status_known')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_settlement_period_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_period')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_settlement_period_tenant_id_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('settlement_period', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_period_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('channel_report',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_channel_report_connection_id_connection'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_channel_report_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_report')),
    sa.UniqueConstraint('connection_id', 'digest', name=op.f('uq_channel_report_connection_id_digest')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('channel_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_report_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_report_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('statement',
    sa.Column('period_id', ID, nullable=False),
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('payable', sa.BigInteger(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('body', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_statement_merchant_id_merchant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['period_id'], ['settlement_period.id'], name=op.f('fk_statement_period_id_settlement_period'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_statement_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement')),
    sa.UniqueConstraint('period_id', 'merchant_id', name=op.f('uq_statement_period_id_merchant_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reconciliation_row',
    sa.Column('report_id', ID, nullable=False),
    sa.Column('external_order_id', sa.String(length=200), nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expected', sa.BigInteger(), nullable=True),
    sa.Column('reported', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint("status IN ('matched', 'amount_mismatch', 'missing_in_hub', 'missing_in_report', 'duplicate')", name=op.f('ck_reconciliation_row_status_known')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_reconciliation_row_order_id_order'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['channel_report.id'], name=op.f('fk_reconciliation_row_report_id_channel_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_row')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('reconciliation_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_row_report_id'), ['report_id'], unique=False)

    op.create_table('round',
    sa.Column('contract_id', ID, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=True),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('cutoff_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('carrier', sa.String(length=60), nullable=True),
    sa.Column('tracking_number', sa.String(length=100), nullable=True),
    sa.Column('tracking_pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'skipped', 'shipped', 'delivered', 'cancelled')", name=op.f('ck_round_status_known')),
    sa.CheckConstraint('number >= 1 AND quantity >= 1', name=op.f('ck_round_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_round_contract_id_contract'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_round_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round')),
    sa.UniqueConstraint('contract_id', 'number', name=op.f('uq_round_contract_id_number')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_round_delivery', ['tenant_id', 'scheduled_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_round_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('funding_entry',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('funder', sa.String(length=16), nullable=False),
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('round_id', ID, nullable=True),
    sa.Column('box_id', ID, nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.CheckConstraint("kind IN ('discount', 'coupon', 'shipping_subsidy', 'clawback')", name=op.f('ck_funding_entry_kind_known')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_funding_entry_merchant_id_merchant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_funding_entry_order_id_order'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_funding_entry_round_id_round'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_funding_entry_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_entry')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_funding_entry_tenant_id_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('funding_entry', schema=None) as batch_op:
        batch_op.create_index('ix_funding_entry_period', ['tenant_id', 'period', 'funder'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_entry_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('voucher',
    sa.Column('round_id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redeemed_by', sa.String(length=200), nullable=True),
    sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.CheckConstraint("status IN ('issued', 'redeemed', 'expired')", name=op.f('ck_voucher_status_known')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_voucher_item_id_item'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_voucher_merchant_id_merchant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_voucher_round_id_round'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_voucher_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher')),
    sa.UniqueConstraint('code', name=op.f('uq_voucher_code')),
    sa.UniqueConstraint('round_id', 'item_id', 'unit', name=op.f('uq_voucher_round_id_item_id_unit')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('round_id', ID, nullable=True),
    sa.Column('voucher_id', ID, nullable=True),
    sa.Column('claim_id', ID, nullable=True),
    sa.Column('connection_id', ID, nullable=True),
    sa.Column('box_id', ID, nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.CheckConstraint("kind IN ('sales', 'merchant_discount', 'operator_fee', 'operator_fee_vat', 'channel_fee', 'shipping_share', 'refund', 'channel_fee_return', 'carry_forward')", name=op.f('ck_ledger_entry_kind_known')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_ledger_entry_claim_id_claim'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_ledger_entry_merchant_id_merchant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_ledger_entry_order_id_order'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_ledger_entry_round_id_round'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_ledger_entry_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_ledger_entry_voucher_id_voucher'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_ledger_entry_tenant_id_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_period', ['tenant_id', 'period', 'merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('box', schema=None) as batch_op:
        batch_op.add_column(sa.Column('packed_at_id', ID, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_box_packed_at_id_stock_location'), 'stock_location', ['packed_at_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_rate_bp', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewals', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('cancelled_on', sa.Date(), nullable=True))
        batch_op.drop_constraint(op.f('ck_contract_status_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_contract_status_known'),
            "status IN ('active', 'paused', 'cancelled', 'ended')")

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voucher_valid_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('voucher_expiry_share_bp', sa.Integer(), nullable=True))

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coupon_id', ID, nullable=True))
        batch_op.add_column(sa.Column('coupon_amount', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('channel_fee', sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_order_coupon_id_coupon'), 'coupon', ['coupon_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clawback', sa.String(length=16), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('at_term_end', sa.String(length=8), nullable=False, server_default='renew'))

    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_cutoff_days', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('min_payout', sa.BigInteger(), nullable=False, server_default='10000'))
        batch_op.add_column(sa.Column('courier_cost_per_box', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('shipping_subsidy_per_box', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('fee_vat_bp', sa.Integer(), nullable=False, server_default='1000'))

    ledger_guard.install(op.get_bind())


def downgrade() -> None:
    ledger_guard.remove(op.get_bind())
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('fee_vat_bp')
        batch_op.drop_column('shipping_subsidy_per_box')
        batch_op.drop_column('courier_cost_per_box')
        batch_op.drop_column('min_payout')
        batch_op.drop_column('order_cutoff_days')

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('at_term_end')
        batch_op.drop_column('clawback')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_coupon_id_coupon'), type_='foreignkey')
        batch_op.drop_column('channel_fee')
        batch_op.drop_column('coupon_amount')
        batch_op.drop_column('coupon_id')

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('voucher_expiry_share_bp')
        batch_op.drop_column('voucher_valid_days')

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_column('posted_at')

    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('cancelled_on')
        batch_op.drop_column('renewals')
        batch_op.drop_constraint(op.f('ck_contract_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_contract_status_known'),
                                         "status IN ('active', 'cancelled', 'ended')")

    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_column('fee_rate_bp')

    with op.batch_alter_table('box', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_box_packed_at_id_stock_location'), type_='foreignkey')
        batch_op.drop_column('packed_at_id')

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_tenant_id'))
        batch_op.drop_index('ix_ledger_entry_period')

    op.drop_table('ledger_entry')
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_voucher_round_id'))

    op.drop_table('voucher')
    with op.batch_alter_table('funding_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_entry_tenant_id'))
        batch_op.drop_index('ix_funding_entry_period')

    op.drop_table('funding_entry')
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_tenant_id'))
        batch_op.drop_index('ix_round_delivery')
        batch_op.drop_index(batch_op.f('ix_round_contract_id'))

    op.drop_table('round')
    with op.batch_alter_table('reconciliation_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_row_report_id'))

    op.drop_table('reconciliation_row')
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_tenant_id'))

    op.drop_table('statement')
    with op.batch_alter_table('channel_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_report_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_channel_report_connection_id'))

    op.drop_table('channel_report')
    with op.batch_alter_table('settlement_period', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_period_tenant_id'))

    op.drop_table('settlement_period')
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_tenant_id'))

    op.drop_table('coupon')
