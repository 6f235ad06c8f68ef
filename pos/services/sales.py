"""Selling: a cart becomes a paid sale; voids and refunds are new documents that point back.

`_commit_document` is the one place a document is written: its number in the device's gapless
sequence, its receipt number, its stamp, its lines, payments and VAT parts, its outbox entry and
its print jobs (the drawer kick, the receipt) all go into the caller's single transaction, so a
till that dies at any moment has either a paid sale with everything it sets off, or nothing.
Whoever listens (print worker, sync worker, the GUI) hears of it from the store's hub once it
has committed (`pos.events`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, func, select

from pos import events, print_jobs, tables as t
from pos.ids import canonical_receipt_no, parse_receipt_no
from pos.outbox import append_event
from pos.domain import (CartItem, Discount, DocKind, Document, DomainError, Line, MethodKind,
                        Payment, Priced, Refundable, TaxClass, TaxPart, TaxStatus, Tender, Totals,
                        clean_text, plain, price_cart, price_refund, refund_lines, settle,
                        tax_parts, totals_of, void_payments)
from pos.services.settings import payment_methods
from pos.services.staff import accounts_on, actor_columns, need
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
                discount: Discount | None = None, receipt_requested: bool = False,
                cash_receipt=None) -> Document:
    """Price the cart, apply the payments and write the paid sale. Raises `DomainError` (and
    writes nothing) when the cart or the payments do not add up. `cash_receipt`: what the
    customer said when asked for a cash receipt (`pos.services.cash_receipts.Ask`); the
    requests made are in the document's `cash_receipts`."""
    from pos.services import cash_receipts

    if cash_receipt is not None and cash_receipt.number is not None:
        cash_receipt.checked()  # a blank or bad number refuses the sale
    cart, stocked = _cart_items(uow, items)
    priced = price_cart(cart, discount)
    typed = _typed_prices(uow, items, priced)
    if accounts_on(uow):
        _allowed(uow, priced, typed)
    uow.typed_prices = [(line, price) for line, price, is_open in typed if not is_open]
    payments = settle(priced.totals.total, tenders, payment_methods(uow),
                      cash_receipts.rules(uow))
    for p in payments:
        if p.kind == MethodKind.CARD and p.approval_no and len(p.approval_no) > 32:
            raise DomainError("approval_too_long")
        for text in (p.approval_no, p.reference):
            if text is not None and not _printable(text):
                raise DomainError("approval_invalid")
    priced = _own_terminals(uow, priced, payments)
    doc = _commit_document(uow, kind=DocKind.SALE, priced=priced, payments=payments,
                           discount=discount, receipt_requested=receipt_requested,
                           stocked=stocked)
    made = cash_receipts.for_sale(uow, doc, cash_receipt)
    return replace(doc, cash_receipts=tuple(made)) if made else doc


def terminals_of(uow: UnitOfWork) -> dict[str, str]:
    """The enterprises that take their cards on their own terminal: {id: name}."""
    e = t.enterprises.c
    return dict(uow.conn.execute(select(e.id, e.name).where(e.card_terminal == "own")).all())


def _own_terminals(uow: UnitOfWork, priced: Priced, payments: list[Payment]) -> Priced:
    """Mark the enterprises of a sale that take cards on their own terminal, and hold each card
    taken on one to its enterprise: one of the sale's, with its own terminal, and no more than
    its part of the sale (what the settlement gives it, `pos.settlement.allocate`)."""
    own = terminals_of(uow)
    part: dict[str, int] = {}
    names = {}
    for ln in priced.lines:
        part[ln.enterprise_id] = part.get(ln.enterprise_id, 0) + ln.amount
        names[ln.enterprise_id] = ln.enterprise_name
    taken: dict[str, int] = {}
    for p in payments:
        if p.enterprise_id is None:
            continue
        if p.enterprise_id not in part or p.enterprise_id not in own:
            raise DomainError("terminal_unknown",
                              name=own.get(p.enterprise_id) or names.get(p.enterprise_id)
                              or clean_text(str(p.enterprise_id)[:40], limit=40) or "?")
        taken[p.enterprise_id] = taken.get(p.enterprise_id, 0) + p.amount
        if taken[p.enterprise_id] > part[p.enterprise_id]:
            raise DomainError("terminal_over_part", name=names[p.enterprise_id],
                              amount=taken[p.enterprise_id], part=part[p.enterprise_id])
    if not own:
        return priced
    # the stall's terminal takes only the part of the enterprises that use it (one merchant
    # may not take another's card sales, 여신전문금융업법 §19)
    stall_part = sum(a for e, a in part.items() if e not in own)
    stall_cards = sum(p.amount for p in payments
                      if p.kind == MethodKind.CARD and p.enterprise_id is None)
    if stall_cards > stall_part:
        raise DomainError("stall_card_over", amount=stall_cards, part=stall_part,
                          names=", ".join(sorted(names[e] for e in part if e in own)))
    return replace(priced, parts=[replace(x, own_terminal=x.enterprise_id in own)
                                  for x in priced.parts])


def _typed_prices(uow: UnitOfWork, items: list[SaleItem], priced: Priced) -> list:
    """The sale's lines whose price was typed at the till: (line, catalog price, whether it is
    an open-price product's amount). A catalog price changed at the booth is kept in the audit
    log; an open price is what that product is for."""
    if all(i.unit_price is None for i in items):
        return []
    ids = [i.product_id for i in items if i.unit_price is not None]
    known = {r.id: r for r in uow.conn.execute(
        select(t.products.c.id, t.products.c.price, t.products.c.sku)
        .where(t.products.c.id.in_(ids)))}
    out = []
    for item, line in zip(items, priced.lines):
        p = known.get(item.product_id) if item.unit_price is not None else None
        if p is None:
            continue
        is_open = (p.sku or "").startswith("open-")
        if is_open or item.unit_price != p.price:
            out.append((line, p.price, is_open))
    return out


def _allowed(uow: UnitOfWork, priced: Priced, typed: list) -> None:
    """What the person selling may do in this sale without a manager: a typed price (an open
    price product's amount, or a catalog price changed at the booth) and discounts beyond the
    cashier's limits (`pos.services.staff`)."""
    for line, price, is_open in typed:
        if is_open:
            need(uow, "open_price", amount=line.unit_price)
        else:
            need(uow, "price_edit", amount=line.unit_price, subject=line.name)
    totals = priced.totals
    off = totals.line_discount + totals.receipt_discount
    if off:
        percent = round(off * 100 / totals.subtotal, 1) if totals.subtotal else 100.0
        need(uow, "discount", amount=off, percent=percent)


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


def refundable_lines(uow: UnitOfWork, *, sale_id: str,
                     elsewhere: dict[int, int] | None = None) -> list[Refundable]:
    """The lines of a sale with what earlier voids and refunds already took back: this till's
    own, and what the server said other tills gave back: of another till's sale (its copy,
    `other_sale`), or of this till's own (`elsewhere`, {line_no: qty}, read just now)."""
    other = other_sale(uow, sale_id)
    if other is not None:
        lines, returned = other.lines, dict(other.returned)
        if not other.typed:
            for no, qty in _typed_back(uow, other).items():
                returned[no] = returned.get(no, 0) + qty
        mine = t.sales.c.other_sale_id == sale_id
    else:
        lines = [_line(r) for r in uow.conn.execute(
            select(t.sale_lines).where(t.sale_lines.c.sale_id == sale_id)
            .order_by(t.sale_lines.c.line_no)).mappings()]
        returned, mine = dict(elsewhere or {}), t.sales.c.original_id == sale_id
    for no, qty in uow.conn.execute(
            select(t.sale_lines.c.original_line_no, func.sum(-t.sale_lines.c.qty))
            .join(t.sales, t.sales.c.id == t.sale_lines.c.sale_id).where(mine)
            .group_by(t.sale_lines.c.original_line_no)):
        returned[no] = returned.get(no, 0) + int(qty)
    return [Refundable(ln, min(ln.qty, int(returned.get(ln.line_no, 0)))) for ln in lines]


@dataclass(frozen=True, slots=True)
class OtherSale:
    """A sale another till of the stall made, as this till knows it: the server's copy, or
    what the vendor typed in from the customer's receipt (`typed`)."""

    id: str
    receipt_no: str
    device_code: str
    business_day: str
    created_at: str
    typed: bool
    lines: list[Line]
    payments: list[Payment]
    returned: dict[int, int]  # line_no: what the other tills gave back (the server's word)
    voided: bool  # another till voided it
    returns: list[str]  # the other tills' return receipts
    fetched_at: str
    # its enterprises (this till's ids) that took cards on their own terminal (the server's
    # copy says; payments' `enterprise_id` are this till's ids too)
    own_terminals: tuple = ()

    def totals(self) -> Totals:
        return totals_of(self.lines, tax_parts(self.lines))


def other_sale(uow: UnitOfWork, sale_id: str) -> OtherSale | None:
    row = uow.conn.execute(select(t.other_sales).where(t.other_sales.c.id == sale_id)
                           ).mappings().first()
    if row is None:
        return None
    body = json.loads(row["body"])
    return OtherSale(
        id=row["id"], receipt_no=row["receipt_no"], device_code=row["device_code"],
        business_day=row["business_day"], created_at=row["created_at"],
        typed=row["source"] == "typed",
        lines=[_line(ln) for ln in body["lines"]],
        payments=[_payment(pay) for pay in body["payments"]],
        returned={int(k): int(v) for k, v in body.get("returned", {}).items()},
        voided=bool(body.get("voided")), returns=list(body.get("returns", [])),
        fetched_at=row["fetched_at"], own_terminals=tuple(body.get("own_terminals", ())))


def _typed_back(uow: UnitOfWork, other: OtherSale) -> dict[int, int]:
    """What this till gave back of a receipt typed in while offline, counted against the
    server's copy of that receipt now that it has one: each product (by id, else name) taken
    from the sale's lines of it in order, so the same paper is never given back twice."""
    typed = [o for o in other_sales_numbered(uow, other.receipt_no) if o.typed]
    if not typed:
        return {}
    back = uow.conn.execute(
        select(t.sale_lines.c.product_id, t.sale_lines.c.name, -t.sale_lines.c.qty)
        .join(t.sales, t.sales.c.id == t.sale_lines.c.sale_id)
        .where(t.sales.c.other_sale_id.in_([o.id for o in typed]))).all()
    out: dict[int, int] = {}
    for product_id, name, qty in back:
        for ln in other.lines:
            if qty <= 0:
                break
            if (product_id and ln.product_id == product_id) or ln.name == name:
                take = min(qty, ln.qty - out.get(ln.line_no, 0))
                if take > 0:
                    out[ln.line_no] = out.get(ln.line_no, 0) + take
                    qty -= take
    return out


def other_sales_numbered(uow: UnitOfWork, receipt_no: str) -> list[OtherSale]:
    """The copies this till holds of other tills' sales with this number."""
    try:
        receipt_no = canonical_receipt_no(receipt_no)
    except ValueError:
        receipt_no = receipt_no.strip().upper()
    ids = uow.conn.execute(select(t.other_sales.c.id).where(
        t.other_sales.c.receipt_no == receipt_no).order_by(t.other_sales.c.created_at)).scalars()
    return [other_sale(uow, i) for i in list(ids)]


def _local_enterprise(uow: UnitOfWork, line: Line) -> Line:
    """A line of another till's sale under this till's id of its enterprise (matched by name,
    as the catalog matches them), so its refund counts for that enterprise here."""
    found = uow.conn.execute(select(t.enterprises.c.id).where(
        t.enterprises.c.name == line.enterprise_name)).scalar()
    return replace(line, enterprise_id=found) if found else line


def keep_other_sale(uow: UnitOfWork, *, sale_id: str, receipt_no: str, device_code: str,
                    business_day: str, created_at: str, lines: list[Line],
                    payments: list[Payment], returned: dict[int, int], voided: bool,
                    returns: list[str], own_terminals: list[str] = ()) -> OtherSale:
    """Keep (or bring up to date) the server's copy of another till's sale, with what the other
    tills gave back of it. A copy typed in earlier is replaced by the server's. Its
    enterprises become this till's (by name), its card terminals with them."""
    if uow.conn.execute(select(t.sales.c.id).where(t.sales.c.id == sale_id)).first():
        raise DomainError("other_sale_is_own", value=receipt_no)
    local = {}
    for ln in lines:
        local.setdefault(ln.enterprise_id, _local_enterprise(uow, ln).enterprise_id)
    body = {"lines": [plain(_local_enterprise(uow, ln)) for ln in lines],
            "payments": [plain(replace(pay, enterprise_id=local.get(pay.enterprise_id)))
                         for pay in payments],
            "own_terminals": sorted({local[e] for e in own_terminals if e in local}),
            "returned": {str(k): v for k, v in returned.items() if v}, "voided": voided,
            "returns": returns}
    values = dict(receipt_no=receipt_no, device_code=device_code, business_day=business_day,
                  created_at=created_at, source="server", body=json.dumps(body),
                  fetched_at=uow.clock.now().isoformat())
    done = uow.conn.execute(t.other_sales.update().where(t.other_sales.c.id == sale_id)
                            .values(**values))
    if not done.rowcount:
        uow.conn.execute(t.other_sales.insert().values(id=sale_id, **values))
    return other_sale(uow, sale_id)


@dataclass(frozen=True, slots=True)
class TypedLine:
    """A line of another till's receipt as the vendor reads it off the paper: which product,
    how many, at what unit price (the product's price when not given)."""

    product_id: str
    qty: int
    unit_price: int | None = None


def type_other_sale(uow: UnitOfWork, *, receipt_no: str, lines: list[TypedLine]) -> OtherSale:
    """Another till's receipt, typed in when the server cannot be asked: what the customer's
    paper says, kept as typed (`OtherSale.typed`). Refunds only (a void needs its payments)."""
    try:
        code, day, n = parse_receipt_no(receipt_no)
    except ValueError:
        raise DomainError("receipt_no_invalid", value=receipt_no[:40]) from None
    number = canonical_receipt_no(receipt_no)
    if code == uow.store.device["code"] or uow.conn.execute(
            select(t.sales.c.id).where(t.sales.c.receipt_no == number)).first():
        raise DomainError("other_sale_is_own", value=number)
    earlier = [o for o in other_sales_numbered(uow, number)]
    if earlier:  # the same paper once more: what it gave back is not known offline
        raise DomainError("typed_again", value=number,
                          when=earlier[0].fetched_at[:16].replace("T", " "))
    if not lines or len(lines) > 200:
        raise DomainError("refund_nothing")
    cart = _cart_items(uow, [SaleItem(ln.product_id, ln.qty, 0, ln.unit_price) for ln in lines])[0]
    priced = price_cart(cart)
    if any(ln.amount <= 0 for ln in priced.lines):  # goods back for no money: not a refund
        raise DomainError("refund_nothing")
    sale_id = uow.new_id(uow.clock.now())
    body = {"lines": [plain(ln) for ln in priced.lines], "payments": [], "returned": {},
            "voided": False, "returns": []}
    now = uow.clock.now().isoformat()
    uow.conn.execute(t.other_sales.insert().values(
        id=sale_id, receipt_no=number, device_code=code, business_day=day.isoformat(),
        created_at=now,
        source="typed", body=json.dumps(body), fetched_at=now))
    return other_sale(uow, sale_id)


def _original_for_return(uow: UnitOfWork, sale_id, receipt_no):
    """The sale a void or refund gives back: this till's own (a row), or another till's copy
    (`OtherSale`)."""
    if sale_id:
        other = other_sale(uow, sale_id)
        if other is not None:
            return other
    row = _sale_row(uow, sale_id, receipt_no)
    if row["kind"] != DocKind.SALE:
        raise DomainError("not_a_sale", value=row["receipt_no"])
    return row


def _points_to(original) -> dict:
    """The columns of a return that name its sale: `original_id` for this till's own,
    `other_sale_id` for another till's."""
    if isinstance(original, OtherSale):
        return {"other_sale_id": original.id}
    return {"original_id": original["id"]}


def void_sale(uow: UnitOfWork, *, sale_id: str | None = None, receipt_no: str | None = None,
              reason: str = "", receipt_requested: bool = False,
              return_id: str | None = None, elsewhere: dict[int, int] | None = None) -> Document:
    """Cancel a whole sale: every line and every payment goes back by its own method. A sale
    that was already partly refunded cannot be voided; refund what is left instead.
    `return_id`: the id held on the server for it (`sync.returns`)."""
    original = _original_for_return(uow, sale_id, receipt_no)
    other = isinstance(original, OtherSale)
    number = original.receipt_no if other else original["receipt_no"]
    if other and original.typed:
        raise DomainError("void_typed", value=number)
    refundable = refundable_lines(uow, sale_id=original.id if other else original["id"],
                                  elsewhere=elsewhere)
    if all(r.remaining == 0 for r in refundable) or (other and original.voided):
        raise DomainError("already_returned", value=number)
    if any(r.refunded_qty for r in refundable):
        raise DomainError("void_after_refund", value=number)
    lines = refund_lines(refundable, {r.line.line_no: r.line.qty for r in refundable})
    priced = price_refund(lines)
    originals = original.payments if other else [_payment(r) for r in uow.conn.execute(
        select(t.payments).where(t.payments.c.sale_id == original["id"])
        .order_by(t.payments.c.n)).mappings()]
    payments = void_payments(originals)
    if sum(p.amount for p in payments) != priced.totals.total:
        raise DomainError("void_unbalanced", value=number)
    priced = _own_as_sold(uow, priced, original)
    own = {x.enterprise_id for x in priced.parts if x.own_terminal}
    payments = [p if p.enterprise_id in own else replace(p, enterprise_id=None)
                for p in payments]
    need(uow, "void", amount=-priced.totals.total, subject=number)
    doc = _commit_document(uow, kind=DocKind.VOID, priced=priced, payments=payments,
                           points_to=_points_to(original), reason=reason,
                           receipt_requested=receipt_requested, doc_id=return_id)
    return _cancel_cash_receipts(uow, doc, original)


def _cancel_cash_receipts(uow: UnitOfWork, doc: Document, original) -> Document:
    """A return of this till's own sale cancels its cash receipt requests (another till's
    sale's requests are that till's)."""
    if isinstance(original, OtherSale):
        return doc
    from pos.services import cash_receipts

    made = cash_receipts.for_return(uow, doc, original["id"])
    return replace(doc, cash_receipts=tuple(made)) if made else doc


def refund_sale(uow: UnitOfWork, *, quantities: dict[int, int], method: str,
                sale_id: str | None = None, receipt_no: str | None = None,
                reason: str = "", receipt_requested: bool = False,
                return_id: str | None = None,
                elsewhere: dict[int, int] | None = None) -> Document:
    """Give back some or all of a sale's lines ({line_no: qty}) by `method`; any number of
    times, never more of a line than was sold (by any till, as far as this till knows).
    `return_id`: the id held on the server for it (`sync.returns`)."""
    original = _original_for_return(uow, sale_id, receipt_no)
    methods = payment_methods(uow)
    chosen = methods.get(method)
    if chosen is None:
        raise DomainError("method_unknown", method=method)
    other = isinstance(original, OtherSale)
    if other and original.voided:
        raise DomainError("already_returned", value=original.receipt_no)
    lines = refund_lines(refundable_lines(uow, sale_id=original.id if other else original["id"],
                                          elsewhere=elsewhere), quantities)
    priced = price_refund(lines)
    total = priced.totals.total
    priced = _own_as_sold(uow, priced, original)
    payments = _refund_payments(uow, priced, chosen, original.payments if other else [
        _payment(r) for r in uow.conn.execute(select(t.payments).where(
            t.payments.c.sale_id == original["id"]).order_by(t.payments.c.n)).mappings()],
        original)
    need(uow, "refund", amount=-total,
         subject=original.receipt_no if other else original["receipt_no"])
    doc = _commit_document(uow, kind=DocKind.REFUND, priced=priced, payments=payments,
                           points_to=_points_to(original), reason=reason,
                           receipt_requested=receipt_requested, doc_id=return_id)
    return _cancel_cash_receipts(uow, doc, original)


def _own_as_sold(uow: UnitOfWork, priced: Priced, original) -> Priced:
    """A return's enterprises take cards on their own terminal as they did on the sale (this
    till's, or another till's as the server's copy says)."""
    if isinstance(original, OtherSale):
        own = set(original.own_terminals)
    else:
        sale_id = original["id"]
        x = t.sale_taxes.c
        own = set(uow.conn.execute(select(x.enterprise_id).where(
            x.sale_id == sale_id, x.own_terminal)).scalars())
    if not own:
        return priced
    return replace(priced, parts=[replace(p, own_terminal=p.enterprise_id in own)
                                  for p in priced.parts])


def _refund_payments(uow: UnitOfWork, priced: Priced, chosen, originals,
                     original) -> list[Payment]:
    """How a refund pays back by `chosen`. A card goes back on the terminal that took it: each
    enterprise that took cards on its own terminal gets its part back on it, up to what that
    terminal took on the sale less what earlier returns gave back on it; the rest goes back on
    the stall's terminal."""
    total = priced.totals.total
    if chosen.kind != MethodKind.CARD:
        return [Payment(1, chosen.code, chosen.kind, total, total, 0)]
    own = [x.enterprise_id for x in priced.parts if x.own_terminal]
    part: dict[str, int] = {}
    for ln in priced.lines:
        part[ln.enterprise_id] = part.get(ln.enterprise_id, 0) + ln.amount
    s, pm = t.sales.c, t.payments.c
    returns_of = (s.other_sale_id == original.id if isinstance(original, OtherSale)
                  else s.original_id == original["id"])
    payments, left = [], total
    for firm in own:
        took = sum(p.amount for p in originals
                   if p.kind == MethodKind.CARD and p.enterprise_id == firm)
        given = uow.conn.execute(
            select(func.coalesce(func.sum(pm.amount), 0))
            .select_from(t.payments.join(t.sales, s.id == pm.sale_id))
            .where(returns_of, pm.enterprise_id == firm,
                   pm.kind == str(MethodKind.CARD))).scalar()
        back = min(-part.get(firm, 0), took + int(given))
        if back > 0:
            payments.append(Payment(len(payments) + 1, chosen.code, chosen.kind, -back, -back,
                                    0, enterprise_id=firm))
            left += back
    if left or not payments:
        payments.append(Payment(len(payments) + 1, chosen.code, chosen.kind, left, left, 0))
    return payments


def _commit_document(uow: UnitOfWork, *, kind: DocKind, priced: Priced, payments: list[Payment],
                     discount: Discount | None = None, points_to: dict | None = None,
                     reason: str = "", receipt_requested: bool = False,
                     stocked: bool = True, doc_id: str | None = None) -> Document:
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
    points_to = points_to or {}
    original_id = points_to.get("original_id")
    other_id = points_to.get("other_sale_id")
    if doc_id is None:
        doc_id = uow.new_id(wall)
    elif uow.conn.execute(select(t.sales.c.id).where(t.sales.c.id == doc_id)).first():
        raise DomainError("return_id_used", value=doc_id)
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
        shift_id=shift["id"] if shift else None, other_sale_id=other_id,
        **(who := actor_columns(uow))))
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
         "approval_no": p.approval_no, "reference": p.reference,
         "face_value": p.face_value, "count": p.count, "enterprise_id": p.enterprise_id}
        for p in payments])
    uow.conn.execute(t.sale_taxes.insert(), [
        {"sale_id": doc_id, "enterprise_id": p.enterprise_id,
         "enterprise_name": p.enterprise_name, "tax_status": str(p.tax_status),
         "taxable_total": p.taxable_total, "supply_value": p.supply_value, "vat": p.vat,
         "exempt_total": p.exempt_total, "own_terminal": p.own_terminal} for p in priced.parts])
    _move_stock(uow, priced.lines, stocked)
    original_no = None
    if original_id:
        original_no = uow.conn.execute(_RECEIPT_NO_OF, {"sale_id": original_id}).scalar()
    elif other_id:
        original_no = uow.conn.execute(select(t.other_sales.c.receipt_no).where(
            t.other_sales.c.id == other_id)).scalar()
    doc = Document(
        id=doc_id, kind=kind, device_id=device["id"], seq=seq, receipt_no=number,
        business_day=day, created_at=wall.isoformat(), hlc=str(hlc),
        totals=totals, lines=priced.lines, payments=payments, parts=priced.parts,
        change=change, original_id=original_id or other_id, original_receipt_no=original_no,
        receipt_discount_kind=discount.kind if discount else None,
        receipt_discount_value=discount.value if discount else None,
        receipt_requested=receipt_requested, reason=reason or None,
        clock_note=note, staff_name=who["staff_name"])
    append_event(uow, event_type=f"{kind}.recorded", document_id=doc_id,
                 allocation=allocation, wall=wall)
    from pos import audit

    if kind != DocKind.SALE:
        audit.record(uow, str(kind), number, {"original": original_no, "total": totals.total,
                                               "reason": doc.reason or ""})
    if note is not None:
        _clock_jump(uow, number, day, note)
    for line, catalog_price in getattr(uow, "typed_prices", ()):
        audit.record(uow, "price_edit", number, {"product": line.name, "price": catalog_price,
                                                 "charged": line.unit_price})
    uow.typed_prices = ()
    print_jobs.for_document(uow, doc)
    uow.note(events.DOCUMENT, doc)
    return doc


def _clock_jump(uow: UnitOfWork, number: str, day: str, note: tuple[str, dict]) -> None:
    """A document made while the clock looked wrong goes into the audit log: once a business
    day for each kind of wrong (every sale while it stays wrong would drown the log)."""
    from pos import audit

    code, params = note
    last = audit.entries(uow, action="clock_jump", since=day)
    if not any(e.details.get("note") == code for e in last):
        audit.record(uow, "clock_jump", number, {"note": code, **params})


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
                   r["change"], r["approval_no"], r["reference"], r.get("face_value"),
                   r.get("count"), r.get("enterprise_id"))


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
                     r["taxable_total"], r["supply_value"], r["vat"], r["exempt_total"],
                     bool(r["own_terminal"]))
             for r in uow.conn.execute(select(t.sale_taxes).where(t.sale_taxes.c.sale_id == sid)
                                       .order_by(t.sale_taxes.c.enterprise_name)).mappings()]
    original_no = None
    if row["original_id"]:
        original_no = uow.conn.execute(select(t.sales.c.receipt_no)
                                       .where(t.sales.c.id == row["original_id"])).scalar()
    elif row["other_sale_id"]:
        original_no = uow.conn.execute(select(t.other_sales.c.receipt_no).where(
            t.other_sales.c.id == row["other_sale_id"])).scalar()
    refunds = list(uow.conn.execute(select(t.sales.c.receipt_no)
                                    .where(t.sales.c.original_id == sid)
                                    .order_by(t.sales.c.seq)).scalars())
    totals = Totals(row["subtotal"], row["line_discount"], row["receipt_discount"], row["total"],
                    row["taxable_total"], row["supply_value"], row["vat"], row["exempt_total"])
    from pos.services.cash_receipts import of_document

    return Document(
        id=sid, kind=DocKind(row["kind"]), device_id=row["device_id"], seq=row["seq"],
        receipt_no=row["receipt_no"], business_day=row["business_day"],
        created_at=row["created_at"], hlc=row["hlc"], totals=totals, lines=lines,
        payments=pays, parts=parts, change=row["change"],
        original_id=row["original_id"] or row["other_sale_id"],
        original_receipt_no=original_no, receipt_discount_kind=row["receipt_discount_kind"],
        receipt_discount_value=row["receipt_discount_value"],
        receipt_requested=bool(row["receipt_requested"]), reason=row["reason"], refunds=refunds,
        staff_name=row["staff_name"], cash_receipts=tuple(of_document(uow, sid, row["kind"])))


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


def return_states(uow: UnitOfWork, *, sale_ids: list[str]) -> dict[str, str]:
    """What became of each sale as this till knows it, for the history list: "voided",
    "refunded" (all of it given back) or "part_refunded"; a sale nothing was given back of is
    left out."""
    found: dict[str, str] = {}
    for k in range(0, len(sale_ids), 500):
        chunk = sale_ids[k:k + 500]
        totals = dict(uow.conn.execute(select(t.sales.c.id, t.sales.c.total)
                                       .where(t.sales.c.id.in_(chunk))).all())
        q = (select(t.sales.c.original_id, t.sales.c.kind, func.sum(t.sales.c.total))
             .where(t.sales.c.original_id.in_(chunk))
             .group_by(t.sales.c.original_id, t.sales.c.kind))
        back: dict[str, int] = {}
        for sale_id, kind, total in uow.conn.execute(q):
            if kind == DocKind.VOID:
                found[sale_id] = "voided"
            else:
                back[sale_id] = back.get(sale_id, 0) - int(total or 0)
        for sale_id, amount in back.items():
            if sale_id not in found:
                found[sale_id] = ("refunded" if amount >= totals.get(sale_id, 0)
                                  else "part_refunded")
    return found


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
