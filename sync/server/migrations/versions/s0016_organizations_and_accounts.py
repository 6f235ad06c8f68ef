"""Organizations (one server may host a city center and its district centers), the people who
sign in to the organizer's console (e-mail, argon2 hash, role, an enterprise login's
enterprise), their sessions, which organization each event belongs to (its name unique within it), each registered
enterprise's commission, when each till last pushed and the
hour each document was made (the live board), and which alerts the organizer resolved.

Revision ID: s0016
Revises: s0015
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0016'
down_revision = 's0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'organizations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    )
    op.create_index('ux_organizations_name', 'organizations', ['name'], unique=True)
    op.create_table(
        'users',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('role', sa.String(length=12), nullable=False),
        sa.Column('enterprise_name', sa.Text(), nullable=True),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('disabled_at', sa.Text(), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'staff', 'viewer', 'enterprise')",
                           name=op.f('ck_users_role_known')),
        sa.CheckConstraint("(role = 'enterprise') = (enterprise_name IS NOT NULL)",
                           name=op.f('ck_users_enterprise_login')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_users_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    )
    op.create_index('ux_users_email', 'users', ['email'], unique=True)
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('seen_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_web_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions')),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    # plain ALTER TABLE … ADD COLUMN (SQLite has it): a batch copy of a table others point to
    # fails on SQLite's foreign keys once the table holds rows
    op.add_column('events', sa.Column('organization_id', sa.String(length=36), nullable=True))
    # event names are unique within an organization, no longer across the server
    op.drop_index('ux_events_name', table_name='events')
    op.create_index('ux_events_organization_id_name', 'events', ['organization_id', 'name'],
                    unique=True)
    op.create_index('ix_events_name', 'events', ['name'])
    op.create_index('ux_events_name_unowned', 'events', ['name'], unique=True,
                    postgresql_where=sa.text('organization_id IS NULL'),
                    sqlite_where=sa.text('organization_id IS NULL'))
    op.add_column('devices', sa.Column('last_push_at', sa.Text(), nullable=True))
    op.add_column('documents', sa.Column('created_hour', sa.Integer(), nullable=True))
    op.add_column('alerts', sa.Column('resolved_at', sa.Text(), nullable=True))
    op.add_column('alerts', sa.Column('resolved_by', sa.Text(), nullable=True))
    op.add_column('enterprises', sa.Column('commission_bp', sa.Integer(), nullable=False,
                                           server_default='0'))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): no batch copy, as above
    op.drop_column('devices', 'last_push_at')
    op.drop_column('documents', 'created_hour')
    op.drop_column('alerts', 'resolved_by')
    op.drop_column('alerts', 'resolved_at')
    op.drop_column('enterprises', 'commission_bp')
    op.drop_index('ux_events_name_unowned', table_name='events')
    op.drop_index('ix_events_name', table_name='events')
    op.drop_index('ux_events_organization_id_name', table_name='events')
    op.create_index('ux_events_name', 'events', ['name'], unique=True)
    op.drop_column('events', 'organization_id')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index('ux_users_email', table_name='users')
    op.drop_table('users')
    op.drop_index('ux_organizations_name', table_name='organizations')
    op.drop_table('organizations')
