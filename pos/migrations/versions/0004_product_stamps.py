"""Each product keeps the stamp of its last edit, so catalog edits converge in sync.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:01:00.548454
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hlc', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('hlc')

