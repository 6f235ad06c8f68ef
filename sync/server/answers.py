"""The organizer API's answers, typed: what `/docs` shows and what a client can rely on (and,
from the docstrings, the tables of docs/sync-protocol.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class MarketEvent(Answer):  # not `Event`: that is the push body's event (protocol.Event)
    """An event (a market) on the server."""

    id: str
    """The event's id."""
    name: str
    """Its name, unique on the server."""
    created_at: str
    """When it was created (ISO 8601, UTC)."""


class Device(Answer):
    """A till enrolled in a stall."""

    id: str
    """The server's id of the till."""
    device_code: str
    """Its device code (`A01`)."""
    name: str
    """The name it gave at enrollment."""
    last_seq: int
    """The highest seq the server holds of it with none missing before."""
    enrolled_at: str
    """When it enrolled."""
    revoked_at: str | None = None
    """When the organizer revoked it (its token is refused: `401` `device_revoked`), else null."""


class Stall(Answer):
    """A stall of an event, with its tills."""

    id: str
    """The stall's id."""
    event_id: str
    """Its event's id."""
    name: str
    """Its name, unique within the event."""
    created_at: str
    """When it was created."""
    devices: list[Device] = []
    """Its tills, revoked ones too."""


class Enterprise(Answer):
    """An enterprise selling at the event."""

    id: str
    """The enterprise's id."""
    event_id: str
    """Its event's id."""
    name: str
    """Its name, unique within the event."""
    bizno: str | None = None
    """Its business registration number, if given."""


class DeviceCode(Answer):
    """A new enrollment code."""

    code: str
    """The code: shown once, the server keeps only its hash."""
    stall: str
    """The stall's name."""
    valid_hours: float
    """How long it can be used."""
    device_code: str | None = None
    """The device code its till will get, when the organizer named one."""


class Cancelled(Answer):
    cancelled: bool
    """True: the code can no longer be used."""


class ProductTaken(Answer):
    """The answer to an organizer's product edit."""

    taken: bool
    """False when a newer edit of the product was already there."""
    hlc: str
    """The stamp the server gave the edit (`…-SRV`)."""


class SettingsVersion(Answer):
    version: int
    """The event's new settings version."""


class EnterpriseTotal(Answer):
    enterprise: str
    """The enterprise's name as on the documents."""
    net: int
    """Its net sales in won: sales minus voids and refunds."""
    qty: int
    """Its net quantity sold."""


class DeviceTotal(Answer):
    stall: str
    """The stall's name."""
    device: str
    """The till's device code."""
    net: int
    """Its net sales in won."""
    documents: int
    """How many sales, voids and refunds it sent."""
    acked_seq: int
    """The highest seq the server holds of it with none missing before."""


class DayTotal(Answer):
    day: str
    """A business day (`YYYY-MM-DD`)."""
    net: int
    """Net sales of that day in won."""
    documents: int
    """How many documents."""


class MethodTotal(Answer):
    method: str
    """A payment method's code."""
    net: int
    """What it took, net of refunds, in won."""


class Totals(Answer):
    """An event's figures from what its tills sent: equal to the tills' own settlement once
    every till has synced."""

    event_id: str
    """The event's id."""
    net: int
    """Net sales of the event in won."""
    enterprises: int
    """How many enterprises sold."""
    by_enterprise: list[EnterpriseTotal]
    """Per enterprise."""
    by_device: list[DeviceTotal]
    """Per stall and till."""
    by_day: list[DayTotal]
    """Per business day."""
    by_method: list[MethodTotal]
    """Per payment method."""


class Alert(Answer):
    """Something the organizer should look at (see Organizer API)."""

    id: int
    """The alert's id: the cursor `after` of the next page."""
    stall: str
    """The stall's name."""
    device_code: str
    """The till's device code."""
    seq: int
    """The event's seq (0 when a refused push named none)."""
    event_id: str
    """The event's id, when known."""
    reason: str
    """Why: `differs from the stored event`, `event or document id already used`, `waiting
    for its original`, `returns more than was sold: …`, `push refused: …`, `audit entry does
    not match its hash: …`, `audit entry does not follow the till's entry before it: …`,
    `audit entry number already received with another hash: …`."""
    created_at: str
    """When the first copy came."""
    last_at: str
    """When the newest copy came."""
    times: int
    """How many copies came."""
    resolved_at: str | None = None
    """When the organizer marked it resolved (`POST …/alerts/{id}/resolve`); null while open."""
    resolved_by: str | None = None
    """Who did: the console's e-mail, `api` or `cli`."""


class StaffMember(Answer):
    """A person who sells at a till of the stall, as the till last sent them (`staff.changed`).
    No PIN and nothing made from one: the tills never send it."""

    device_code: str
    """The till they were added on (each till keeps its own staff)."""
    id: str
    """The person's id on that till (`AuditEntry.staff_id`)."""
    name: str
    """Their name, as documents and audit entries carry it."""
    role: str
    """`manager` or `cashier`."""
    enterprise_name: str | None = None
    """The enterprise they come from, if any."""
    active: bool
    """False once disabled at the till: they can no longer sign in."""
    updated_at: str
    """When the till made the change the server has (the newest it received)."""


class VatRow(Answer):
    """One enterprise's VAT return figures for a period, across the event's tills, refunds
    netted (won): card + cash_receipts_issued + cash_receipts_waiting + other_cash + vouchers +
    tokens = net = taxable_total + exempt_total."""

    enterprise: str
    """The enterprise, by name (as the tills sent it)."""
    bizno: str
    """Its registration number, when the organizer registered it."""
    tax_status: str
    """`general`, `simplified` or `exempt`, as its newest lines say."""
    statuses: list[str]
    """Every tax type its lines carried in the period, in order: more than one when it changed
    (its return is then two, split at the change)."""
    day_from: str
    """The first business day."""
    day_to: str
    """The last business day."""
    sales: int
    """Sales after discounts."""
    refunds: int
    """Voids and refunds (negative)."""
    net: int
    """Sales less refunds."""
    taxable_total: int
    """Taxable sales, VAT included."""
    supply_value: int
    """Of a general taxpayer: taxable sales without VAT."""
    vat: int
    """Of a general taxpayer: the VAT."""
    exempt_total: int
    """Exempt sales."""
    card: int
    """Paid by card (and mobile payments that settle as cards)."""
    cash_receipts_issued: int
    """Cash and transfers a cash receipt was issued for."""
    cash_receipts_waiting: int
    """Cash and transfers with a cash receipt still to issue."""
    other_cash: int
    """Cash and transfers without a cash receipt."""
    vouchers: int
    """Paid by vouchers."""
    tokens: int
    """Paid by event tokens."""


class CashReceipt(Answer):
    """A cash receipt (현금영수증) request or cancellation of a till, as the till last sent it
    (`cash_receipt.changed`). The customer's number is masked here (`010-****-1234`): the
    enterprise that issues has it in full on the till and in the till's export."""

    device_code: str
    """The till that took it."""
    id: str
    """Its id on that till."""
    kind: str
    """`issue`, or `cancel` (of an issued request, by a void or refund)."""
    receipt_no: str
    """The sale's receipt number."""
    cancels: str | None = None
    """A cancellation's request."""
    enterprise_name: str
    """Who issues it."""
    bizno: str | None = None
    """The issuer's registration number."""
    amount: int
    """What it is for, in won (more than 0)."""
    identity: str
    """The customer's number, masked."""
    purpose: str
    """`deduction` (소득공제) or `proof` (지출증빙)."""
    voluntary: bool
    """A self-issue to 010-000-1234 (the trade must issue, no number was given)."""
    state: str
    """`to_issue`, `issued` or `cancelled`."""
    approval_no: str | None = None
    """The approval number, once issued."""
    business_day: str
    """The sale's (a cancellation: the return's) business day."""
    due_day: str
    """Issue by this day."""
    updated_at: str
    """When the till last changed it."""


class AuditEntry(Answer):
    """One entry of a till's audit log, as the till sent it (`audit.logged`), and whether it
    keeps the till's hash chain."""

    id: int
    """The entry's id on the server: the cursor `after` of the next page."""
    device_code: str
    """The till that logged it."""
    n: int
    """Its number in that till's log: 1, 2, 3…"""
    at: str
    """When, as the till wrote it (with its UTC offset)."""
    device_id: str
    """The till's own device id, as in the entry (its hash covers it)."""
    staff_id: str | None = None
    """Who did it: the person's id on the till ([StaffMember](#staffmember)); null when
    nobody was signed in."""
    staff_name: str | None = None
    """Their name."""
    action: str
    """What was done (see [AuditPayload](#auditpayload)): `void`, `approval`, `sign_in`…"""
    subject: str
    """What it was done to: a receipt number, a person's name; may be empty."""
    details: dict[str, Any]
    """More about it: an approval's `right`, `staff` (who asked) and `approver` (the manager)…"""
    prev_hash: str
    """The previous entry's hash, as sent."""
    hash: str
    """This entry's hash, as sent."""
    problem: str | None = None
    """Null when the entry's fields give its hash and it follows the till's entry before it;
    else why not (the same reason as its alert)."""
