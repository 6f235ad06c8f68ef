"""The device's counters: the gapless event sequence, the hybrid logical clock and the receipt
number of the day.

They are read from the store once and then kept in memory: the data directory belongs to one
process (the directory lock) and write transactions run one at a time (the store's write lock),
so the memory copy is the truth. A transaction's numbers become the memory copy only after it
commits; a rolled-back sale leaves no gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from pos import tables as t
from pos.clock import Hlc, tick
from pos.ids import receipt_no

_LAST_EVENT = (select(t.outbox.c.seq, t.outbox.c.hlc)
               .where(t.outbox.c.device_id == bindparam("device_id"))
               .order_by(t.outbox.c.seq.desc()).limit(1))
_DEVICE_HLC = select(t.device.c.last_hlc).where(t.device.c.id == bindparam("device_id"))
_DAY_COUNT = select(func.count()).select_from(t.sales).where(
    t.sales.c.device_id == bindparam("device_id"), t.sales.c.business_day == bindparam("day"))


@dataclass(frozen=True, slots=True)
class Allocation:
    seq: int
    hlc: Hlc
    receipt_no: str | None
    business_day: str


@dataclass(frozen=True, slots=True)
class _State:
    seq: int
    hlc: Hlc | None
    day: str | None
    day_n: int


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
        return _State(row.seq if row else 0, max(stamps) if stamps else None, None, 0)

    def allocate(self, uow, wall: datetime, *, receipt: bool) -> Allocation:
        """The next sequence number and stamp, and a receipt number when `receipt`."""
        state = getattr(uow, "_numbering", None) or self._state or self._load(uow)
        day = wall.date().isoformat()
        seq = state.seq + 1
        hlc = tick(state.hlc, wall, self.device_code)
        day_n = state.day_n if state.day == day else None
        number = None
        if receipt:
            if day_n is None:
                day_n = uow.conn.execute(_DAY_COUNT, {"device_id": self.device_id,
                                                      "day": day}).scalar()
            day_n += 1
            number = receipt_no(self.device_code, wall.date(), day_n)
        new = _State(seq, hlc, day if day_n is not None else state.day,
                     day_n if day_n is not None else state.day_n)
        uow._numbering = new
        uow.on_commit(lambda: setattr(self, "_state", new))
        return Allocation(seq, hlc, number, day)

    def forget(self) -> None:
        """Drop the memory copy (after the store was changed by other means, e.g. a restore)."""
        self._state = None
