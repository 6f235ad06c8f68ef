"""The outbox: every change the server must hear of, in the device's gapless sequence.

Documents (sales, voids, refunds) have no payload here: they are immutable and are read back
from their own tables when they are sent. Other events (shifts, cash movements, catalog edits)
keep their JSON in `payload`. The sync client reads and acknowledges rows; only this module
writes them, and renumbers them when the server holds events this store lost.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, func, select

from pos import events, tables as t
from pos.clock import Hlc
from pos.numbering import Allocation
from pos.store import UnitOfWork


def append_event(uow: UnitOfWork, *, event_type: str, payload: dict | None = None,
                 document_id: str | None = None, allocation: Allocation | None = None,
                 wall: datetime | None = None) -> int:
    """Put an event in the outbox at the device's next sequence number; returns the number."""
    wall = wall or uow.clock.now()
    allocation = allocation or uow.store.numbering.allocate(uow, wall, receipt=False)
    uow.conn.execute(t.outbox.insert(), {
        "device_id": uow.store.device["id"], "seq": allocation.seq,
        "event_id": uow.new_id(wall), "event_type": event_type, "document_id": document_id,
        "hlc": str(allocation.hlc), "created_at": wall.isoformat(),
        "payload": None if payload is None else json.dumps(
            payload, ensure_ascii=False, separators=(",", ":"))})
    uow.note(events.OUTBOX)
    return allocation.seq


def newest_seq(uow: UnitOfWork) -> int:
    """This device's highest outbox seq (0 before its first event)."""
    return uow.conn.execute(select(func.max(t.outbox.c.seq)).where(
        t.outbox.c.device_id == uow.store.device["id"])).scalar() or 0


def server_top(uow: UnitOfWork) -> int:
    """The highest seq of this device the server holds and this store lacks (0: none)."""
    return uow.conn.execute(select(func.max(t.events_on_server.c.last_seq)).where(
        t.events_on_server.c.device_id == uow.store.device["id"])).scalar() or 0


def on_server(uow: UnitOfWork) -> list[tuple[int, int]]:
    """This device's runs of seqs that only the server holds, in order."""
    return [(r.first_seq, r.last_seq) for r in uow.conn.execute(
        select(t.events_on_server.c.first_seq, t.events_on_server.c.last_seq)
        .where(t.events_on_server.c.device_id == uow.store.device["id"])
        .order_by(t.events_on_server.c.first_seq))]


def held_by_server(uow: UnitOfWork, first: int, last: int) -> None:
    """Record that the server holds this device's events `first`..`last` and this store does
    not (it lost them): the device's numbering goes on after them, and `jangteo check` counts
    them as the server's."""
    device_id = uow.store.device["id"]
    ranges = t.events_on_server.c
    uow.conn.execute(t.events_on_server.delete().where(  # a run recorded before, inside it
        ranges.device_id == device_id, ranges.first_seq.between(first, last)))
    uow.conn.execute(t.events_on_server.insert().values(
        device_id=device_id, first_seq=first, last_seq=last,
        created_at=uow.clock.now().isoformat()))
    uow.on_commit(uow.store.numbering.forget)


def renumber_after_server(uow: UnitOfWork, *, first: int, last: int, server_last: int) -> int:
    """The server holds other events than this store's at seqs `first`..`last` (this store
    lost the server's and numbered new events there), and this store's own at `last` + 1 ..
    `server_last` (taken in the same push). Record `first`..`last` as the server's, and give
    this store's events from `first` on that the server does not hold the numbers after
    `server_last`, in their order, in the outbox and in the sales and stock movements that carry
    them. Event ids,
    contents and receipt numbers stay; the moved events are not acknowledged. One transaction
    (the caller's). Returns how many events moved."""
    device_id = uow.store.device["id"]
    mine = t.outbox.c.device_id == device_id
    seqs = uow.conn.execute(select(t.outbox.c.seq).where(mine, t.outbox.c.seq >= first)
                            .order_by(t.outbox.c.seq)).scalars().all()
    moved = [s for s in seqs if not last < s <= server_last]
    if moved:
        # through negative numbers: (device_id, seq) is unique in both tables at every row
        pairs = [{"old": s, "new": -(server_last + 1 + k)} for k, s in enumerate(moved)]
        for table in (t.outbox, t.sales, t.stock_movements):
            uow.conn.execute(table.update().where(table.c.device_id == device_id,
                                                  table.c.seq == bindparam("old"))
                             .values(seq=bindparam("new")), pairs)
            uow.conn.execute(table.update().where(table.c.device_id == device_id,
                                                  table.c.seq < 0).values(seq=-table.c.seq))
        uow.conn.execute(t.outbox.update().where(mine, t.outbox.c.seq > server_last)
                         .values(acked_at=None))
        # the newest event by number may not be the newest by stamp any more: keep the newest
        # stamp where the numbering reads it, so the clock never goes back
        newest = uow.conn.execute(select(func.max(t.outbox.c.hlc)).where(mine)).scalar()
        kept = uow.conn.execute(select(t.device.c.last_hlc)
                                .where(t.device.c.id == device_id)).scalar()
        if newest and (not kept or Hlc.parse(newest) > Hlc.parse(kept)):
            uow.conn.execute(t.device.update().where(t.device.c.id == device_id)
                             .values(last_hlc=newest))
        uow.note(events.OUTBOX)
    held_by_server(uow, first, last)
    return len(moved)
