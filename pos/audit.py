"""The audit log: an append-only record of sensitive actions at this till, hash-chained.

Each entry keeps when, on which device, by whom (the staff member signed in, `Store.actor`) and
what (an action code, its subject such as a receipt number, details as JSON). Its `hash` is
SHA-256 over those fields and the previous entry's hash, so an entry changed in the file, taken
out of the middle or put in between no longer chains, and `jangteo check` says which
(`verify`). Each entry is also an `audit.logged` event in the outbox carrying its hash, and
the server keeps every one it received: entries cut off the end together with their outbox rows
still leave the outbox's numbering (and the marks outside the file) and the server's copy
behind.

It is written in the same transaction as the action it records: a void and its entry land
together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from pos import tables as t
from pos.outbox import append_event
from pos.store import UnitOfWork

GENESIS = "0" * 64

# What is recorded (the protocol's `AuditPayload.action` takes exactly these).
ACTIONS = (
    "sign_in", "sign_out", "pin_failed", "staff_added", "staff_changed",
    "approval", "void", "refund", "discount", "price_edit", "open_price", "no_sale",
    "cash_move", "shift_difference", "catalog_edit", "stock_move", "settings_changed",
    "accounts_on",
    "accounts_off", "permissions_changed", "clock_jump", "restore",
)


@dataclass(frozen=True, slots=True)
class Entry:
    n: int
    at: str
    device_id: str
    staff_id: str | None
    staff_name: str | None
    action: str
    subject: str
    details: dict
    prev_hash: str
    hash: str


def chain_hash(prev: str, *, n: int, at: str, device_id: str, staff_id: str | None,
               staff_name: str | None, action: str, subject: str, details: dict) -> str:
    body = json.dumps([n, at, device_id, staff_id, staff_name, action, subject, details, prev],
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# what a text in an entry may not hold (the protocol refuses it, as any other text it carries):
# controls, line breaks and direction overrides become spaces
_UNSENDABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SECRET_KEYS = frozenset({"pin", "pin_hash", "pin_salt", "salt", "hash", "password", "secret",
                         "token"})


def _sendable(value):
    """Details as the server takes them: one-line texts, no fractions (a share as text)."""
    if isinstance(value, str):
        return " ".join(_UNSENDABLE.sub(" ", value).split())
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        for key in value:
            if str(key).strip().lower() in SECRET_KEYS:
                raise ValueError(f"an audit entry never carries a secret ({key!r})")
        return {_sendable(str(k)): _sendable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sendable(v) for v in value]
    return value


def record(uow: UnitOfWork, action: str, subject: str = "", details: dict | None = None, *,
           staff=None) -> Entry:
    """Append one entry (and its outbox event) in the caller's transaction. `staff`: who did
    it, when not the person signed in (a failed PIN names the person it was typed for)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    who = staff if staff is not None else getattr(uow.store, "actor", None)
    last = uow.conn.execute(select(t.audit_log.c.n, t.audit_log.c.hash)
                            .order_by(t.audit_log.c.n.desc()).limit(1)).first()
    n, prev = (last.n + 1, last.hash) if last else (1, GENESIS)
    wall = uow.clock.now()
    fields = dict(n=n, at=wall.isoformat(), device_id=uow.store.device["id"],
                  staff_id=who.id if who else None, staff_name=who.name if who else None,
                  action=action, subject=_sendable(str(subject))[:200],
                  details=_sendable(dict(details or {})))
    digest = chain_hash(prev, **fields)
    row = {**fields, "details": json.dumps(fields["details"], ensure_ascii=False,
                                           sort_keys=True),
           "prev_hash": prev, "hash": digest}
    uow.conn.execute(t.audit_log.insert(), row)
    append_event(uow, event_type="audit.logged", wall=wall,
                 payload={**fields, "prev_hash": prev, "hash": digest})
    return Entry(**fields, prev_hash=prev, hash=digest)


def _entry(r) -> Entry:
    return Entry(r.n, r.at, r.device_id, r.staff_id, r.staff_name, r.action, r.subject,
                 json.loads(r.details), r.prev_hash, r.hash)


def entries(uow: UnitOfWork, *, since: str | None = None, until: str | None = None,
            staff: str | None = None, action: str | None = None,
            limit: int | None = None) -> list[Entry]:
    """Entries in order; `since`/`until` compare with `at` as text (a day or an instant),
    `until` a day includes that whole day; `staff` a name."""
    q = select(t.audit_log).order_by(t.audit_log.c.n)
    if since:
        q = q.where(t.audit_log.c.at >= since)
    if until:
        q = q.where(t.audit_log.c.at < (until + "\uffff" if len(until) == 10 else until))
    if staff:
        q = q.where(t.audit_log.c.staff_name == staff)
    if action:
        q = q.where(t.audit_log.c.action == action)
    if limit:
        q = q.limit(limit)
    return [_entry(r) for r in uow.conn.execute(q)]


def verify(uow: UnitOfWork, *, limit: int = 50) -> list[tuple[str, str, str]]:
    """What is wrong with the chain, as (code, subject, detail): `audit_edited` (an entry's
    fields do not give its hash), `audit_chain` (it does not follow the entry before it: one
    was taken out or put in), `audit_unsent` (an entry without its outbox event, or an event
    whose entry is gone or differs). Reads the whole log: it is small (sensitive actions only).
    """
    problems: list[tuple[str, str, str]] = []
    prev, expected_n = GENESIS, 1
    hashes: dict[int, str] = {}
    rows: dict[int, dict] = {}
    for r in uow.conn.execute(select(t.audit_log).order_by(t.audit_log.c.n)):
        try:
            details = json.loads(r.details)
        except ValueError:
            details = None
        fields = dict(n=r.n, at=r.at, device_id=r.device_id, staff_id=r.staff_id,
                      staff_name=r.staff_name, action=r.action, subject=r.subject,
                      details=details)
        if r.n != expected_n:
            problems.append(("audit_chain", f"#{r.n}",
                             f"entries {expected_n}..{r.n - 1} are missing"))
        if r.prev_hash != prev:
            problems.append(("audit_chain", f"#{r.n}", "does not follow the entry before it"))
        if details is None or chain_hash(r.prev_hash, **fields) != r.hash:
            problems.append(("audit_edited", f"#{r.n}", f"{r.action} {r.subject}".strip()))
        hashes[r.n] = r.hash
        rows[r.n] = {**fields, "prev_hash": r.prev_hash, "hash": r.hash}
        prev, expected_n = r.hash, r.n + 1
    sent = uow.conn.execute(select(t.outbox.c.seq, t.outbox.c.payload).where(
        t.outbox.c.event_type == "audit.logged",
        t.outbox.c.device_id == uow.store.device["id"]))
    seen = set()
    for seq, payload in sent:
        try:
            body = json.loads(payload or "{}")
            n, digest = int(body["n"]), str(body["hash"])
        except (ValueError, KeyError, TypeError):
            problems.append(("audit_unsent", f"event {seq}", "unreadable"))
            continue
        seen.add(n)
        if hashes.get(n) is None:
            problems.append(("audit_chain", f"#{n}", "taken out of the log (its event remains)"))
        elif hashes[n] != digest or body != rows[n]:  # the event as it goes to the server
            problems.append(("audit_edited", f"#{n}", "its event differs from the entry"))
    for n in sorted(set(hashes) - seen):
        problems.append(("audit_unsent", f"#{n}", "no outbox event"))
    return problems[:limit]


def count(uow: UnitOfWork) -> int:
    return uow.conn.execute(select(func.count()).select_from(t.audit_log)).scalar() or 0


# How an entry's details are said to a person (`describe`): each key's word, and its value as a
# won amount, a permission, a role or a list of permissions; anything else as it is.
_WON = ("amount", "total", "price", "charged", "difference", "discount_won", "difference_won")
_KEYS = ("right", "staff", "approver", "amount", "percent", "reason", "original", "total",
         "role", "in_a_row", "note", "product", "price", "charged", "difference", "names",
         "kept", "lacking", "what", "new", "active", "allowed", "discount_won",
         "discount_percent", "difference_won", "new_pin", "name", "job", "typed_by", "now", "change", "stock",
         "added", "updated", "enterprises", "skipped")


def describe(entry: Entry, lang: str = "ko") -> str:
    """The entry's details in the person's language: "권한: 판매 취소, 직원: 이계산, …"."""
    from pos.i18n import tr
    from pos.money import format_won

    def value(key, v):
        if key in _WON and isinstance(v, int) and not isinstance(v, bool):
            return format_won(v, lang)
        if key == "right" and v in _RIGHTS:
            return tr(f"right_{v}", lang)
        if key == "allowed" and isinstance(v, list):
            return ", ".join(tr(f"right_{r}", lang) if r in _RIGHTS else str(r) for r in v) \
                or "—"
        if key == "role" and v in ("manager", "cashier"):
            return tr(f"role_{v}", lang)
        if key == "note" and v in ("clock_behind", "clock_ahead", "zone_differs"):
            return tr(f"audit_note_{v}", lang)
        if key == "percent":
            return f"{v}%"
        if isinstance(v, bool):
            return tr("audit_yes", lang) if v else tr("audit_no", lang)
        if isinstance(v, list):
            return ", ".join(str(x) for x in v)
        return str(v)

    parts = []
    for key, v in sorted(entry.details.items(), key=lambda kv: (
            _KEYS.index(kv[0]) if kv[0] in _KEYS else len(_KEYS), kv[0])):
        if v in ("", None):
            continue
        word = tr(f"audit_key_{key}", lang) if key in _KEYS else key
        parts.append(f"{word}: {value(key, v)}")
    return ", ".join(parts)


_RIGHTS = ("void", "refund", "discount", "open_price", "price_edit", "no_sale", "cash_move",
           "close_difference", "stock", "catalog", "settings", "staff")
