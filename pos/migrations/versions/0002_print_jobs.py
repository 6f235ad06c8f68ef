"""The print queue's jobs: rendered receipt bytes waiting for, or sent to, a printer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:20:57.294591
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('receipt_no', sa.String(length=32), nullable=True),
    sa.Column('copy', sa.Boolean(), nullable=False),
    sa.Column('drawer', sa.Boolean(), nullable=False),
    sa.Column('printer_url', sa.Text(), nullable=False),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_try_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('replaces', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_print_jobs_status', ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_print_jobs_status')

    op.drop_table('print_jobs')
