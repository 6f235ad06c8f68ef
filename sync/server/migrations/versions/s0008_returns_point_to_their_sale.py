"""Voids and refunds are checked against their sale (same stall, never more returned than was
sold): documents keep the sale they return (`original_id`) and whether it is still awaited from
another till (`waiting`), a return's lines the sale's line they return (`original_line_no`).
Documents stored before keep nulls: their sale is read from their stored event.

Revision ID: s0008
Revises: s0007
Create Date: 2026-12-02 05:50:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = 's0008'
down_revision = 's0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('original_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('waiting', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('document_lines') as batch:
        batch.add_column(sa.Column('original_line_no', sa.Integer(), nullable=True))
    op.create_index('ix_documents_original_id', 'documents', ['original_id'],
                    postgresql_where=sa.text('original_id IS NOT NULL'),
                    sqlite_where=sa.text('original_id IS NOT NULL'))
    op.create_index('ix_documents_waiting', 'documents', ['original_id'],
                    postgresql_where=sa.text('waiting'), sqlite_where=sa.text('waiting = 1'))
    _fill_returns(op.get_bind())


def _fill_returns(conn) -> None:
    """The returns already stored get their sale and lines from their stored event."""
    rows = conn.execute(sa.text(
        "SELECT d.id, e.body FROM documents d JOIN device_events e "
        "ON e.device_id = d.device_id AND e.seq = d.seq WHERE d.kind <> 'sale'")).all()
    for doc_id, body in rows:
        doc = json.loads(body).get("document") or {}
        conn.execute(sa.text("UPDATE documents SET original_id = :o WHERE id = :d"),
                     {"o": doc.get("original_id"), "d": doc_id})
        for line in doc.get("lines") or []:
            conn.execute(sa.text("UPDATE document_lines SET original_line_no = :o "
                                 "WHERE document_id = :d AND line_no = :n"),
                         {"o": line.get("original_line_no"), "d": doc_id, "n": line.get("line_no")})


def downgrade() -> None:
    op.drop_index('ix_documents_waiting', table_name='documents')
    op.drop_index('ix_documents_original_id', table_name='documents')
    with op.batch_alter_table('document_lines') as batch:
        batch.drop_column('original_line_no')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('waiting')
        batch.drop_column('original_id')
