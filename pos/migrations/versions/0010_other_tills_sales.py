"""A till gives back a receipt another till of its stall printed: the sale's copy (from the
server, or typed in from the receipt when the server could not be asked) is kept in
`other_sales`, and the return names it in `sales.other_sale_id` (`original_id` names only the
till's own sales, which it has).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sales', sa.Column('other_sale_id', sa.String(length=36), nullable=True))
    op.create_index('ix_sales_other_sale_id', 'sales', ['other_sale_id'])
    op.create_table(
        'other_sales',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('receipt_no', sa.String(length=32), nullable=False),
        sa.Column('device_code', sa.String(length=6), nullable=False),
        sa.Column('business_day', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('fetched_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_other_sales')),
    )
    op.create_index('ix_other_sales_receipt_no', 'other_sales', ['receipt_no'])


def downgrade() -> None:
    op.drop_index('ix_other_sales_receipt_no', table_name='other_sales')
    op.drop_table('other_sales')
    op.drop_index('ix_sales_other_sale_id', table_name='sales')
    with op.batch_alter_table('sales') as batch:
        batch.drop_column('other_sale_id')
