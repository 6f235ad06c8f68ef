"""The device's counters: the gapless event sequence, the hybrid logical clock and the receipt
number of the day.

They are read from the store once and then kept in memory: the data directory belongs to one
process (the directory lock) and write transactions run one at a time (the store's write lock),
so the memory copy is the truth. A transaction's numbers become the memory copy only after it
commits; a rolled-back sale leaves no gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, select, text

from pos import tables as t
from pos.clock import Hlc, tick
from pos.ids import receipt_no

_LAST_EVENT = (select(t.outbox.c.seq, t.outbox.c.hlc)
               .where(t.outbox.c.device_id == bindparam("device_id"))
               .order_by(t.outbox.c.seq.desc()).limit(1))
# the newest documents' wall times: the newest of them is the newest wall time this device
# has seen (a document made while the clock was behind is not newer than the ones before it)
_NEWEST = (select(t.sales.c.created_at).where(t.sales.c.device_id == bindparam("device_id"))
           .order_by(t.sales.c.seq.desc()).limit(200))
# numbers the server holds and this store lost (pos.tables.events_on_server) are taken too
_SERVER_TOP = (select(func.max(t.events_on_server.c.last_seq))
               .where(t.events_on_server.c.device_id == bindparam("device_id")))
_DEVICE_HLC = select(t.device.c.last_hlc).where(t.device.c.id == bindparam("device_id"))
# the day's highest receipt number (receipt_no is CODE-YYYYMMDD-N), or the floor kept for
# numbers customers may hold although this store lacks them (pos.marks)
_DAY_HIGH = text("""
    SELECT MAX(COALESCE((SELECT MAX(CAST(substr(receipt_no, instr(receipt_no, '-') + 10)
                                         AS INTEGER))
                         FROM sales WHERE device_id = :device_id AND business_day = :day), 0),
               COALESCE((SELECT last_n FROM receipt_floors
                         WHERE device_id = :device_id AND business_day = :day), 0))""")

CLOCK_SLACK = timedelta(minutes=5)  # a clock this far behind the newest document has jumped back


def day_high(conn, device_id: str, day: str) -> int:
    """The highest receipt number of a business day that is taken (in the store or a floor)."""
    return int(conn.execute(_DAY_HIGH, {"device_id": device_id, "day": day}).scalar() or 0)


@dataclass(frozen=True, slots=True)
class Allocation:
    seq: int
    hlc: Hlc
    receipt_no: str | None
    business_day: str
    clock_behind: datetime | None = None  # the newest document's time, when the wall clock is
    # more than CLOCK_SLACK behind it (a dead clock battery, a wrong time zone)


@dataclass(frozen=True, slots=True)
class _State:
    seq: int
    hlc: Hlc | None
    day: str | None
    day_n: int
    newest: datetime | None = None  # wall time of the device's newest document


class Numbering:
    def __init__(self, device_id: str, device_code: str):
        self.device_id = device_id
        self.device_code = device_code
        self._state: _State | None = None

    def _load(self, uow) -> _State:
        row = uow.conn.execute(_LAST_EVENT, {"device_id": self.device_id}).first()
        stamps = [Hlc.parse(row.hlc)] if row else []
        kept = uow.conn.execute(_DEVICE_HLC, {"device_id": self.device_id}).scalar()
        if kept:
            stamps.append(Hlc.parse(kept))
        walls = [datetime.fromisoformat(w) for w, in
                 uow.conn.execute(_NEWEST, {"device_id": self.device_id})]
        held = uow.conn.execute(_SERVER_TOP, {"device_id": self.device_id}).scalar() or 0
        return _State(max(row.seq if row else 0, held), max(stamps) if stamps else None, None,
                      0, max(walls) if walls else None)

    def allocate(self, uow, wall: datetime, *, receipt: bool,
                 day: str | None = None) -> Allocation:
        """The next sequence number and stamp, and a receipt number when `receipt`, on
        business day `day` (default: the wall clock's date)."""
        state = getattr(uow, "_numbering", None) or self._state or self._load(uow)
        day = day or wall.date().isoformat()
        seq = state.seq + 1
        behind = self.clock_behind(uow, wall, state)
        hlc = tick(state.hlc, wall, self.device_code)
        day_n = state.day_n if state.day == day else None
        number = None
        if receipt:
            if day_n is None:
                day_n = day_high(uow.conn, self.device_id, day)
            day_n += 1
            number = receipt_no(self.device_code, date.fromisoformat(day), day_n)
        newest = state.newest
        if receipt and (newest is None or wall > newest):
            newest = wall
        new = _State(seq, hlc, day if day_n is not None else state.day,
                     day_n if day_n is not None else state.day_n, newest)
        uow._numbering = new
        uow.on_commit(lambda: setattr(self, "_state", new))
        return Allocation(seq, hlc, number, day, behind)

    def home_zone(self, uow):
        """The time zone of the device's newest document: business days are counted in it,
        so a laptop set to another zone books to the stall's day, not its own."""
        state = getattr(uow, "_numbering", None) or self._state or self._load(uow)
        return state.newest.tzinfo if state.newest is not None else None

    def clock_behind(self, uow, wall: datetime, state: "_State | None" = None) -> datetime | None:
        """The newest document's time when `wall` is more than CLOCK_SLACK behind it (the
        wall clock of this device, not the hybrid clock, which moves past other devices')."""
        state = state or getattr(uow, "_numbering", None) or self._state or self._load(uow)
        if state.newest is None or wall + CLOCK_SLACK >= state.newest:
            return None
        return state.newest

    def forget(self) -> None:
        """Drop the memory copy (after the store was changed by other means, e.g. a restore)."""
        self._state = None
