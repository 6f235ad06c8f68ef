"""Event names are unique on the server and stall names within their event: they are used as
keys (`--event NAME`, `/stalls/{stall}`), and with two of one name a lookup took whichever came
first, so a device code could be made for, and a till enrolled into, the wrong event. Names
already taken twice are renamed first, the oldest keeping its name, the others given a suffix
(" (2)", " (3)", …), each one logged. Devices can be revoked and enrollment codes cancelled.

Revision ID: s0007
Revises: s0006
Create Date: 2026-12-02 05:50:00
"""
import logging

from alembic import op
import sqlalchemy as sa


revision = 's0007'
down_revision = 's0006'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    conn = op.get_bind()
    events = sa.table('events', sa.column('id'), sa.column('name'), sa.column('created_at'))
    stalls = sa.table('stalls', sa.column('id'), sa.column('event_id'), sa.column('name'),
                      sa.column('created_at'))
    _rename_duplicates(conn, events, scope=None, what="event")
    _rename_duplicates(conn, stalls, scope="event_id", what="stall")
    # unique indexes, not constraints: on SQLite a constraint would rebuild the table, which
    # the other tables' foreign keys do not allow
    op.create_index('ux_events_name', 'events', ['name'], unique=True)
    op.create_index('ux_stalls_event_id_name', 'stalls', ['event_id', 'name'], unique=True)
    with op.batch_alter_table('devices') as batch:
        batch.add_column(sa.Column('revoked_at', sa.Text(), nullable=True))
    with op.batch_alter_table('enrollment_codes') as batch:
        batch.add_column(sa.Column('cancelled_at', sa.Text(), nullable=True))


def _rename_duplicates(conn, table, *, scope: str | None, what: str) -> None:
    """Within each scope (the server, or an event), the oldest row of a name keeps it; every
    other gets the first free "name (n)"."""
    order = [table.c[scope]] if scope else []
    rows = conn.execute(sa.select(table).order_by(*order, table.c.created_at, table.c.id)).all()
    taken: dict[object, set[str]] = {}
    for row in rows:
        taken.setdefault(row._mapping[scope] if scope else None, set()).add(row.name)
    kept: dict[object, set[str]] = {}
    for row in rows:
        key = row._mapping[scope] if scope else None
        names = kept.setdefault(key, set())
        if row.name not in names:
            names.add(row.name)
            continue
        n = 2
        while f"{row.name} ({n})" in taken[key]:
            n += 1
        new = f"{row.name} ({n})"
        taken[key].add(new)
        names.add(new)
        conn.execute(table.update().where(table.c.id == row.id).values(name=new))
        log.warning("%s %s was named %r like an older one: renamed %r", what, row.id, row.name,
                    new)


def downgrade() -> None:
    with op.batch_alter_table('enrollment_codes') as batch:
        batch.drop_column('cancelled_at')
    with op.batch_alter_table('devices') as batch:
        batch.drop_column('revoked_at')
    op.drop_index('ux_stalls_event_id_name', table_name='stalls')
    op.drop_index('ux_events_name', table_name='events')
