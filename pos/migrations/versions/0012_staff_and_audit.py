"""Staff accounts (name, role, PIN hash), who made each sale, shift and cash movement, and the
hash-chained audit log of sensitive actions.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_COLUMNS = {
    'sales': [('staff_id', sa.String(36)), ('staff_name', sa.Text())],
    'shifts': [('opened_by', sa.Text()), ('closed_by', sa.Text())],
    'cash_movements': [('staff_id', sa.String(36)), ('staff_name', sa.Text())],
}


def upgrade() -> None:
    op.create_table(
        'staff',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('role', sa.String(12), nullable=False),
        sa.Column('enterprise_id', sa.String(36), nullable=True),
        sa.Column('pin_salt', sa.String(32), nullable=False),
        sa.Column('pin_hash', sa.String(128), nullable=False),
        sa.Column('pin_kdf', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('wait_until', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.CheckConstraint("role IN ('manager', 'cashier')", name=op.f('ck_staff_role_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
        sa.UniqueConstraint('name', name=op.f('uq_staff_name')),
    )
    op.create_table(
        'audit_log',
        sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('at', sa.Text(), nullable=False),
        sa.Column('device_id', sa.String(36), nullable=False),
        sa.Column('staff_id', sa.String(36), nullable=True),
        sa.Column('staff_name', sa.Text(), nullable=True),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(64), nullable=False),
        sa.Column('hash', sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint('n', name=op.f('pk_audit_log')),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    for table, columns in _COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _ in reversed(columns):
                batch.drop_column(name)
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('staff')
