"""Each enterprise keeps the stamp of its last edit (tax status, commission, name, number), so
enterprise edits converge in sync independently of the product edits that carry them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hlc', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('hlc')
