"""Faster bulk push: document lines and payments without per-row foreign-key checks (the server
writes them only together with their document, in one transaction), and on PostgreSQL the
stored event bodies compressed with lz4 where the server has it.

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-22 06:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0003'
down_revision = 's0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('document_lines', 'document_payments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_document_id_documents', type_='foreignkey')
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        has_lz4 = bind.execute(sa.text(
            "SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)")).scalar()
        if has_lz4:
            op.execute("ALTER TABLE device_events ALTER COLUMN body SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("ALTER TABLE device_events ALTER COLUMN body SET COMPRESSION default")
    for table in ('document_lines', 'document_payments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(f'fk_{table}_document_id_documents', 'documents',
                                        ['document_id'], ['id'])
