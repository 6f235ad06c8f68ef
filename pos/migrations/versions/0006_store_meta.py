"""The store knows which Jangteo wrote it (so an older build can say "install a newer one"),
and keeps receipt numbering floors for numbers that may be in customers' hands although the
store lost their sales (a deleted folder, a cut WAL, a restored backup).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'store_meta',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_store_meta')),
    )
    op.create_table(
        'receipt_floors',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('business_day', sa.String(length=10), nullable=False),
        sa.Column('last_n', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('device_id', 'business_day', name=op.f('pk_receipt_floors')),
    )


def downgrade() -> None:
    op.drop_table('receipt_floors')
    op.drop_table('store_meta')
