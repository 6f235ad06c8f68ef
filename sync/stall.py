"""The stall's settlement: the day's per-enterprise figures of every till of the stall, made at
one till from what the server has of the others (`GET /api/v1/stall/documents`) and from its
own store (so its own sales count whether they are sent yet or not), by the same reference
computation as one till's (`pos.settlement.settle`). It says, per till, how far the server had
it: a till that has not synced since noon is in the figures up to noon.

The till syncs first, so the enterprises (and their commissions) are the stall's as the server
has them. Commission is worked out once on each enterprise's net for the stall, as on any one
statement; the tills' own statements each round their own, so their commissions added up may
differ from the stall's by a won per till.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos.domain import Line, TaxClass, TaxStatus, tax_parts
from pos.i18n import tr
from pos.settlement import EnterpriseInfo, LineRow, PartRow, PayRow, SaleRow, Settlement, settle
from pos.store import Store
from sync import protocol as p
from sync.client import SyncError, _call, _configured, _http

PAGE = 500
MAX_PAGES = 400  # 200,000 documents: far past any stall's day


@dataclass(frozen=True)
class StallSettlement:
    day: str
    settlement: Settlement
    tills: list[p.TillState]
    own_code: str
    made_at: str

    def till_notes(self, lang: str) -> list[str]:
        """One line per till: how far the figures have it."""
        out = []
        for till in self.tills:
            if till.device_code == self.own_code:
                out.append(tr("stall_till_own", lang, till=till.device_code))
            elif till.last_event_at is None:
                out.append(tr("stall_till_nothing", lang, till=till.device_code))
            else:
                out.append(tr("stall_till_until", lang, till=till.device_code,
                              when=_local(till.last_event_at),
                              synced=_local(till.last_sync_at)))
            if till.revoked:
                out[-1] += " · " + tr("stall_till_revoked", lang)
        return out

    def till_label(self, lang: str) -> str:
        return tr("stall_tills", lang, tills=", ".join(t.device_code for t in self.tills))


def _local(when: str | None) -> str:
    from datetime import datetime

    if not when:
        return "—"
    try:
        return datetime.fromisoformat(when).astimezone().strftime("%m-%d %H:%M")
    except ValueError:
        return when[:16]


def _pages(store: Store, day: str, transport, timeout: float) -> tuple[list, list]:
    conf, token = _configured(store)
    documents: list[p.StallDocument] = []
    tills: list[p.TillState] = []
    after_device, after_seq = "", 0
    with _http(conf["url"], transport, timeout) as http:
        for _ in range(MAX_PAGES):
            page = _call(http, token, "GET", "/api/v1/stall/documents", p.StallDayPage,
                         params={"day": day, "after_device": after_device,
                                 "after_seq": after_seq, "limit": PAGE})
            if page.day != day:
                raise SyncError("sync_garbage")
            tills = page.tills
            documents += page.documents
            if any(item.document.business_day != day for item in page.documents):
                raise SyncError("sync_garbage")  # another day's documents: not this day's
            if not page.more:
                break
            if page.last_device is None or (page.last_device, page.last_seq) <= (
                    after_device, after_seq):
                raise SyncError("sync_garbage")  # a cursor that does not move on
            after_device, after_seq = page.last_device, int(page.last_seq)
        else:  # never partial figures that look whole
            raise SyncError("sync_garbage")
    return documents, tills


def stall_settlement(store: Store, *, day: str, transport=None, timeout: float = 15,
                     sync_first: bool = True) -> StallSettlement:
    """The stall's figures for the business day `day`. Raises SyncError when the till is not
    enrolled or the server cannot be asked (nothing else is guessed). `sync_first`: False where
    the till's sync worker keeps it up to date (the GUI)."""
    from pos.services.settings import payment_methods
    from pos.services.shifts import _enterprises, _load
    from sync.client import sync_now

    try:  # the stall's enterprises and their commissions as the server has them now
        if sync_first:
            sync_now(store, transport=transport, timeout=timeout)
    except SyncError as e:
        if e.code in ("sync_not_enrolled", "sync_offline", "sync_garbage", "sync_server_error",
                      "sync_revoked", "sync_refused"):
            raise
        # blocked or waiting for a catalog choice: the figures are made all the same
    documents, tills = _pages(store, day, transport, timeout)
    with store.unit_of_work(write=False) as uow:
        sales, lines, payments, parts = (list(x) for x in _load(uow, day=day))
        infos = dict(_enterprises(uow))
        by_name = {info.name: info.id for info in infos.values()}
        method_order = list(payment_methods(uow).keys())
        own_code = uow.store.device["code"]
        made_at = uow.clock.now().isoformat()
    mine = {s.id for s in sales}
    for item in documents:
        doc = item.document
        sid = str(doc.id)
        if sid in mine:
            continue  # this till's own: counted from its store
        mine.add(sid)
        firm = {}
        for ln in doc.lines:  # enterprises by name, as the catalog matches them
            eid = by_name.get(ln.enterprise_name)
            if eid is None:
                eid = f"name:{ln.enterprise_name}"
                by_name[ln.enterprise_name] = eid
                infos[eid] = EnterpriseInfo(eid, ln.enterprise_name, 0)
            firm[ln.enterprise_id] = eid
        sales.append(SaleRow(
            sid, doc.kind, doc.receipt_no, doc.created_at,
            sum(ln.unit_price * ln.qty for ln in doc.lines),
            sum(ln.line_discount for ln in doc.lines),
            sum(ln.receipt_discount for ln in doc.lines), doc.total, doc.taxable_total,
            doc.supply_value, doc.vat, doc.exempt_total, doc.change))
        lines += [LineRow(sid, ln.product_id, ln.name, firm[ln.enterprise_id],
                          ln.enterprise_name, ln.qty, ln.amount) for ln in doc.lines]
        payments += [PayRow(sid, pay.method, pay.kind, pay.amount, pay.tendered, pay.change,
                            firm.get(pay.enterprise_id) if pay.enterprise_id else None)
                     for pay in doc.payments]
        own = {firm[e] for e in doc.own_terminals if e in firm}
        domain = [Line(line_no=ln.line_no, name=ln.name, unit_price=ln.unit_price, qty=ln.qty,
                       line_discount=ln.line_discount, receipt_discount=ln.receipt_discount,
                       amount=ln.amount, enterprise_id=firm[ln.enterprise_id],
                       enterprise_name=ln.enterprise_name, tax_class=TaxClass(ln.tax_class),
                       tax_status=TaxStatus(ln.tax_status)) for ln in doc.lines]
        parts += [PartRow(sid, part.enterprise_id, part.taxable_total, part.supply_value,
                          part.vat, part.exempt_total, str(part.tax_status),
                          part.enterprise_id in own)
                  for part in tax_parts(domain)]
    figures = settle(sales, lines, payments, parts, infos, method_order=method_order)
    return StallSettlement(day=day, settlement=figures, tills=tills, own_code=own_code,
                           made_at=made_at)
