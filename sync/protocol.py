"""The sync protocol, version 1: the messages both ends exchange (see docs/sync-protocol.md).

Every model forbids unknown fields and checks what it can, so a malformed request is refused
with a reason before anything is stored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError,
                      ValidationInfo, field_validator, model_validator)
from pydantic_core import PydanticCustomError

from pos.domain import tax_parts
from pos.money import MAX_QTY, MAX_STOCK, MAX_WON

PROTOCOL_VERSION = 1
MAX_BATCH = 500
MAX_BODY_BYTES = 8 * 1024 * 1024
# A request's body must arrive within BODY_SECONDS of the request's start, and never pause for
# longer than BODY_IDLE_SECONDS; else the answer is 408 `body_too_slow` and nothing is kept. A
# 2 MiB batch at a market's 3G rate (some 100 KB/s) takes 20 s.
BODY_SECONDS = 60.0
BODY_IDLE_SECONDS = 15.0
# A till whose push is still being received or applied is answered 429 `push_in_progress`
# (Retry-After this many seconds) for another: one push at a time per device.
PUSH_RETRY_AFTER = 5
# A hold on a sale's quantities (`POST /api/v1/sales/{id}/returns`) counts for this long; its
# till pushes the return within seconds when it is online, and a till that died meanwhile does
# not keep the quantities from every other till for good.
HOLD_SECONDS = 30 * 60

# Every number the server takes is bounded, so that it fits the database's 64-bit integers and
# any realistic sum of them does too: a line's or a payment's amount is at most the till's own
# bound (`pos.money.MAX_WON`, a billion won), a document's totals at most MAX_LINES of those.
# An event's sums would need nine million documents of 10^12 won before they left 64 bits.
MAX_LINES = 1000
MAX_PAYMENTS = 50
MAX_DOCUMENT_WON = MAX_LINES * MAX_WON
MAX_SEQ = 2**53 - 1  # also every cursor (catalog and settings versions, alert ids)
MAX_PAYLOAD_DEPTH = 8  # a shift's or a cash movement's payload: objects within objects
MAX_PAYLOAD_ITEMS = 2000
MAX_PAYLOAD_TEXT = 2000
MAX_BARCODES = 20  # a product's barcodes

EventType = Literal["sale.recorded", "void.recorded", "refund.recorded", "shift.opened",
                    "shift.closed", "cash.moved", "product.changed", "stock.moved",
                    "staff.changed", "audit.logged", "cash_receipt.changed"]
HLC = r"^\d{13}-\d{5}-[A-Z0-9]{1,6}$"
# A catalog stamp (a product's or its enterprise's) further ahead of the server's clock than
# this is re-stamped by the server on arrival, as if the organizer had made the edit then: a
# till with a wrong clock can neither freeze a product nor push every later stamp past the
# stamps' 13 digits.
MAX_CLOCK_AHEAD_MS = 10 * 60 * 1000
# the characters `pos.domain.clean_text` refuses on the till: C0 and C1 controls (NUL, line
# breaks and tabs too: the till turns those into spaces) and direction overrides
_CONTROLS = ("\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
             "\u2066-\u2069")
PLAIN = f"^[^{_CONTROLS}]*$"
# a text of several lines (a receipt footer): tabs and line breaks are allowed
LINES = "^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"


def Text(max_length: int, min_length: int = 0, pattern: str = PLAIN):  # noqa: N802 - a type
    """A string of at most `max_length` characters without control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=pattern)]


def Int(low: int, high: int):  # noqa: N802 - a type
    """An integer in [low, high], written as a JSON integer (not `true`, `7.0` or `"7"`)."""
    return Annotated[int, Field(strict=True, ge=low, le=high)]


Won = Int(-MAX_WON, MAX_WON)
DocumentWon = Int(-MAX_DOCUMENT_WON, MAX_DOCUMENT_WON)
Seq = Int(1, MAX_SEQ)
Flag = Annotated[bool, Field(strict=True)]


def _instant(text: str) -> str:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise PydanticCustomError("instant", "{text} is not an ISO 8601 time with its UTC "
                                  "offset (2026-11-22T10:00:00+09:00)", {"text": repr(text[:40])})
    return text


def _day(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("day", "{text} is not a date (2026-11-22)",
                                  {"text": repr(text[:40])}) from None
    return text


INSTANT = r"^\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})$"
DAY = r"^\d{4}-\d{2}-\d{2}$"
Instant = Annotated[str, Field(max_length=40, pattern=INSTANT), AfterValidator(_instant)]
Day = Annotated[str, Field(pattern=DAY), AfterValidator(_day)]
Stamp = Annotated[str, Field(pattern=HLC)]


class Strict(BaseModel):
    # a field's docstring is its description: in the OpenAPI and in docs/sync-protocol.md
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


DEVICE_CODE = r"^[A-Z][A-Z0-9]{1,5}$"


class EnrollRequest(Strict):
    code: Text(64, 6)
    """The one-time enrollment code the organizer made for this till."""
    device_code: str = Field(pattern=DEVICE_CODE)
    """The device code the till numbers its receipts with now: a capital letter, then 1 to 5
    capitals or digits (`A01`). A wish: the server gives it only when no till of the stall
    ever had it (a till that sold before it enrolled keeps its receipt numbers); the code the
    till gets is in the answer."""
    device_name: Text(100) = ""
    """A name for people (the laptop's); may be empty."""
    local_id: Text(64) = ""
    """The till's own id (its data folder's, kept across enrollments): a till of the stall
    enrolling again with the same id is the same till, and gets back its device code and
    what the server holds of it. Empty: always a new till."""
    next_seq: int = Field(default=1, ge=1, le=MAX_SEQ, strict=True)
    """The seq of the first event this enrollment will send: 1 for a till never enrolled, else
    one past what its former server held. Ignored when the till is known again."""


class EnrollResponse(Strict):
    protocol: int = PROTOCOL_VERSION
    """The protocol version the server speaks."""
    device_id: str
    """The server's id of this till."""
    token: str
    """The bearer token of every later call. Shown once: the server keeps only its SHA-256."""
    stall_id: str
    """The stall the code belonged to."""
    stall_name: str
    """Its name."""
    event_name: str
    """The name of the stall's event."""
    device_code: str = ""
    """The device code the server gave the till, unique within the stall: its receipt numbers
    and clock stamps use it from now on."""
    acked_seq: int = 0
    """The highest seq the server already holds of the till with none missing before it (what
    a till known again sent before; `next_seq` − 1 for a new one)."""


Sign = {"sale": 1, "void": -1, "refund": -1}


class Line(Strict):
    line_no: Int(1, 10 * MAX_LINES)
    """The line's number in its document, from 1; unique within it."""
    name: Text(200, 1)
    """The product's name as charged and printed."""
    unit_price: Int(0, MAX_WON)
    """The price of one, VAT included, as charged; never negative (on voids and refunds too)."""
    qty: Int(-MAX_QTY, MAX_QTY)
    """Positive on a sale, negative on a void or refund; never 0."""
    line_discount: Won
    """The line's own discount: 0 or more on a sale, 0 or less on a void or refund."""
    receipt_discount: Won
    """The line's share of a discount on the whole receipt; the same sign rule."""
    amount: Won
    """`unit_price × qty − line_discount − receipt_discount`: 0 or more on a sale, 0 or less on a
    void or refund."""
    enterprise_id: Text(64, 1)
    """The selling enterprise's id on this till (ids differ between tills: match enterprises by
    `enterprise_name`)."""
    enterprise_name: Text(200, 1)
    """The selling enterprise's name; the server's totals are by this name."""
    tax_class: Literal["taxable", "exempt"]
    """`taxable` (VAT included in the price) or `exempt`."""
    tax_status: Literal["general", "simplified", "exempt"]
    """The enterprise's VAT status when sold: `general`, `simplified` (간이과세자: no VAT split on the
    receipt) or `exempt` (everything exempt)."""
    product_id: Text(64) | None = None
    """The product's id, when sold from the catalog."""
    sku: Text(64) | None = None
    """The product's SKU then, if it had one."""
    barcode: Text(64) | None = None
    """The barcode scanned or the product's, if any."""
    original_line_no: Int(1, 10 * MAX_LINES) | None = None
    """On a void or refund: the `line_no` of the sale's line it returns. Null on a sale."""


class Payment(Strict):
    n: Int(1, 10 * MAX_PAYMENTS)
    """The payment's number in its document, from 1."""
    method: Text(32, 1)
    """The payment method's code on the till (`cash`, `card`, `onnuri`…)."""
    kind: Literal["cash", "card", "transfer", "qr", "voucher", "token"]
    """What kind of money: `cash` is counted in the drawer."""
    amount: Won
    """What it paid of the document's total: 0 or more on a sale, negative on a void or refund. A
    document's payments add up to its `total`."""
    tendered: Won
    """What was handed over: the cash given, a voucher's face value, what the card terminal
    charged. On a sale 0 or more and at least `amount + change`; `tendered − amount − change` is
    what a voucher without change left behind. On a void or refund, equal to `amount`."""
    change: Int(0, MAX_WON)
    """The change given back for this payment (cash, or by a voucher's change policy); never
    negative, 0 on voids and refunds."""
    approval_no: Text(64) | None = None
    """The card terminal's approval number, if the vendor noted it."""
    reference: Text(200) | None = None
    """A transfer's or a voucher's reference, if noted."""
    face_value: Int(1, MAX_WON) | None = None
    """A voucher's notes, when noted: one note's face value (with `count`); left out
    otherwise."""
    count: Int(1, 1000) | None = None
    """How many notes of `face_value`: `face_value × count = tendered`."""
    enterprise_id: Text(64, 1) | None = None
    """A card taken on an enterprise's own card terminal (a joint stall where an enterprise takes
    its cards itself): that enterprise's `enterprise_id` (one of the document's lines'); it is
    that enterprise's money, up to its part of the document. Left out for the stall's terminal
    and every other payment."""


class Document(Strict):
    """A sale, void or refund exactly as the till recorded it (prices are never recomputed,
    but the VAT split is checked by the till's own rule, `pos.domain.tax_parts`)."""

    id: UUID
    """The document's id, a UUID the till made."""
    kind: Literal["sale", "void", "refund"]
    """`sale`, `void` (the whole sale taken back) or `refund` (some of its lines)."""
    receipt_no: Text(32, 1)
    """The receipt number as printed: `{device_code}-{YYYYMMDD}-{NNNN}` on this till
    (`A01-20261201-0001`)."""
    business_day: Day
    """The business day it counts for (a shift past midnight keeps its day)."""
    created_at: Instant
    """When it was recorded, with the till's UTC offset."""
    total: DocumentWon
    """What the customer paid: the sum of the lines' `amount` and of the payments' `amount`;
    negative on a void or refund."""
    taxable_total: DocumentWon
    """The part of `total` from taxable lines."""
    supply_value: DocumentWon
    """`taxable_total` without its VAT, by the VAT rule (see Documents)."""
    vat: DocumentWon
    """`taxable_total − supply_value`."""
    exempt_total: DocumentWon
    """The part of `total` from exempt lines: `taxable_total + exempt_total = total`."""
    change: Int(0, MAX_WON)
    """The change given back in all: the sum of the payments' `change`."""
    original_id: UUID | None = None
    """On a void or refund: the `id` of its sale (of the same stall). Null on a sale."""
    original_typed: Flag = False
    """On a refund of another till's sale made when the server could not be asked: true, and its
    lines are what the vendor typed in from the customer's receipt, and `original_id` is the
    till's own id for what it typed (the sale's id was not known). The server takes it and says
    it to the organizer, to be checked against the sale. Left out when false."""
    original_receipt_no: Text(32, 1) | None = None
    """With `original_typed`: the receipt number typed in. Left out otherwise."""
    shift_id: Text(64) | None = None
    """The id of the till's shift it was recorded in."""
    staff_name: Text(40, 1) | None = None
    """Who recorded it, when the till uses staff accounts (see `staff.changed`); left out
    otherwise."""
    lines: list[Line] = Field(min_length=1, max_length=MAX_LINES)
    """Its lines (1 to 1,000)."""
    payments: list[Payment] = Field(min_length=1, max_length=MAX_PAYMENTS)
    """Its payments (1 to 50)."""
    own_terminals: list[Text(64, 1)] = Field(default_factory=list, max_length=MAX_LINES)
    """The document's enterprises (`enterprise_id`s of its lines) that took cards on their own
    terminal when it was made: the stall's terminal's cards go to the others (see Payments by
    enterprise in Documents). Left out when none."""

    @model_validator(mode="after")
    def adds_up(self) -> "Document":
        sign = Sign[self.kind]
        if len({ln.line_no for ln in self.lines}) != len(self.lines):
            raise ValueError("two lines have one line_no")
        if len({pay.n for pay in self.payments}) != len(self.payments):
            raise ValueError("two payments have one n")
        firms: dict[str, tuple[str, str]] = {}
        lines = 0
        for ln in self.lines:
            if (ln.original_line_no is None) != (sign > 0):
                raise ValueError(f"line {ln.line_no}: a void's or refund's line names the sale's "
                                 "line it returns (original_line_no); a sale's line names none")
            firm = firms.setdefault(ln.enterprise_id, (ln.enterprise_name, ln.tax_status))
            if firm != (ln.enterprise_name, ln.tax_status):
                raise ValueError(f"line {ln.line_no}: the lines of enterprise {ln.enterprise_id} "
                                 "differ in its name or tax status")
            if ln.qty * sign <= 0:
                raise ValueError(f"line {ln.line_no}: quantity has the wrong sign")
            if ln.line_discount * sign < 0 or ln.receipt_discount * sign < 0:
                raise ValueError(f"line {ln.line_no}: a discount is negative")
            if ln.amount * sign < 0:
                raise ValueError(f"line {ln.line_no}: the discounts are more than the line")
            if ln.unit_price * ln.qty - ln.line_discount - ln.receipt_discount != ln.amount:
                raise ValueError(f"line {ln.line_no}: amount does not add up")
            lines += ln.amount
        if lines != self.total:
            raise ValueError("the lines do not add up to the total")
        paid = change = 0
        for pay in self.payments:
            if sign > 0 and (pay.amount < 0 or pay.tendered < 0):
                raise ValueError(f"payment {pay.n}: a sale is not paid by a negative amount")
            if sign > 0 and pay.tendered < pay.amount + pay.change:
                raise ValueError(f"payment {pay.n}: less was tendered than amount + change")
            if sign < 0 and (pay.tendered != pay.amount or pay.change):
                raise ValueError(f"payment {pay.n}: a void or refund pays back its amount "
                                 "(tendered = amount, no change)")
            if (pay.face_value is None) != (pay.count is None):
                raise ValueError(f"payment {pay.n}: face_value and count go together")
            if pay.face_value is not None and pay.kind != "voucher":
                raise ValueError(f"payment {pay.n}: only a voucher payment has face_value "
                                 "and count")
            if pay.face_value is not None and pay.face_value * pay.count != pay.tendered:
                raise ValueError(f"payment {pay.n}: a voucher's face_value × count is what "
                                 "was tendered")
            paid += pay.amount
            change += pay.change
        if paid != self.total:
            raise ValueError("the payments do not add up to the total")
        part: dict[str, int] = {}
        for ln in self.lines:
            part[ln.enterprise_id] = part.get(ln.enterprise_id, 0) + ln.amount
        if len(set(self.own_terminals)) != len(self.own_terminals) \
                or not set(self.own_terminals) <= set(part):
            raise ValueError("own_terminals names each of the document's enterprises once at most")
        tied: dict[str, int] = {}
        for pay in self.payments:
            if pay.enterprise_id is None:
                continue
            if pay.kind != "card" or pay.enterprise_id not in self.own_terminals:
                raise ValueError(f"payment {pay.n}: only a card payment is taken on an enterprise's "
                                 "own terminal, one named in own_terminals")
            if pay.amount * sign < 0:
                raise ValueError(f"payment {pay.n}: a card on an enterprise's own terminal has "
                                 "its document's sign")
            tied[pay.enterprise_id] = tied.get(pay.enterprise_id, 0) + pay.amount
            if abs(tied[pay.enterprise_id]) > abs(part[pay.enterprise_id]):
                raise ValueError(f"payment {pay.n}: more was taken on {pay.enterprise_id}'s own "
                                 "terminal than its part of the document")
        if change != self.change:
            raise ValueError("change differs from the payments' change")
        if self.taxable_total + self.exempt_total != self.total:
            raise ValueError("taxable + exempt differs from the total")
        if self.supply_value + self.vat != self.taxable_total:
            raise ValueError("supply value + VAT differs from the taxable total")
        taxable = supply = vat = 0
        for part in tax_parts(self.lines):  # the till's own VAT split, once per enterprise
            taxable += part.taxable_total
            supply += part.supply_value
            vat += part.vat
        if (taxable, supply, vat) != (self.taxable_total, self.supply_value, self.vat):
            raise ValueError(f"the VAT split differs from the till's rule: taxable {taxable}, "
                             f"supply value {supply}, VAT {vat} (split once per enterprise)")
        if (self.kind == "sale") != (self.original_id is None):
            raise ValueError("voids and refunds point to their sale; sales point nowhere")
        if self.original_typed and self.kind != "refund":
            raise ValueError("only a refund has typed-in lines (original_typed)")
        if self.original_typed != (self.original_receipt_no is not None):
            raise ValueError("original_receipt_no goes with original_typed, and only with it")
        return self


class ProductEnterprise(Strict):
    """The product's enterprise, matched on each till by registration number, else by name.
    `hlc` stamps the enterprise's own last edit: its attributes converge by that stamp, apart
    from the product's. (As the server holds and sends it: a till cleans what it pulls.)"""

    name: str = Field(min_length=1, max_length=200)
    """As in `EnterpriseEdit`."""
    bizno: str | None = None
    """As in `EnterpriseEdit`."""
    tax_status: Literal["general", "simplified", "exempt"] = "general"
    """As in `EnterpriseEdit`."""
    commission_bp: int = Field(default=0, ge=0, le=10000)
    """As in `EnterpriseEdit`."""
    hlc: str | None = Field(default=None, pattern=HLC)
    """As in `EnterpriseEdit`."""
    cash_receipt_mandatory: bool = False
    """As in `EnterpriseEdit`."""
    card_terminal: Literal["own", "stall"] = "stall"
    """As in `EnterpriseEdit`."""


class Product(Strict):
    """A product of the stall's catalog as the server holds it and tills pull it. The newest
    `hlc` wins wherever it is edited. What the server takes in is checked closer
    (`ProductEdit`, `ProductChange`)."""

    id: str = Field(min_length=1, max_length=36)
    """As in `ProductEdit`."""
    name: str = Field(min_length=1, max_length=200)
    """As in `ProductEdit`."""
    price: int = Field(ge=0)
    """As in `ProductEdit`."""
    tax_class: Literal["taxable", "exempt"]
    """As in `ProductEdit`."""
    enterprise: ProductEnterprise
    """Its enterprise, with the newest enterprise stamp the server has."""
    category: str | None = None
    """As in `ProductEdit`."""
    barcodes: list[str] = Field(default_factory=list, max_length=20)
    """As in `ProductEdit`."""
    sku: str | None = None
    """As in `ProductEdit`."""
    active: bool = True
    """As in `ProductEdit`."""
    merged_into: str | None = None
    """As in `ProductEdit`."""
    removed: bool = False
    """As in `ProductEdit`."""
    hlc: str = Field(pattern=HLC)
    """The newest stamp of the product the server has."""


class EnterpriseEdit(Strict):
    """A product's enterprise as a till or the organizer sends it."""

    name: Text(200, 1)
    """The enterprise's name; enterprises are matched by name where a till lacks the number."""
    bizno: Text(12) | None = None
    """The business registration number, `123-45-67890`, if known; matched first."""
    tax_status: Literal["general", "simplified", "exempt"] = "general"
    """`general`, `simplified` (간이과세자) or `exempt`."""
    commission_bp: Int(0, 10000) = 0
    """The stall's commission in hundredths of a percent (1000 = 10 %)."""
    hlc: Stamp | None = None
    """The stamp of the enterprise's own last edit; the newest wins, apart from the product's."""
    cash_receipt_mandatory: Flag = False
    """In a trade that must issue a cash receipt for a cash sale of ₩100,000 or more
    (의무발행업종, see Cash receipts). Left out when false."""
    card_terminal: Literal["own", "stall"] = "stall"
    """Whose card terminal takes its cards: `own` (its own; see Payments by enterprise) or
    `stall` (the stall's). Left out when `stall`."""


class ProductEdit(Strict):
    """A product as an organizer sends it; the server stamps it (`ProductChange`)."""

    id: Text(36, 1)
    """The product's id: the same on every till of the stall (it travels with the product)."""
    name: Text(200, 1)
    """The product's name."""
    price: Int(0, MAX_WON)
    """The unit price, VAT included."""
    tax_class: Literal["taxable", "exempt"]
    """`taxable` or `exempt`."""
    enterprise: EnterpriseEdit
    """The enterprise selling it."""
    category: Text(200) | None = None
    """A category for the Sell screen's filter."""
    barcodes: list[Text(64, 1)] = Field(default_factory=list, max_length=MAX_BARCODES)
    """Up to 20 barcodes."""
    sku: Text(64) | None = None
    """The product's SKU."""
    active: Flag = True
    """False: kept for the sales that name it, no longer sold."""
    merged_into: Text(36, 1) | None = None
    """Set: this product is the same as the product of that id (matched by SKU, barcode, or
    enterprise and name when a till joined the stall or two tills made it): tills hide it and
    give its barcodes to that product, and the sales that name it stay as they are."""
    removed: Flag = False
    """True: taken out of the stall's catalog (a till that joined took the stall's catalog
    instead of its own); tills hide it, the sales that name it stay."""


class ProductChange(ProductEdit):
    """A product edit with its stamp: the payload of `product.changed`, or an organizer's edit
    once the server stamped it."""

    hlc: Stamp
    """The stamp of this edit: the newest stamp wins on every till and on the server."""


class CatalogPage(Strict):
    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    products: list[Product]
    """The products changed after the cursor `after`, oldest change first."""
    next_after: int
    """The cursor of the next pull."""
    more: bool
    """True: there are more; pull again at once."""


_BAD_IN_PAYLOAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _plain_payload(payload: dict) -> None:  # noqa: C901 - one walk, every JSON type
    """A shift's or a cash movement's record: plain JSON, bounded (the server only keeps it)."""
    todo, items = [(payload, 1)], 0
    while todo:
        value, depth = todo.pop()
        items += 1
        if items > MAX_PAYLOAD_ITEMS:
            raise ValueError(f"more than {MAX_PAYLOAD_ITEMS} values")
        if isinstance(value, dict) or isinstance(value, list):
            if depth > MAX_PAYLOAD_DEPTH:
                raise ValueError(f"nested deeper than {MAX_PAYLOAD_DEPTH}")
            if isinstance(value, dict):
                todo += [(k, depth) for k in value] + [(v, depth + 1) for v in value.values()]
            else:
                todo += [(v, depth + 1) for v in value]
        elif isinstance(value, str):
            if len(value) > MAX_PAYLOAD_TEXT:
                raise ValueError(f"a text longer than {MAX_PAYLOAD_TEXT} characters")
            if _BAD_IN_PAYLOAD.search(value):
                raise ValueError("a text with a control character")
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if not -MAX_SEQ <= value <= MAX_SEQ:
                raise ValueError("a number out of range")
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("a number that is not finite")
        else:
            raise ValueError(f"{type(value).__name__} is not JSON")


Counts = Annotated[dict[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,5}$")], Int(0, MAX_QTY * 100)],
                   Field(max_length=20)]


class ShiftPayload(Strict):
    """The payload of `shift.opened` (the fields up to `float_counts`) and of `shift.closed`
    (all of them). The server keeps it as sent."""

    id: Text(64, 1)
    """The shift's id on the till."""
    device_id: Text(64, 1)
    """The till's own device id (not the server's)."""
    number: Int(1, MAX_SEQ)
    """The shift's number on this till, from 1: the Z report's number."""
    status: Literal["open", "closed"]
    """`open` in `shift.opened`, `closed` in `shift.closed`."""
    business_day: Day
    """The business day the shift counts for."""
    opened_at: Instant
    """When it was opened."""
    float_amount: Int(0, MAX_WON)
    """The float put in the drawer at opening (may be 0)."""
    float_counts: Counts | None = None
    """The float counted by denomination, `{"10000": 5, "1000": 15}` (won → how many), or null when
    typed as a total."""
    closed_at: Instant | None = None
    """When it was closed (`shift.closed` only)."""
    counted_amount: Int(0, MAX_DOCUMENT_WON) | None = None
    """The cash counted in the drawer at closing (`shift.closed` only)."""
    counts: Counts | None = None
    """The closing count by denomination, or null when typed as a total (`shift.closed` only)."""
    expected_amount: DocumentWon | None = None
    """The cash the drawer should hold: float + cash taken − change given − cash refunded + cash in
    − cash out (`shift.closed` only)."""
    difference: DocumentWon | None = None
    """`counted_amount − expected_amount`: negative when short (`shift.closed` only)."""
    difference_reason: Text(200) | None = None
    """Why the count differs, as the vendor said it at closing (printed on the Z); null when it
    does not differ, or from a till before 2026-12 (`shift.closed` only)."""
    opened_by: Text(40, 1) | None = None
    """Who opened it, when the till uses staff accounts; left out otherwise."""
    closed_by: Text(40, 1) | None = None
    """Who closed it, when the till uses staff accounts (`shift.closed` only); left out
    otherwise."""

    @model_validator(mode="after")
    def as_its_status(self) -> "ShiftPayload":
        closing = (self.closed_at, self.counted_amount, self.expected_amount, self.difference)
        if self.status == "open" and any(v is not None for v in (*closing, self.counts)):
            raise ValueError("an open shift has no closing figures")
        if self.status == "closed":
            if any(v is None for v in closing):
                raise ValueError("a closed shift has closed_at, counted_amount, "
                                 "expected_amount and difference")
            if self.counted_amount - self.expected_amount != self.difference:
                raise ValueError("difference is not counted_amount - expected_amount")
        return self


class CashPayload(Strict):
    """The payload of `cash.moved`: cash put into or taken out of the drawer in a shift."""

    id: Text(64, 1)
    """The cash movement's id on the till."""
    shift_id: Text(64, 1)
    """The shift it belongs to."""
    kind: Literal["in", "out"]
    """`in` (change put in the drawer) or `out` (cash taken out, e.g. for supplies)."""
    amount: Int(1, MAX_WON)
    """How much, always positive; `kind` gives the direction."""
    reason: Text(MAX_PAYLOAD_TEXT, 1, LINES)
    """Why, as the vendor typed it."""
    created_at: Instant
    """When."""
    staff_name: Text(40, 1) | None = None
    """Who moved it, when the till uses staff accounts; left out otherwise."""


class StockPayload(Strict):
    """The payload of `stock.moved`: goods of a product that came into or left the stall other
    than by a sale, or a count of them. Stock is the sum of these and of the sales, voids and
    refunds of every till of the stall: never a value one till sets."""

    id: Text(64, 1)
    """The movement's id on the till."""
    product_id: Text(36, 1)
    """The product (its id in the stall's catalog)."""
    kind: Literal["received", "counted", "returned"]
    """`received` (goods the enterprise brought), `returned` (goods given back to the
    enterprise) or `counted` (the vendor counted them: `qty` is what the count changed)."""
    qty: Int(-2 * MAX_STOCK, 2 * MAX_STOCK)
    """The change in stock: more than 0 for `received`, less than 0 for `returned`, either
    or 0 for `counted`."""
    counted: Int(0, MAX_STOCK) | None = None
    """For `counted`: how many the vendor counted (the till's stock then became this)."""
    business_day: Day
    """The business day it belongs to."""
    shift_id: Text(64) | None = None
    """The shift it was recorded in, if one was open."""
    reason: Text(MAX_PAYLOAD_TEXT, 0, LINES) = ""
    """A note, as the vendor typed it."""
    created_at: Instant
    """When."""

    @model_validator(mode="after")
    def signed_by_kind(self) -> "StockPayload":
        if self.kind == "received" and self.qty <= 0:
            raise ValueError("received goods are a qty over 0")
        if self.kind == "returned" and self.qty >= 0:
            raise ValueError("goods returned to the enterprise are a qty under 0")
        if (self.kind == "counted") != (self.counted is not None):
            raise ValueError("`counted` is given for a count, and only for a count")
        return self


class StaffPayload(Strict):
    """The payload of `staff.changed`: a person who sells at the till was added or changed
    (renamed, another role, disabled). Never a PIN or anything made from one: the model has no
    field for it, and a payload with one is refused."""

    id: Text(64, 1)
    """The person's id on the till."""
    name: Text(40, 1)
    """Their name as the till shows it and documents carry it (`staff_name`)."""
    role: Literal["manager", "cashier"]
    """`manager` (may do everything, approves) or `cashier`."""
    enterprise_name: Text(200, 1) | None = None
    """The enterprise they come from, if any."""
    active: Flag
    """False once disabled: they can no longer sign in."""
    updated_at: Instant
    """When this change was made. One more than 10 minutes ahead of the server's clock is
    taken as made when it arrived (and said in an alert)."""

    @field_validator("name")
    @classmethod
    def not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("a name is not only spaces")
        return name


SECRET_KEYS = frozenset({"pin", "pin_hash", "pin_salt", "salt", "hash", "password", "secret",
                         "token"})
_PLAIN_TEXT = re.compile(PLAIN)


def _check_details(value, where: str = "details") -> None:
    """An audit entry's details as `AuditPayload.details` says (bounded before this by the
    payload's own walk, `_plain_payload`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.strip().lower() in SECRET_KEYS:
                raise ValueError(f"{where}: {key!r} names a secret; nothing made from a PIN is "
                                 "sent")
            if not _PLAIN_TEXT.match(key):
                raise ValueError(f"{where}: a key has a control or direction character")
            _check_details(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_details(item, where)
    elif isinstance(value, float):
        raise ValueError(f"{where}: {value!r} is a fraction; details carry integers "
                         "(a share as a string)")
    elif isinstance(value, str) and not _PLAIN_TEXT.match(value):
        raise ValueError(f"{where}: a text has a control or direction character")


AuditAction = Literal["sign_in", "sign_out", "pin_failed", "staff_added", "staff_changed",
                      "approval", "void", "refund", "discount", "price_edit", "open_price",
                      "no_sale", "cash_move", "shift_difference", "catalog_edit", "stock_move",
                      "settings_changed", "accounts_on", "accounts_off", "permissions_changed",
                      "clock_jump", "restore"]
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class AuditPayload(Strict):
    """The payload of `audit.logged`: one entry of the till's audit log of sensitive actions
    (voids, refunds, approvals, drawer opened without a sale, catalog and settings edits,
    sign-ins, wrong PINs…). Entries are numbered 1, 2, 3… per till and hash-chained:
    `hash` is SHA-256 over the JSON array `[n, at, device_id, staff_id, staff_name, action,
    subject, details, prev_hash]` (object keys sorted by code point, no spaces, non-ASCII
    characters as themselves, UTF-8; details hold no fractions), and `prev_hash` is the entry
    before's `hash` (64 zeros for the first)."""

    n: Seq
    """The entry's number in the till's log."""
    at: Instant
    """When."""
    device_id: Text(64, 1)
    """The till's own device id."""
    staff_id: Text(64) | None = None
    """Who did it (the person's id on the till); null when nobody was signed in."""
    staff_name: Text(40) | None = None
    """Their name."""
    action: AuditAction
    """What was done."""
    subject: Text(200)
    """What it was done to: a receipt number, a person's name, a setting; may be empty."""
    details: dict[str, Any]
    """More about it, by action: an approval's `right`, `staff` and `approver`; a refund's
    `total` and `reason`; a wrong PIN's `in_a_row`… Values are strings, integers, booleans,
    null, lists and objects of them (no fractions: a share is a string such as `"12.5"`);
    texts as in any other field (no control or direction characters); no key names a secret
    (`pin`, `pin_hash`, `pin_salt`, `salt`, `hash`, `password`, `secret`, `token`, in any
    case): nothing made from a PIN is ever sent."""
    prev_hash: Hash
    """The previous entry's hash."""
    hash: Hash
    """This entry's hash."""

    @field_validator("details")
    @classmethod
    def plain_details(cls, details: dict) -> dict:
        _check_details(details)
        return details


class CashReceiptPayload(Strict):
    """The payload of `cash_receipt.changed`: a cash receipt (현금영수증) request or cancellation
    as it now is, sent when it is made and again each time it changes (issued, cancelled); the
    till's latest event (highest `seq`) of one `id` is its state, whatever the clocks say. A
    till cannot issue them: the enterprise does, and the vendor enters the approval number it
    got. The server counts a request only when it fits what the till sent: its `sale_id` is a
    sale of this till with this `receipt_no`, a cancellation's `return_id` a return of that sale,
    and the amount within that document's total; one that does not is alerted (`cash receipt
    request not counted`) and left out of the figures."""

    id: Text(64, 1)
    """The request's id on the till."""
    kind: Literal["issue", "cancel"]
    """`issue`, or `cancel`: a cancellation of an issued request (a void or refund)."""
    sale_id: UUID
    """The sale it is for."""
    receipt_no: Text(32, 1)
    """That sale's receipt number."""
    return_id: UUID | None = None
    """A cancellation's void or refund."""
    cancels: Text(64, 1) | None = None
    """A cancellation's request (its `id`)."""
    enterprise_name: Text(200, 1)
    """Who issues it: the enterprise of the sale (each is its own seller), or the stall's operator
    at a consignment stall."""
    bizno: Annotated[str, Field(pattern=r"^[0-9]{3}-[0-9]{2}-[0-9]{5}$")] | None = None
    """The issuer's registration number (`123-45-67890`), if known."""
    amount: Int(1, MAX_DOCUMENT_WON)
    """What it is for: the issuer's cash-like part of the sale (cash, transfers), or of what
    the return gave back; always more than 0."""
    identity_kind: Literal["phone", "bizno", "card", "self"]
    """The customer's number's kind: a mobile number, a business registration number, a cash
    receipt card, or `self` (the NTS self-issue number 010-000-1234)."""
    identity: Annotated[str, Field(pattern=r"^[0-9]{10,19}$")]
    """The number, ASCII digits only: a mobile number (01…, 10 or 11 digits), a registration
    number (10), a card's (13 to 19), or `0100001234` for `self`."""
    purpose: Literal["deduction", "proof"]
    """`deduction` (소득공제, a person) or `proof` (지출증빙, a business)."""
    voluntary: Flag
    """True for a self-issue the till made because the enterprise's trade must issue and the
    customer gave no number."""
    state: Literal["to_issue", "issued", "cancelled"]
    """`to_issue`, `issued` (with `approval_no`) or `cancelled` (given back before it was
    issued)."""
    approval_no: Text(40) | None = None
    """The approval number the issuing service gave."""
    business_day: Day
    """The business day of the sale (of the return, for a cancellation)."""
    due_day: Day
    """Issue by this day."""
    created_at: Instant
    """When it was made."""
    updated_at: Instant
    """When it last changed."""

    @model_validator(mode="after")
    def consistent(self) -> "CashReceiptPayload":
        if (self.kind == "cancel") != (self.cancels is not None):
            raise ValueError("`cancels` is given for a cancellation, and only for one")
        if (self.kind == "cancel") != (self.return_id is not None):
            raise ValueError("`return_id` is given for a cancellation, and only for one")
        if self.state == "issued" and not self.approval_no:
            raise ValueError("an issued request has its approval_no")
        number, kind = self.identity, self.identity_kind
        fits = {"self": number == "0100001234",
                "phone": number.startswith("01") and len(number) in (10, 11)
                and number != "0100001234",
                "bizno": len(number) == 10 and not number.startswith("0"),
                "card": 13 <= len(number) <= 19}[kind]
        if not fits:
            raise ValueError(f"identity is not a number of kind {kind}")
        if self.voluntary != (kind == "self"):
            raise ValueError("a voluntary request is a self-issue (identity_kind self), and "
                             "only it")
        if self.due_day < self.business_day:
            raise ValueError("due_day is before business_day")
        return self


PAYLOADS = {"shift.opened": ShiftPayload, "shift.closed": ShiftPayload,
            "cash.moved": CashPayload, "stock.moved": StockPayload,
            "product.changed": None,  # None: `ProductChange`
            "staff.changed": StaffPayload, "audit.logged": AuditPayload,
            "cash_receipt.changed": CashReceiptPayload}


class Event(Strict):
    """One entry of a device's outbox: a gapless `seq` and a client-made UUID."""

    event_id: UUID
    """A UUID the till makes once for the event; the same in every resend."""
    seq: Seq
    """The event's number in this till's outbox: 1, 2, 3… with no gap."""
    type: EventType
    """What happened; it decides whether `document` or `payload` is carried."""
    hlc: Stamp
    """The till's hybrid logical clock stamp: 13 digits of milliseconds since 1970 (UTC), `-`, a
    5-digit counter, `-`, the device code (`1796194548047-00000-A01`). Stamps compare as text."""
    created_at: Instant
    """When the till recorded it, with its UTC offset."""
    document: Document | None = None
    """For `sale.recorded`, `void.recorded`, `refund.recorded`: the document. Absent or null
    otherwise."""
    payload: dict[str, Any] | None = None
    """For `shift.opened` and `shift.closed` a [ShiftPayload](#shiftpayload), for `cash.moved` a
    [CashPayload](#cashpayload), for `product.changed` a [ProductChange](#productchange), for
    `stock.moved` a [StockPayload](#stockpayload), for `staff.changed` a
    [StaffPayload](#staffpayload), for `audit.logged` an [AuditPayload](#auditpayload), for
    `cash_receipt.changed` a [CashReceiptPayload](#cashreceiptpayload).
    Absent or null for documents."""

    @field_validator("payload")
    @classmethod
    def plain_payload(cls, payload: dict | None, info: ValidationInfo) -> dict | None:
        if payload is None or "type" not in info.data:
            return payload
        kind = info.data["type"]
        if kind != "product.changed":
            _plain_payload(payload)  # bounded first: the model would walk what it is given
        model = ProductChange if kind == "product.changed" else PAYLOADS.get(kind)
        if model is not None:
            try:
                checked = model.model_validate(payload)
            except ValidationError as e:
                raise PydanticCustomError("payload", "{what}", {
                    "what": describe(e.errors(include_url=False)[0])}) from None
            want = {"shift.opened": "open", "shift.closed": "closed"}.get(kind)
            if want is not None and checked.status != want:
                raise PydanticCustomError("payload", "status: {kind} carries a shift whose "
                                          "status is {want}", {"kind": kind, "want": want})
        return payload

    @model_validator(mode="after")
    def has_its_content(self) -> "Event":
        is_document = self.type.endswith(".recorded")
        if is_document and self.document is None:
            raise ValueError(f"{self.type} needs its document")
        if not is_document and self.payload is None:
            raise ValueError(f"{self.type} needs its payload")
        if is_document and self.payload is not None:
            raise ValueError(f"{self.type} carries its document, not a payload")
        if not is_document and self.document is not None:
            raise ValueError(f"{self.type} carries a payload, not a document")
        if is_document and self.document.kind != self.type.split(".")[0]:
            raise ValueError("the document's kind differs from the event type")
        return self


class PushRequest(Strict):
    protocol: Int(PROTOCOL_VERSION, PROTOCOL_VERSION) = PROTOCOL_VERSION
    """The protocol version; may be left out."""
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)
    """1 to 500 events with consecutive seqs, in order, from the server's `acked_seq + 1` (or any
    already sent)."""

    @model_validator(mode="after")
    def in_order(self) -> "PushRequest":
        seqs = [e.seq for e in self.events]
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            raise ValueError("events must be consecutive, in seq order")
        return self


# Why the server lists an event in `mismatches` (the reason is English, for its alerts; a till
# says it in its own language by these texts).
DIFFERS = "differs from the stored event"  # the server holds another event at this seq
ID_USED = "event or document id already used"  # a new seq whose event or document it has
# What the organizer's alerts say of a push that was taken or refused (never in `mismatches`).
WAITING = "waiting for its original"  # a return from another till whose sale is still to come
OVER_RETURNED = "returns more than was sold"  # taken (its sale was another till's), alerted
REFUSED = "push refused"  # a 422: nothing of the batch was kept
# a refund of another till's sale whose lines the vendor typed in, offline: taken, to be looked at
TYPED_RETURN = ("refund typed in at the till from the customer's receipt: its sale could not be "
                "checked when it was made")
# an `audit.logged` entry that breaks its till's hash chain: kept as sent, to be looked at
AUDIT_EDITED = "audit entry does not match its hash"  # its fields do not give its `hash`
AUDIT_CHAIN = "audit entry does not follow the till's entry before it"  # `prev_hash`, a gap
AUDIT_TAKEN = "audit entry number already received with another hash"  # both are kept
AUDIT_AGAIN = "audit entry received again as another event"  # the same entry, a new seq
AUDIT_DEVICE = "audit entry names another device"  # its device_id is not the till's own
STAFF_AHEAD = "staff change dated ahead of the server's clock, taken as made now"
# a cash receipt request that does not fit the till's documents: kept as sent, not counted
CASH_RECEIPT_NOT_COUNTED = "cash receipt request not counted"
# a sale of another till with cash receipts in force was given back here: cancel them there
CASH_RECEIPT_RETURNED_ELSEWHERE = "cash receipts of a sale given back at another till"


class Mismatch(Strict):
    seq: int
    """The event's seq."""
    event_id: str
    """The event's id as sent."""
    reason: str
    """`differs from the stored event` or `event or document id already used`."""


class PushResponse(Strict):
    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    acked_seq: int
    """The highest seq the server holds of this till with none missing before it; the till moves
    its ack here (never past the batch's last event, nor to a mismatch)."""
    applied: int
    """How many events of the batch were new and are now stored."""
    already_there: int
    """How many it held already, identical."""
    mismatches: list[Mismatch] = []
    """Events the server holds differently; never taken as sent."""


class MethodSpec(Strict):
    """A payment method as the organizer sets it for every till of an event."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    """The method's code, as payments name it."""
    kind: Literal["cash", "card", "transfer", "qr", "voucher", "token"]
    """What kind of money."""
    label_ko: Text(40, 1)
    """Its name on the Korean till and receipt."""
    label_en: Text(40, 1)
    """Its name in English."""
    change_policy: Literal["none", "cash", "cash_over_60"] = "none"
    """`none` (no change), `cash` (change in cash) or `cash_over_60` (change only when at least 60
    % of the face value is used)."""
    active: Flag = True
    """False: kept for past sales, not offered."""


class TillSettings(Strict):
    """What the organizer decides for the tills of an event; a field left out (null) stays as
    each till has it."""

    receipt_footer: Text(500, pattern=LINES) | None = None
    """The text at the receipt's end; line breaks allowed."""
    receipt_qr: Text(500) | None = None
    """A text printed as a QR code on receipts."""
    payment_methods: list[MethodSpec] | None = Field(default=None, min_length=1, max_length=20)
    """The event's payment methods; an active cash method among them."""

    @model_validator(mode="after")
    def usable(self) -> "TillSettings":
        if self.payment_methods is not None:
            codes = [m.code for m in self.payment_methods]
            if len(set(codes)) != len(codes):
                raise ValueError("payment method codes must be unique")
            if not any(m.kind == "cash" and m.active for m in self.payment_methods):
                raise ValueError("the tills need an active cash method for the cash count")
        return self


class SettingsPage(Strict):
    """The answer to a settings pull: `settings` is null when nothing is newer than `after`."""

    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    version: int
    """The event's settings version; the cursor of the next pull."""
    settings: TillSettings | None = None
    """The settings when newer than `after`, else null."""


class NewEvent(Strict):
    name: Text(200, 1)
    """The event's name, unique on the server."""


class NewStall(Strict):
    name: Text(200, 1)
    """The stall's name, unique within its event."""


class NewEnterprise(Strict):
    name: Text(200, 1)
    """The enterprise's name, unique within the event."""
    bizno: Text(12) | None = None
    """The business registration number, checked (`123-45-67890`)."""


class CancelDeviceCode(Strict):
    code: Text(64, 6)
    """The unused enrollment code to cancel."""


class NewDeviceCode(Strict):
    valid_hours: float = Field(default=72, gt=0, le=24 * 30, strict=True, allow_inf_nan=False)
    """How long the code can be used, in hours (up to 30 days)."""
    device_code: str | None = Field(default=None, pattern=DEVICE_CODE)
    """The device code the till enrolling with it gets (`A03`); refused (`409`) while an active
    till of the stall has it. Null: the server gives the first code no till of the stall had."""


class Status(Strict):
    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    device_id: str
    """The server's id of this till."""
    acked_seq: int
    """The highest seq the server holds of this till with none missing before it."""
    stall_name: str
    """The till's stall."""
    event_name: str
    """The stall's event."""


class StockLevel(Strict):
    id: str = Field(min_length=1, max_length=36)
    """A product of the stall's catalog whose stock is tracked (it has a stock movement)."""
    qty: int = Field(ge=-MAX_STOCK, le=MAX_STOCK, strict=True)
    """Its stock at the stall: every movement of every till, less what they sold, plus what
    they took back; below 0 when tills sold more than was recorded."""


class StockPage(Strict):
    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    products: list[StockLevel] = Field(max_length=100_000)
    """Every tracked product of the stall (merged products counted in the one they are)."""
    counted_seq: int
    """This till's events the figures include: up to this seq (its `acked_seq` when they were
    read). The till adds its own later events to them."""
    hlc: Stamp | None = None
    """The newest stamp of a change or count in the figures: the till's clock moves past it, so
    a count it makes next is later than everything it was shown."""


class ReturnedLine(Strict):
    line_no: Int(1, 10 * MAX_LINES)
    """The sale's line."""
    qty: Int(1, MAX_QTY)
    """How many of it."""
    amount: Int(0, MAX_WON) = 0
    """The money given back for them (0 in a hold: the till works it out)."""


class SaleReturn(Strict):
    """A void or refund of the sale that the server has, from whichever till of the stall."""

    id: UUID
    """The return's document id."""
    kind: Literal["void", "refund"]
    """`void` or `refund`."""
    receipt_no: str
    """Its receipt number."""
    device_code: str
    """The till that made it."""
    created_at: str
    """When that till recorded it."""
    lines: list[ReturnedLine]
    """What it gave back of each line of the sale."""


class HeldReturn(Strict):
    return_id: UUID
    """The id the return will have when it is pushed."""
    device_code: str
    """The till giving it back."""
    lines: list[ReturnedLine]
    """What it holds of each line."""


class SaleCopy(Strict):
    """A sale of the till's stall as the server has it, with everything any till of the stall
    gave back of it: what a till needs to void or refund a receipt another till printed."""

    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    device_code: str
    """The till that made the sale (its code when the server read this)."""
    document: Document
    """The sale exactly as that till sent it."""
    returns: list[SaleReturn] = []
    """The voids and refunds of it the server has, oldest first."""
    held: list[HeldReturn] = []
    """What tills are giving back of it right now (held with `POST …/returns`, not yet pushed);
    counted as given back. Not the hold this answer is for."""


class SaleLookup(Strict):
    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    sales: list[SaleCopy] = Field(max_length=100)
    """The stall's sales with that receipt number: one, or several when tills printed one number
    before they enrolled (ask the customer for the date and amount)."""


class ReturnHold(Strict):
    """A till about to void or refund a sale of its stall asks the server to hold the quantities
    first, so that two tills never give back together more than was sold."""

    return_id: UUID
    """The id the void or refund document will have when it is pushed; the hold ends then. The
    same id held again (a retry) replaces its hold."""
    kind: Literal["void", "refund"]
    """`void` (every line, whole, and nothing given back yet) or `refund`."""
    lines: list[ReturnedLine] = Field(min_length=1, max_length=MAX_LINES)
    """The sale's lines and how many of each (`amount` is not read)."""

    @model_validator(mode="after")
    def one_entry_per_line(self) -> "ReturnHold":
        if len({ln.line_no for ln in self.lines}) != len(self.lines):
            raise ValueError("a line is named twice")
        return self


class TillState(Strict):
    """A till of the stall as the server knows it: how far its figures go."""

    device_code: str
    """Its code."""
    name: str
    """Its name."""
    acked_seq: int
    """The highest of its events the server holds with none missing before it."""
    last_sync_at: str | None = None
    """When the server received that event (null: nothing yet)."""
    last_event_at: str | None = None
    """When the till recorded it (its stamp's time, UTC): what the till did after this is not in
    the server's figures yet."""
    revoked: bool = False
    """Revoked by the organizer."""


class StallDocument(Strict):
    device_code: str
    """The till that recorded it."""
    document: Document
    """The sale, void or refund exactly as that till sent it."""


class StallDayPage(Strict):
    """The documents every till of the stall recorded for one business day, as the server has
    them, a page at a time, and the stall's tills with how far the server has them: what a
    till makes the stall's settlement from (the same figures as its own)."""

    protocol: int = PROTOCOL_VERSION
    """The protocol version."""
    day: Day
    """The business day."""
    tills: list[TillState]
    """Every till of the stall."""
    documents: list[StallDocument] = Field(max_length=1000)
    """The page: in order of till and seq."""
    more: bool
    """More pages follow: ask again with `after_device` and `after_seq` of the last document."""
    last_device: str | None = None
    """The last document's till id (the server's), for `after_device`."""
    last_seq: int | None = None
    """Its seq, for `after_seq`."""


# -- what the server answers when it takes nothing ------------------------------------------------

class FieldError(BaseModel):
    """One thing wrong with a request, where it is (`loc`: "body", then the field path)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    loc: list[str | int]
    """Where: `body` or `query`, then the path."""
    msg: str
    """What is wrong."""
    type: str
    """The kind of error (pydantic's)."""


class Problem(BaseModel):
    """The body of every 4xx answer. `code` says what kind of refusal it is, for a program;
    `detail` says why, in one English sentence, for a person. A refused push names the event
    that was refused (`seq`, `event_id`) and where in it (`field`)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The kind of refusal, for a program (see Refusals)."""
    detail: str
    """Why, one English sentence for a person."""
    seq: int | None = None
    """A refused push: the refused event's seq, when it could be read."""
    event_id: str | None = None
    """A refused push: that event's id, when it could be read."""
    field: str | None = None
    """A refused push: where in the event, dotted (`document.lines.0.qty`)."""
    errors: list[FieldError] = []
    """For `invalid`: each field that is wrong."""


# -- the push body, as the server reads it --------------------------------------------------------

class ProtocolError(ValueError):
    """A push body the server refuses as a whole (422): `reason` says why, `code` what kind of
    refusal it is (`Problem`); an event that fails names its `seq`, `event_id` and `field`."""

    def __init__(self, reason: str, code: str = "batch", *, seq: int | None = None,
                 event_id: str | None = None, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.seq, self.event_id, self.field = seq, event_id, field

    def problem(self) -> Problem:
        return Problem(code=self.code, detail=self.reason, seq=self.seq,
                       event_id=self.event_id, field=self.field)


def canonical(obj: Any) -> bytes:
    """The bytes an event is identified by: compact JSON, keys sorted, UTF-8."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as e:  # nested past orjson's 254 levels, an int past 64 bits
        raise ProtocolError(f"an event cannot be written as JSON ({e}): nested too deep or a "
                            f"number too large", "event") from None


@dataclass
class Incoming:
    """One pushed event as received: its seq, its canonical bytes and their SHA-256. Validated
    (into an `Event`) only when the server needs it: to store it, or to tell a differently
    written copy of a stored event from a real mismatch. An event whose canonical bytes equal
    those stored was validated when it was first stored."""

    seq: int
    raw: dict
    body: bytes
    digest: str
    _event: Event | None = field(default=None, repr=False)

    def event(self) -> Event:
        if self._event is None:
            try:
                self._event = Event.model_validate(self.raw)
            except ValidationError as e:
                raise refused_event(e, self.raw) from None
        return self._event


# What a failed constraint means, said for a person (pydantic's own text quotes the pattern).
_SAID = {PLAIN: "has a control or direction-override character (a line break, a tab, NUL…)",
         LINES: "has a control or direction-override character",
         HLC: "is not a clock stamp (13 digits-5 digits-device code)",
         INSTANT: "is not an ISO 8601 time with its UTC offset (2026-11-22T10:00:00+09:00)",
         DAY: "is not a date (2026-11-22)"}


def describe(error: dict) -> str:
    """One pydantic error as "where: what"."""
    where = ".".join(str(x) for x in error["loc"] if x != "body") or "body"
    msg = error["msg"]
    if error["type"] == "string_pattern_mismatch":
        msg = _SAID.get((error.get("ctx") or {}).get("pattern"), msg)
    return f"{where}: {msg}"


def refused_event(error: ValidationError, raw: Any) -> ProtocolError:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(x) for x in first["loc"]) or None
    seq = raw.get("seq") if isinstance(raw, dict) else None
    seq = seq if type(seq) is int and 1 <= seq <= MAX_SEQ else None
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    event_id = event_id if isinstance(event_id, str) and len(event_id) <= 64 else None
    text = describe(first)
    return ProtocolError(f"event seq {seq}: {text}" if seq is not None else text, "event",
                         seq=seq, event_id=event_id, field=where)


def parse_push(body: bytes) -> list[Incoming]:
    """Read a `PushRequest` body: the envelope is checked at once (protocol, 1..MAX_BATCH
    consecutive events in seq order, each seq 1..MAX_SEQ), each event later, as
    `Incoming.event()`."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise ProtocolError(f"the body is not JSON ({e})", "not_json") from None
    if not isinstance(data, dict) or set(data) - {"protocol", "events"}:
        raise ProtocolError("the body must be {\"protocol\", \"events\"}")
    version = data.get("protocol", PROTOCOL_VERSION)
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol {repr(version)[:20]} is not spoken here "
                            f"(this server speaks {PROTOCOL_VERSION})", "protocol")
    raws = data.get("events")
    if not isinstance(raws, list) or not 1 <= len(raws) <= MAX_BATCH:
        raise ProtocolError(f"events must be a list of 1 to {MAX_BATCH} events")
    incoming = []
    for raw in raws:
        if not isinstance(raw, dict):
            raise ProtocolError("each event must be an object")
        seq = raw.get("seq")
        if type(seq) is not int or not 1 <= seq <= MAX_SEQ:  # the seq says which event it is
            event_id = raw.get("event_id")
            raise ProtocolError(
                f"seq: {repr(seq)[:30]} is not a seq (an integer from 1 to {MAX_SEQ})", "event",
                event_id=event_id if isinstance(event_id, str) and len(event_id) <= 64 else None,
                field="seq")
        item = Incoming(0, raw, b"", "")
        try:
            text = canonical(raw)
        except ProtocolError as e:
            event_id = raw.get("event_id")
            raise ProtocolError(f"event seq {seq}: {e.reason}", "event", seq=seq,
                                event_id=event_id if isinstance(event_id, str)
                                and len(event_id) <= 64 else None) from None
        item.seq, item.body, item.digest = seq, text, hashlib.sha256(text).hexdigest()
        incoming.append(item)
    seqs = [x.seq for x in incoming]
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        raise ProtocolError("events must be consecutive, in seq order")
    return incoming
