"""Selling: a cart becomes a paid sale; voids and refunds are new documents that point back.

`_commit_document` is the one place a document is written: its number in the device's gapless
sequence, its receipt number, its stamp, its lines, payments and VAT parts, its outbox entry and
its print jobs (the drawer kick, the receipt) all go into the caller's single transaction, so a
till that dies at any moment has either a paid sale with everything it sets off, or nothing.
Whoever listens (print worker, sync worker, the GUI) hears of it from the store's hub once it
has committed (`pos.events`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from pos import events, print_jobs, tables as t
from pos.ids import canonical_receipt_no
from pos.outbox import append_event
from pos.domain import (CartItem, Discount, DocKind, Document, DomainError, Line, MethodKind,
                        Payment, Priced, Refundable, TaxClass, TaxPart, TaxStatus, Tender, Totals,
                        clean_text, price_cart, price_refund, refund_lines, settle,
                        void_payments)
from pos.services.settings import payment_methods
from pos.store import UnitOfWork

REASON_LIMIT = 200  # a void's or refund's reason, as typed (a pasted line break is a space)


# Statements on the selling path are built once: SQLAlchemy then reuses their compiled form,
# which keeps a sale's commit within the benchmark's budget (bench/bench_sale_commit.py).
_FIRST_BARCODE = (select(func.min(t.barcodes.c.barcode))
                  .where(t.barcodes.c.product_id == t.products.c.id)
                  .scalar_subquery())
_PRODUCTS_BY_ID = (
    select(t.products.c.id, t.products.c.name, t.products.c.price, t.products.c.sku,
           t.products.c.tax_class, t.products.c.enterprise_id, t.products.c.stock,
           t.enterprises.c.name.label("enterprise_name"), t.enterprises.c.tax_status,
           _FIRST_BARCODE.label("barcode"))
    .join(t.enterprises, t.enterprises.c.id == t.products.c.enterprise_id)
    .where(t.products.c.id.in_(bindparam("ids", expanding=True))))
_RECEIPT_NO_OF = select(t.sales.c.receipt_no).where(t.sales.c.id == bindparam("sale_id"))
_MOVE_STOCK = (t.products.update()
               .where(t.products.c.id == bindparam("pid"), t.products.c.stock.is_not(None))
               .values(stock=t.products.c.stock - bindparam("qty")))


@dataclass(frozen=True, slots=True)
class SaleItem:
    """What the till asks for: a product, a quantity, and optionally a line discount or a price
    typed at the booth (`unit_price`, e.g. a damaged item sold cheaper)."""

    product_id: str
    qty: int = 1
    line_discount: int = 0
    unit_price: int | None = None


def _cart_items(uow: UnitOfWork, items: list[SaleItem]) -> tuple[list[CartItem], bool]:
    """The cart with each product's snapshot, and whether any of them tracks stock."""
    ids = list({i.product_id for i in items})
    found = {r.id: r for r in uow.conn.execute(_PRODUCTS_BY_ID, {"ids": ids})}
    cart = []
    for item in items:
        p = found.get(item.product_id)
        if p is None:
            raise DomainError("product_unknown", value=item.product_id)
        cart.append(CartItem(
            name=p.name, unit_price=p.price if item.unit_price is None else item.unit_price,
            qty=item.qty, enterprise_id=p.enterprise_id, enterprise_name=p.enterprise_name,
            tax_class=TaxClass(p.tax_class), tax_status=TaxStatus(p.tax_status),
            line_discount=item.line_discount, product_id=p.id, sku=p.sku,
            barcode=p.barcode))
    return cart, any(p.stock is not None for p in found.values())


def quote_sale(uow: UnitOfWork, *, items: list[SaleItem],
               discount: Discount | None = None) -> Priced:
    """The cart's lines, totals and VAT as they would be charged (the till's running total)."""
    return price_cart(_cart_items(uow, items)[0], discount)


def record_sale(uow: UnitOfWork, *, items: list[SaleItem], tenders: list[Tender],
                discount: Discount | None = None, receipt_requested: bool = False) -> Document:
    """Price the cart, apply the payments and write the paid sale. Raises `DomainError` (and
    writes nothing) when the cart or the payments do not add up."""
    cart, stocked = _cart_items(uow, items)
    priced = price_cart(cart, discount)
    payments = settle(priced.totals.total, tenders, payment_methods(uow))
    for p in payments:
        if p.kind == MethodKind.CARD and p.approval_no and len(p.approval_no) > 32:
            raise DomainError("approval_too_long")
        for text in (p.approval_no, p.reference):
            if text is not None and not _printable(text):
                raise DomainError("approval_invalid")
    return _commit_document(uow, kind=DocKind.SALE, priced=priced, payments=payments,
                            discount=discount, receipt_requested=receipt_requested,
                            stocked=stocked)


def _printable(text: str) -> bool:
    """Text that can go on a receipt as it is: no control characters (a scanner's GS byte, a
    newline), nothing a terminal could not decode, not overlong."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return len(text) <= 200 and text.isprintable()


def _sale_row(uow: UnitOfWork, sale_id: str | None, receipt_no: str | None):
    q = select(t.sales)
    if sale_id:
        q = q.where(t.sales.c.id == sale_id)
    elif receipt_no:
        try:
            receipt_no = canonical_receipt_no(receipt_no)
        except ValueError:
            receipt_no = receipt_no.strip().upper()
        q = q.where(t.sales.c.receipt_no == receipt_no)
    else:
        raise TypeError("sale_id or receipt_no is required")
    row = uow.conn.execute(q).mappings().first()
    if row is None:
        raise DomainError("sale_unknown", value=sale_id or receipt_no)
    return row


def refundable_lines(uow: UnitOfWork, *, sale_id: str) -> list[Refundable]:
    """The lines of a sale with what earlier voids and refunds already took back."""
    lines = [_line(r) for r in uow.conn.execute(
        select(t.sale_lines).where(t.sale_lines.c.sale_id == sale_id)
        .order_by(t.sale_lines.c.line_no)).mappings()]
    refunded = dict(uow.conn.execute(
        select(t.sale_lines.c.original_line_no, func.sum(-t.sale_lines.c.qty))
        .join(t.sales, t.sales.c.id == t.sale_lines.c.sale_id)
        .where(t.sales.c.original_id == sale_id)
        .group_by(t.sale_lines.c.original_line_no)).all())
    return [Refundable(ln, int(refunded.get(ln.line_no, 0))) for ln in lines]


def _original_for_return(uow: UnitOfWork, sale_id, receipt_no):
    row = _sale_row(uow, sale_id, receipt_no)
    if row["kind"] != DocKind.SALE:
        raise DomainError("not_a_sale", value=row["receipt_no"])
    return row


def void_sale(uow: UnitOfWork, *, sale_id: str | None = None, receipt_no: str | None = None,
              reason: str = "", receipt_requested: bool = False) -> Document:
    """Cancel a whole sale: every line and every payment goes back by its own method. A sale
    that was already partly refunded cannot be voided; refund what is left instead."""
    original = _original_for_return(uow, sale_id, receipt_no)
    refundable = refundable_lines(uow, sale_id=original["id"])
    if all(r.remaining == 0 for r in refundable):
        raise DomainError("already_returned", value=original["receipt_no"])
    if any(r.refunded_qty for r in refundable):
        raise DomainError("void_after_refund", value=original["receipt_no"])
    lines = refund_lines(refundable, {r.line.line_no: r.line.qty for r in refundable})
    priced = price_refund(lines)
    originals = [_payment(r) for r in uow.conn.execute(
        select(t.payments).where(t.payments.c.sale_id == original["id"])
        .order_by(t.payments.c.n)).mappings()]
    payments = void_payments(originals)
    if sum(p.amount for p in payments) != priced.totals.total:
        raise DomainError("void_unbalanced", value=original["receipt_no"])
    return _commit_document(uow, kind=DocKind.VOID, priced=priced, payments=payments,
                            original_id=original["id"], reason=reason,
                            receipt_requested=receipt_requested)


def refund_sale(uow: UnitOfWork, *, quantities: dict[int, int], method: str,
                sale_id: str | None = None, receipt_no: str | None = None,
                reason: str = "", receipt_requested: bool = False) -> Document:
    """Give back some or all of a sale's lines ({line_no: qty}) by `method`; any number of
    times, never more of a line than was sold."""
    original = _original_for_return(uow, sale_id, receipt_no)
    methods = payment_methods(uow)
    chosen = methods.get(method)
    if chosen is None:
        raise DomainError("method_unknown", method=method)
    lines = refund_lines(refundable_lines(uow, sale_id=original["id"]), quantities)
    priced = price_refund(lines)
    total = priced.totals.total
    payments = [Payment(1, chosen.code, chosen.kind, total, total, 0)]
    return _commit_document(uow, kind=DocKind.REFUND, priced=priced, payments=payments,
                            original_id=original["id"], reason=reason,
                            receipt_requested=receipt_requested)


def _commit_document(uow: UnitOfWork, *, kind: DocKind, priced: Priced, payments: list[Payment],
                     discount: Discount | None = None, original_id: str | None = None,
                     reason: str = "", receipt_requested: bool = False,
                     stocked: bool = True) -> Document:
    device = uow.store.device
    wall = uow.clock.now()
    from pos.services.shifts import business_day, clock_note, current_shift

    shift = current_shift(uow)
    if shift is None:  # a document outside a shift is in no cash count and no Z report
        raise DomainError("shift_not_open")
    day = business_day(uow, wall, shift)
    note = clock_note(uow, wall, shift, uow.store.numbering.clock_behind(uow, wall))
    allocation = uow.store.numbering.allocate(uow, wall, receipt=True, day=day)
    seq, hlc, number, day = (allocation.seq, allocation.hlc, allocation.receipt_no,
                             allocation.business_day)
    doc_id = uow.new_id(wall)
    totals = priced.totals
    change = sum(p.change for p in payments)
    uow.conn.execute(t.sales.insert(), dict(
        id=doc_id, kind=str(kind), device_id=device["id"], seq=seq, receipt_no=number,
        business_day=day, created_at=wall.isoformat(), hlc=str(hlc),
        original_id=original_id, subtotal=totals.subtotal, line_discount=totals.line_discount,
        receipt_discount=totals.receipt_discount,
        receipt_discount_kind=discount.kind if discount else None,
        receipt_discount_value=discount.value if discount else None, total=totals.total,
        taxable_total=totals.taxable_total, supply_value=totals.supply_value, vat=totals.vat,
        exempt_total=totals.exempt_total, change=change, receipt_requested=receipt_requested,
        reason=clean_text(reason, limit=REASON_LIMIT) or None if reason else None,
        shift_id=shift["id"] if shift else None))
    uow.conn.execute(t.sale_lines.insert(), [
        {"sale_id": doc_id, "line_no": ln.line_no, "product_id": ln.product_id, "sku": ln.sku,
         "barcode": ln.barcode, "name": ln.name, "enterprise_id": ln.enterprise_id,
         "enterprise_name": ln.enterprise_name, "tax_class": str(ln.tax_class),
         "tax_status": str(ln.tax_status), "unit_price": ln.unit_price, "qty": ln.qty,
         "line_discount": ln.line_discount, "receipt_discount": ln.receipt_discount,
         "amount": ln.amount, "original_line_no": ln.original_line_no}
        for ln in priced.lines])
    uow.conn.execute(t.payments.insert(), [
        {"sale_id": doc_id, "n": p.n, "method": p.method, "kind": str(p.kind),
         "amount": p.amount, "tendered": p.tendered, "change": p.change,
         "approval_no": p.approval_no, "reference": p.reference} for p in payments])
    uow.conn.execute(t.sale_taxes.insert(), [
        {"sale_id": doc_id, "enterprise_id": p.enterprise_id,
         "enterprise_name": p.enterprise_name, "tax_status": str(p.tax_status),
         "taxable_total": p.taxable_total, "supply_value": p.supply_value, "vat": p.vat,
         "exempt_total": p.exempt_total} for p in priced.parts])
    _move_stock(uow, priced.lines, stocked)
    original_no = None
    if original_id:
        original_no = uow.conn.execute(_RECEIPT_NO_OF, {"sale_id": original_id}).scalar()
    doc = Document(
        id=doc_id, kind=kind, device_id=device["id"], seq=seq, receipt_no=number,
        business_day=day, created_at=wall.isoformat(), hlc=str(hlc),
        totals=totals, lines=priced.lines, payments=payments, parts=priced.parts,
        change=change, original_id=original_id, original_receipt_no=original_no,
        receipt_discount_kind=discount.kind if discount else None,
        receipt_discount_value=discount.value if discount else None,
        receipt_requested=receipt_requested, reason=reason or None,
        clock_note=note)
    append_event(uow, event_type=f"{kind}.recorded", document_id=doc_id,
                 allocation=allocation, wall=wall)
    print_jobs.for_document(uow, doc)
    uow.note(events.DOCUMENT, doc)
    return doc


def _move_stock(uow: UnitOfWork, lines: list[Line], stocked: bool) -> None:
    """Products that track stock lose what was sold and get back what was refunded."""
    if not stocked:
        return
    moves = [{"pid": ln.product_id, "qty": ln.qty} for ln in lines if ln.product_id]
    if moves:
        uow.conn.execute(_MOVE_STOCK, moves)
        uow.note(events.CATALOG)  # the tiles show the stock


def _line(r) -> Line:
    return Line(line_no=r["line_no"], name=r["name"], unit_price=r["unit_price"], qty=r["qty"],
                line_discount=r["line_discount"], receipt_discount=r["receipt_discount"],
                amount=r["amount"], enterprise_id=r["enterprise_id"],
                enterprise_name=r["enterprise_name"], tax_class=TaxClass(r["tax_class"]),
                tax_status=TaxStatus(r["tax_status"]), product_id=r["product_id"], sku=r["sku"],
                barcode=r["barcode"], original_line_no=r["original_line_no"])


def _payment(r) -> Payment:
    return Payment(r["n"], r["method"], MethodKind(r["kind"]), r["amount"], r["tendered"],
                   r["change"], r["approval_no"], r["reference"])


def get_document(uow: UnitOfWork, *, sale_id: str | None = None,
                 receipt_no: str | None = None) -> Document:
    row = _sale_row(uow, sale_id, receipt_no)
    sid = row["id"]
    lines = [_line(r) for r in uow.conn.execute(
        select(t.sale_lines).where(t.sale_lines.c.sale_id == sid)
        .order_by(t.sale_lines.c.line_no)).mappings()]
    pays = [_payment(r) for r in uow.conn.execute(
        select(t.payments).where(t.payments.c.sale_id == sid).order_by(t.payments.c.n)).mappings()]
    parts = [TaxPart(r["enterprise_id"], r["enterprise_name"], TaxStatus(r["tax_status"]),
                     r["taxable_total"], r["supply_value"], r["vat"], r["exempt_total"])
             for r in uow.conn.execute(select(t.sale_taxes).where(t.sale_taxes.c.sale_id == sid)
                                       .order_by(t.sale_taxes.c.enterprise_name)).mappings()]
    original_no = None
    if row["original_id"]:
        original_no = uow.conn.execute(select(t.sales.c.receipt_no)
                                       .where(t.sales.c.id == row["original_id"])).scalar()
    refunds = list(uow.conn.execute(select(t.sales.c.receipt_no)
                                    .where(t.sales.c.original_id == sid)
                                    .order_by(t.sales.c.seq)).scalars())
    totals = Totals(row["subtotal"], row["line_discount"], row["receipt_discount"], row["total"],
                    row["taxable_total"], row["supply_value"], row["vat"], row["exempt_total"])
    return Document(
        id=sid, kind=DocKind(row["kind"]), device_id=row["device_id"], seq=row["seq"],
        receipt_no=row["receipt_no"], business_day=row["business_day"],
        created_at=row["created_at"], hlc=row["hlc"], totals=totals, lines=lines,
        payments=pays, parts=parts, change=row["change"], original_id=row["original_id"],
        original_receipt_no=original_no, receipt_discount_kind=row["receipt_discount_kind"],
        receipt_discount_value=row["receipt_discount_value"],
        receipt_requested=bool(row["receipt_requested"]), reason=row["reason"], refunds=refunds)


def list_documents(uow: UnitOfWork, *, day_from: str | None = None, day_to: str | None = None,
                   kinds: tuple[str, ...] | None = None) -> list[dict]:
    """Sales rows (without lines) between two business days, inclusive, in sequence order."""
    q = select(t.sales).order_by(t.sales.c.device_id, t.sales.c.seq)
    if day_from:
        q = q.where(t.sales.c.business_day >= day_from)
    if day_to:
        q = q.where(t.sales.c.business_day <= day_to)
    if kinds:
        q = q.where(t.sales.c.kind.in_(kinds))
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def payment_methods_of(uow: UnitOfWork, *, sale_ids: list[str]) -> dict[str, list[str]]:
    """Each document's payment method codes, in the order they were paid."""
    found: dict[str, list[str]] = {}
    for k in range(0, len(sale_ids), 500):
        q = (select(t.payments.c.sale_id, t.payments.c.method)
             .where(t.payments.c.sale_id.in_(sale_ids[k:k + 500]))
             .order_by(t.payments.c.sale_id, t.payments.c.n))
        for sale_id, method in uow.conn.execute(q):
            found.setdefault(sale_id, []).append(method)
    return found


def receipt_outlook(uow: UnitOfWork) -> tuple[str, int, str]:
    """The business day a sale made now goes to, how many receipts it has, and the number the
    next one will get (after any numbering floor): what the till's status line shows."""
    from datetime import date

    from pos.ids import receipt_no
    from pos.numbering import day_high
    from pos.services.shifts import business_day, current_shift

    day = business_day(uow, uow.clock.now(), current_shift(uow))
    device = uow.store.device
    count = uow.conn.execute(select(func.count()).select_from(t.sales).where(
        t.sales.c.device_id == device["id"], t.sales.c.business_day == day)).scalar()
    high = day_high(uow.conn, device["id"], day)
    return day, int(count), receipt_no(device["code"], date.fromisoformat(day), high + 1)
