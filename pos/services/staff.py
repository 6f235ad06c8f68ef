"""Staff accounts, PINs, permissions and manager approval.

Off by default (`accounts_on`): a stall of one person works as it always has, nobody signs in,
documents carry no name. On: every person has a name, a role (`manager`, `cashier`) and a PIN
of 4 to 6 digits, kept only as an scrypt hash with a salt of its own (`PIN_KDF`); the till
knows who is signed in (`Store.actor`, set by `sign_in` once its transaction commits) and every
sale, void, refund, cash movement and shift carries that name.

Permissions: a manager may do everything; what a cashier may do is one record set by a
manager (`CashierRights`, setting `cashier_rights`). A cashier who needs what they may not do
asks a manager, who types their PIN on the spot: the caller puts the manager on the unit of
work (`uow.approver`) and tries again, and `need` records the approval with both names in the
audit log. The sales and shift services call `need` themselves; catalog and settings edits are
checked where a person makes them (the GUI's screens and the command line), because the sync
worker applies the organizer's catalog and settings through the same services.

Wrong PINs: after 3 in a row the person's next try is heard only after a wait that doubles
(1 s, 2 s, 4 s … 60 s at most): slow for someone guessing, never a lockout; another person, a
manager, can always sign in and sell.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from pos import audit, events, tables as t
from pos.domain import DomainError, clean_text
from pos.i18n import Phrase
from pos.outbox import append_event
from pos.services.settings import get_setting, set_setting
from pos.store import UnitOfWork

ROLES = ("manager", "cashier")
NAME_LIMIT = 40
# scrypt with 16 MiB of memory: ≈0.1 s on a laptop for the person, the same for each guess of
# someone who took the file (bench/bench_pin.py measures it against bare hashlib.scrypt).
PIN_KDF = {"n": 2 ** 14, "r": 8, "p": 1}
_MAXMEM = 64 * 1024 * 1024
FREE_TRIES = 3  # wrong PINs in a row before the wait starts
WAIT_MAX = 60  # seconds

# What a cashier may be allowed; a manager may do all of it, and manage staff.
RIGHTS = ("void", "refund", "discount", "open_price", "price_edit", "no_sale", "cash_move",
          "close_difference", "stock", "catalog", "settings")


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    name: str
    role: str
    enterprise_id: str | None = None
    active: bool = True

    @property
    def manager(self) -> bool:
        return self.role == "manager"


@dataclass(frozen=True)
class CashierRights:
    """What a cashier may do without asking a manager. `discount`, `close_difference`: up to
    the limits (a discount of at most `discount_won` won and `discount_percent` % of the
    sale; a cash difference of at most `difference_won` either way)."""

    allowed: frozenset = field(default_factory=lambda: frozenset(
        {"discount", "open_price", "close_difference", "stock"}))
    discount_won: int = 5000
    discount_percent: int = 10
    difference_won: int = 1000

    def as_json(self) -> dict:
        return {**asdict(self), "allowed": sorted(self.allowed)}


@dataclass(frozen=True, slots=True)
class PinCheck:
    staff: Staff | None  # who it is; None: wrong PIN, or too soon after wrong ones
    wait: int = 0  # seconds before this person's next PIN is heard


def accounts_on(uow: UnitOfWork) -> bool:
    return get_setting(uow, "staff_accounts", False) is True


def cashier_rights(uow: UnitOfWork) -> CashierRights:
    stored = get_setting(uow, "cashier_rights")
    if not isinstance(stored, dict):
        return CashierRights()
    base = CashierRights()
    try:
        allowed = frozenset(r for r in stored.get("allowed", base.allowed) if r in RIGHTS)
        return CashierRights(allowed, *(_limit(stored.get(k, getattr(base, k)))
                                        for k in ("discount_won", "discount_percent",
                                                  "difference_won")))
    except (TypeError, ValueError):
        return base


def _limit(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10 ** 9:
        raise ValueError(value)
    return value


def set_cashier_rights(uow: UnitOfWork, rights: CashierRights) -> None:
    need(uow, "settings")
    if set(rights.allowed) - set(RIGHTS):
        raise DomainError("setting_invalid", name="cashier_rights")
    try:
        for k in ("discount_won", "discount_percent", "difference_won"):
            _limit(getattr(rights, k))
    except ValueError:
        raise DomainError("setting_invalid", name="cashier_rights") from None
    if rights.discount_percent > 100:
        raise DomainError("setting_invalid", name="cashier_rights")
    set_setting(uow, "cashier_rights", rights.as_json())
    audit.record(uow, "permissions_changed", "", rights.as_json())


# --- people ---------------------------------------------------------------------------------

def _staff(r) -> Staff:
    return Staff(r.id, r.name, r.role, r.enterprise_id, bool(r.active))


def list_staff(uow: UnitOfWork, *, active_only: bool = False) -> list[Staff]:
    q = select(t.staff).order_by(t.staff.c.name)
    if active_only:
        q = q.where(t.staff.c.active.is_(True))
    return [_staff(r) for r in uow.conn.execute(q)]


def find_staff(uow: UnitOfWork, ref: str) -> Staff:
    """A person by id or name (names compare without case and outer spaces)."""
    ref = (ref or "").strip()
    row = uow.conn.execute(select(t.staff).where(t.staff.c.id == ref)).first()
    if row is None:
        key = name_key(ref)
        row = next((r for r in uow.conn.execute(select(t.staff))
                    if key and name_key(r.name) == key), None)
    if row is None:
        raise DomainError("staff_unknown", value=ref[:40])
    return _staff(row)


def _check_pin(pin) -> str:
    if not isinstance(pin, str) or not (4 <= len(pin) <= 6) or not all(
            "0" <= c <= "9" for c in pin):
        raise DomainError("pin_invalid")
    return pin


def _hash(pin: str, salt: bytes, kdf: dict) -> str:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=kdf["n"], r=kdf["r"], p=kdf["p"],
                          maxmem=_MAXMEM, dklen=32).hex()


def _kdf_text(kdf: dict) -> str:
    return f"scrypt n={kdf['n']} r={kdf['r']} p={kdf['p']}"


def _kdf_of(text: str) -> dict:
    parts = dict(p.split("=") for p in text.split()[1:])
    return {k: int(parts[k]) for k in ("n", "r", "p")}


def _pin_values(uow: UnitOfWork, pin: str) -> dict:
    salt = os.urandom(16)
    return {"pin_salt": salt.hex(), "pin_hash": _hash(_check_pin(pin), salt, PIN_KDF),
            "pin_kdf": _kdf_text(PIN_KDF), "failed": 0, "wait_until": None}


def name_key(name: str) -> str:
    """What two names that look the same share: NFKC (full-width letters, composed and
    decomposed Hangul), without format characters (a zero-width space), spaces or case, so
    "이 계산", "이계산" and "이\u200b계산" are one person's name on the lock screen."""
    folded = unicodedata.normalize("NFKC", name)
    return "".join(c for c in folded if not c.isspace()
                   and unicodedata.category(c) != "Cf").casefold()


def _clean_name(uow: UnitOfWork, name, staff_id: str | None = None) -> str:
    name = clean_text(name if isinstance(name, str) else "", limit=NAME_LIMIT)
    name = unicodedata.normalize("NFC", "".join(
        c for c in name if unicodedata.category(c) != "Cf"))
    if not name_key(name):
        raise DomainError("staff_name_required")
    key = name_key(name)
    for other_id, other in uow.conn.execute(select(t.staff.c.id, t.staff.c.name)):
        if other_id != staff_id and name_key(other) == key:
            raise DomainError("staff_name_taken", name=other)
    return name


def _announce(uow: UnitOfWork, staff_id: str) -> None:
    """The person as the server keeps them: no PIN, no hash (protocol `StaffPayload`)."""
    r = uow.conn.execute(select(t.staff).where(t.staff.c.id == staff_id)).first()
    enterprise = None
    if r.enterprise_id:
        enterprise = uow.conn.execute(select(t.enterprises.c.name).where(
            t.enterprises.c.id == r.enterprise_id)).scalar()
    append_event(uow, event_type="staff.changed", payload={
        "id": r.id, "name": r.name, "role": r.role, "enterprise_name": enterprise,
        "active": bool(r.active), "updated_at": r.updated_at})
    uow.note(events.STAFF)


def add_staff(uow: UnitOfWork, *, name: str, role: str, pin: str,
              enterprise_id: str | None = None) -> Staff:
    """A new person. The first one is a manager (whatever `role` says): someone must be able
    to approve and manage. With accounts on, only a manager adds people."""
    first = not uow.conn.execute(select(t.staff.c.id).limit(1)).first()
    if not first:
        need(uow, "staff")
    if role not in ROLES:
        raise DomainError("role_unknown", value=str(role)[:20])
    if first:
        role = "manager"
    if enterprise_id is not None and not uow.conn.execute(select(t.enterprises.c.id).where(
            t.enterprises.c.id == enterprise_id)).first():
        raise DomainError("enterprise_unknown", value=enterprise_id)
    now = uow.clock.now().isoformat()
    row = {"id": uow.new_id(), "name": _clean_name(uow, name), "role": role,
           "enterprise_id": enterprise_id, "active": True, "created_at": now, "updated_at": now,
           **_pin_values(uow, pin)}
    uow.conn.execute(t.staff.insert(), row)
    person = Staff(row["id"], row["name"], role, enterprise_id)
    audit.record(uow, "staff_added", person.name, {"role": role})
    _announce(uow, person.id)
    return person


def update_staff(uow: UnitOfWork, *, staff_id: str, name: str | None = None,
                 role: str | None = None, active: bool | None = None,
                 enterprise_id: str | None | type(...) = ...) -> Staff:
    """Rename, change the role or enterprise of, disable or enable a person (a manager's
    action). The last active manager is never disabled or made a cashier."""
    need(uow, "staff")
    person = find_staff(uow, staff_id)
    changes: dict = {}
    if name is not None:
        changes["name"] = _clean_name(uow, name, person.id)
    if role is not None:
        if role not in ROLES:
            raise DomainError("role_unknown", value=str(role)[:20])
        changes["role"] = role
    if active is not None:
        changes["active"] = bool(active)
    if enterprise_id is not ...:
        changes["enterprise_id"] = enterprise_id
    changes = {k: v for k, v in changes.items() if getattr(person, k) != v}  # what changes
    after = replace(person, **changes)
    if person.manager and person.active and not (after.manager and after.active):
        managers = uow.conn.execute(select(func.count()).select_from(t.staff).where(
            t.staff.c.role == "manager", t.staff.c.active.is_(True))).scalar()
        if managers <= 1:
            raise DomainError("last_manager", name=person.name)
    if not changes:
        return person
    uow.conn.execute(t.staff.update().where(t.staff.c.id == person.id).values(
        **changes, updated_at=uow.clock.now().isoformat()))
    audit.record(uow, "staff_changed", after.name,
                 {k: v for k, v in changes.items() if k != "enterprise_id"})
    _announce(uow, person.id)
    store = uow.store

    def follow() -> None:  # the person signed in changed: they act as they now are
        if store.actor is not None and store.actor.id == after.id:
            store.actor = after if after.active else None

    uow.on_commit(follow)
    return after


def reset_pin(uow: UnitOfWork, *, staff_id: str, pin: str) -> None:
    """A new PIN for a person (a manager's action, or the person's own while signed in); the
    wait after wrong PINs ends."""
    person = find_staff(uow, staff_id)
    actor = uow.store.actor
    if not (actor is not None and actor.id == person.id):
        need(uow, "staff")
    uow.conn.execute(t.staff.update().where(t.staff.c.id == person.id).values(
        **_pin_values(uow, pin), updated_at=uow.clock.now().isoformat()))
    audit.record(uow, "staff_changed", person.name, {"new_pin": True})


# --- PINs, signing in ------------------------------------------------------------------------

def check_pin(uow: UnitOfWork, *, staff_id: str, pin: str) -> PinCheck:
    """Whether `pin` is this person's. A wrong one is counted and recorded in the audit log;
    commit the unit of work whatever the answer (the count must stay). Within the wait after
    wrong PINs nothing is tried: `PinCheck(None, wait)`."""
    row = uow.conn.execute(select(t.staff).where(t.staff.c.id == staff_id)).first()
    if row is None or not row.active:
        raise DomainError("staff_unknown", value=str(staff_id)[:40])
    now = uow.clock.now()
    if row.wait_until:
        left = (datetime.fromisoformat(row.wait_until) - now).total_seconds()
        if left > WAIT_MAX + 1:
            # the clock went back since the last wrong PIN: the wait starts again from now
            # (it never grows past its own length, and setting the clock back never ends it)
            wait = _wait_for(row.failed)
            uow.conn.execute(t.staff.update().where(t.staff.c.id == row.id).values(
                wait_until=(now + timedelta(seconds=wait)).isoformat()))
            audit.record(uow, "clock_jump", row.name, {"note": "clock_behind",
                                                       "now": now.isoformat()[:19]})
            return PinCheck(None, wait)
        if left > 0:
            return PinCheck(None, int(left + 0.999))
    good = isinstance(pin, str) and 4 <= len(pin) <= 6 and pin.isdigit() and pin.isascii()
    if good:
        digest = _hash(pin, bytes.fromhex(row.pin_salt), _kdf_of(row.pin_kdf))
        good = hmac.compare_digest(digest, row.pin_hash)
    person = _staff(row)
    if good:
        if row.failed:
            uow.conn.execute(t.staff.update().where(t.staff.c.id == row.id)
                             .values(failed=0, wait_until=None))
        return PinCheck(person)
    failed = row.failed + 1
    wait = _wait_for(failed)
    uow.conn.execute(t.staff.update().where(t.staff.c.id == row.id).values(
        failed=failed,
        wait_until=(now + timedelta(seconds=wait)).isoformat() if wait else None))
    details = {"in_a_row": failed}
    actor = uow.store.actor
    if actor is not None and actor.id != person.id:  # a cashier typed a manager's PIN
        details["typed_by"] = actor.name
    audit.record(uow, "pin_failed", person.name, details, staff=person)
    return PinCheck(None, wait)


def _wait_for(failed: int) -> int:
    """Seconds before the next PIN after `failed` wrong ones in a row."""
    return 0 if failed < FREE_TRIES else min(2 ** (failed - FREE_TRIES), WAIT_MAX)


def sign_in(uow: UnitOfWork, person: Staff) -> None:
    """`person` sells at this till from the commit on (their PIN was checked)."""
    store = uow.store
    audit.record(uow, "sign_in", person.name, staff=person)
    uow.note(events.STAFF)
    uow.on_commit(lambda: setattr(store, "actor", person))


def sign_out(uow: UnitOfWork) -> None:
    store = uow.store
    if store.actor is not None:
        audit.record(uow, "sign_out", store.actor.name)
    uow.note(events.STAFF)
    uow.on_commit(lambda: setattr(store, "actor", None))


def set_accounts(uow: UnitOfWork, on: bool) -> None:
    """Switch staff accounts on (there must be an active manager) or off (a manager does)."""
    if on == accounts_on(uow):
        return
    if on:
        if not uow.conn.execute(select(t.staff.c.id).where(
                t.staff.c.role == "manager", t.staff.c.active.is_(True))).first():
            raise DomainError("no_manager")
    else:
        need(uow, "staff")
    set_setting(uow, "staff_accounts", bool(on))
    audit.record(uow, "accounts_on" if on else "accounts_off")
    uow.note(events.STAFF)


# --- permissions ----------------------------------------------------------------------------

def may(uow: UnitOfWork, person: Staff | None, right: str, *, amount: int | None = None,
        percent: float | None = None) -> bool:
    """Whether `person` may do it without a manager (always, with accounts off)."""
    if not accounts_on(uow):
        return True
    if person is None:
        return False
    if person.manager:
        return True
    if right == "staff":
        return False
    rights = cashier_rights(uow)
    if right not in rights.allowed:
        return False
    if right == "discount":
        return ((amount or 0) <= rights.discount_won
                and (percent or 0) <= rights.discount_percent)
    if right == "close_difference":
        return abs(amount or 0) <= rights.difference_won
    return True


def need(uow: UnitOfWork, right: str, *, amount: int | None = None,
         percent: float | None = None, subject: str = "") -> None:
    """Go on if the person signed in may do it, or a manager approved it (`uow.approver`,
    recorded with both names); else `DomainError("needs_approval")` (the GUI then asks for a
    manager's PIN) or `sign_in_needed`."""
    if not accounts_on(uow):
        return
    actor = uow.store.actor
    if actor is None:
        raise DomainError("sign_in_needed")
    if may(uow, actor, right, amount=amount, percent=percent):
        return
    approver = getattr(uow, "approver", None)
    if approver is not None and approver.manager and approver.active:
        details = {"right": right, "staff": actor.name, "approver": approver.name}
        if amount is not None:
            details["amount"] = amount
        if percent is not None:
            details["percent"] = percent
        audit.record(uow, "approval", subject or right, details)
        return
    raise DomainError("needs_approval", right=Phrase(f"right_{right}"), name=actor.name)


def actor_columns(uow: UnitOfWork) -> dict:
    """The signed-in person's id and name, for a row that records who made it. With accounts
    on, nobody signed in cannot make one (`sign_in_needed`)."""
    actor = None
    if accounts_on(uow):
        actor = uow.store.actor
        if actor is None:
            raise DomainError("sign_in_needed")
    return {"staff_id": actor.id if actor else None, "staff_name": actor.name if actor else None}


def rights_json(uow: UnitOfWork) -> str:
    return json.dumps(cashier_rights(uow).as_json(), ensure_ascii=False)
