"""Alerts are one row per device, seq and content: a till sending the same differing copy again
had made a row each time (one device made 10,000 in seconds); the copies are counted instead.

Revision ID: s0005
Revises: s0004
Create Date: 2026-12-02 05:00:00
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = 's0005'
down_revision = 's0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('digest', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('times', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('last_at', sa.Text(), nullable=True))
    alerts = sa.table('alerts', sa.column('id'), sa.column('device_id'), sa.column('seq'),
                      sa.column('body'), sa.column('created_at'), sa.column('digest'),
                      sa.column('times'), sa.column('last_at'))
    kept: dict[tuple, dict] = {}
    for row in conn.execute(sa.select(alerts.c.id, alerts.c.device_id, alerts.c.seq,
                                      alerts.c.body, alerts.c.created_at)
                            .order_by(alerts.c.id)).all():
        digest = hashlib.sha256(row.body.encode()).hexdigest()
        first = kept.get((row.device_id, row.seq, digest))
        if first is None:
            kept[(row.device_id, row.seq, digest)] = {"id": row.id, "digest": digest, "times": 1,
                                                      "last_at": row.created_at}
        else:  # the same copy again: counted on the first row
            first["times"] += 1
            first["last_at"] = row.created_at
            conn.execute(alerts.delete().where(alerts.c.id == row.id))
    for values in kept.values():
        conn.execute(alerts.update().where(alerts.c.id == values["id"])
                     .values(digest=values["digest"], times=values["times"],
                             last_at=values["last_at"]))
    with op.batch_alter_table('alerts') as batch:
        batch.alter_column('digest', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('times', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('last_at', existing_type=sa.Text(), nullable=False)
        batch.create_unique_constraint(op.f('uq_alerts_device_id_seq_digest'),
                                       ['device_id', 'seq', 'digest'])


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_constraint(op.f('uq_alerts_device_id_seq_digest'), type_='unique')
        batch.drop_column('last_at')
        batch.drop_column('times')
        batch.drop_column('digest')
