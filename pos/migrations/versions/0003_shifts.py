"""Shifts with their float, count and Z report; cash in/out; each document's shift.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:33:22.442069
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shifts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('business_day', sa.String(length=10), nullable=False),
    sa.Column('opened_at', sa.Text(), nullable=False),
    sa.Column('float_amount', sa.Integer(), nullable=False),
    sa.Column('float_counts', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.Text(), nullable=True),
    sa.Column('counted_amount', sa.Integer(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=True),
    sa.Column('expected_amount', sa.Integer(), nullable=True),
    sa.Column('difference', sa.Integer(), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts')),
    sa.UniqueConstraint('device_id', 'number', name=op.f('uq_shifts_device_id_number'))
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_status', ['status'], unique=False)

    op.create_table('cash_movements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('shift_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_cash_movements_amount_positive')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_cash_movements_shift_id_shifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_movements'))
    )
    with op.batch_alter_table('cash_movements', schema=None) as batch_op:
        batch_op.create_index('ix_cash_movements_shift_id', ['shift_id'], unique=False)

    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shift_id', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_sales_shift_id', ['shift_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_shift_id')
        batch_op.drop_column('shift_id')

    with op.batch_alter_table('cash_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_cash_movements_shift_id')

    op.drop_table('cash_movements')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_shifts_status')

    op.drop_table('shifts')
