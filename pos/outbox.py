"""The outbox: every change the server must hear of, in the device's gapless sequence.

Documents (sales, voids, refunds) have no payload here: they are immutable and are read back
from their own tables when they are sent. Other events (shifts, cash movements, catalog edits)
keep their JSON in `payload`. The sync client reads and acknowledges rows; only this module
writes them.
"""

from __future__ import annotations

import json
from datetime import datetime

from pos import events, tables as t
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
