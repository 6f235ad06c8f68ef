"""Device codes are given by the server, unique within the stall, and a till enrolled again is
known: devices keep the till's own id (`local_id`, its store's device id, unique within the
stall), and an enrollment code may name the device code its till will get (`device_code`).
Devices enrolled before have no local id: they are not recognised when they enroll again.

Revision ID: s0009
Revises: s0008
Create Date: 2026-12-02 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0009'
down_revision = 's0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices') as batch:
        batch.add_column(sa.Column('local_id', sa.String(length=64), nullable=True))
    op.create_index('ix_devices_stall_local_id', 'devices', ['stall_id', 'local_id'],
                    unique=True)
    with op.batch_alter_table('enrollment_codes') as batch:
        batch.add_column(sa.Column('device_code', sa.String(length=6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enrollment_codes') as batch:
        batch.drop_column('device_code')
    op.drop_index('ix_devices_stall_local_id', table_name='devices')
    with op.batch_alter_table('devices') as batch:
        batch.drop_column('local_id')
