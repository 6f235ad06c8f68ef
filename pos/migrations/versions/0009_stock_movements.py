"""Stock as movements: goods received from an enterprise, counted, returned to it. A product's
stock on the till is the stall's figure from the server plus this till's own movements and
sales the server had not counted yet; every movement goes to the server as `stock.moved`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stock_movements',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('qty', sa.Integer(), nullable=False),
        sa.Column('counted', sa.Integer(), nullable=True),
        sa.Column('business_day', sa.String(length=10), nullable=False),
        sa.Column('shift_id', sa.String(length=36), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movements')),
    )
    op.create_index(op.f('ix_stock_movements_product_id'), 'stock_movements', ['product_id'])
    op.create_index(op.f('ix_stock_movements_business_day'), 'stock_movements',
                    ['business_day'])


def downgrade() -> None:
    op.drop_index(op.f('ix_stock_movements_business_day'), table_name='stock_movements')
    op.drop_index(op.f('ix_stock_movements_product_id'), table_name='stock_movements')
    op.drop_table('stock_movements')
