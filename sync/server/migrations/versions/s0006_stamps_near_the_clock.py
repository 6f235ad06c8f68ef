"""Catalog stamps a till pushed from beyond the server's clock (9999999999999-…, which fits the
pattern) are brought back near it: one had frozen its product for ever and made every organizer
edit in every event fail, since the server stamps past every stamp it holds.

Revision ID: s0006
Revises: s0005
Create Date: 2026-12-02 05:10:00
"""
import json
import time

from alembic import op
import sqlalchemy as sa


revision = 's0006'
down_revision = 's0005'
branch_labels = None
depends_on = None

MAX_CLOCK_AHEAD_MS = 10 * 60 * 1000  # sync.protocol.MAX_CLOCK_AHEAD_MS when this was written


def upgrade() -> None:
    _restamp_catalog(op.get_bind())


def _restamp_catalog(conn) -> None:
    """Every stamp further ahead than the bound is given, stall by stall and in its old order,
    a stamp at the bound: as late as anything the stall's catalog may hold, so each edit still
    beats what it beat, and the server's next stamps are whole again."""
    catalog = sa.table('catalog', sa.column('stall_id'), sa.column('product_id'),
                       sa.column('hlc'), sa.column('body'))
    limit = int(time.time() * 1000) + MAX_CLOCK_AHEAD_MS
    counters: dict[str, int] = {}

    def fresh(stall_id: str) -> str:
        counter = counters.get(stall_id, 0)
        counters[stall_id] = counter + 1
        return f"{limit:013d}-{counter:05d}-SRV"

    rows = conn.execute(sa.select(catalog.c.stall_id, catalog.c.product_id, catalog.c.hlc,
                                  catalog.c.body).order_by(catalog.c.stall_id, catalog.c.hlc)
                        ).all()
    for row in rows:
        body = json.loads(row.body)
        enterprise = body.get("enterprise") or {}
        ahead = int(row.hlc[:13]) > limit
        enterprise_ahead = bool(enterprise.get("hlc")) and int(enterprise["hlc"][:13]) > limit
        if not ahead and not enterprise_ahead:
            continue
        stamp = fresh(row.stall_id)
        if ahead:
            body["hlc"] = stamp
        if enterprise_ahead:
            enterprise["hlc"] = stamp
        conn.execute(catalog.update().where(catalog.c.stall_id == row.stall_id,
                                            catalog.c.product_id == row.product_id)
                     .values(hlc=body["hlc"], body=json.dumps(body, ensure_ascii=False,
                                                              separators=(",", ":"))))


def downgrade() -> None:
    pass  # the stamps that were too far ahead are not put back
