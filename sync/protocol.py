"""The sync protocol, version 1: the messages both ends exchange (see docs/sync-protocol.md).

Every model forbids unknown fields and checks what it can, so a malformed request is refused
with a reason before anything is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROTOCOL_VERSION = 1
MAX_BATCH = 500
MAX_BODY_BYTES = 8 * 1024 * 1024

EventType = Literal["sale.recorded", "void.recorded", "refund.recorded", "shift.opened",
                    "shift.closed", "cash.moved", "product.changed"]
HLC = r"^\d{13}-\d{5}-[A-Z0-9]{1,6}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnrollRequest(Strict):
    code: str = Field(min_length=6, max_length=64)
    device_code: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,5}$")
    device_name: str = Field(default="", max_length=100)


class EnrollResponse(Strict):
    protocol: int = PROTOCOL_VERSION
    device_id: str
    token: str
    stall_id: str
    stall_name: str
    event_name: str


class Line(Strict):
    line_no: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    unit_price: int = Field(ge=0)
    qty: int
    line_discount: int
    receipt_discount: int
    amount: int
    enterprise_id: str
    enterprise_name: str = Field(min_length=1, max_length=200)
    tax_class: Literal["taxable", "exempt"]
    tax_status: Literal["general", "simplified", "exempt"]
    product_id: str | None = None
    sku: str | None = None
    barcode: str | None = None
    original_line_no: int | None = None


class Payment(Strict):
    n: int = Field(ge=1)
    method: str = Field(min_length=1, max_length=32)
    kind: str
    amount: int
    tendered: int
    change: int = Field(ge=0)
    approval_no: str | None = None
    reference: str | None = None


class Document(Strict):
    """A sale, void or refund exactly as the till recorded it (prices are never recomputed)."""

    id: UUID
    kind: Literal["sale", "void", "refund"]
    receipt_no: str = Field(max_length=32)
    business_day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    created_at: str
    total: int
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    change: int = Field(ge=0)
    original_id: UUID | None = None
    shift_id: str | None = None
    lines: list[Line] = Field(min_length=1, max_length=1000)
    payments: list[Payment] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def adds_up(self) -> "Document":
        sign = 1 if self.kind == "sale" else -1
        if sum(ln.amount for ln in self.lines) != self.total:
            raise ValueError("the lines do not add up to the total")
        if sum(p.amount for p in self.payments) != self.total:
            raise ValueError("the payments do not add up to the total")
        if self.taxable_total + self.exempt_total != self.total:
            raise ValueError("taxable + exempt differs from the total")
        if self.supply_value + self.vat != self.taxable_total:
            raise ValueError("supply value + VAT differs from the taxable total")
        for ln in self.lines:
            if ln.qty * sign <= 0:
                raise ValueError(f"line {ln.line_no}: quantity has the wrong sign")
            if ln.unit_price * ln.qty - ln.line_discount - ln.receipt_discount != ln.amount:
                raise ValueError(f"line {ln.line_no}: amount does not add up")
        if (self.kind == "sale") != (self.original_id is None):
            raise ValueError("voids and refunds point to their sale; sales point nowhere")
        return self


class ProductEnterprise(Strict):
    """The product's enterprise, matched on each till by registration number, else by name.
    `hlc` stamps the enterprise's own last edit: its attributes converge by that stamp, apart
    from the product's."""

    name: str = Field(min_length=1, max_length=200)
    bizno: str | None = None
    tax_status: Literal["general", "simplified", "exempt"] = "general"
    commission_bp: int = Field(default=0, ge=0, le=10000)
    hlc: str | None = Field(default=None, pattern=HLC)


class ProductEdit(Strict):
    """A product as an organizer sends it; the server stamps it (`Product`)."""

    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    price: int = Field(ge=0)
    tax_class: Literal["taxable", "exempt"]
    enterprise: ProductEnterprise
    category: str | None = None
    barcodes: list[str] = Field(default_factory=list, max_length=20)
    sku: str | None = None
    active: bool = True


class Product(ProductEdit):
    """A product of the stall's catalog. The newest `hlc` wins wherever it is edited."""

    hlc: str = Field(pattern=HLC)


class CatalogPage(Strict):
    protocol: int = PROTOCOL_VERSION
    products: list[Product]
    next_after: int
    more: bool


class Event(Strict):
    """One entry of a device's outbox: a gapless `seq` and a client-made UUID."""

    event_id: UUID
    seq: int = Field(ge=1)
    type: EventType
    hlc: str = Field(max_length=64)
    created_at: str = Field(max_length=40)
    document: Document | None = None
    payload: dict[str, Any] | None = None

    @model_validator(mode="after")
    def has_its_content(self) -> "Event":
        is_document = self.type.endswith(".recorded")
        if is_document and self.document is None:
            raise ValueError(f"{self.type} needs its document")
        if not is_document and self.payload is None:
            raise ValueError(f"{self.type} needs its payload")
        if self.type == "product.changed":
            Product.model_validate(self.payload)
        if is_document and self.document.kind != self.type.split(".")[0]:
            raise ValueError("the document's kind differs from the event type")
        return self


class PushRequest(Strict):
    protocol: int = PROTOCOL_VERSION
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)

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


class Mismatch(Strict):
    seq: int
    event_id: str
    reason: str


class PushResponse(Strict):
    protocol: int = PROTOCOL_VERSION
    acked_seq: int
    applied: int
    already_there: int
    mismatches: list[Mismatch] = []


class MethodSpec(Strict):
    """A payment method as the organizer sets it for every till of an event."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    kind: Literal["cash", "card", "transfer", "qr", "voucher", "token"]
    label_ko: str = Field(min_length=1, max_length=40)
    label_en: str = Field(min_length=1, max_length=40)
    change_policy: Literal["none", "cash", "cash_over_60"] = "none"
    active: bool = True


class TillSettings(Strict):
    """What the organizer decides for the tills of an event; a field left out (null) stays as
    each till has it."""

    receipt_footer: str | None = Field(default=None, max_length=500)
    receipt_qr: str | None = Field(default=None, max_length=500)
    payment_methods: list[MethodSpec] | None = Field(default=None, min_length=1, max_length=20)

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
    version: int
    settings: TillSettings | None = None


class NewEvent(Strict):
    name: str = Field(min_length=1, max_length=200)


class NewStall(Strict):
    name: str = Field(min_length=1, max_length=200)


class NewEnterprise(Strict):
    name: str = Field(min_length=1, max_length=200)
    bizno: str | None = Field(default=None, max_length=12)


class NewDeviceCode(Strict):
    valid_hours: float = Field(default=72, gt=0, le=24 * 30)


class Status(Strict):
    protocol: int = PROTOCOL_VERSION
    device_id: str
    acked_seq: int
    stall_name: str
    event_name: str


# -- the push body, as the server reads it --------------------------------------------------------

class ProtocolError(ValueError):
    """A push body the server refuses as a whole (422): `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def canonical(obj: Any) -> bytes:
    """The bytes an event is identified by: compact JSON, keys sorted, UTF-8."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


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
                raise ProtocolError(_reason(e, self.raw)) from None
        return self._event


def _reason(error: ValidationError, raw: Any) -> str:
    first = error.errors()[0]
    where = ".".join(str(x) for x in first["loc"])
    seq = raw.get("seq") if isinstance(raw, dict) else None
    return f"event seq {seq}: {where}: {first['msg']}" if seq is not None else \
        f"{where}: {first['msg']}"


def parse_push(body: bytes) -> list[Incoming]:
    """Read a `PushRequest` body: the envelope is checked at once (protocol, 1..MAX_BATCH
    consecutive events in seq order), each event later, as `Incoming.event()`."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ProtocolError("the body is not JSON") from None
    if not isinstance(data, dict) or set(data) - {"protocol", "events"}:
        raise ProtocolError("the body must be {\"protocol\", \"events\"}")
    if data.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol {data.get('protocol')!r} is not spoken here "
                            f"(this server speaks {PROTOCOL_VERSION})")
    raws = data.get("events")
    if not isinstance(raws, list) or not 1 <= len(raws) <= MAX_BATCH:
        raise ProtocolError(f"events must be a list of 1 to {MAX_BATCH} events")
    incoming = []
    for raw in raws:
        if not isinstance(raw, dict):
            raise ProtocolError("each event must be an object")
        seq = raw.get("seq")
        item = Incoming(0, raw, b"", "")
        if type(seq) is not int:
            seq = item.event().seq  # e.g. "7": validated now, refused if it is not a seq
        text = canonical(raw)
        item.seq, item.body, item.digest = seq, text, hashlib.sha256(text).hexdigest()
        incoming.append(item)
    seqs = [x.seq for x in incoming]
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        raise ProtocolError("events must be consecutive, in seq order")
    return incoming
