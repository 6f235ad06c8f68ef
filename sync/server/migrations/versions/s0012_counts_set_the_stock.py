"""A count sets a product's stock at the stall at the moment it was made: the stall's stock is
the newest count (by stamp) plus every change stamped after it (`stock_log`: each change of a
tracked product with its stamp), whatever order the tills' pushes came in. A sale made before
the count, on a till that pushed later, was on the shelf's side of the count already.

Revision ID: s0012
Revises: s0011
Create Date: 2026-12-02 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0012'
down_revision = 's0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stall_stock') as batch:
        batch.add_column(sa.Column('base_hlc', sa.Text(), nullable=True))
    op.create_table(
        'stock_log',
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('product_id', sa.String(length=36), nullable=False),
        sa.Column('hlc', sa.Text(), nullable=False),
        sa.Column('qty', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_stock_log_stall_id_product_id_hlc', 'stock_log',
                    ['stall_id', 'product_id', 'hlc'])


def downgrade() -> None:
    op.drop_index('ix_stock_log_stall_id_product_id_hlc', table_name='stock_log')
    op.drop_table('stock_log')
    with op.batch_alter_table('stall_stock') as batch:
        batch.drop_column('base_hlc')
