"""The runs of a device's sequence numbers that only the organizer's server holds (the store
lost them after they were synced; its later events were renumbered after them).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'events_on_server',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('first_seq', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.CheckConstraint('first_seq BETWEEN 1 AND last_seq',
                           name=op.f('ck_events_on_server_range_order')),
        sa.PrimaryKeyConstraint('device_id', 'first_seq', name=op.f('pk_events_on_server')),
    )


def downgrade() -> None:
    op.drop_table('events_on_server')
