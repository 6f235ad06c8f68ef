"""A till giving back a sale of its stall (its own or another till's) holds the quantities on
the server first (`return_holds`), so two tills refunding one receipt at once never give back
more than was sold; the hold ends when the return is pushed, or after `HOLD_SECONDS`.

Revision ID: s0013
Revises: s0012
Create Date: 2026-12-02 17:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0013'
down_revision = 's0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'return_holds',
        sa.Column('return_id', sa.String(length=36), nullable=False),
        sa.Column('sale_id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('lines', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('return_id', name=op.f('pk_return_holds')),
    )
    op.create_index('ix_return_holds_sale_id', 'return_holds', ['sale_id'])


def downgrade() -> None:
    op.drop_index('ix_return_holds_sale_id', table_name='return_holds')
    op.drop_table('return_holds')
