"""Each stall's catalog with the version cursor the tills pull by.

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-22 03:04:33.062623
"""
from alembic import op
import sqlalchemy as sa


revision = 's0002'
down_revision = 's0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog',
    sa.Column('stall_id', sa.String(length=36), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.Column('hlc', sa.Text(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_catalog_stall_id_stalls')),
    sa.PrimaryKeyConstraint('stall_id', 'product_id', name=op.f('pk_catalog'))
    )
    with op.batch_alter_table('catalog', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_stall_id_version', ['stall_id', 'version'], unique=False)

    op.create_table('catalog_versions',
    sa.Column('stall_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_catalog_versions_stall_id_stalls')),
    sa.PrimaryKeyConstraint('stall_id', name=op.f('pk_catalog_versions'))
    )


def downgrade() -> None:
    op.drop_table('catalog_versions')
    with op.batch_alter_table('catalog', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_stall_id_version')

    op.drop_table('catalog')
