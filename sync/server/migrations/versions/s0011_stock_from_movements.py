"""Stock as movements: every `stock.moved` a till sends (received, counted, returned) is kept,
and each stall's stock per product is rolled up in the push that brings a movement, a sale, a
void or a refund (`stall_stock`: the tills pull it). A product's stock is tracked once it has
a movement. Documents stored before are not rolled up: stock counts from the first movement
and the sales after it.

Revision ID: s0011
Revises: s0010
Create Date: 2026-12-02 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0011'
down_revision = 's0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stock_movements',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('product_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('qty', sa.BigInteger(), nullable=False),
        sa.Column('counted', sa.BigInteger(), nullable=True),
        sa.Column('business_day', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('device_id', 'seq'),
    )
    op.create_index('ix_stock_movements_stall_id_product_id', 'stock_movements',
                    ['stall_id', 'product_id'])
    op.create_table(
        'stall_stock',
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('product_id', sa.String(length=36), nullable=False),
        sa.Column('qty', sa.BigInteger(), nullable=False),
        sa.Column('tracked', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('stall_id', 'product_id'),
    )


def downgrade() -> None:
    op.drop_table('stall_stock')
    op.drop_index('ix_stock_movements_stall_id_product_id', table_name='stock_movements')
    op.drop_table('stock_movements')
