"""Cash receipt (현금영수증) requests per till, as the tills last sent them
(`cash_receipt.changed`: the event with the highest seq of a request is its state).

Revision ID: s0015
Revises: s0014
Create Date: 2026-12-04 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0015'
down_revision = 's0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cash_receipts',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('receipt_id', sa.String(length=64), nullable=False),
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('sale_id', sa.String(length=36), nullable=False),
        sa.Column('receipt_no', sa.String(length=32), nullable=False),
        sa.Column('return_id', sa.String(length=36), nullable=True),
        sa.Column('cancels', sa.String(length=64), nullable=True),
        sa.Column('enterprise_name', sa.Text(), nullable=False),
        sa.Column('bizno', sa.String(length=12), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('identity_kind', sa.String(length=8), nullable=False),
        sa.Column('identity', sa.String(length=19), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('voluntary', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('approval_no', sa.Text(), nullable=True),
        sa.Column('business_day', sa.String(length=10), nullable=False),
        sa.Column('due_day', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('device_id', 'receipt_id', name=op.f('pk_cash_receipts')),
    )
    op.create_index('ix_cash_receipts_stall_id_business_day', 'cash_receipts',
                    ['stall_id', 'business_day'])


def downgrade() -> None:
    op.drop_index('ix_cash_receipts_stall_id_business_day', table_name='cash_receipts')
    op.drop_table('cash_receipts')
