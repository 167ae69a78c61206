"""partner feed: partner tokens bound to a connection, offerings, and the catalog change log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connection_id', ID, nullable=True))
        batch_op.create_index(batch_op.f('ix_api_token_connection_id'), ['connection_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_token_connection_id_connection'),
                                    'connection', ['connection_id'], ['id'],
                                    ondelete='CASCADE')

    op.create_table('offering',
    sa.Column('connection_id', ID, nullable=False),
    sa.Column('box_id', ID, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['box_id'], ['box.id'], name=op.f('fk_offering_box_id_box'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_offering_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_offering_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offering')),
    sa.UniqueConstraint('connection_id', 'box_id', name=op.f('uq_offering_connection_id_box_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offering_box_id'), ['box_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('catalog_change',
    sa.Column('box_id', ID, nullable=False),
    sa.Column('connection_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_catalog_change_connection_id_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_catalog_change_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_change')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('catalog_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_change_box_id'), ['box_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_change_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_change_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('catalog_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_change_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_change_connection_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_change_box_id'))
    op.drop_table('catalog_change')

    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offering_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_offering_connection_id'))
        batch_op.drop_index(batch_op.f('ix_offering_box_id'))
    op.drop_table('offering')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_token_connection_id_connection'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_token_connection_id'))
        batch_op.drop_column('connection_id')
