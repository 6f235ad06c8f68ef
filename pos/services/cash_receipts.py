"""Cash receipts (현금영수증): the requests a till records and the enterprises issue.

A till cannot issue a cash receipt itself (that needs the enterprise's card terminal, a VAN agent
or 홈택스), so a request waits here, stored with its sale in the sale's own transaction, until
the enterprise issues it and the vendor enters the approval number (`mark_issued`). Every
request and every change of one is an outbox event (`cash_receipt.changed`), so the server has
them too.

- A request covers the cash-like part of a sale (`Rules.cash_like_kinds`: cash and transfers),
  split per enterprise of the sale by the settlement's own rule (`pos.settlement.allocate`),
  since each enterprise is its own seller and issues its own; at a consignment stall
  (`Rules.seller_model == "consignment"`) the stall's operator issues one for the whole.
- An enterprise in a mandatory-issue trade (`cash_receipt_mandatory`) whose part of a sale is
  `Rules.mandatory_min` or more and paid in cash gets a self-issue (010-000-1234, `voluntary`)
  when the customer gives no number.
- A request can be added from the history afterwards, within `Rules.issue_days` of the sale.
- A void or refund of a sale with requests cancels what it gives back in cash-like money: a
  request not yet issued becomes `cancelled`, and what the customer kept gets a request of its
  own in its place; an issued one gets a cancellation request (`kind` cancel, naming the
  request it cancels), to be issued like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, select

from pos import events, tables as t
from pos.domain import DocKind, Document, DomainError
from pos.korea_rules import (PURPOSES, SELF_ISSUE, Identity, Rules, identity_of,
                             parse_identity, rules_from)
from pos.outbox import append_event
from pos.settlement import allocate
from pos.store import UnitOfWork

STATES = ("to_issue", "issued", "cancelled")
# built once: SQLAlchemy reuses its compiled form on the selling path (bench_sale_commit)
_ENTERPRISE_FLAGS = (select(t.enterprises.c.id, t.enterprises.c.name, t.enterprises.c.bizno,
                            t.enterprises.c.cash_receipt_mandatory)
                     .where(t.enterprises.c.id.in_(bindparam("ids", expanding=True))))
APPROVAL_LIMIT = 40


@dataclass(frozen=True, slots=True)
class Ask:
    """What the customer said when asked "현금영수증 해드릴까요?": a number (mobile, business
    registration or cash receipt card number) and what for; `number` None: none given (a
    mandatory-issue trade then self-issues)."""

    number: str | None = None
    purpose: str | None = None  # deduction, proof; None: by the number's kind

    def identity(self) -> Identity | None:
        if self.number is None or not self.number.strip():
            return None
        return parse_identity(self.number)

    def checked(self) -> tuple[Identity, str]:
        """The number and purpose, checked: `DomainError` for a blank or bad number, an
        unknown purpose, or a business number for an income deduction (a business's receipt
        is its expense proof, 지출증빙)."""
        identity = self.identity()
        if identity is None:
            raise DomainError("cash_receipt_number_needed")
        return identity, self.purpose_for(identity)

    def purpose_for(self, identity: Identity) -> str:
        purpose = self.purpose or identity.default_purpose
        if purpose not in PURPOSES:
            raise DomainError("cash_receipt_purpose_invalid", value=str(purpose)[:20])
        if identity.kind == "bizno" and purpose != "proof":
            raise DomainError("cash_receipt_bizno_is_proof", number=identity.masked())
        return purpose


@dataclass(frozen=True, slots=True)
class CashReceipt:
    id: str
    kind: str
    sale_id: str
    receipt_no: str
    return_id: str | None
    cancels: str | None
    enterprise_id: str | None
    enterprise_name: str
    bizno: str | None
    amount: int
    identity_kind: str
    identity_number: str
    purpose: str
    voluntary: bool
    state: str
    approval_no: str | None
    business_day: str
    due_day: str
    created_at: str
    updated_at: str
    staff_name: str | None

    @property
    def identity(self) -> Identity:
        return identity_of(self.identity_kind, self.identity_number)

    @property
    def masked(self) -> str:
        return self.identity.masked()

    def payload(self) -> dict:
        """As `cash_receipt.changed` carries it (`sync.protocol.CashReceiptPayload`)."""
        return {"id": self.id, "kind": self.kind, "sale_id": self.sale_id,
                "receipt_no": self.receipt_no, "return_id": self.return_id,
                "cancels": self.cancels, "enterprise_name": self.enterprise_name,
                "bizno": self.bizno, "amount": self.amount, "identity_kind": self.identity_kind,
                "identity": self.identity_number, "purpose": self.purpose,
                "voluntary": self.voluntary, "state": self.state,
                "approval_no": self.approval_no, "business_day": self.business_day,
                "due_day": self.due_day, "created_at": self.created_at,
                "updated_at": self.updated_at}


def _from_row(r) -> CashReceipt:
    return CashReceipt(r["id"], r["kind"], r["sale_id"], r["receipt_no"], r["return_id"],
                       r["cancels"], r["enterprise_id"], r["enterprise_name"], r["bizno"],
                       r["amount"], r["identity_kind"], r["identity"], r["purpose"],
                       bool(r["voluntary"]), r["state"], r["approval_no"], r["business_day"],
                       r["due_day"], r["created_at"], r["updated_at"], r["staff_name"])


def rules(uow: UnitOfWork) -> Rules:
    """The till's rules (`pos.korea_rules`), from its `rules` setting; kept in the store's
    cache between transactions as the settings are (writing a setting clears it)."""
    from pos.services.settings import till_settings

    cached = uow.store.cache.get("rules")
    if cached is not None:
        return cached
    try:
        made = rules_from(till_settings(uow).rules)
    except DomainError:  # written by another version, or by hand: the defaults stand
        made = Rules()
    if not getattr(uow, "settings_changed", False):
        uow.store.cache["rules"] = made
    return made


def cash_like_parts(doc: Document, rules_: Rules) -> dict[str, int]:
    """{enterprise id: won} of a document's cash-like payments (positive on sales, negative on
    returns), shared out to its enterprises as the settlement shares them."""
    by_enterprise: dict[str, int] = {}
    for ln in doc.lines:
        by_enterprise[ln.enterprise_id] = by_enterprise.get(ln.enterprise_id, 0) + ln.amount
    kinds = {p.method: str(p.kind) for p in doc.payments}
    out = {}
    own = {p.enterprise_id for p in doc.parts if p.own_terminal}
    for eid, by_method in allocate(by_enterprise, doc.payments, own).items():
        won = sum(v for m, v in by_method.items() if kinds.get(m) in rules_.cash_like_kinds)
        if won:
            out[eid] = won
    return out


def _issuers(uow: UnitOfWork, doc: Document, rules_: Rules) -> list[dict]:
    """Who issues for this sale, with the cash-like amount each issues for and whether the
    trade must issue: each enterprise, or the stall's operator (consignment)."""
    from pos.services.settings import till_settings

    parts = cash_like_parts(doc, rules_)
    if not parts:
        return []
    sold: dict[str, int] = {}
    names: dict[str, str] = {}
    for ln in doc.lines:
        sold[ln.enterprise_id] = sold.get(ln.enterprise_id, 0) + ln.amount
        names.setdefault(ln.enterprise_id, ln.enterprise_name)
    found = {r.id: dict(r._mapping) for r in uow.conn.execute(  # one query, on the selling path
        _ENTERPRISE_FLAGS, {"ids": list(names)})}
    firms = {eid: found.get(eid) or {"name": name, "bizno": None,
                                     "cash_receipt_mandatory": False}
             for eid, name in names.items()}
    if rules_.seller_model == "consignment":
        store = till_settings(uow).store
        must = any(bool(firms[e].get("cash_receipt_mandatory")) for e in firms) \
            and doc.totals.total >= rules_.mandatory_min
        from pos.bizno import is_valid, normalize

        name = store.get("name") or "-"
        bizno = store.get("bizno") or ""
        return [{"enterprise_id": None, "enterprise_name": name,
                 "bizno": normalize(bizno) if is_valid(bizno) else None,
                 "amount": sum(parts.values()), "must": must}]
    out = []
    for eid, won in parts.items():
        f = firms[eid]
        out.append({"enterprise_id": eid, "enterprise_name": f.get("name") or eid,
                    "bizno": f.get("bizno"), "amount": won,
                    "must": bool(f.get("cash_receipt_mandatory"))
                    and sold.get(eid, 0) >= rules_.mandatory_min})
    return out


def _due(day: str, rules_: Rules) -> str:
    return (date.fromisoformat(day) + timedelta(days=rules_.issue_days)).isoformat()


def _insert(uow: UnitOfWork, values: dict) -> CashReceipt:
    now = uow.clock.now().isoformat()
    from pos.services.staff import actor_columns

    row = {"id": uow.new_id(), "created_at": now, "updated_at": now, "approval_no": None,
           "return_id": None, "cancels": None,
           "staff_name": actor_columns(uow)["staff_name"], **values}
    uow.conn.execute(t.cash_receipts.insert(), row)
    receipt = _from_row(row)
    _changed(uow, receipt)
    return receipt


def _changed(uow: UnitOfWork, receipt: CashReceipt) -> None:
    append_event(uow, event_type="cash_receipt.changed", payload=receipt.payload())
    uow.note(events.CASH_RECEIPTS)


def for_sale(uow: UnitOfWork, doc: Document, ask: Ask | None) -> list[CashReceipt]:
    """The requests of a sale just written (in its transaction): one per issuer for the number
    given; a self-issue where the trade must issue and no number was given. None when the sale
    has no cash-like part."""
    if doc.kind != DocKind.SALE:
        return []
    rules_ = rules(uow)
    identity = ask.identity() if ask is not None else None
    purpose = ask.purpose_for(identity) if identity is not None else "deduction"
    if identity is None and doc.totals.total < rules_.mandatory_min:
        return []  # no number, and no part of it can be a mandatory issue: nothing to look up
    made = []
    for issuer in _issuers(uow, doc, rules_):
        if identity is None and not issuer["must"]:
            continue
        who = identity or SELF_ISSUE
        made.append(_insert(uow, {
            "kind": "issue", "sale_id": doc.id, "receipt_no": doc.receipt_no,
            "enterprise_id": issuer["enterprise_id"],
            "enterprise_name": issuer["enterprise_name"], "bizno": issuer["bizno"],
            "amount": issuer["amount"], "identity_kind": who.kind, "identity": who.number,
            "purpose": purpose if identity is not None else "deduction",
            # the NTS number given on purpose is a self-issue too: nobody's own receipt
            "voluntary": who.kind == "self", "state": "to_issue",
            "business_day": doc.business_day, "due_day": _due(doc.business_day, rules_)}))
    return made


def must_ask(uow: UnitOfWork, lines, payments) -> bool:
    """Whether a sale with these priced lines and payments (`pos.domain.settle`) has a part a
    mandatory-issue trade must issue for: the till asks for a number before it self-issues."""
    from pos.domain import TaxPart, TaxStatus, Totals
    from pos.services.sales import terminals_of

    total = sum(ln.amount for ln in lines)
    own = set(terminals_of(uow)) & {ln.enterprise_id for ln in lines}
    doc = Document(id="", kind=DocKind.SALE, device_id="", seq=0, receipt_no="",
                   business_day="", created_at="", hlc="",
                   totals=Totals(total, 0, 0, total, 0, 0, 0, 0),
                   lines=list(lines), payments=list(payments),
                   parts=[TaxPart(e, "", TaxStatus.GENERAL, 0, 0, 0, 0, True) for e in own])
    return any(i["must"] for i in _issuers(uow, doc, rules(uow)))


def request_later(uow: UnitOfWork, *, receipt_no: str, ask: Ask) -> list[CashReceipt]:
    """A request made after the sale, from the history (within `Rules.issue_days` of it). A
    sale already with requests in force is refused; so is one with nothing left to issue for."""
    from pos.services.sales import get_document

    doc = get_document(uow, receipt_no=receipt_no)
    if doc.kind != DocKind.SALE:
        raise DomainError("not_a_sale", value=doc.receipt_no)
    identity, purpose = ask.checked()
    rules_ = rules(uow)
    today = uow.clock.now().date()
    if today > date.fromisoformat(doc.business_day) + timedelta(days=rules_.issue_days):
        raise DomainError("cash_receipt_too_late", receipt_no=doc.receipt_no,
                          days=rules_.issue_days)
    existing = [r for r in of_sale(uow, sale_id=doc.id)
                if r.kind == "issue" and r.state != "cancelled" and not r.voluntary]
    if existing:
        raise DomainError("cash_receipt_exists", receipt_no=doc.receipt_no,
                          number=existing[0].masked)
    if doc.refunds:
        raise DomainError("cash_receipt_after_return", receipt_no=doc.receipt_no)
    done = [r for r in of_sale(uow, sale_id=doc.id)
            if r.kind == "issue" and r.voluntary and r.state == "issued"]
    if done:  # the customer claims a self-issued one on 홈택스: issuing another doubles it
        raise DomainError("cash_receipt_self_issued", receipt_no=doc.receipt_no,
                          approval=done[0].approval_no or "")
    made = []
    voluntary = {r.enterprise_id: r for r in of_sale(uow, sale_id=doc.id)
                 if r.voluntary and r.state == "to_issue"}
    for issuer in _issuers(uow, doc, rules_):
        self_issue = voluntary.get(issuer["enterprise_id"])
        if self_issue is not None:  # the customer came back with a number before it was issued
            _set_state(uow, self_issue, "cancelled")
        made.append(_insert(uow, {
            "kind": "issue", "sale_id": doc.id, "receipt_no": doc.receipt_no,
            "enterprise_id": issuer["enterprise_id"],
            "enterprise_name": issuer["enterprise_name"], "bizno": issuer["bizno"],
            "amount": issuer["amount"], "identity_kind": identity.kind,
            "identity": identity.number, "purpose": purpose,
            "voluntary": identity.kind == "self", "state": "to_issue",
            "business_day": doc.business_day,
            "due_day": _due(doc.business_day, rules_)}))
    if not made:
        raise DomainError("cash_receipt_no_cash", receipt_no=doc.receipt_no)
    return made


def for_return(uow: UnitOfWork, ret: Document, sale_id: str) -> list[CashReceipt]:
    """A void or refund just written (in its transaction) of a sale with requests: what it
    gives back in cash-like money cancels them, per issuer."""
    if ret.kind == DocKind.SALE:
        return []
    standing = [r for r in of_sale(uow, sale_id=sale_id)
                if r.kind == "issue" and r.state != "cancelled"]
    if not standing:
        return []
    rules_ = rules(uow)
    back = cash_like_parts(ret, rules_)
    if rules_.seller_model == "consignment" or any(r.enterprise_id is None for r in standing):
        back = {None: sum(back.values())} if back else {}
    cancelled = {}
    for r in of_sale(uow, sale_id=sale_id):
        if r.kind == "cancel" and r.cancels:
            cancelled[r.cancels] = cancelled.get(r.cancels, 0) + r.amount
    made = []
    for r in standing:
        left = r.amount - cancelled.get(r.id, 0)
        won = min(left, -back.get(r.enterprise_id, 0))
        if won <= 0:
            continue
        if r.state == "to_issue" and not cancelled.get(r.id):
            # never issued: nothing to cancel at the NTS; what the customer kept gets one
            # receipt of its own amount in its place
            _set_state(uow, r, "cancelled")
            if left > won:
                made.append(_insert(uow, {
                    "kind": "issue", "sale_id": sale_id, "receipt_no": r.receipt_no,
                    "enterprise_id": r.enterprise_id, "enterprise_name": r.enterprise_name,
                    "bizno": r.bizno, "amount": left - won, "identity_kind": r.identity_kind,
                    "identity": r.identity_number, "purpose": r.purpose,
                    "voluntary": r.voluntary, "state": "to_issue",
                    "business_day": r.business_day, "due_day": r.due_day}))
            continue
        made.append(_insert(uow, {
            "kind": "cancel", "sale_id": sale_id, "receipt_no": r.receipt_no,
            "return_id": ret.id, "cancels": r.id, "enterprise_id": r.enterprise_id,
            "enterprise_name": r.enterprise_name, "bizno": r.bizno, "amount": won,
            "identity_kind": r.identity_kind, "identity": r.identity_number,
            "purpose": r.purpose, "voluntary": r.voluntary, "state": "to_issue",
            "business_day": ret.business_day, "due_day": _due(ret.business_day, rules_)}))
    return made


def _set_state(uow: UnitOfWork, r: CashReceipt, state: str, approval_no: str | None = None):
    now = uow.clock.now().isoformat()
    values = {"state": state, "updated_at": now}
    if approval_no is not None:
        values["approval_no"] = approval_no
    uow.conn.execute(t.cash_receipts.update().where(t.cash_receipts.c.id == r.id).values(**values))
    changed = _from_row({**_row_dict(r), **values})
    _changed(uow, changed)
    return changed


def _row_dict(r: CashReceipt) -> dict:
    return {"id": r.id, "kind": r.kind, "sale_id": r.sale_id, "receipt_no": r.receipt_no,
            "return_id": r.return_id, "cancels": r.cancels, "enterprise_id": r.enterprise_id,
            "enterprise_name": r.enterprise_name, "bizno": r.bizno, "amount": r.amount,
            "identity_kind": r.identity_kind, "identity": r.identity_number,
            "purpose": r.purpose, "voluntary": r.voluntary, "state": r.state,
            "approval_no": r.approval_no, "business_day": r.business_day,
            "due_day": r.due_day, "created_at": r.created_at, "updated_at": r.updated_at,
            "staff_name": r.staff_name}


def short_id(receipt_id: str) -> str:
    """The id as lists show it: its last 8 characters (the random part of the id: its start
    is the time it was made, the same for requests made together)."""
    return receipt_id[-8:]


def find(uow: UnitOfWork, ref: str) -> CashReceipt:
    """A request by its id or its end (8 characters or more, as the list shows it)."""
    ref = (ref or "").strip().lower() if isinstance(ref, str) else ""
    if len(ref) < 8 or len(ref) > 36:
        raise DomainError("cash_receipt_unknown", value=ref[:40])
    rows = uow.conn.execute(select(t.cash_receipts).where(
        t.cash_receipts.c.id.endswith(ref, autoescape=True)).limit(2)).mappings().all()
    if len(rows) != 1:
        raise DomainError("cash_receipt_unknown", value=ref)
    return _from_row(rows[0])


def mark_issued(uow: UnitOfWork, *, ref: str, approval_no: str) -> CashReceipt:
    """The enterprise issued it: the approval number it got (as printed by the issuing
    service; letters, digits, hyphens)."""
    r = find(uow, ref)
    if r.state == "cancelled":
        raise DomainError("cash_receipt_cancelled", value=short_id(r.id))
    if r.state == "issued":  # an approval number is the NTS's record: not typed over
        raise DomainError("cash_receipt_already_issued", value=short_id(r.id),
                          approval=r.approval_no or "")
    approval = approval_no.strip() if isinstance(approval_no, str) else ""
    if not approval or len(approval) > APPROVAL_LIMIT or not approval.isascii() \
            or not all(ch.isalnum() or ch == "-" for ch in approval):
        shown = "".join(ch if ch.isprintable() else "\ufffd" for ch in approval[:40])
        raise DomainError("cash_receipt_approval_invalid", value=shown)
    return _set_state(uow, r, "issued", approval)


def of_sale(uow: UnitOfWork, *, sale_id: str) -> list[CashReceipt]:
    return [_from_row(r) for r in uow.conn.execute(
        select(t.cash_receipts).where(t.cash_receipts.c.sale_id == sale_id)
        .order_by(t.cash_receipts.c.created_at, t.cash_receipts.c.id)).mappings()]


def of_document(uow: UnitOfWork, doc_id: str, kind: str) -> list[CashReceipt]:
    """What a document's receipt shows: a sale's requests, a return's cancellations."""
    column = t.cash_receipts.c.sale_id if kind == DocKind.SALE else t.cash_receipts.c.return_id
    q = select(t.cash_receipts).where(column == doc_id)
    if kind == DocKind.SALE:
        q = q.where(t.cash_receipts.c.kind == "issue")
    return [_from_row(r) for r in uow.conn.execute(
        q.order_by(t.cash_receipts.c.created_at, t.cash_receipts.c.id)).mappings()]


def list_requests(uow: UnitOfWork, *, enterprise: str | None = None,
                  state: str | None = None, day_from: str | None = None,
                  day_to: str | None = None) -> list[CashReceipt]:
    """Requests and cancellations, oldest first; `enterprise` by name, id or number."""
    q = select(t.cash_receipts).order_by(t.cash_receipts.c.business_day,
                                         t.cash_receipts.c.created_at, t.cash_receipts.c.id)
    if state is not None:
        if state not in STATES:
            raise DomainError("cash_receipt_state_invalid", value=str(state)[:20])
        q = q.where(t.cash_receipts.c.state == state)
    if day_from:
        q = q.where(t.cash_receipts.c.business_day >= day_from)
    if day_to:
        q = q.where(t.cash_receipts.c.business_day <= day_to)
    if enterprise is not None:
        from pos.services.catalog import find_enterprise

        found = find_enterprise(uow, ref=enterprise)
        if found is None:
            raise DomainError("enterprise_unknown", value=enterprise[:40])
        q = q.where(t.cash_receipts.c.enterprise_id == found["id"])
    return [_from_row(r) for r in uow.conn.execute(q).mappings()]


# --- the export: one CSV per issuer ----------------------------------------------------------

EXPORT_COLUMNS = ("request_id", "kind", "state", "receipt_no", "business_day", "due_day",
                  "amount", "identity", "identity_kind", "purpose", "voluntary",
                  "cancels_approval_no", "approval_no", "issuer", "issuer_bizno")
PURPOSE_WORDS = {"deduction": "소득공제", "proof": "지출증빙"}


def export(uow: UnitOfWork, folder, *, state: str | None = "to_issue",
           day_from: str | None = None, day_to: str | None = None) -> list[tuple]:
    """Write one CSV file per issuer into `folder` (UTF-8 with BOM, as `pos.export`): the
    requests (by default those still to issue) with the customer's number in full, as typed
    into the issuing service; a cancellation carries the approval number of the request it
    cancels. Returns [(path, rows)]. The file names: `cash-receipts_<issuer>_<bizno>.csv`."""
    from pathlib import Path

    from pos.export import write_csv

    rows = list_requests(uow, state=state, day_from=day_from, day_to=day_to)
    approvals = {}
    cancelled_ids = [r.cancels for r in rows if r.cancels]
    for k in range(0, len(cancelled_ids), 500):
        approvals.update(uow.conn.execute(
            select(t.cash_receipts.c.id, t.cash_receipts.c.approval_no)
            .where(t.cash_receipts.c.id.in_(cancelled_ids[k:k + 500]))).all())
    by_issuer: dict[tuple, list[CashReceipt]] = {}
    for r in rows:
        by_issuer.setdefault((r.enterprise_name, r.bizno or ""), []).append(r)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    used: set[str] = set()
    for (name, bizno), items in sorted(by_issuer.items()):
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "_"
        stem = f"cash-receipts_{safe}_{bizno.replace('-', '') or 'no-bizno'}"
        n, unique = 1, stem
        while unique.lower() in used:  # "X/Y" and "X:Y" are both X_Y: neither is lost
            n += 1
            unique = f"{stem}_{n}"
        used.add(unique.lower())
        path = folder / f"{unique}.csv"
        write_csv(path, EXPORT_COLUMNS, (
            [r.id, r.kind, r.state, r.receipt_no, r.business_day, r.due_day, r.amount,
             r.identity.formatted(), r.identity_kind, PURPOSE_WORDS[r.purpose],
             "Y" if r.voluntary else "N", approvals.get(r.cancels) or "" if r.cancels else "",
             r.approval_no or "", r.enterprise_name, bizno] for r in items))
        written.append((path, len(items)))
    return written
