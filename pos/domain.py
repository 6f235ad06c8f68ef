"""The domain: plain, immutable records and the pure rules that price, pay and refund a sale.

Nothing here touches the database; `pos.services` stores what these functions compute. A paid
sale is never changed: a void or a refund is a new document computed by `refund_lines` and
stored with negative quantities and amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pos.rounding import cumulative_share, percent_of, split_vat, spread
from pos.errors import CodedError
from pos.money import MAX_QTY, MAX_WON


class TaxClass(StrEnum):
    TAXABLE = "taxable"  # 과세
    EXEMPT = "exempt"  # 면세


class TaxStatus(StrEnum):
    GENERAL = "general"  # 일반과세자: receipt shows supply value and VAT
    SIMPLIFIED = "simplified"  # 간이과세자: total only
    EXEMPT = "exempt"  # 면세사업자: everything is exempt


class DocKind(StrEnum):
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"


class MethodKind(StrEnum):
    CASH = "cash"
    CARD = "card"
    TRANSFER = "transfer"
    QR = "qr"
    VOUCHER = "voucher"
    TOKEN = "token"


class ChangePolicy(StrEnum):
    """Whether a payment worth more than what is due gets change back (in cash)."""

    NONE = "none"
    CASH = "cash"
    # change in cash by the voucher type's rule (`pos.korea_rules.VoucherRule`: 60 % of the
    # face value used by default; 80 % for small 지역사랑 notes); the name is the stored value
    CASH_OVER_60 = "cash_over_60"


class DomainError(CodedError, ValueError):
    """A rule of the domain was broken. `code` is the key of the message in `pos.i18n`."""


# Text that goes onto paper and to other tills: a newline in a product name had stopped the
# print queue, a NUL printed as nothing, a right-to-left override turns "3,000" around.
_LINE_BREAKS = dict.fromkeys(map(ord, "\t\n\r\v\f\x85\u2028\u2029"), " ")
_BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                            *range(0x2066, 0x206A)])
NAME_LIMIT = 100  # characters of a product's or an enterprise's name


def clean_text(value, *, limit: int = NAME_LIMIT, lenient: bool = False) -> str:
    """A name or a short field as it is kept: line breaks and tabs (a spreadsheet cell typed
    with Alt+Enter) become spaces, runs of spaces one, the ends trimmed; other control and
    direction-override characters are refused, and so is a text over `limit` characters
    (`lenient`: dropped, and the text cut to `limit`)."""
    import unicodedata

    if value is None:
        return ""
    if not isinstance(value, str):
        raise DomainError("text_invalid", value=type(value).__name__)
    text = " ".join(value.translate(_LINE_BREAKS).split(" "))
    text = " ".join(part for part in text.split(" ") if part)
    def bad(ch: str) -> bool:
        return unicodedata.category(ch) in ("Cc", "Cs") or ord(ch) in _BIDI_CONTROLS

    if lenient:  # text from elsewhere (the server) must not stop a till: cleaned, not refused
        text = " ".join("".join(c for c in text if not bad(c)).split())
        return text[:limit]
    for ch in text:
        if bad(ch):  # the message shows the text with its bad characters as �
            raise DomainError("text_control", char=f"U+{ord(ch):04X}",
                              value="".join("\ufffd" if bad(c) else c for c in text[:40]))
    if len(text) > limit:
        raise DomainError("text_too_long", count=len(text), limit=limit, value=text[:40])
    return text


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    code: str
    kind: MethodKind
    label_ko: str
    label_en: str
    change_policy: ChangePolicy = ChangePolicy.NONE
    active: bool = True

    def label(self, lang: str) -> str:
        return self.label_ko if lang == "ko" else self.label_en


DEFAULT_METHODS: tuple[PaymentMethod, ...] = (
    PaymentMethod("cash", MethodKind.CASH, "현금", "Cash", ChangePolicy.CASH),
    PaymentMethod("card", MethodKind.CARD, "카드", "Card"),
    PaymentMethod("transfer", MethodKind.TRANSFER, "계좌이체", "Bank transfer"),
    PaymentMethod("qr", MethodKind.QR, "QR·간편결제", "QR / mobile pay"),
    PaymentMethod("local_voucher", MethodKind.VOUCHER, "지역사랑상품권", "Local gift voucher",
                  ChangePolicy.CASH_OVER_60),
    PaymentMethod("onnuri", MethodKind.VOUCHER, "온누리상품권", "Onnuri voucher",
                  ChangePolicy.CASH_OVER_60),
    PaymentMethod("token", MethodKind.TOKEN, "행사 쿠폰·토큰", "Event token / coupon"),
)


# Money can go back the way it came for these kinds (a card cancelled on its terminal, a transfer
# or a mobile payment sent back); a paper voucher or an event token is not handed back as change,
# so a refund of what they paid goes back in cash unless the vendor picks otherwise.
REFUNDS_IN_KIND = frozenset({MethodKind.CASH, MethodKind.CARD, MethodKind.TRANSFER, MethodKind.QR})


def refund_method_for(payments, methods: dict[str, PaymentMethod]) -> str:
    """The method a refund of a sale paid by `payments` defaults to: the first of them that
    can give money back and is active (a refund had defaulted to the sale's first payment,
    a paper voucher), else cash. The vendor may pick another."""
    for p in payments:
        m = methods.get(p.method)
        if m is not None and m.active and m.kind in REFUNDS_IN_KIND:
            return m.code
    return "cash"


# ---------------------------------------------------------------------------------------------
# Pricing a cart


@dataclass(frozen=True, slots=True)
class CartItem:
    """One line of a cart, with a snapshot of the product as it is sold."""

    name: str
    unit_price: int
    qty: int
    enterprise_id: str
    enterprise_name: str
    tax_class: TaxClass = TaxClass.TAXABLE
    tax_status: TaxStatus = TaxStatus.GENERAL
    line_discount: int = 0
    product_id: str | None = None
    sku: str | None = None
    barcode: str | None = None


@dataclass(frozen=True, slots=True)
class Discount:
    """A receipt-level discount: `amount` in won or `percent` of the subtotal after line
    discounts (e.g. "10" or "12.5")."""

    kind: str
    value: str

    @classmethod
    def amount(cls, won: int) -> "Discount":
        return cls("amount", str(int(won)))

    @classmethod
    def percent(cls, pct: str | int) -> "Discount":
        return cls("percent", str(pct))

    def won(self, base: int) -> int:
        try:
            value = Decimal(self.value)
        except InvalidOperation:
            raise DomainError("discount_invalid", value=self.value) from None
        if self.kind == "amount":
            if value != value.to_integral_value() or value < 0:
                raise DomainError("discount_invalid", value=self.value)
            return int(value)
        if self.kind == "percent":
            if not 0 <= value <= 100:
                raise DomainError("discount_invalid", value=self.value)
            return percent_of(base, value)
        raise DomainError("discount_invalid", value=self.kind)


@dataclass(frozen=True, slots=True)
class Line:
    """A priced line. `amount = unit_price × qty − line_discount − receipt_discount`: what the
    customer pays for the line; a document's lines sum to its total. Negative on refunds."""

    line_no: int
    name: str
    unit_price: int
    qty: int
    line_discount: int
    receipt_discount: int
    amount: int
    enterprise_id: str
    enterprise_name: str
    tax_class: TaxClass
    tax_status: TaxStatus
    product_id: str | None = None
    sku: str | None = None
    barcode: str | None = None
    original_line_no: int | None = None

    @property
    def effective_tax_class(self) -> TaxClass:
        return effective_tax_class(self.tax_class, self.tax_status)


def effective_tax_class(tax_class: str, tax_status: str) -> str:
    """How a line is taxed: an exempt business (면세사업자) sells everything exempt."""
    return TaxClass.EXEMPT if tax_status == TaxStatus.EXEMPT else tax_class


@dataclass(frozen=True, slots=True)
class TaxPart:
    """The VAT figures of one enterprise's part of one document."""

    enterprise_id: str
    enterprise_name: str
    tax_status: TaxStatus
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    own_terminal: bool = False  # it took its cards on its own terminal (pos.settlement.allocate)


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: int  # Σ unit_price × qty
    line_discount: int
    receipt_discount: int
    total: int
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    """How a VAT breakdown is shown, the one way for the cart, receipt, X/Z, PDFs and the
    settlement (the cart had said `과세 46,000원 · 부가세 1,636원` where 28,000 of it was a
    simplified taxpayer's, the Z a VAT of 6,200 "on" 90,700). Four figures, each under its own
    words (message context "tax"):

    - `supply_value`: general taxpayers' (일반과세자) taxable sales without VAT (과세물품가액);
    - `vat`: their VAT (부가세): only general taxpayers' sales carry one;
    - `simplified_total`: simplified taxpayers' (간이과세자) taxable sales, VAT included and not
      split, since they issue no VAT invoice (shown with a note saying so);
    - `exempt_total`: exempt sales (면세물품가액), exempt products and 면세사업자 alike.

    supply_value + vat + simplified_total + exempt_total is the total, to the won."""

    supply_value: int
    vat: int
    simplified_total: int
    exempt_total: int

    @classmethod
    def of(cls, *, supply_value: int, vat: int, exempt_total: int,
           simplified_total: int = 0) -> "TaxBreakdown":
        """From the stored figures, where a simplified taxpayer's taxable total is in
        `supply_value` too (`split_vat(shows_vat=False)` keeps supply + VAT = taxable)."""
        return cls(supply_value - simplified_total, vat, simplified_total, exempt_total)

    @classmethod
    def of_parts(cls, parts) -> "TaxBreakdown":
        simplified = sum(p.taxable_total for p in parts if p.tax_status == TaxStatus.SIMPLIFIED)
        return cls.of(supply_value=sum(p.supply_value for p in parts),
                      vat=sum(p.vat for p in parts), exempt_total=sum(p.exempt_total for p in parts),
                      simplified_total=simplified)

    def rows(self) -> list[tuple[str, int]]:
        """(message key, amount) in the order shown; a figure that is 0 is left out, except
        the general taxpayers' two when nothing else is there (an empty cart)."""
        rows = []
        if self.supply_value or self.vat or not (self.simplified_total or self.exempt_total):
            rows += [("tax_supply", self.supply_value), ("tax_vat", self.vat)]
        if self.simplified_total:
            rows.append(("tax_simplified", self.simplified_total))
        if self.exempt_total:
            rows.append(("tax_exempt", self.exempt_total))
        return rows

    @property
    def note(self) -> str | None:
        """The message key of the line said under the figures when a simplified taxpayer's
        sales are among them (why they have no VAT), else None."""
        return "tax_simplified_note" if self.simplified_total else None


def tax_parts(lines: list[Line]) -> list[TaxPart]:
    """The VAT split, applied once per enterprise of a document (once per receipt at a stall
    that sells for one enterprise): a joint-stall receipt is, in law, each enterprise's sale.
    Any line with these attributes (enterprise_id, enterprise_name, tax_class, tax_status,
    amount) will do: the server checks every pushed document's VAT with this very function
    (`sync.protocol.Document`), so it is one pass over the lines."""
    sums: dict[str, list] = {}  # enterprise id -> [its first line, taxable, exempt]
    for ln in lines:
        acc = sums.get(ln.enterprise_id)
        if acc is None:
            acc = sums[ln.enterprise_id] = [ln, 0, 0]
        if effective_tax_class(ln.tax_class, ln.tax_status) == TaxClass.TAXABLE:
            acc[1] += ln.amount
        else:
            acc[2] += ln.amount
    parts = []
    for enterprise_id, (first, taxable, exempt) in sums.items():
        status = first.tax_status
        vat = split_vat(taxable, shows_vat=status == TaxStatus.GENERAL)
        parts.append(TaxPart(enterprise_id, first.enterprise_name, status,
                             taxable, vat.supply_value, vat.vat, exempt))
    return parts


def totals_of(lines: list[Line], parts: list[TaxPart]) -> Totals:
    return Totals(
        subtotal=sum(ln.unit_price * ln.qty for ln in lines),
        line_discount=sum(ln.line_discount for ln in lines),
        receipt_discount=sum(ln.receipt_discount for ln in lines),
        total=sum(ln.amount for ln in lines),
        taxable_total=sum(p.taxable_total for p in parts),
        supply_value=sum(p.supply_value for p in parts),
        vat=sum(p.vat for p in parts),
        exempt_total=sum(p.exempt_total for p in parts),
    )


@dataclass(frozen=True, slots=True)
class Priced:
    lines: list[Line]
    parts: list[TaxPart]
    totals: Totals


def price_cart(items: list[CartItem], discount: Discount | None = None) -> Priced:
    """Price a cart. The receipt discount is spread over the lines in proportion to each line's
    amount after its own discount, largest remainder first (`pos.rounding.spread`)."""
    if not items:
        raise DomainError("cart_empty")
    for item in items:
        if not 1 <= item.qty <= MAX_QTY:
            raise DomainError("qty_invalid", name=item.name, qty=item.qty)
        if item.unit_price < 0:
            raise DomainError("price_negative", name=item.name)
        if item.unit_price * item.qty > MAX_WON:
            raise DomainError("amount_too_large", max=MAX_WON)
        if not 0 <= item.line_discount <= item.unit_price * item.qty:
            raise DomainError("line_discount_invalid", name=item.name)
    nets = [i.unit_price * i.qty - i.line_discount for i in items]
    receipt_discount = discount.won(sum(nets)) if discount else 0
    if receipt_discount > sum(nets):
        raise DomainError("discount_too_large", discount=receipt_discount, subtotal=sum(nets))
    shares = spread(receipt_discount, nets)
    lines = [
        Line(line_no=n, name=i.name, unit_price=i.unit_price, qty=i.qty,
             line_discount=i.line_discount, receipt_discount=share, amount=net - share,
             enterprise_id=i.enterprise_id, enterprise_name=i.enterprise_name,
             tax_class=i.tax_class, tax_status=i.tax_status, product_id=i.product_id,
             sku=i.sku, barcode=i.barcode)
        for n, (i, net, share) in enumerate(zip(items, nets, shares), start=1)
    ]
    parts = tax_parts(lines)
    return Priced(lines, parts, totals_of(lines, parts))


# ---------------------------------------------------------------------------------------------
# Payments


@dataclass(frozen=True, slots=True)
class Tender:
    """What the customer hands over: `amount` is tendered (cash given, a voucher's face value,
    the amount charged on the card terminal)."""

    method: str
    amount: int
    approval_no: str | None = None
    reference: str | None = None
    face_value: int | None = None  # vouchers: the face value of one note
    count: int | None = None  # and how many notes; face_value × count = amount
    terminal: str | None = None  # a card on an enterprise's own terminal: its id; else the stall's


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment as recorded: `amount` is what it paid of the document (negative on refunds);
    `tendered − amount − change` is what a no-change voucher left behind."""

    n: int
    method: str
    kind: MethodKind
    amount: int
    tendered: int
    change: int = 0
    approval_no: str | None = None
    reference: str | None = None
    face_value: int | None = None  # vouchers: one note's face value and how many
    count: int | None = None
    # a card taken on an enterprise's own terminal: that enterprise's id (None: the stall's);
    # the settlement gives the payment to that enterprise (`pos.settlement.allocate`)
    enterprise_id: str | None = None


MAX_NOTES = 1000  # vouchers in one payment


def settle(total: int, tenders: list[Tender], methods: dict[str, PaymentMethod],
           rules=None) -> list[Payment]:
    """Apply tenders in order to `total`. Only the last tender may exceed what is still due, and
    only by a method that gives change under its policy (cash; a voucher per its policy, by
    its type's rule in `rules`, a `pos.korea_rules.Rules`: the defaults when None)."""
    if not tenders:
        raise DomainError("payment_missing", total=total)
    if rules is None:
        from pos.korea_rules import Rules

        rules = Rules()
    due = total
    payments = []
    for n, tender in enumerate(tenders, start=1):
        method = methods.get(tender.method)
        if method is None or not method.active:
            raise DomainError("method_unknown", method=tender.method)
        if tender.amount <= 0:
            raise DomainError("tender_invalid", method=tender.method)
        if tender.amount > MAX_WON:
            raise DomainError("amount_too_large", max=MAX_WON)
        notes = (tender.face_value, tender.count)
        if notes != (None, None):
            if method.kind != MethodKind.VOUCHER or not all(
                    isinstance(x, int) and not isinstance(x, bool) for x in notes) \
                    or not 1 <= tender.count <= MAX_NOTES or tender.face_value <= 0 \
                    or tender.face_value * tender.count != tender.amount:
                raise DomainError("voucher_notes_invalid", method=tender.method,
                                  amount=tender.amount)
        if tender.terminal is not None and method.kind != MethodKind.CARD:
            raise DomainError("terminal_not_card", method=tender.method)
        if due <= 0:
            raise DomainError("tender_after_paid", method=tender.method)
        applied = min(tender.amount, due)
        change = 0
        excess = tender.amount - applied
        if excess:
            if n != len(tenders):
                raise DomainError("tender_excess_not_last", method=tender.method)
            policy = method.change_policy
            if method.kind == MethodKind.CASH or policy == ChangePolicy.CASH:
                change = excess
            elif policy == ChangePolicy.CASH_OVER_60:
                rule = rules.voucher_rule(method.code)
                face = tender.face_value or tender.amount
                if not rule.allows_change(applied, tender.amount, face):
                    raise DomainError("voucher_change_refused", used=applied, face=tender.amount,
                                      percent=rule.percent_for(face))
                change = excess
            elif method.kind in (MethodKind.VOUCHER, MethodKind.TOKEN):
                change = 0  # policy NONE: the voucher is taken at face value, no change back
            else:
                raise DomainError("overpay_not_allowed", method=tender.method,
                                  amount=tender.amount, due=due)
        payments.append(Payment(n, method.code, method.kind, applied, tender.amount, change,
                                tender.approval_no or None, tender.reference or None,
                                tender.face_value, tender.count, tender.terminal or None))
        due -= applied
    if due > 0:
        raise DomainError("payment_short", short=due, total=total)
    return payments


# ---------------------------------------------------------------------------------------------
# Voids and refunds


@dataclass(frozen=True, slots=True)
class Refundable:
    """A line of a sale and how much of it is still refundable."""

    line: Line
    refunded_qty: int

    @property
    def remaining(self) -> int:
        return self.line.qty - self.refunded_qty


def refund_lines(refundable: list[Refundable], wanted: dict[int, int]) -> list[Line]:
    """Refund lines for `wanted` {original line_no: qty}, never more than is left of a line.

    Each money figure of the line is returned by its cumulative share (`cumulative_share`), so
    refunding a line unit by unit returns exactly what was paid for it, discounts included.
    """
    by_no = {r.line.line_no: r for r in refundable}
    out = []
    for line_no, qty in sorted(wanted.items()):
        if qty == 0:
            continue
        r = by_no.get(line_no)
        if r is None:
            raise DomainError("refund_line_unknown", line_no=line_no)
        if qty < 0 or qty > r.remaining:
            raise DomainError("refund_too_much", line_no=line_no, name=r.line.name,
                              qty=qty, remaining=r.remaining)
        orig = r.line
        ld = cumulative_share(orig.line_discount, orig.qty, r.refunded_qty, qty)
        rd = cumulative_share(orig.receipt_discount, orig.qty, r.refunded_qty, qty)
        out.append(Line(
            line_no=len(out) + 1, name=orig.name, unit_price=orig.unit_price, qty=-qty,
            line_discount=-ld, receipt_discount=-rd,
            amount=-(orig.unit_price * qty - ld - rd),
            enterprise_id=orig.enterprise_id, enterprise_name=orig.enterprise_name,
            tax_class=orig.tax_class, tax_status=orig.tax_status, product_id=orig.product_id,
            sku=orig.sku, barcode=orig.barcode, original_line_no=orig.line_no))
    if not out:
        raise DomainError("refund_nothing")
    return out


def price_refund(lines: list[Line]) -> Priced:
    parts = tax_parts(lines)
    return Priced(lines, parts, totals_of(lines, parts))


def void_payments(original: list[Payment]) -> list[Payment]:
    """A void gives back what each payment paid, by the same method."""
    return [Payment(p.n, p.method, p.kind, -p.amount, -p.amount, 0, p.approval_no, p.reference,
                    enterprise_id=p.enterprise_id) for p in original]


@dataclass(frozen=True, slots=True)
class Document:
    """A stored sale, void or refund, as read back from the store."""

    id: str
    kind: DocKind
    device_id: str
    seq: int
    receipt_no: str
    business_day: str
    created_at: str
    hlc: str
    totals: Totals
    lines: list[Line]
    payments: list[Payment]
    parts: list[TaxPart]
    change: int = 0
    original_id: str | None = None
    original_receipt_no: str | None = None
    receipt_discount_kind: str | None = None
    receipt_discount_value: str | None = None
    receipt_requested: bool = False
    reason: str | None = None
    refunds: list[str] = field(default_factory=list)
    # set on a document just made when the device's clock looked wrong (behind its newest
    # document, days ahead of the open shift, another time zone): a message code and its
    # parameters (pos.i18n), which the till and the command line say; the document went to
    # the right business day anyway
    clock_note: tuple[str, dict] | None = None
    staff_name: str | None = None  # who made it, with staff accounts on
    # the cash receipt requests it made (`pos.services.cash_receipts.CashReceipt`), as recorded
    cash_receipts: tuple = ()


def plain(value):
    """A record as JSON-ready dicts and lists (enums are already `str`); used for the outbox
    payload. Faster than `dataclasses.asdict`, which deep-copies every leaf."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
