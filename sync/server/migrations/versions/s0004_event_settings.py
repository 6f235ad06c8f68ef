"""Settings the organizer sets for the tills of an event (receipt texts, payment methods).

Revision ID: s0004
Revises: s0003
Create Date: 2026-11-22 07:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0004'
down_revision = 's0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_settings',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_settings_event_id_events')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_settings'))
    )


def downgrade() -> None:
    op.drop_table('event_settings')
