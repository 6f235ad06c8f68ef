"""The receipt as plain data, built from a stored sale, void or refund, and its layout.

`receipt_for` reads what a receipt shows (KOREA.md): store identity, receipt number, time,
lines, discounts, total, taxable supply value, VAT, exempt amount, payments with tendered and
change or approval number, and for a refund or void a clear heading with the original receipt
number. `layout_receipt` turns it into rows for a paper width.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pos import services as svc
from pos.domain import DocKind, TaxBreakdown, TaxStatus
from pos.ids import barcode_form
from pos.money import format_amount
from pos.store import UnitOfWork
from printing.layout import (QR, Barcode, Feed, Item, Logo, Measure, Row, Rule, fit,
                             heading)
from pos.errors import CodedError
from pos.i18n import tax_note, tax_rows, tr

def label(key: str, lang: str, /, **params) -> str:
    """A receipt's words, from the message catalogue (context "receipt")."""
    return tr(key, lang, context="receipt", **params)


amount = format_amount  # amounts on a receipt: digits with separators (the column says 원)


def tax_items(breakdown: TaxBreakdown, lang: str, measure) -> list[Item]:
    """The VAT breakdown as printed rows, the same words as the till's screen and PDFs: a
    simplified taxpayer's sales under their own words and a note, never in a VAT split."""
    out: list[Item] = []
    for words, value in tax_rows(breakdown, lang):
        out += fit(words, amount(value), measure)
    note = tax_note(breakdown, lang)
    if note:
        out += fit(note, "", measure)
    return out


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    unit_price: int
    qty: int
    discount: int
    amount: int
    enterprise_id: str


@dataclass(frozen=True)
class ReceiptPayment:
    label: str
    amount: int
    tendered: int
    change: int
    approval_no: str | None
    terminal: str | None = None  # an enterprise's own card terminal took it: its name


@dataclass(frozen=True)
class Seller:
    name: str
    bizno: str
    representative: str
    phone: str
    tax_status: str


@dataclass(frozen=True)
class ReceiptDoc:
    """Everything printed on one receipt; no database, no printer."""

    kind: str
    receipt_no: str
    created_at: str
    store: dict
    lines: list[ReceiptLine]
    payments: list[ReceiptPayment]
    sellers: dict[str, Seller]
    subtotal: int
    line_discount: int
    receipt_discount: int
    total: int
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    simplified_total: int
    change: int
    original_receipt_no: str | None = None
    reason: str | None = None
    footer: str = ""
    qr: str | None = None
    logo: str | None = None
    copy: bool = False
    group_by_enterprise: bool = False
    lang: str = "ko"
    has_cash: bool = False
    extra: dict = field(default_factory=dict)
    staff_name: str | None = None  # who made it, with staff accounts on
    cash_receipts: tuple = ()  # ReceiptCashReceipt: requests (a sale), cancellations (a return)
    parts: dict = field(default_factory=dict)  # enterprise id: its TaxPart of the document


@dataclass(frozen=True)
class ReceiptCashReceipt:
    """A cash receipt request as printed: the number masked, never in full."""

    kind: str  # issue, cancel
    number: str  # masked
    purpose: str
    voluntary: bool
    issuer: str
    amount: int
    approval_no: str | None


def receipt_for(uow: UnitOfWork, *, sale_id: str | None = None, receipt_no: str | None = None,
                copy: bool = False, lang: str | None = None) -> ReceiptDoc:
    doc = svc.get_document(uow, sale_id=sale_id, receipt_no=receipt_no)
    methods = svc.payment_methods(uow)
    settings = svc.till_settings(uow)
    lang = lang or settings.receipt_language
    sellers = {}
    for line in doc.lines:
        if line.enterprise_id not in sellers:
            e = svc.find_enterprise(uow, ref=line.enterprise_id) or {}
            sellers[line.enterprise_id] = Seller(
                e.get("name", line.enterprise_name), e.get("bizno") or "",
                e.get("representative", ""), e.get("phone", ""),
                e.get("tax_status", str(line.tax_status)))
    grouping = settings.receipt_group_by_enterprise
    payments = []
    for p in doc.payments:
        m = methods.get(p.method)
        terminal = None
        if p.enterprise_id:
            terminal = (sellers[p.enterprise_id].name if p.enterprise_id in sellers
                        else p.enterprise_id)
        payments.append(ReceiptPayment(m.label(lang) if m else p.method, p.amount, p.tendered,
                                       p.change, p.approval_no, terminal))
    simplified = sum(part.taxable_total for part in doc.parts
                     if part.tax_status == TaxStatus.SIMPLIFIED)
    t = doc.totals
    return ReceiptDoc(
        kind=str(doc.kind), receipt_no=doc.receipt_no, created_at=doc.created_at,
        store=settings.store,
        lines=[ReceiptLine(ln.name, ln.unit_price, ln.qty, ln.line_discount, ln.amount,
                           ln.enterprise_id) for ln in doc.lines],
        payments=payments, sellers=sellers, subtotal=t.subtotal, line_discount=t.line_discount,
        receipt_discount=t.receipt_discount, total=t.total, taxable_total=t.taxable_total,
        supply_value=t.supply_value, vat=t.vat, exempt_total=t.exempt_total,
        simplified_total=simplified, change=doc.change,
        original_receipt_no=doc.original_receipt_no, reason=doc.reason,
        staff_name=doc.staff_name, footer=settings.receipt_footer,
        qr=settings.receipt_qr or None,
        logo=logo_path(uow.store.data_dir, settings.receipt_logo or None),
        copy=copy,
        group_by_enterprise=bool(grouping) and len(sellers) > 1, lang=lang,
        has_cash=any(p.method == "cash" and p.amount > 0 for p in doc.payments),
        parts={part.enterprise_id: part for part in doc.parts},
        cash_receipts=tuple(
            ReceiptCashReceipt(r.kind, r.masked, r.purpose, r.voluntary, r.enterprise_name,
                               r.amount, r.approval_no)
            for r in doc.cash_receipts if r.state != "cancelled"))


def _cash_receipt_rows(r: ReceiptDoc, measure) -> list[Item]:
    """"현금영수증 요청: 010-****-1234 (소득공제)", once for the customer's number, with each
    issuer's amount below it when the sale's enterprises issue one each."""
    lang = r.lang
    out: list[Item] = []
    seen: list[tuple] = []
    for c in r.cash_receipts:
        key = (c.kind, c.number, c.purpose, c.voluntary)
        if key not in seen:
            seen.append(key)
            if c.kind == "cancel":
                text = label("cash_receipt_cancel", lang, number=c.number)
            elif c.voluntary:
                text = label("cash_receipt_self", lang, number=c.number)
            else:
                text = label("cash_receipt_request", lang, number=c.number,
                             purpose=label(f"purpose_{c.purpose}", lang))
            out += fit(text, "", measure)
        if len(r.cash_receipts) > 1 or len(r.sellers) > 1:
            out += fit(f"  {c.issuer}", amount(c.amount), measure)
        if c.approval_no:
            out += fit(f"  {label('approval', lang)} {c.approval_no}", "", measure)
    return out


LOGO_FILE = "receipt-logo.png"
LOGO_MAX_WIDTH = 576  # dots across 80 mm paper: a bigger picture only costs bytes


class LogoError(CodedError, ValueError):
    """A picture that cannot be a receipt logo. `code` keys the message in `pos.i18n`."""


def keep_logo(data_dir, source) -> str:
    """Copy the vendor's picture into the data folder (as a PNG at most 576 dots wide) and
    return the setting's value, a name relative to that folder: receipts keep their logo when
    the original file is moved or deleted, and when the data folder is restored elsewhere."""
    from pathlib import Path

    from PIL import Image, UnidentifiedImageError

    source = Path(source)
    try:
        with Image.open(source) as img:
            img.load()
            picture = img.convert("RGBA") if img.mode in ("P", "LA", "PA") else img.copy()
    except FileNotFoundError:
        raise LogoError("logo_missing", path=str(source)) from None
    except (UnidentifiedImageError, OSError):
        raise LogoError("logo_not_image", path=str(source)) from None
    if picture.width > LOGO_MAX_WIDTH:
        height = max(1, round(picture.height * LOGO_MAX_WIDTH / picture.width))
        picture = picture.resize((LOGO_MAX_WIDTH, height), Image.LANCZOS)
    target = Path(data_dir) / LOGO_FILE
    tmp = target.with_suffix(".tmp")
    picture.save(tmp, "PNG")
    tmp.replace(target)  # a half-written logo never replaces the good one
    return LOGO_FILE


def logo_path(data_dir, value: str | None) -> str | None:
    """The logo's file for a receipt: a name kept in the data folder, or (as stored by older
    versions) any path. A logo that is gone is left out rather than failing every receipt."""
    from pathlib import Path

    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = Path(data_dir) / path
    if not path.is_file():
        return None
    try:  # a damaged picture is left out too: the receipt matters, the logo does not
        from PIL import Image

        with Image.open(path) as img:
            img.verify()
    except Exception:  # noqa: BLE001 - any decoder error means "not a picture we can print"
        import logging

        logging.getLogger("jangteo.printing").warning("receipt logo %s cannot be read", path)
        return None
    return str(path)


def layout_receipt(r: ReceiptDoc, measure: int | Measure) -> list[Item]:
    """The receipt as rows for a printer: `measure` is `printing.render.measure_for(profile)`
    (the font's dots for raster, the printer's columns for text mode), or a number of columns
    (32, 42 or 48)."""
    lang = r.lang
    out: list[Item] = []
    if r.logo:
        out.append(Logo(r.logo))
    store = r.store
    if store.get("name"):
        out += heading(store["name"], measure)
    ident = []
    if store.get("bizno"):
        ident.append(f"{label('bizno', lang)} {store['bizno']}")
    if store.get("representative"):
        ident.append(f"{label('rep', lang)} {store['representative']}")
    if ident:
        out += fit("  ".join(ident), "", measure)
    if store.get("address"):
        out += fit(store["address"], "", measure)
    if store.get("phone"):
        out += fit(f"{label('tel', lang)} {store['phone']}", "", measure)
    out.append(Feed())
    title = label(f"title_{r.kind}", lang)
    out += heading(title, measure)
    if r.copy:
        out.append(Row(label("copy", lang), bold=True, align="center"))
    out.append(Row(label("receipt_no", lang), r.receipt_no))
    when = datetime.fromisoformat(r.created_at)
    out.append(Row(label("time", lang), when.strftime("%Y-%m-%d %H:%M:%S")))
    if r.staff_name:
        out += fit(label("cashier", lang), r.staff_name, measure)
    if r.original_receipt_no:
        out.append(Row(label("original", lang), r.original_receipt_no, bold=True))
    if r.reason:
        out += fit(f"{label('reason', lang)}: {r.reason}", "", measure)
    out.append(Rule("="))
    out.append(Row(label("head_item", lang), label("head_amount", lang), bold=True))
    out.append(Rule())
    groups: list[tuple[str | None, list[ReceiptLine]]]
    if r.group_by_enterprise:
        order: dict[str, list[ReceiptLine]] = {}
        for ln in r.lines:
            order.setdefault(ln.enterprise_id, []).append(ln)
        groups = list(order.items())
    else:
        groups = [(None, r.lines)]
    for enterprise_id, lines in groups:
        if enterprise_id is not None:  # each enterprise's part is its own sale, in law
            seller = r.sellers[enterprise_id]
            out += fit(f"[{seller.name}]", "", measure, bold=True)
            ident = [f"{label('bizno', lang)} {seller.bizno}" if seller.bizno else "",
                     f"{label('rep', lang)} {seller.representative}"
                     if seller.representative else "",
                     label(f"status_{seller.tax_status}", lang)]
            out += fit(" · ".join(x for x in ident if x), "", measure)
        for ln in lines:
            detail = f"{amount(ln.unit_price)} x {ln.qty}"
            if ln.qty == 1 and not ln.discount:
                out += fit(ln.name, amount(ln.unit_price * ln.qty), measure)
            else:
                out += fit(ln.name, "", measure)
                out += fit("  " + detail, amount(ln.unit_price * ln.qty), measure)
            if ln.discount:
                out += fit("  " + label("discount", lang), amount(-ln.discount), measure)
        part = r.parts.get(enterprise_id) if enterprise_id is not None else None
        if part is not None:  # the part's own total and VAT, as its receipt would show them
            out += fit(label("part_total", lang, name=r.sellers[enterprise_id].name),
                       amount(part.taxable_total + part.exempt_total), measure, bold=True)
            simplified = part.taxable_total if part.tax_status == TaxStatus.SIMPLIFIED else 0
            out += tax_items(TaxBreakdown.of(supply_value=part.supply_value, vat=part.vat,
                                             exempt_total=part.exempt_total,
                                             simplified_total=simplified), lang, measure)
    out.append(Rule())
    if r.line_discount or r.receipt_discount:
        out.append(Row(label("subtotal", lang), amount(r.subtotal - r.line_discount)))
    if r.receipt_discount:
        out.append(Row(label("receipt_discount", lang), amount(-r.receipt_discount)))
    total_key = "total" if r.kind == DocKind.SALE else "refund_total"
    out += fit(label(total_key, lang), amount(r.total), measure, bold=True, double=True)
    out.append(Rule())
    if not (r.group_by_enterprise and r.parts):  # grouped: each part said its own above
        out += tax_items(TaxBreakdown.of(supply_value=r.supply_value, vat=r.vat,
                                         exempt_total=r.exempt_total,
                                         simplified_total=r.simplified_total), lang, measure)
        out.append(Rule())
    for p in r.payments:
        name = p.label if r.kind == DocKind.SALE else f"{label('refunded_by', lang)}: {p.label}"
        out += fit(name, amount(p.amount + p.change), measure)
        if p.terminal:
            out += fit(f"  {label('terminal_of', lang, name=p.terminal)}", "", measure)
        if p.approval_no:
            out += fit(f"  {label('approval', lang)} {p.approval_no}", "", measure)
    if r.change:
        out.append(Row(label("change", lang), amount(r.change), bold=True))
    out += _cash_receipt_rows(r, measure)
    if not r.group_by_enterprise and len(r.sellers) > 1:
        out.append(Rule())
        out.append(Row(label("sellers", lang), bold=True))
        for seller in r.sellers.values():
            text = seller.name
            if seller.bizno:
                text += f" {seller.bizno}"
            if seller.representative:
                text += f" {label('rep', lang)} {seller.representative}"
            out += fit(text, "", measure)
    out.append(Feed())
    footer = r.footer or label("thanks", lang)
    for part in footer.splitlines():
        out += [Row(row.left, align="center") for row in fit(part, "", measure)]
    if r.qr:
        out.append(QR(r.qr))
    out.append(Barcode(barcode_form(r.receipt_no)))
    return out
