"""Voids and refunds at a stall with several tills: a receipt may be another till's, and a sale
may be given back at any till, so what every till gives back of it must never add up to more
than was sold.

- `look_up` finds a receipt: this till's own sale, a copy of another till's it already holds,
  and (when enrolled and the server answers) the stall's sales with that number from the
  server, kept as copies (`pos.services.sales.keep_other_sale`) with what the other tills gave
  back. Several sales share a number when tills printed it before they enrolled: the vendor
  picks one by its till, time and amount.
- `give_back` records a void or refund: when enrolled it first holds the quantities on the
  server (`POST /api/v1/sales/{id}/returns`), which refuses what another till has given back
  meanwhile; the return is then recorded under the held id and pushed as usual.
- Offline, a sale of this till's own is given back from what the till knows (the server
  alerts the organizer if another till gave it back too). Another till's receipt is given
  back from its copy if the till has one, else only from its lines typed in from the
  customer's paper (`pos.services.sales.type_other_sale`), recorded as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from pos.domain import DocKind, DomainError, Line, MethodKind, Payment, TaxClass, TaxStatus
from pos.services import sales as svc
from pos.store import Store, UnitOfWork
from sync import protocol as p
from sync.client import SyncError, _configured, _http, _raise_for

TIMEOUT = 4.0  # a refund waits this long at most for the server before going on offline


@dataclass
class Lookup:
    """What a till found of a receipt number."""

    number: str
    own: object | None = None  # this till's document with that number (`svc.get_document`)
    others: list[svc.OtherSale] = field(default_factory=list)
    asked: bool = False  # the server answered (found or not)
    error: SyncError | None = None  # why the server could not be asked (None: not enrolled)
    # what the server said other tills gave back of this till's own sale, {line_no: qty}
    elsewhere: dict[int, int] = field(default_factory=dict)
    voided_elsewhere: bool = False


class ReturnRefused(DomainError):
    """The server refused the hold: another till gave back (some of) the sale meanwhile."""


def _enrolled(store: Store) -> tuple[dict, str] | None:
    try:
        return _configured(store)
    except SyncError:
        return None


def _request(store: Store, method: str, path: str, *, transport, timeout, **kw):
    """One call to the server; None when not enrolled. Offline and garbage are SyncError."""
    conf = _enrolled(store)
    if conf is None:
        return None
    conf, token = conf
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    with _http(conf["url"], transport, timeout) as http:
        try:
            response = http.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as e:
            raise SyncError("sync_offline", detail=type(e).__name__) from None
    return response


def _problem(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    return body.get("code"), str(body.get("detail", ""))[:300]


def _lines(doc: p.Document) -> list[Line]:
    return [Line(line_no=ln.line_no, name=ln.name, unit_price=ln.unit_price, qty=ln.qty,
                 line_discount=ln.line_discount, receipt_discount=ln.receipt_discount,
                 amount=ln.amount, enterprise_id=ln.enterprise_id,
                 enterprise_name=ln.enterprise_name, tax_class=TaxClass(ln.tax_class),
                 tax_status=TaxStatus(ln.tax_status), product_id=ln.product_id, sku=ln.sku,
                 barcode=ln.barcode) for ln in doc.lines]


def _payments(doc: p.Document) -> list[Payment]:
    return [Payment(pay.n, pay.method, MethodKind(pay.kind), pay.amount, pay.tendered,
                    pay.change, pay.approval_no, pay.reference,
                    enterprise_id=pay.enterprise_id) for pay in doc.payments]


def _by_others(uow: UnitOfWork, copy: p.SaleCopy) -> tuple[dict[int, int], bool, list[str]]:
    """What tills other than this one gave back (or hold) of the sale: this till's own returns
    are counted from its own store, never twice."""
    from sqlalchemy import select

    from pos import tables as t

    ids = [str(r.id) for r in copy.returns] + [str(h.return_id) for h in copy.held]
    mine = set(uow.conn.execute(select(t.sales.c.id).where(t.sales.c.id.in_(ids))).scalars()) \
        if ids else set()
    gone: dict[int, int] = {}
    voided = False
    receipts = []
    for r in copy.returns:
        if str(r.id) in mine:
            continue
        voided = voided or r.kind == "void"
        receipts.append(f"{r.receipt_no} ({r.device_code})")
        for ln in r.lines:
            gone[ln.line_no] = gone.get(ln.line_no, 0) + ln.qty
    for h in copy.held:
        if str(h.return_id) in mine:
            continue
        for ln in h.lines:
            gone[ln.line_no] = gone.get(ln.line_no, 0) + ln.qty
    return gone, voided, receipts


def _keep(store: Store, copies: list[p.SaleCopy], lookup: Lookup) -> None:
    with store.unit_of_work() as uow:
        own_id = lookup.own.id if lookup.own is not None else None
        for copy in copies:
            doc = copy.document
            gone, voided, receipts = _by_others(uow, copy)
            if str(doc.id) == own_id:
                lookup.elsewhere, lookup.voided_elsewhere = gone, voided
                continue
            if _is_own(uow, str(doc.id)):
                continue  # another of this till's own (a number it printed twice)
            lookup.others.append(svc.keep_other_sale(
                uow, sale_id=str(doc.id), receipt_no=doc.receipt_no,
                device_code=copy.device_code, business_day=doc.business_day,
                created_at=doc.created_at, lines=_lines(doc), payments=_payments(doc),
                returned=gone, voided=voided, returns=receipts,
                own_terminals=list(doc.own_terminals)))
        uow.commit()


def _is_own(uow: UnitOfWork, sale_id: str) -> bool:
    from sqlalchemy import select

    from pos import tables as t

    return uow.conn.execute(select(t.sales.c.id).where(t.sales.c.id == sale_id)).first() \
        is not None


def look_up(store: Store, receipt_no: str, *, transport=None, timeout: float = TIMEOUT) -> Lookup:
    """Everything the till can find of a receipt number (see the module)."""
    lookup = Lookup(number=" ".join(receipt_no.split())[:40])
    with store.unit_of_work(write=False) as uow:
        try:
            lookup.own = svc.get_document(uow, receipt_no=receipt_no)
        except DomainError:
            lookup.own = None
        lookup.others = svc.other_sales_numbered(uow, receipt_no)
    if lookup.own is not None and lookup.own.kind != DocKind.SALE:
        return lookup  # a void or refund is found to be shown, not given back
    try:
        response = _request(store, "GET", "/api/v1/sales", transport=transport,
                            timeout=timeout, params={"receipt_no": lookup.number})
    except SyncError as e:
        lookup.error = e
        return lookup
    if response is None:
        return lookup
    code, _detail = _problem(response) if response.status_code >= 400 else (None, "")
    if response.status_code == 404 and code == "sale_unknown":
        lookup.asked = True
        return lookup
    try:
        _raise_for(response)
        found = p.SaleLookup.model_validate_json(response.content)
    except SyncError as e:
        lookup.error = e
        return lookup
    except ValueError:
        lookup.error = SyncError("sync_garbage")
        return lookup
    lookup.asked = True
    lookup.others = []
    _keep(store, found.sales, lookup)
    return lookup


def _hold(store: Store, sale_id: str, return_id: str, kind: str, quantities: dict[int, int], *,
          transport, timeout: float) -> bool:
    """Hold the quantities on the server for the return `return_id`: whether it was held (not
    when the server is not to be asked or cannot be: offline, or it has not the sale yet).
    Whatever the answer, the return is recorded under this id: a hold whose answer was lost
    ends when the return arrives."""
    body = p.ReturnHold(return_id=return_id, kind=kind, lines=[
        p.ReturnedLine(line_no=no, qty=qty) for no, qty in sorted(quantities.items()) if qty])
    try:
        response = _request(store, "POST", f"/api/v1/sales/{sale_id}/returns",
                            transport=transport, timeout=timeout,
                            content=body.model_dump_json().encode(),
                            headers={"Content-Type": "application/json"})
    except SyncError:
        return False
    if response is None:
        return False
    code, detail = _problem(response) if response.status_code >= 400 else (None, "")
    if response.status_code == 409 and code == "over_returned":
        raise ReturnRefused("return_refused_by_server", detail=detail)
    # 404: the server has not the sale yet (only this till can have given it back); other
    # refusals (an old server, busy): given back as offline, checked when it is pushed
    return response.status_code < 400


def give_back(store: Store, *, kind: str, sale_id: str, quantities: dict[int, int] | None = None,
              method: str | None = None, reason: str = "", receipt_requested: bool = False,
              lookup: Lookup | None = None, transport=None, timeout: float = TIMEOUT):
    """Record a void (`kind` void) or a refund of `quantities` by `method`, held on the server
    first when the till is enrolled (see the module). Raises DomainError (nothing recorded):
    `ReturnRefused` when another till gave the sale back meanwhile."""
    elsewhere = lookup.elsewhere if lookup is not None and lookup.own is not None \
        and lookup.own.id == sale_id else None
    with store.unit_of_work(write=False) as uow:
        refundable = svc.refundable_lines(uow, sale_id=sale_id, elsewhere=elsewhere)
        other = svc.other_sale(uow, sale_id)
    if kind == DocKind.VOID:
        wanted = {r.line.line_no: r.line.qty for r in refundable}
    else:
        wanted = dict(quantities or {})
        # checked here first, so the server is not asked to hold what is not there
        from pos.domain import refund_lines
        refund_lines(refundable, wanted)
    def record(uow: UnitOfWork, return_id: str | None):
        if kind == DocKind.VOID:
            return svc.void_sale(uow, sale_id=sale_id, reason=reason,
                                 receipt_requested=receipt_requested, return_id=return_id,
                                 elsewhere=elsewhere)
        return svc.refund_sale(uow, sale_id=sale_id, quantities=wanted, method=method,
                               reason=reason, receipt_requested=receipt_requested,
                               return_id=return_id, elsewhere=elsewhere)

    with store.unit_of_work() as uow:  # tried first and rolled back: a return the till itself
        record(uow, None)              # refuses (no shift, a bad method) holds nothing
    with store.unit_of_work(write=False) as uow:
        return_id = uow.new_id()
    if other is None or not other.typed:
        _hold(store, sale_id, return_id, str(kind), wanted, transport=transport,
              timeout=timeout)
    with store.unit_of_work() as uow:
        doc = record(uow, return_id)
        uow.commit()
    return doc
