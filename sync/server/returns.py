"""A till gives back a receipt of its stall that another till printed: it reads the sale from
the server (`lookup`, `sale_copy`) and holds the quantities it gives back (`hold`) before it
records the return, so that what every till of the stall gives back of a sale never adds up to
more than was sold. A till reads its own stall's sales, nothing else.

The hold is taken with the sale's row locked (PostgreSQL; SQLite writes one transaction at a
time), so two tills asking at once are answered one after the other; it ends when the return
arrives in a push (`release`), or counts no longer after `protocol.HOLD_SECONDS`.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pos.ids import canonical_receipt_no
from sync import protocol as p
from sync.server import tables as t
from sync.server.service import Refused, _said

MAX_COPIES = 100  # sales answered for one receipt number


def lookup(conn: Connection, device: dict, receipt_no: str) -> p.SaleLookup:
    """The stall's sales printed with this number (several when tills printed it before they
    enrolled); 404 `sale_unknown` when the stall has none."""
    try:
        number = canonical_receipt_no(receipt_no)
    except ValueError:
        number = " ".join(receipt_no.split()).upper()
    copies = _copies(conn, device, t.documents.c.receipt_no == number)
    if not copies:
        raise Refused(404, f"no sale of this stall has the receipt number {_said(number)} "
                           "(yet: the till that printed it may not have sent it)", "sale_unknown")
    return p.SaleLookup(sales=copies)


def sale_copy(conn: Connection, device: dict, sale_id: str, *, lock: bool = False,
              besides: str | None = None) -> p.SaleCopy:
    """One sale of the device's stall with what is given back of it; 404 `sale_unknown` for a
    sale the server does not have or that is another stall's (the same answer: a till learns
    nothing of other stalls)."""
    if lock and conn.dialect.name == "postgresql":  # a push of a return of it locks it too
        conn.execute(select(t.documents.c.id).where(t.documents.c.id == sale_id)
                     .with_for_update())
    copies = _copies(conn, device, t.documents.c.id == sale_id, besides=besides)
    if not copies:
        raise Refused(404, f"this stall has no sale {_said(sale_id)} (yet: the till that made it "
                           "may not have sent it)", "sale_unknown")
    return copies[0]


def _copies(conn: Connection, device: dict, where, *, besides: str | None = None
            ) -> list[p.SaleCopy]:
    d, dv, ev = t.documents.c, t.devices.c, t.device_events.c
    rows = conn.execute(
        select(d.id, dv.device_code, ev.body)
        .join(t.devices, dv.id == d.device_id)
        .join(t.device_events, (ev.device_id == d.device_id) & (ev.seq == d.seq))
        .where(where, dv.stall_id == device["stall_id"], d.kind == "sale")
        .order_by(d.business_day.desc(), dv.device_code).limit(MAX_COPIES)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    returns: dict[str, list[p.SaleReturn]] = {}
    for r in conn.execute(
            select(d.original_id, dv.device_code, ev.body)
            .join(t.devices, dv.id == d.device_id)
            .join(t.device_events, (ev.device_id == d.device_id) & (ev.seq == d.seq))
            .where(d.original_id.in_(ids), dv.stall_id == device["stall_id"])
            .order_by(ev.hlc)):
        doc = p.Event.model_validate_json(r.body).document
        returns.setdefault(r.original_id, []).append(p.SaleReturn(
            id=doc.id, kind=doc.kind, receipt_no=doc.receipt_no, device_code=r.device_code,
            created_at=doc.created_at,
            lines=[p.ReturnedLine(line_no=ln.original_line_no, qty=-ln.qty, amount=-ln.amount)
                   for ln in doc.lines]))
    held = _held(conn, ids, besides)
    return [p.SaleCopy(device_code=r.device_code,
                       document=p.Event.model_validate_json(r.body).document,
                       returns=returns.get(r.id, []), held=held.get(r.id, []))
            for r in rows]


def _held(conn: Connection, sale_ids: list[str], besides: str | None
          ) -> dict[str, list[p.HeldReturn]]:
    """Each sale's live holds (a hold whose return has arrived is gone already)."""
    h, dv = t.return_holds.c, t.devices.c
    q = (select(h.sale_id, h.return_id, h.lines, dv.device_code)
         .join(t.devices, dv.id == h.device_id)
         .where(h.sale_id.in_(sale_ids), h.created_at >= int(time.time()) - p.HOLD_SECONDS)
         .order_by(h.created_at, h.return_id))
    if besides is not None:
        q = q.where(h.return_id != besides)
    out: dict[str, list[p.HeldReturn]] = {}
    for r in conn.execute(q):
        out.setdefault(r.sale_id, []).append(p.HeldReturn(
            return_id=r.return_id, device_code=r.device_code,
            lines=[p.ReturnedLine(line_no=int(no), qty=int(qty))
                   for no, qty in sorted(json.loads(r.lines).items(), key=lambda i: int(i[0]))]))
    return out


def given_back(copy: p.SaleCopy) -> tuple[dict[int, int], bool]:
    """What is given back of each line of the sale (returns and holds), and whether it is
    voided."""
    gone: dict[int, int] = {}
    for r in copy.returns:
        for ln in r.lines:
            gone[ln.line_no] = gone.get(ln.line_no, 0) + ln.qty
    for h in copy.held:
        for ln in h.lines:
            gone[ln.line_no] = gone.get(ln.line_no, 0) + ln.qty
    return gone, any(r.kind == "void" for r in copy.returns)


def hold(conn: Connection, device: dict, sale_id: str, req: p.ReturnHold) -> p.SaleCopy:
    """Hold what `req` gives back of the sale, or refuse with 409 `over_returned` saying what
    is left. The same return id again (the till retrying) replaces its hold; a return that has
    arrived already is answered as it stands."""
    rid = str(req.return_id)
    copy = sale_copy(conn, device, sale_id, lock=True, besides=rid)
    d, h = t.documents.c, t.return_holds.c
    taken = conn.execute(select(d.device_id, d.original_id).where(d.id == rid)).first()
    if taken is not None:
        if taken.device_id == device["id"] and taken.original_id == sale_id:
            return copy  # this till held, recorded and pushed it already: a late retry
        raise Refused(409, f"the return id {rid} is another document's: make a new one",
                      "return_id_used")
    holder = conn.execute(select(h.device_id, h.sale_id).where(h.return_id == rid)).first()
    if holder is not None and (holder.device_id != device["id"] or holder.sale_id != sale_id):
        raise Refused(409, f"the return id {rid} is held for another return: make a new one",
                      "return_id_used")
    sold = {ln.line_no: ln.qty for ln in copy.document.lines}
    gone, voided = given_back(copy)
    if voided:
        raise Refused(409, f"sale {copy.document.receipt_no} is voided: nothing is left to give "
                           "back", "over_returned")
    for ln in req.lines:
        if ln.line_no not in sold:
            raise Refused(422, f"sale {copy.document.receipt_no} has no line {ln.line_no}",
                          "line_unknown")
        left = sold[ln.line_no] - gone.get(ln.line_no, 0)
        if ln.qty > left:
            raise Refused(409, f"line {ln.line_no} of sale {copy.document.receipt_no}: "
                               f"{max(left, 0)} of {sold[ln.line_no]} sold are left to give "
                               "back", "over_returned")
    if req.kind == "void":
        whole = {ln.line_no: ln.qty for ln in req.lines} == sold
        if gone or not whole:
            raise Refused(409, f"sale {copy.document.receipt_no}: a void gives back the whole "
                               "sale, and some of it is given back already or not named",
                          "over_returned")
    # only this till's own hold of this return is replaced; one of the same id made at the
    # same moment for another sale meets the key and is refused (the key decides, not a read)
    conn.execute(t.return_holds.delete().where(h.return_id == rid, h.device_id == device["id"],
                                               h.sale_id == sale_id))
    try:
        with conn.begin_nested():
            conn.execute(t.return_holds.insert().values(
                return_id=rid, sale_id=sale_id, device_id=device["id"], kind=req.kind,
                lines=json.dumps({str(ln.line_no): ln.qty for ln in req.lines}),
                created_at=int(time.time())))
    except IntegrityError:
        raise Refused(409, f"the return id {rid} is held for another return: make a new one",
                      "return_id_used") from None
    return copy


def release(conn: Connection, return_ids: list[str]) -> None:
    """The returns arrived: their holds end (they count as returns now)."""
    h = t.return_holds.c
    for k in range(0, len(return_ids), 500):
        conn.execute(t.return_holds.delete().where(h.return_id.in_(return_ids[k:k + 500])))


def _stamp_time(hlc: str | None) -> str | None:
    if not hlc:
        return None
    from datetime import datetime, timezone

    try:
        return datetime.fromtimestamp(int(hlc[:13]) / 1000, timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


def stall_day(conn: Connection, device: dict, *, day: str, after_device: str, after_seq: int,
              limit: int) -> p.StallDayPage:
    """The stall's documents of a business day, in order of till and seq, after the cursor;
    and every till of the stall with how far the server has it (`protocol.StallDayPage`)."""
    d, dv, ev = t.documents.c, t.devices.c, t.device_events.c
    tills = []
    for r in conn.execute(select(dv.id, dv.device_code, dv.name, dv.last_seq, dv.revoked_at)
                          .where(dv.stall_id == device["stall_id"]).order_by(dv.device_code)):
        last = conn.execute(select(ev.received_at, ev.hlc).where(
            ev.device_id == r.id, ev.seq == r.last_seq)).first() if r.last_seq else None
        tills.append(p.TillState(device_code=r.device_code, name=r.name,
                                 acked_seq=int(r.last_seq),
                                 last_sync_at=last.received_at if last else None,
                                 last_event_at=_stamp_time(last.hlc) if last else None,
                                 revoked=r.revoked_at is not None))
    q = (select(d.device_id, d.seq, dv.device_code, ev.body)
         .join(t.devices, dv.id == d.device_id)
         .join(t.device_events, (ev.device_id == d.device_id) & (ev.seq == d.seq))
         .where(dv.stall_id == device["stall_id"], d.business_day == day,
                (d.device_id > after_device) | ((d.device_id == after_device)
                                                 & (d.seq > after_seq)))
         .order_by(d.device_id, d.seq).limit(limit + 1))
    rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return p.StallDayPage(
        day=day, tills=tills, more=more,
        documents=[p.StallDocument(device_code=r.device_code,
                                   document=p.Event.model_validate_json(r.body).document)
                   for r in rows],
        last_device=rows[-1].device_id if rows else None,
        last_seq=int(rows[-1].seq) if rows else None)
