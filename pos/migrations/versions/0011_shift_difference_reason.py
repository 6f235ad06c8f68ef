"""Closing a shift with a difference between the cash counted and expected asks why; the reason
is kept with the shift and printed on its Z report.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('shifts', sa.Column('difference_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('shifts', 'difference_reason')
