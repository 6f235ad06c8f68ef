"""Whose card terminal took a card payment (an enterprise's own, or the stall's when empty), and
whether each enterprise of a document took its cards on its own terminal when it was made.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('payments', sa.Column('enterprise_id', sa.String(36), nullable=True))
    op.add_column('sale_taxes', sa.Column('own_terminal', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('sale_taxes') as batch:
        batch.drop_column('own_terminal')
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('enterprise_id')
