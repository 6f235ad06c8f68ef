"""Staff and the audit log per stall: the people each till sends (`staff.changed`, the newest
change wins; never a PIN or hash), each till's audit entries (`audit.logged`) keyed by till
and number with the reason when one breaks the till's hash chain, and who recorded each
document (`documents.staff_name`). What a server stored before as events only is filled in
from them (an entry that breaks the chain is marked, as a push marks it).

Revision ID: s0014
Revises: s0013
Create Date: 2026-12-03 15:00:00
"""
import hashlib
import json
from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = 's0014'
down_revision = 's0013'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('staff_name', sa.Text(), nullable=True))
    op.create_table(
        'staff_members',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('staff_id', sa.String(length=64), nullable=False),
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('enterprise_name', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('device_id', 'staff_id', name=op.f('pk_staff_members')),
    )
    op.create_index('ix_staff_members_stall_id', 'staff_members', ['stall_id'])
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('at', sa.Text(), nullable=False),
        sa.Column('local_device_id', sa.Text(), nullable=False),
        sa.Column('staff_id', sa.Text(), nullable=True),
        sa.Column('staff_name', sa.Text(), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('problem', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
        sa.UniqueConstraint('device_id', 'seq', name=op.f('uq_audit_entries_device_id_seq')),
    )
    op.create_index('ix_audit_entries_stall_id_day', 'audit_entries', ['stall_id', 'day'])
    _fill(op.get_bind())


def _chain_hash(prev, e) -> str:  # pos.audit.chain_hash, as it is today
    body = json.dumps([e["n"], e["at"], e["device_id"], e.get("staff_id"), e.get("staff_name"),
                       e["action"], e["subject"], e["details"], prev],
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _fill(conn) -> None:
    """What the server already stored as events becomes rows, in each till's seq order."""
    for doc_id, body in conn.execute(sa.text(
            "SELECT d.id, e.body FROM documents d JOIN device_events e "
            "ON e.device_id = d.device_id AND e.seq = d.seq")).all():
        name = (json.loads(body).get("document") or {}).get("staff_name")
        if name:
            conn.execute(sa.text("UPDATE documents SET staff_name = :s WHERE id = :d"),
                         {"s": name, "d": doc_id})
    rows = conn.execute(sa.text(
        "SELECT e.device_id, e.seq, e.type, e.body, d.stall_id FROM device_events e "
        "JOIN devices d ON d.id = e.device_id WHERE e.type IN ('staff.changed', 'audit.logged') "
        "ORDER BY e.device_id, e.seq")).all()
    people: dict = {}
    hashes: dict = {}
    for device_id, seq, kind, body, stall_id in rows:
        payload = json.loads(body)["payload"]
        if kind == "staff.changed":
            held = people.get((device_id, payload["id"]))
            if held is None or not (datetime.fromisoformat(payload["updated_at"])
                                    < datetime.fromisoformat(held["updated_at"])):
                people[(device_id, payload["id"])] = {
                    "device_id": device_id, "staff_id": payload["id"], "stall_id": stall_id,
                    "name": payload["name"], "role": payload["role"],
                    "enterprise_name": payload.get("enterprise_name"),
                    "active": bool(payload["active"]), "updated_at": payload["updated_at"],
                    "seq": seq}
            continue
        n = payload["n"]
        held = hashes.get((device_id, n))
        wrong = []
        if held is not None:  # both are kept, the chain goes on from the first
            wrong.append(f"audit entry received again as another event: entry {n}"
                         if held == payload["hash"] else
                         f"audit entry number already received with another hash: entry {n} "
                         "(both are kept)")
        if _chain_hash(payload["prev_hash"], payload) != payload["hash"]:
            wrong.append(f"audit entry does not match its hash: entry {n}, "
                         f"{payload['action']} {payload['subject']}".strip())
        before = GENESIS if n == 1 else hashes.get((device_id, n - 1))
        if held is not None:
            pass
        elif before is None:
            wrong.append(f"audit entry does not follow the till's entry before it: entry {n}; "
                         f"the server has no entry {n - 1} of this till")
        elif payload["prev_hash"] != before:
            wrong.append(f"audit entry does not follow the till's entry before it: entry {n}; "
                         f"its prev_hash is not the hash of entry {n - 1}")
        hashes.setdefault((device_id, n), payload["hash"])
        conn.execute(sa.text(
            "INSERT INTO audit_entries (device_id, n, stall_id, seq, day, at, local_device_id, "
            "staff_id, staff_name, action, subject, details, prev_hash, hash, problem) VALUES "
            "(:device_id, :n, :stall_id, :seq, :day, :at, :local, :staff_id, :staff_name, "
            ":action, :subject, :details, :prev_hash, :hash, :problem)"), {
            "device_id": device_id, "n": n, "stall_id": stall_id, "seq": seq,
            "day": payload["at"][:10], "at": payload["at"], "local": payload["device_id"],
            "staff_id": payload.get("staff_id"), "staff_name": payload.get("staff_name"),
            "action": payload["action"], "subject": payload["subject"],
            "details": json.dumps(payload["details"], ensure_ascii=False, sort_keys=True),
            "prev_hash": payload["prev_hash"], "hash": payload["hash"],
            "problem": "; ".join(wrong) or None})
    for row in people.values():
        conn.execute(sa.text(
            "INSERT INTO staff_members (device_id, staff_id, stall_id, name, role, "
            "enterprise_name, active, updated_at, seq) VALUES (:device_id, :staff_id, "
            ":stall_id, :name, :role, :enterprise_name, :active, :updated_at, :seq)"), row)


def downgrade() -> None:
    op.drop_index('ix_audit_entries_stall_id_day', table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_index('ix_staff_members_stall_id', table_name='staff_members')
    op.drop_table('staff_members')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('staff_name')
