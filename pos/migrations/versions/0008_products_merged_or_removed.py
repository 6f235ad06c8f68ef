"""A product can be the same as another one of the stall (`merged_into`: matched by SKU,
barcode, or enterprise and name when tills of a stall joined their catalogs) or taken out of
the stall's catalog (`removed`). Either way it is hidden, and the sales that name it keep it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('products') as batch:
        batch.add_column(sa.Column('merged_into', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('removed', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('products') as batch:
        batch.drop_column('removed')
        batch.drop_column('merged_into')
