"""What the server does, independent of HTTP: enrollment, applying pushed events exactly once,
and the event's totals."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import uuid
from datetime import datetime, timedelta, timezone

from pydantic import ValidationError
from sqlalchemy import func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from pos import bizno as numbers
from pos import catalog_match
from pos.audit import GENESIS, chain_hash
from pos.money import MAX_STOCK
from sync import protocol as p
from sync.server import tables as t


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Refused(Exception):
    """A request the server will not carry out; `status` is the HTTP status to answer, `code`
    the kind of refusal (`protocol.Problem`)."""

    CODES = {401: "token_unknown", 403: "forbidden", 404: "not_found", 409: "conflict",
             422: "invalid", 429: "too_many_attempts"}

    def __init__(self, status: int, reason: str, code: str | None = None, *,
                 headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code or self.CODES.get(status, "refused")
        self.headers = headers


# -- organizer ---------------------------------------------------------------------------------

def create_event(conn: Connection, *, name: str, organization_id: str | None = None) -> str:
    """A new event, of `organization_id` when made in the organizer's console."""
    name = name.strip()
    # in the console, unique within the organization; through the API or the CLI (which see
    # every event), unique on the server, so that `--event NAME` finds one
    same = select(t.events.c.id).where(t.events.c.name == name)
    if organization_id:
        same = same.where(t.events.c.organization_id == organization_id)
    if conn.execute(same).first() is not None:
        raise Refused(409, f"there is already an event named {_said(name)}: event names are "
                           "unique (in their organization), since they are used to find the "
                           "event")
    eid = str(uuid.uuid4())
    owner = {"organization_id": organization_id} if organization_id else {}
    conn.execute(t.events.insert().values(id=eid, name=name, created_at=_now(), **owner))
    return eid


_NAMEABLE = re.compile(p.PLAIN)


def _said(ref: str) -> str:
    return repr(ref) if len(ref) <= 60 else repr(ref[:60]) + "…"


def find_event(conn: Connection, ref: str) -> dict:
    """The event of that id, else of that name (unique within an organization: a name two
    organizations use is refused, 409, rather than guessed)."""
    rows = []  # a reference no name or id can be (a NUL, 10 KB) is not even looked up
    if len(ref) <= 200 and _NAMEABLE.match(ref):
        rows = (conn.execute(select(t.events).where(t.events.c.id == ref)).mappings().all()
                or conn.execute(select(t.events).where(t.events.c.name == ref).limit(2))
                .mappings().all())
    if not rows:
        raise Refused(404, f"no event {_said(ref)}")
    if len(rows) > 1:
        raise Refused(409, f"more than one organization has an event named {_said(ref)}: give "
                           "the event's id", "ambiguous")
    return dict(rows[0])


def create_stall(conn: Connection, *, event_id: str, name: str) -> str:
    name = name.strip()
    if conn.execute(select(t.stalls.c.id).where(t.stalls.c.event_id == event_id,
                                                t.stalls.c.name == name)).first() is not None:
        raise Refused(409, f"the event already has a stall named {_said(name)}: stall names "
                           "are unique within their event")
    sid = str(uuid.uuid4())
    conn.execute(t.stalls.insert().values(id=sid, event_id=event_id, name=name,
                                          created_at=_now()))
    return sid


def find_stall(conn: Connection, ref: str, *, event_id: str | None = None) -> dict:
    """The stall of that id, else of that name (in `event_id` when given). Stall names are
    unique only within an event: a name two events use is refused (409) rather than guessed."""
    rows = []
    if len(ref) <= 200 and _NAMEABLE.match(ref):
        rows = conn.execute(select(t.stalls).where(t.stalls.c.id == ref)).mappings().all()
        if not rows:
            query = select(t.stalls).where(t.stalls.c.name == ref)
            if event_id is not None:
                query = query.where(t.stalls.c.event_id == event_id)
            rows = conn.execute(query.limit(2)).mappings().all()
        elif event_id is not None and rows[0]["event_id"] != event_id:
            rows = []
    if not rows:
        raise Refused(404, f"no stall {_said(ref)}")
    if len(rows) > 1:
        raise Refused(409, f"more than one event has a stall named {_said(ref)}: give the "
                           "stall's id (or, on the command line, --event)", "ambiguous")
    return dict(rows[0])


def list_events(conn: Connection, *, organization_id: str | None = None) -> list[dict]:
    """Every event (the API's and the CLI's), or one organization's (the console's)."""
    query = select(t.events).order_by(t.events.c.created_at)
    if organization_id is not None:
        query = query.where(t.events.c.organization_id == organization_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def list_stalls(conn: Connection, *, event_id: str) -> list[dict]:
    """The event's stalls, each with its enrolled devices and how far they have synced."""
    stalls = [dict(r) for r in conn.execute(select(t.stalls).where(t.stalls.c.event_id == event_id)
                                            .order_by(t.stalls.c.name)).mappings()]
    devices = conn.execute(select(t.devices)
                           .where(t.devices.c.stall_id.in_([s["id"] for s in stalls]))
                           .order_by(t.devices.c.device_code)).mappings().all()
    for stall in stalls:
        stall["devices"] = [_device_view(d) for d in devices if d["stall_id"] == stall["id"]]
    return stalls


def alerts(conn: Connection, *, event_id: str, after: int = 0,
           limit: int | None = None, open_only: bool = False) -> list[dict]:
    """The event's alerts after alert id `after`, oldest first, at most `limit` of them
    (`open_only`: those not resolved yet)."""
    a, dv, s = t.alerts.c, t.devices.c, t.stalls.c
    after = min(after, 2**31 - 1)  # alert ids are 32-bit: no alert is past that cursor
    query = (select(a.id, s.name.label("stall"), dv.device_code, a.seq, a.event_id, a.reason,
                    a.created_at, a.last_at, a.times, a.resolved_at, a.resolved_by)
             .select_from(t.alerts.join(t.devices, dv.id == a.device_id)
                          .join(t.stalls, s.id == dv.stall_id))
             .where(s.event_id == event_id, a.id > after).order_by(a.id))
    if open_only:
        query = query.where(a.resolved_at.is_(None))
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def resolve_alert(conn: Connection, *, event_id: str, alert_id: int, by: str) -> dict:
    """Mark one of the event's alerts resolved (the organizer looked into it); resolving it
    again keeps the first. The alert and its copies stay."""
    a, dv, s = t.alerts.c, t.devices.c, t.stalls.c
    in_event = (select(dv.id).join(t.stalls, s.id == dv.stall_id).where(s.event_id == event_id)
                .scalar_subquery())
    if not 0 < alert_id < 2**31:
        raise Refused(404, f"no alert {alert_id} in this event")
    found = conn.execute(select(a.id, a.resolved_at).where(a.id == alert_id,
                                                          a.device_id.in_(in_event))).first()
    if found is None:
        raise Refused(404, f"no alert {alert_id} in this event")
    if found.resolved_at is None:
        conn.execute(t.alerts.update().where(a.id == alert_id).values(
            resolved_at=_now(), resolved_by=str(by)[:254]))
    (row,) = [r for r in alerts(conn, event_id=event_id, after=alert_id - 1, limit=1)]
    return row


def stall_staff(conn: Connection, *, stall_id: str) -> list[dict]:
    """The people who sell at the stall's tills, as the tills last sent them (`staff.changed`),
    by till and name. Never a PIN or a hash: the tills never send one."""
    m, dv = t.staff_members.c, t.devices.c
    return [dict(r) for r in conn.execute(
        select(dv.device_code, m.staff_id.label("id"), m.name, m.role, m.enterprise_name,
               m.active, m.updated_at)
        .select_from(t.staff_members.join(t.devices, dv.id == m.device_id))
        .where(m.stall_id == stall_id).order_by(dv.device_code, m.name, m.staff_id)).mappings()]


def _day_or_refuse(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        if not (isinstance(value, str) and value.isascii() and re.match(p.DAY, value)):
            raise ValueError  # `\d` takes any script's digits: ２０２６ is no year here
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise Refused(422, f"{what} {_said(str(value))} is not a date (2026-11-22)") from None
    return value


def stall_cash_receipts(conn: Connection, *, stall_id: str, since: str | None = None,
                        until: str | None = None, state: str | None = None) -> list[dict]:
    """The cash receipt requests of the stall's tills, of the business days `since` to `until`,
    by day, till and time; the customer's number masked."""
    from pos.korea_rules import identity_of

    since, until = _day_or_refuse(since, "from"), _day_or_refuse(until, "to")
    if since and until and since > until:
        raise Refused(422, f"from {since} is after to {until}")
    if state is not None and state not in ("to_issue", "issued", "cancelled"):
        raise Refused(422, f"state {_said(str(state))} is not to_issue, issued or cancelled")
    c, dv = t.cash_receipts.c, t.devices.c
    query = (select(dv.device_code, c.receipt_id.label("id"), c.kind, c.receipt_no, c.cancels,
                    c.enterprise_name, c.bizno, c.amount, c.identity_kind, c.identity,
                    c.purpose, c.voluntary, c.state, c.approval_no, c.business_day, c.due_day,
                    c.updated_at)
             .select_from(t.cash_receipts.join(t.devices, dv.id == c.device_id))
             .where(c.stall_id == stall_id)
             .order_by(c.business_day, dv.device_code, c.created_at, c.receipt_id))
    if since:
        query = query.where(c.business_day >= since)
    if until:
        query = query.where(c.business_day <= until)
    if state:
        query = query.where(c.state == state)
    out = []
    for r in conn.execute(query).mappings():
        row = dict(r)
        row["identity"] = identity_of(row.pop("identity_kind"), row["identity"]).masked()
        out.append(row)
    return out


def event_vat(conn: Connection, *, event_id: str, since: str, until: str) -> list:
    """The VAT return figures (`pos.vat.VatFigures`) of the event's enterprises across all its
    tills, business days `since` to `until`: read from the documents as the tills sent them, by
    the till's own rules (`pos.vat.from_documents`), with the cash receipts the tills sent."""
    from types import SimpleNamespace

    from pos.korea_rules import Rules
    from pos.vat import from_documents

    since, until = _day_or_refuse(since, "from"), _day_or_refuse(until, "to")
    if not since or not until:
        raise Refused(422, "from and to are both needed (YYYY-MM-DD)")
    if since > until:
        raise Refused(422, f"from {since} is after to {until}")
    ev, d, s, dv = t.device_events.c, t.documents.c, t.stalls.c, t.devices.c
    in_event = (select(dv.id).join(t.stalls, s.id == dv.stall_id).where(s.event_id == event_id)
                .scalar_subquery())
    rows = conn.execute(
        select(ev.body).select_from(t.device_events.join(
            t.documents, (d.device_id == ev.device_id) & (d.seq == ev.seq)))
        .where(ev.device_id.in_(in_event), d.business_day.between(since, until))
        .order_by(ev.device_id, ev.seq)).scalars()
    docs = []
    for body in rows:
        doc = json.loads(body)["document"]
        docs.append(SimpleNamespace(
            kind=doc["kind"], business_day=doc["business_day"], lines=[SimpleNamespace(**{k: ln[k] for k in (
                "enterprise_id", "enterprise_name", "tax_class", "tax_status", "amount")})
                for ln in doc["lines"]],
            payments=[SimpleNamespace(method=pay["method"], kind=pay["kind"], amount=pay["amount"],
                                      enterprise_id=pay.get("enterprise_id"))
                      for pay in doc["payments"]],
            own_terminals=doc.get("own_terminals") or ()))
    c = t.cash_receipts.c
    receipts = conn.execute(
        select(c.enterprise_name, c.kind, c.state, c.amount)
        .where(c.stall_id.in_(select(s.id).where(s.event_id == event_id)),
               c.business_day.between(since, until))).all()
    e = t.enterprises.c
    # registration numbers as the organizer registered them, else as the tills' cash receipts
    # name their issuers
    info = {r.enterprise_name: {"bizno": r.bizno} for r in conn.execute(
        select(c.enterprise_name, func.max(c.bizno).label("bizno"))
        .where(c.stall_id.in_(select(s.id).where(s.event_id == event_id)),
               c.bizno.is_not(None)).group_by(c.enterprise_name))}
    info.update({r.name: {"bizno": r.bizno} for r in conn.execute(
        select(e.name, e.bizno).where(e.event_id == event_id, e.bizno.is_not(None)))})
    return from_documents(docs, [tuple(r) for r in receipts],
                          cash_like_kinds=Rules().cash_like_kinds, day_from=since,
                          day_to=until, info=info)


def audit_entries(conn: Connection, *, stall_id: str, since: str | None = None,
                  until: str | None = None, staff: str | None = None, after: int = 0,
                  limit: int | None = None) -> list[dict]:
    """The audit entries of the stall's tills in the order the server received them (each
    till's in its own order), after entry id `after`, at most `limit`: of the days `since` to
    `until` (the day each till wrote, both included), of the person named `staff`."""
    since, until = _day_or_refuse(since, "from"), _day_or_refuse(until, "to")
    if since and until and since > until:
        raise Refused(422, f"from {since} is after to {until}")
    if staff is not None and (not 1 <= len(staff) <= 40 or not _NAMEABLE.match(staff)
                              or not staff.strip()):
        raise Refused(422, f"staff {_said(staff)} is not a name a till can give (1 to 40 "
                           "characters, no control characters)")
    e, dv = t.audit_entries.c, t.devices.c
    after = min(after, 2**31 - 1)  # entry ids are 32-bit: no entry is past that cursor
    query = (select(e.id, dv.device_code, e.n, e.at, e.local_device_id.label("device_id"),
                    e.staff_id, e.staff_name, e.action, e.subject, e.details, e.prev_hash,
                    e.hash, e.problem)
             .select_from(t.audit_entries.join(t.devices, dv.id == e.device_id))
             .where(e.stall_id == stall_id, e.id > after).order_by(e.id))
    if since:
        query = query.where(e.day >= since)
    if until:
        query = query.where(e.day <= until)
    if staff is not None:
        query = query.where(e.staff_name == staff)
    if limit is not None:
        query = query.limit(limit)
    return [{**r, "details": json.loads(r["details"])} for r in conn.execute(query).mappings()]


def add_enterprise(conn: Connection, *, event_id: str, name: str, bizno: str | None = None,
                   commission_bp: int = 0) -> str:
    """An enterprise registered for the event: its name (unique in the event), registration
    number (checked) and the stall's commission in hundredths of a percent."""
    if bizno and not numbers.is_valid(bizno):
        raise Refused(422, f"{bizno!r} is not a valid business registration number")
    if not isinstance(commission_bp, int) or isinstance(commission_bp, bool) \
            or not 0 <= commission_bp <= 10000:
        raise Refused(422, "a commission is 0 to 100 %")
    bizno = numbers.normalize(bizno) if bizno else None
    taken = conn.execute(select(t.enterprises.c.id).where(
        t.enterprises.c.event_id == event_id, t.enterprises.c.name == name.strip())).first()
    if taken is not None:
        raise Refused(409, f"the event already has an enterprise named {name.strip()!r}")
    eid = str(uuid.uuid4())
    conn.execute(t.enterprises.insert().values(id=eid, event_id=event_id, name=name.strip(),
                                               bizno=bizno, commission_bp=commission_bp))
    return eid


def event_enterprises(conn: Connection, *, event_id: str) -> list[dict]:
    e = t.enterprises.c
    return [dict(r) for r in conn.execute(select(t.enterprises).where(e.event_id == event_id)
                                          .order_by(e.name)).mappings()]


def enrollment_codes(conn: Connection, *, stall_id: str) -> list[dict]:
    """The stall's codes not used, cancelled or expired: when each expires and the till code
    it gives (the codes themselves are kept only hashed)."""
    c = t.enrollment_codes.c
    return [dict(r) for r in conn.execute(
        select(c.expires_at, c.device_code).where(
            c.stall_id == stall_id, c.used_at.is_(None), c.cancelled_at.is_(None),
            c.expires_at > int(time.time())).order_by(c.expires_at)).mappings()]


def get_enterprise(conn: Connection, enterprise_id: str) -> dict:
    row = conn.execute(select(t.enterprises).where(t.enterprises.c.id == enterprise_id)
                       ).mappings().first()
    if row is None:
        raise Refused(404, f"no enterprise {enterprise_id!r}")
    return dict(row)


def device_code(conn: Connection, *, stall_id: str, valid_hours: float = 72,
                till: str | None = None) -> str:
    """A one-time enrollment code; the server keeps only its hash. `till`: the device code
    the till enrolling with it gets (refused while an active till of the stall has it)."""
    if till is not None:
        if not isinstance(till, str) or not re.match(p.DEVICE_CODE, till):
            raise Refused(422, f"a device code is a capital letter, then 1 to 5 capitals or "
                               f"digits (A01), not {_said(str(till))}", "invalid")
        _named_code_free(conn, stall_id, till)
    code = "-".join(secrets.token_hex(2).upper() for _ in range(3))  # e.g. 4F2A-9C01-77BE
    conn.execute(t.enrollment_codes.insert().values(
        code_hash=digest_of(code), stall_id=stall_id,
        expires_at=int(time.time() + valid_hours * 3600), used_at=None, device_code=till))
    return code


def _named_code_free(conn: Connection, stall_id: str, till: str) -> None:
    """A code the organizer names must be one no till of the stall ever had: that till's
    receipts carry it, and a new till would number the same day's receipts again."""
    d = t.devices.c
    row = conn.execute(select(d.revoked_at).where(d.stall_id == stall_id, d.device_code == till)
                       .limit(1)).first()
    if row is not None:
        held = "an active till of the stall has" if row.revoked_at is None else \
            "a till of the stall (now revoked) had"
        raise Refused(409, f"{held} device code {till!r}, and receipts with it exist: name "
                           "another code for the new till (the same laptop enrolling again "
                           "gets its code back by itself)", "device_code_taken")


def free_device_code(used: set[str]) -> str:
    """The first device code not in `used`: A01 … A99, B01 … Z99."""
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        for n in range(1, 100):
            code = f"{letter}{n:02d}"
            if code not in used:
                return code
    raise Refused(409, "the stall has used every device code A01 … Z99", "device_codes_used_up")


def organizer_token(conn: Connection, *, name: str) -> str:
    token = "org_" + secrets.token_urlsafe(32)
    conn.execute(t.organizer_tokens.insert().values(token_hash=digest_of(token), name=name,
                                                    created_at=_now()))
    return token


def is_device(conn: Connection, token: str) -> bool:
    return conn.execute(select(t.devices.c.id)
                        .where(t.devices.c.token_hash == digest_of(token))).first() is not None


def is_organizer(conn: Connection, token: str) -> bool:
    return conn.execute(select(t.organizer_tokens.c.name)
                        .where(t.organizer_tokens.c.token_hash == digest_of(token))).first() is not None


# -- devices -----------------------------------------------------------------------------------

def enroll(conn: Connection, req: p.EnrollRequest) -> p.EnrollResponse:
    """A till enrolls with a one-time code and gets its device code, unique within the stall:
    - a till of the stall enrolling again (its `local_id` known: token lost, data restored,
      revoked) is the same till: a new token, its device code and the seq the server holds;
    - else the code the organizer named on the enrollment code;
    - else the till's own code when no till of the stall ever had it (a till that sold before
      it enrolled keeps its receipt numbers), else the first code no till of the stall had.
    A code once given in a stall is never given to another till there unless the organizer
    names it: receipt numbers stay unique across the stall."""
    code = conn.execute(select(t.enrollment_codes)
                        .where(t.enrollment_codes.c.code_hash == digest_of(req.code.strip().upper()))
                        .with_for_update()).mappings().first()
    if (code is None or code["used_at"] is not None or code["cancelled_at"] is not None
            or code["expires_at"] < time.time()):
        raise Refused(403, "the enrollment code is unknown, used, cancelled or expired",
                      "code_unusable")
    # the stall's row locked first: two tills enrolling at once wait in turn, and the second
    # sees the first's device code taken
    conn.execute(select(t.stalls.c.id).where(t.stalls.c.id == code["stall_id"]).with_for_update())
    d = t.devices.c
    token = "dev_" + secrets.token_urlsafe(32)
    known = None
    local_id = req.local_id.strip()
    if local_id:
        known = conn.execute(select(t.devices).where(
            d.stall_id == code["stall_id"], d.local_id == local_id)).mappings().first()
    if known is not None:
        device_id, device_code, last_seq = known["id"], known["device_code"], known["last_seq"]
        if known["revoked_at"] is not None and conn.execute(select(d.id).where(
                d.stall_id == code["stall_id"], d.device_code == device_code, d.id != device_id,
                d.revoked_at.is_(None))).first() is not None:
            # revoked, and its code went to a laptop that replaced it: it comes back as another
            used = {c for c, in conn.execute(select(d.device_code)
                                             .where(d.stall_id == code["stall_id"]))}
            device_code = code["device_code"] if code["device_code"] and \
                code["device_code"] not in used else free_device_code(used)
            conn.execute(t.devices.update().where(d.id == device_id)
                         .values(device_code=device_code))
        elif code["device_code"] and code["device_code"] != device_code:
            raise Refused(409, f"this till is already the stall's {device_code}: it keeps that "
                               f"code (the enrollment code named {code['device_code']}); the "
                               "code was not used", "device_code_taken")
        conn.execute(t.devices.update().where(d.id == device_id).values(
            token_hash=digest_of(token), revoked_at=None,
            name=req.device_name or known["name"]))
    else:
        used = {c for c, in conn.execute(select(d.device_code)
                                         .where(d.stall_id == code["stall_id"]))}
        if code["device_code"]:
            _named_code_free(conn, code["stall_id"], code["device_code"])
            device_code = code["device_code"]
        elif req.device_code not in used:
            device_code = req.device_code
        else:
            device_code = free_device_code(used)
        device_id = str(uuid.uuid4())
        last_seq = req.next_seq - 1
        conn.execute(t.devices.insert().values(
            id=device_id, stall_id=code["stall_id"], device_code=device_code,
            name=req.device_name, token_hash=digest_of(token), last_seq=last_seq,
            enrolled_at=_now(), local_id=local_id or None))
    conn.execute(t.enrollment_codes.update().where(t.enrollment_codes.c.code_hash == code["code_hash"])
                 .values(used_at=_now()))
    stall = find_stall(conn, code["stall_id"])
    event = find_event(conn, stall["event_id"])
    return p.EnrollResponse(device_id=device_id, token=token, stall_id=stall["id"],
                            stall_name=stall["name"], event_name=event["name"],
                            device_code=device_code, acked_seq=last_seq)


def device_for(conn: Connection, token: str) -> dict:
    row = conn.execute(select(t.devices).where(t.devices.c.token_hash == digest_of(token))
                       ).mappings().first()
    if row is None:
        if is_organizer(conn, token):
            raise Refused(403, "an organizer token does not speak for a till: enroll the till "
                               "with a device code")
        raise Refused(401, "unknown device token")
    if row["revoked_at"] is not None:
        raise Refused(401, f"this till was revoked by the organizer ({row['revoked_at']}): its "
                           "token is no longer accepted; enroll it again with a new code",
                      "device_revoked")
    return dict(row)


def revoke_device(conn: Connection, *, stall_id: str, ref: str) -> dict:
    """Revoke the stall's till of that id, or its active till of that device code: its token
    answers 401 `device_revoked` from now on; what it sent stays. Revoking twice is a no-op."""
    d = t.devices.c
    row = None
    if len(ref) <= 64:
        row = (conn.execute(select(t.devices).where(d.stall_id == stall_id, d.id == ref))
               .mappings().first()
               or conn.execute(select(t.devices).where(d.stall_id == stall_id,
                                                       d.device_code == ref,
                                                       d.revoked_at.is_(None)))
               .mappings().first())
    if row is None:
        raise Refused(404, f"the stall has no till {_said(ref)} (an id, or the device code of "
                           "an active till)")
    if row["revoked_at"] is None:
        conn.execute(t.devices.update().where(d.id == row["id"]).values(revoked_at=_now()))
    return _device_view(conn.execute(select(t.devices).where(d.id == row["id"]))
                        .mappings().one())


def _device_view(row) -> dict:
    return {k: row[k] for k in ("id", "device_code", "name", "last_seq", "enrolled_at",
                                "revoked_at")}


def board(conn: Connection, *, event_id: str) -> dict:
    """What the organizer watches during the market: every till with its last push, the
    alerts, and the sales so far by stall, hour and payment method (with `totals`)."""
    d, s, dv = t.documents.c, t.stalls.c, t.devices.c
    tills = [dict(r) for r in conn.execute(
        select(s.id.label("stall_id"), s.name.label("stall"), dv.id, dv.device_code, dv.name,
               dv.last_seq, dv.last_push_at, dv.revoked_at)
        .select_from(t.devices.join(t.stalls, s.id == dv.stall_id))
        .where(s.event_id == event_id).order_by(s.name, dv.device_code)).mappings()]
    in_event = (select(dv.id).join(t.stalls, s.id == dv.stall_id).where(s.event_id == event_id)
                .scalar_subquery())
    hour = d.created_hour
    by_hour = [{"hour": int(r[0]), "net": int(r[1] or 0), "documents": int(r[2])}
               for r in conn.execute(select(hour, func.sum(d.total), func.count(d.id))
                                     .where(d.device_id.in_(in_event), hour.is_not(None))
                                     .group_by(hour).order_by(hour))]
    by_stall = [{"stall": r[0], "net": int(r[1] or 0)} for r in conn.execute(
        select(s.name, func.coalesce(func.sum(d.total), 0))
        .select_from(t.stalls.join(t.devices, dv.stall_id == s.id, isouter=True)
                     .join(t.documents, d.device_id == dv.id, isouter=True))
        .where(s.event_id == event_id).group_by(s.name).order_by(s.name))]
    a = t.alerts.c
    alert_count = conn.execute(select(func.count()).select_from(t.alerts).where(
        a.device_id.in_(in_event), a.resolved_at.is_(None))).scalar()
    return {"tills": tills, "by_hour": by_hour, "by_stall": by_stall,
            "alert_count": int(alert_count),
            "alerts": alerts(conn, event_id=event_id, open_only=True)[-5:][::-1]}


def cancel_code(conn: Connection, *, code: str) -> None:
    """An enrollment code not used yet can no longer be used (cancelling twice is a no-op);
    a used one is 409: revoke the till instead."""
    c = t.enrollment_codes.c
    row = conn.execute(select(t.enrollment_codes).where(
        c.code_hash == digest_of(code.strip().upper())).with_for_update()).mappings().first()
    if row is None:
        raise Refused(404, "no such enrollment code")
    if row["used_at"] is not None:
        raise Refused(409, "the enrollment code was already used: revoke the till it enrolled "
                           "instead")
    if row["cancelled_at"] is None:
        conn.execute(t.enrollment_codes.update().where(c.code_hash == row["code_hash"])
                     .values(cancelled_at=_now()))


def status(conn: Connection, device: dict) -> p.Status:
    stall = find_stall(conn, device["stall_id"])
    event = find_event(conn, stall["event_id"])
    last = conn.execute(select(t.devices.c.last_seq).where(t.devices.c.id == device["id"])).scalar()
    return p.Status(device_id=device["id"], acked_seq=int(last), stall_name=stall["name"],
                    event_name=event["name"])


def push(conn: Connection, device: dict, incoming: list[p.Incoming]) -> p.PushResponse:
    """Apply events in seq order, in the caller's one transaction: skip what is already there
    (after checking it is the same event), apply `last_seq + 1`, stop at a gap.

    The device row is locked for the transaction (two pushes of one device never interleave).
    Every event the server does not have yet is validated before anything is written; an
    event it has is "already there" when its canonical bytes are the stored ones, or, written
    differently, when it means the same (e.g. an omitted null). Lookups and inserts are made
    for the whole batch at once."""
    seen = conn.execute(select(t.devices.c.last_seq).where(t.devices.c.id == device["id"])
                        ).scalar()
    for x in incoming:  # validated before the lock is taken: refuses the batch (422)
        if x.seq > seen:
            x.event()
    last = int(conn.execute(select(t.devices.c.last_seq).where(t.devices.c.id == device["id"])
                            .with_for_update()).scalar())
    known = last  # what the server had before this batch
    events = {x.seq: x.event() for x in incoming if x.seq > known}
    old_seqs = [x.seq for x in incoming if x.seq <= known]
    stored = {}
    if old_seqs:
        stored = {r.seq: (r.event_id, r.digest) for r in conn.execute(
            select(t.device_events.c.seq, t.device_events.c.event_id, t.device_events.c.digest)
            .where(t.device_events.c.device_id == device["id"],
                   t.device_events.c.seq.between(min(old_seqs), max(old_seqs))))}
    used_events = _existing(conn, t.device_events.c.event_id,
                            [str(ev.event_id) for ev in events.values()])
    used_docs = _existing(conn, t.documents.c.id, [str(ev.document.id) for ev in events.values()
                                                    if ev.document is not None])
    returns = [ev.document for ev in events.values()
               if ev.document is not None and ev.document.kind != "sale"]
    ledger = _Returns(conn, device, returns) if returns else None
    sales: dict[str, p.Document] = {}  # this batch's sales, by id
    later_alerts: list[tuple[p.Incoming, str]] = []  # returns taken, but to be looked at
    applied = already = 0
    mismatches: list[p.Mismatch] = []
    rows = {"events": [], "documents": [], "lines": [], "payments": [], "stock": []}
    stock: list[tuple] = []  # (product id, stamp, change, the count when it is one)
    tracked: set[str] | None = None
    people: list[tuple[p.Incoming, p.StaffPayload]] = []  # this batch's `staff.changed`
    logged: list[tuple[p.Incoming, p.AuditPayload]] = []  # its `audit.logged`
    receipts: dict[str, tuple[p.Incoming, p.CashReceiptPayload]] = {}  # `cash_receipt.changed`
    received = _now()
    for x in incoming:
        if x.seq <= known:
            if _same(conn, device, stored.get(x.seq), x):
                already += 1
            else:
                mismatches.append(_alert(conn, device, x, p.DIFFERS))
            continue
        if x.seq != last + 1:
            break  # a gap: the device sends from acked + 1 next time
        ev = events[x.seq]
        event_id = str(ev.event_id)
        doc_id = str(ev.document.id) if ev.document is not None else None
        if event_id in used_events or (doc_id and doc_id in used_docs):
            mismatches.append(_alert(conn, device, x, p.ID_USED))
            break
        used_events.add(event_id)
        if doc_id:
            used_docs.add(doc_id)
            waiting = False
            if ev.document.kind == "sale":
                sales[doc_id] = ev.document
                if ledger is not None:
                    ledger.add_sale(device, ev.document)
            else:
                verdict = ledger.check(device, x, ev.document)
                waiting = verdict == p.WAITING
                if verdict is not None:
                    later_alerts.append((x, verdict))
                if ev.document.original_typed:
                    later_alerts.append((x, _typed_return(conn, device, ev.document)))
            _project_rows(rows, device["id"], ev.seq, ev.document, waiting)
            if tracked is None:  # the stall's tracked products, read once a batch needs them
                tracked = _tracked(conn, device["stall_id"])
            for ln in ev.document.lines:  # a sale takes goods away, a return brings them back:
                if ln.product_id in tracked:  # counted from the product's first movement on
                    stock.append((ln.product_id, _near_now(ev.hlc), -ln.qty, None))
        elif ev.type == "stock.moved":
            move = p.StockPayload.model_validate(ev.payload)
            rows["stock"].append((device["id"], ev.seq, device["stall_id"], move.product_id,
                                  move.kind, move.qty, move.counted, move.business_day,
                                  move.created_at))
            stock.append((move.product_id, _near_now(ev.hlc), move.qty, move.counted))
            if tracked is None:
                tracked = _tracked(conn, device["stall_id"])
            tracked.add(move.product_id)
        elif ev.type == "product.changed":
            notes: list[str] = []
            put_product(conn, stall_id=device["stall_id"], notes=notes, origin=device["id"],
                        product=within_clock(
                conn, device["stall_id"], p.ProductChange.model_validate(ev.payload)))
            later_alerts += [(x, note) for note in notes]
        elif ev.type == "staff.changed":
            people.append((x, p.StaffPayload.model_validate(ev.payload)))
        elif ev.type == "audit.logged":
            logged.append((x, p.AuditPayload.model_validate(ev.payload)))
        elif ev.type == "cash_receipt.changed":
            request = p.CashReceiptPayload.model_validate(ev.payload)
            # one request's later event (a higher seq of the one till) is its newer state: a
            # till's clock may jump, its order of events does not
            receipts.pop(request.id, None)
            receipts[request.id] = (x, request)
        rows["events"].append((device["id"], ev.seq, event_id, ev.type, ev.hlc, x.digest,
                               x.body.decode(), received))
        last = ev.seq
        applied += 1
    _insert_many(conn, t.device_events, rows["events"])
    _insert_many(conn, t.documents, rows["documents"])
    _insert_many(conn, t.document_lines, rows["lines"])
    _insert_many(conn, t.document_payments, rows["payments"])
    if returns:  # their holds end: they count as returns now (`sync.server.returns`)
        done = [str(events[s].document.id) for s in range(known + 1, last + 1)
                if events[s].document is not None and events[s].document.kind != "sale"]
        for k in range(0, len(done), 500):
            conn.execute(t.return_holds.delete().where(
                t.return_holds.c.return_id.in_(done[k:k + 500])))
    later_alerts += _numbers_taken(conn, device, [
        (x, str(events[x.seq].document.receipt_no)) for x in incoming
        if x.seq in events and x.seq <= last and events[x.seq].document is not None
        and not str(events[x.seq].document.receipt_no).startswith(device["device_code"] + "-")])
    _insert_many(conn, t.stock_movements, rows["stock"])
    later_alerts += _put_staff(conn, device, people)
    later_alerts += _put_audit(conn, device, logged)
    later_alerts += _put_cash_receipts(conn, device, receipts)
    later_alerts += _returned_elsewhere(conn, device, [
        (x, events[x.seq].document) for x in incoming if x.seq in events and x.seq <= last
        and events[x.seq].document is not None and events[x.seq].document.kind != "sale"])
    _roll_up_stock(conn, device["stall_id"], stock)
    for x, reason in later_alerts:
        _alert(conn, device, x, reason)
    if sales:
        _awaited_sales_arrived(conn, device, sales, ledger)
    conn.execute(t.devices.update().where(t.devices.c.id == device["id"]).values(
        last_seq=last, last_push_at=_now()))
    return p.PushResponse(acked_seq=last, applied=applied, already_there=already,
                          mismatches=mismatches)


def _existing(conn: Connection, column, values: list[str]) -> set[str]:
    """Which of `values` the column already holds (PostgreSQL: one array parameter)."""
    if not values:
        return set()
    name, table = column.name, column.table.name
    if conn.dialect.name == "postgresql":
        return {r[0] for r in conn.exec_driver_sql(
            f"SELECT {name} FROM {table} WHERE {name} = ANY(%s)", (values,))}
    found = set()
    for k in range(0, len(values), 500):
        chunk = values[k:k + 500]
        found.update(r[0] for r in conn.exec_driver_sql(
            f"SELECT {name} FROM {table} WHERE {name} IN ({','.join('?' * len(chunk))})",
            tuple(chunk)))
    return found


def _same(conn: Connection, device: dict, stored: tuple | None, x: p.Incoming) -> bool:
    if stored is not None and stored[1] == x.digest:
        return True
    # written differently (key order, an omitted null)? compare the meaning; a malformed copy
    # refuses the batch (422) like any malformed event, and is never kept as an alert
    sent = x.event()
    if stored is None:
        return False
    body = conn.execute(select(t.device_events.c.body).where(
        t.device_events.c.device_id == device["id"], t.device_events.c.seq == x.seq)).scalar()
    try:
        held = p.Event.model_validate_json(body)
    except ValidationError:  # stored before today's checks: only its very bytes are the same
        return False
    return str(sent.event_id) == stored[0] and _meaning(sent) == _meaning(held)


def _meaning(ev: p.Event) -> dict:
    """An event as data, a product's payload through its model (so an omitted null is null)."""
    data = ev.model_dump(mode="json")
    model = p.ProductChange if ev.type == "product.changed" else p.PAYLOADS.get(ev.type)
    if model is not None and ev.payload is not None:  # through its model: an omitted null is null
        data["payload"] = model.model_validate(ev.payload).model_dump(mode="json")
    return data


def _insert_many(conn: Connection, table, rows: list[tuple]) -> None:
    """Bulk insert of rows given in the table's column order: PostgreSQL's COPY inside the
    transaction, else executemany."""
    if not rows:
        return
    columns = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])


def _alert(conn, device, x: p.Incoming, reason: str) -> p.Mismatch:
    """One alert row per device, seq and content: the same copy sent again counts `times`."""
    event_id = str(x.event().event_id)
    _put_alert(conn, device_id=device["id"], seq=x.seq, event_id=event_id, reason=reason,
               body=x.body.decode(), digest=x.digest)
    return p.Mismatch(seq=x.seq, event_id=event_id, reason=reason)


def _put_alert(conn, *, device_id: str, seq: int, event_id: str, reason: str, body: str,
               digest: str) -> None:
    now = _now()
    insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(t.alerts)
    conn.execute(insert.values(device_id=device_id, seq=seq, digest=digest,
                               event_id=event_id, reason=reason, body=body,
                               created_at=now, last_at=now, times=1)
                 .on_conflict_do_update(index_elements=["device_id", "seq", "digest"],
                                        set_={"times": t.alerts.c.times + 1, "last_at": now}))


def refused_push(conn: Connection, device: dict, error: p.ProtocolError) -> None:
    """A push refused with 422 leaves an alert for the organizer, with the device and the
    reason, in a transaction of its own (the batch itself stores nothing): one row per device,
    refused seq (0 when no event could be named) and reason; refused again, `times` grows."""
    reason = f"{p.REFUSED}: {error.reason}"
    _put_alert(conn, device_id=device["id"], seq=error.seq or 0,
               event_id=error.event_id or "", reason=reason, body=reason,
               digest=digest_of(reason))


class _Returns:
    """What the server knows of the sales a batch's voids and refunds return: each sale's
    device, stall and kind, what was sold of each line (quantity, amount, enterprise) and what
    is returned of it so far, read once for the whole batch and kept up to date as the batch
    is applied."""

    def __init__(self, conn: Connection, device: dict, returns: list[p.Document]):
        ids = sorted({str(doc.original_id) for doc in returns})
        d, l, dv = t.documents.c, t.document_lines.c, t.devices.c
        if conn.dialect.name == "postgresql":  # in id order: a hold of one of these sales
            conn.execute(select(d.id).where(d.id.in_(ids)).order_by(d.id)  # (`returns.hold`)
                         .with_for_update())  # waits for this push, and sees it, or it waits
        self.sales: dict[str, tuple[str, str, str]] = {}  # id: (device, stall, kind)
        self.sold: dict[str, dict[int, tuple[int, int, str]]] = {}
        self.returned: dict[str, dict[int | None, list[int]]] = {}
        self.voided: set[str] = set()
        for r in conn.execute(select(d.id, d.device_id, dv.stall_id, d.kind)
                              .join(t.devices, dv.id == d.device_id).where(d.id.in_(ids))):
            self.sales[r.id] = (r.device_id, r.stall_id, r.kind)
        for r in conn.execute(select(l.document_id, l.line_no, l.qty, l.amount,
                                     l.enterprise_name)
                              .where(l.document_id.in_(list(self.sales)))):
            self.sold.setdefault(r.document_id, {})[r.line_no] = (r.qty, r.amount,
                                                                  r.enterprise_name)
        # and what this till itself gave back of each: its own sale returned past what is left
        # is refused only when its own returns alone leave too little (another till may have
        # refunded the sale meanwhile, which this till could not know offline)
        self.mine: dict[str, dict[int | None, list[int]]] = {}
        self.mine_voided: set[str] = set()
        for r in conn.execute(select(d.original_id, d.kind, d.device_id, l.original_line_no,
                                     l.qty, l.amount)
                              .join(t.document_lines, l.document_id == d.id)
                              .where(d.original_id.in_(list(self.sales)))):
            _count(self.returned, self.voided, r.original_id, r.kind, r)
            if r.device_id == device["id"]:
                _count(self.mine, self.mine_voided, r.original_id, r.kind, r)
        self.others_in_stall: bool | None = None  # asked only when a sale is unknown
        self.conn = conn

    def add_sale(self, device: dict, doc: p.Document) -> None:
        sale_id = str(doc.id)
        self.sales[sale_id] = (device["id"], device["stall_id"], "sale")
        self.sold[sale_id] = sold_lines(doc.lines)

    def check(self, device: dict, x: p.Incoming, doc: p.Document) -> str | None:
        """None when the return is in order; `WAITING` when its sale is still to come from
        another till; else why it is taken with an alert (its sale was made on another till of
        the stall). Refuses (ProtocolError) what the till itself should have known better."""
        sale_id = str(doc.original_id)
        if doc.original_typed:  # its sale's id was not known at the till: nothing to count
            return None         # against; said to the organizer with its receipt number
        known = self.sales.get(sale_id)
        if known is None:
            if self.others_in_stall is None:  # another active till, whose sale it may be
                dv = t.devices.c
                self.others_in_stall = self.conn.execute(
                    select(dv.id).where(dv.stall_id == device["stall_id"],
                                        dv.id != device["id"],
                                        dv.revoked_at.is_(None)).limit(1)).first() is not None
            if not self.others_in_stall:
                self._refuse(x, doc, f"its sale {sale_id} is unknown, and a till's own sale "
                                     f"comes before its {doc.kind}")
            self._record(sale_id, doc, device)
            return p.WAITING
        sale_device, stall, kind = known
        if stall != device["stall_id"]:
            self._refuse(x, doc, f"its sale {sale_id} is another stall's")
        if kind != "sale":
            self._refuse(x, doc, f"{sale_id} is a {kind}, not a sale")
        problem = self.excess(sale_id, doc)
        if problem is not None and sale_device == device["id"] and not doc.original_typed:
            own = self.excess(sale_id, doc, mine=True)
            if own is not None:  # its own sale, its own returns: the till knew
                self._refuse(x, doc, own[0], own[1])
        self._record(sale_id, doc, device)
        if problem is None:
            return None
        return f"{p.OVER_RETURNED}: {problem[0]}"

    def excess(self, sale_id: str, doc: p.Document, *, mine: bool = False
               ) -> tuple[str, str] | None:
        """Why `doc` returns more of the sale than is left (and the field), or None; `mine`:
        counting only what this till gave back."""
        returned, voided = (self.mine, self.mine_voided) if mine else (self.returned, self.voided)
        if doc.kind == "void" and sale_id in voided:
            return f"sale {sale_id} is already voided", "document.original_id"
        return over_returned(self.sold.get(sale_id, {}), returned.get(sale_id, {}),
                             doc.kind, doc.lines)

    def _record(self, sale_id: str, doc: p.Document, device: dict | None = None) -> None:
        for ln in doc.lines:
            _count(self.returned, self.voided, sale_id, doc.kind, ln)
            if device is not None:
                _count(self.mine, self.mine_voided, sale_id, doc.kind, ln)

    @staticmethod
    def _refuse(x: p.Incoming, doc: p.Document, why: str,
                where: str = "document.original_id") -> None:
        raise p.ProtocolError(f"event seq {x.seq}: {doc.kind} {doc.id}: {why}", "event",
                              seq=x.seq, event_id=str(x.event().event_id), field=where)


def sold_lines(lines) -> dict[int, tuple[int, int, str]]:
    """A sale's lines as returns are checked against them: line_no → (qty, amount, enterprise)."""
    return {ln.line_no: (ln.qty, ln.amount, ln.enterprise_name) for ln in lines}


def _count(returned: dict, voided: set, sale_id: str, kind: str, ln) -> None:
    """Add a return line (`original_line_no`, `qty`, `amount`: negative) to what is returned."""
    if kind == "void":
        voided.add(sale_id)
    per_line = returned.setdefault(sale_id, {}).setdefault(ln.original_line_no, [0, 0])
    per_line[0] -= ln.qty
    per_line[1] -= ln.amount


def over_returned(sold: dict[int, tuple[int, int, str]], returned: dict, kind: str, lines
                  ) -> tuple[str, str] | None:
    """The first line of a return that does not fit its sale — a line the sale lacks, another
    enterprise's, more of its quantity or of its money than is left after `returned` — or a
    void that does not return the whole sale, said with its field; else None."""
    wanted: dict[int | None, list[int]] = {}
    for i, ln in enumerate(lines):
        no = ln.original_line_no
        if no not in sold:
            return (f"line {ln.line_no} returns line {no} of a sale that has no such line",
                    f"document.lines.{i}.original_line_no")
        qty, amount, firm = sold[no]
        if ln.enterprise_name != firm:
            return (f"line {ln.line_no} returns line {no} of {_said(firm)} as "
                    f"{_said(ln.enterprise_name)}", f"document.lines.{i}.enterprise_name")
        want = wanted.setdefault(no, [0, 0])
        want[0] -= ln.qty
        want[1] -= ln.amount
        had = returned.get(no, (0, 0))
        if want[0] > qty - had[0]:
            return (f"line {ln.line_no} returns {want[0]} of line {no}, of which "
                    f"{max(qty - had[0], 0)} of {qty} sold are left", f"document.lines.{i}.qty")
        if want[1] > amount - had[1]:
            return (f"line {ln.line_no} returns {want[1]} won of line {no}, of which "
                    f"{max(amount - had[1], 0)} of {amount} paid are left",
                    f"document.lines.{i}.amount")
    if kind == "void":
        for no, (qty, amount, _firm) in sorted(sold.items()):
            if wanted.get(no) != [qty, amount]:
                return (f"a void returns the whole sale: its line {no} ({qty} for {amount} "
                        f"won) is not returned whole", "document.lines")
    return None


def _awaited_sales_arrived(conn: Connection, device: dict, sales: dict[str, p.Document],
                           ledger: _Returns | None) -> None:
    """Returns other tills sent before these sales arrived are checked now: their waiting
    alert goes, and one that does not fit its sale (or is from another stall) is alerted."""
    d, l, dv = t.documents.c, t.document_lines.c, t.devices.c
    # the waiting returns are few (a partial index holds them): read them all, not look up
    # every sale of the batch
    awaited = {r[0] for r in conn.execute(select(d.original_id).where(d.waiting))}
    arrived = [sale_id for sale_id in sales if sale_id in awaited]
    if not arrived:
        return
    waiting = conn.execute(
        select(d.id, d.device_id, d.seq, d.kind, d.original_id, dv.stall_id)
        .join(t.devices, dv.id == d.device_id)
        .where(d.original_id.in_(arrived), d.waiting)
        .order_by(d.device_id, d.seq)).all()
    lines: dict[str, list] = {}
    for r in conn.execute(select(l.document_id, l.line_no, l.qty, l.amount, l.enterprise_name,
                                 l.original_line_no)
                          .where(l.document_id.in_([w.id for w in waiting]))
                          .order_by(l.document_id, l.line_no)):
        lines.setdefault(r.document_id, []).append(r)
    # what is returned of each sale so far: this batch's own returns of it (its till, after
    # it), then the waiting ones in turn
    returned = ({k: {no: list(v) for no, v in per.items()} for k, per in ledger.returned.items()}
                if ledger is not None else {})
    voided = set(ledger.voided) if ledger is not None else set()
    for w in waiting:
        sale_id = w.original_id
        problem = None
        if w.stall_id != device["stall_id"]:
            problem = f"its sale {sale_id} is another stall's"
        elif w.kind == "void" and sale_id in voided:
            problem = f"sale {sale_id} is already voided"
        else:
            found = over_returned(sold_lines(sales[sale_id].lines), returned.get(sale_id, {}),
                                  w.kind, lines.get(w.id, []))
            problem = found[0] if found else None
        for ln in lines.get(w.id, []):
            _count(returned, voided, sale_id, w.kind, ln)
        conn.execute(t.documents.update().where(d.id == w.id).values(waiting=False))
        event = conn.execute(select(t.device_events.c.event_id, t.device_events.c.body,
                                    t.device_events.c.digest)
                             .where(t.device_events.c.device_id == w.device_id,
                                    t.device_events.c.seq == w.seq)).one()
        conn.execute(t.alerts.delete().where(t.alerts.c.device_id == w.device_id,
                                             t.alerts.c.seq == w.seq,
                                             t.alerts.c.digest == event.digest,
                                             t.alerts.c.reason == p.WAITING))
        if problem is not None:
            _put_alert(conn, device_id=w.device_id, seq=w.seq, event_id=event.event_id,
                       reason=f"{p.OVER_RETURNED}: {problem}", body=event.body,
                       digest=event.digest)


def _typed_return(conn: Connection, device: dict, doc: p.Document) -> str:
    """What the organizer is told of a refund typed in offline: the receipt number typed, and
    the stall's sale of that number when the server has it, to be compared."""
    d, v = t.documents.c, t.devices.c
    sales = conn.execute(select(d.id, d.total).join(t.devices, v.id == d.device_id).where(
        v.stall_id == device["stall_id"], d.receipt_no == doc.original_receipt_no,
        d.kind == "sale").limit(3)).all()
    found = ("; the stall has no sale of that number yet" if not sales else
             "; the stall's sale of that number: " + ", ".join(
                 f"{s.id} (total {s.total} won)" for s in sales))
    return (f"{p.TYPED_RETURN}: receipt {doc.original_receipt_no}, {-doc.total} won given back"
            f"{found}")


def _numbers_taken(conn: Connection, device: dict, printed: list[tuple]) -> list[tuple]:
    """Receipts a till printed under another device code (before it enrolled) whose number
    another till of the stall printed too: said, so a refund by number asks which one."""
    if not printed:
        return []
    d, v = t.documents.c, t.devices.c
    numbers = [no for _x, no in printed]
    taken = {no for no, in conn.execute(
        select(d.receipt_no).join(t.devices, v.id == d.device_id).where(
            v.stall_id == device["stall_id"], d.device_id != device["id"],
            d.receipt_no.in_(numbers)))}
    return [(x, f"receipt number {no} is another till's of the stall too: this till printed "
                f"it before it enrolled (as {no.split('-')[0]}); ask for the date and amount "
                "when it is brought back") for x, no in printed if no in taken]


def _near_now(stamp: str) -> str:
    """A stock change's stamp, no further ahead of the server's clock than a catalog stamp may
    be (`within_clock`): a till with a wrong clock cannot put its changes past every count, nor
    push the other tills' clocks ahead through the stock page."""
    limit = int(time.time() * 1000) + p.MAX_CLOCK_AHEAD_MS
    return stamp if int(stamp[:13]) <= limit else f"{limit:013d}-00000-SRV"


def _tracked(conn: Connection, stall_id: str) -> set[str]:
    return {pid for pid, in conn.execute(select(t.stall_stock.c.product_id).where(
        t.stall_stock.c.stall_id == stall_id, t.stall_stock.c.tracked))}


def _roll_up_stock(conn: Connection, stall_id: str, changes: list[tuple]) -> None:
    """A push's stock changes into the stall's stock, in its transaction: the newest count (by
    stamp) plus every change stamped after it. A change stamped before the count in force was
    on the shelf's side of it already; a count older than the one in force is superseded."""
    if not changes:
        return
    s, g = t.stall_stock.c, t.stock_log.c
    by_product: dict[str, list[tuple]] = {}
    for pid, hlc, qty, counted in changes:
        by_product.setdefault(pid, []).append((hlc, qty, counted))
    logged = [{"stall_id": stall_id, "product_id": pid, "hlc": hlc, "qty": qty}
              for pid, items in by_product.items() for hlc, qty, counted in items
              if counted is None]
    if logged:
        conn.execute(t.stock_log.insert(), logged)
    insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(t.stall_stock)
    for pid, items in sorted(by_product.items()):
        # the row made if missing, then locked: two tills' pushes take turns, never collide
        conn.execute(insert.values(stall_id=stall_id, product_id=pid, qty=0, tracked=False,
                                   base_hlc=None).on_conflict_do_nothing(
            index_elements=["stall_id", "product_id"]))
        row = conn.execute(select(s.qty, s.base_hlc).where(
            s.stall_id == stall_id, s.product_id == pid).with_for_update()).one()
        qty, base = int(row.qty), row.base_hlc
        counts = [(hlc, counted) for hlc, _q, counted in items if counted is not None]
        newest = max(counts) if counts else None
        if newest is not None and (base is None or newest[0] > base):
            after = conn.execute(select(func.coalesce(func.sum(g.qty), 0)).where(
                g.stall_id == stall_id, g.product_id == pid, g.hlc > newest[0])).scalar()
            qty, base = newest[1] + int(after), newest[0]
        else:
            qty += sum(q for hlc, q, counted in items
                       if counted is None and (base is None or hlc > base))
        # a batch brings a product here only with a movement, or once it is tracked
        conn.execute(t.stall_stock.update().where(s.stall_id == stall_id, s.product_id == pid)
                     .values(qty=qty, base_hlc=base, tracked=True))


def stock_page(conn: Connection, device: dict) -> p.StockPage:
    """The stall's tracked stock, a product merged into another counted in that one, and up to
    which seq of this till it counts (read in one transaction with the figures)."""
    # this till's row first, locked: a push of it cannot commit between that and the figures
    last = conn.execute(select(t.devices.c.last_seq).where(t.devices.c.id == device["id"])
                        .with_for_update()).scalar()
    s = t.stall_stock.c
    rows = conn.execute(select(s.product_id, s.qty, s.tracked)
                        .where(s.stall_id == device["stall_id"])).all()
    merged, known = {}, set()
    if rows:
        for body, in conn.execute(select(t.catalog.c.body).where(
                t.catalog.c.stall_id == device["stall_id"],
                t.catalog.c.product_id.in_([r.product_id for r in rows]))):
            x = p.Product.model_validate_json(body)
            known.add(x.id)
            if x.merged_into:
                merged[x.id] = x.merged_into
    levels: dict[str, int] = {}
    tracked: set[str] = set()
    for r in rows:
        if r.product_id not in known:  # not a product of the stall's catalog: no one's stock
            continue
        pid, hops = r.product_id, 0
        while pid in merged and hops < 10:  # a chain of merges ends in the live product
            pid, hops = merged[pid], hops + 1
        levels[pid] = levels.get(pid, 0) + int(r.qty)
        if r.tracked:
            tracked.add(pid)
    # within what a till can hold and count from (a hostile till's or a bulk item's movements
    # could add up past it, and a count against that would not fit an event)
    newest = max([h for h in (
        conn.execute(select(func.max(t.stock_log.c.hlc)).where(
            t.stock_log.c.stall_id == device["stall_id"])).scalar(),
        conn.execute(select(func.max(t.stall_stock.c.base_hlc)).where(
            t.stall_stock.c.stall_id == device["stall_id"])).scalar()) if h], default=None)
    return p.StockPage(products=[p.StockLevel(id=pid, qty=max(-MAX_STOCK, min(MAX_STOCK, levels[pid])))
                                 for pid in sorted(tracked)], counted_seq=int(last), hlc=newest)


def _older(a: str, b: str) -> bool:
    """Whether instant `a` is before instant `b` (both with their UTC offset)."""
    return datetime.fromisoformat(a) < datetime.fromisoformat(b)


def _put_staff(conn: Connection, device: dict,
               people: list[tuple[p.Incoming, p.StaffPayload]]) -> list[tuple]:
    """A batch's `staff.changed` into the stall's staff, one row per till and person: the
    change with the newest `updated_at` wins (of two as new, the later sent). A change dated
    more than `MAX_CLOCK_AHEAD_MS` ahead of the server's clock is taken as made now, and
    alerted: a till with a wrong clock cannot freeze a person's row for good. The device row
    is locked by the push: no other push writes this till's rows meanwhile. Returns the
    alerts, as (event, reason)."""
    if not people:
        return []
    alerts = []
    bound = datetime.now(timezone.utc) + timedelta(milliseconds=p.MAX_CLOCK_AHEAD_MS)
    newest: dict[str, tuple[int, p.StaffPayload]] = {}
    for x, person in people:
        if datetime.fromisoformat(person.updated_at) > bound:
            alerts.append((x, f"{p.STAFF_AHEAD}: {person.name}, {person.updated_at}"))
            person = person.model_copy(update={"updated_at": _now()})
        held = newest.get(person.id)
        if held is None or not _older(person.updated_at, held[1].updated_at):
            newest[person.id] = (x.seq, person)
    s = t.staff_members.c
    stored = {r.staff_id: r.updated_at for r in conn.execute(
        select(s.staff_id, s.updated_at).where(s.device_id == device["id"],
                                               s.staff_id.in_(sorted(newest))))}
    for staff_id, (seq, person) in newest.items():
        values = {"stall_id": device["stall_id"], "name": person.name, "role": person.role,
                  "enterprise_name": person.enterprise_name, "active": person.active,
                  "updated_at": person.updated_at, "seq": seq}
        if staff_id not in stored:
            conn.execute(t.staff_members.insert().values(device_id=device["id"],
                                                         staff_id=staff_id, **values))
        elif not _older(person.updated_at, stored[staff_id]):
            conn.execute(t.staff_members.update().where(
                s.device_id == device["id"], s.staff_id == staff_id).values(**values))
    return alerts


def _put_cash_receipts(conn: Connection, device: dict,
                       receipts: dict[str, tuple[p.Incoming, p.CashReceiptPayload]]) -> list:
    """A batch's `cash_receipt.changed` into the till's requests, each as its latest event says
    (the push holds the device row, so no other push writes them meanwhile). A request is
    counted only when it fits what the server has of the till's documents: its sale is a sale
    of this till with that receipt number, a cancellation's return is a return of that sale,
    and the amount is within the document's total; one that does not is kept as sent (in the
    device's events) but not counted, and alerted. Returns the alerts, as (event, reason)."""
    if not receipts:
        return []
    c, d = t.cash_receipts.c, t.documents.c
    ids = {str(r.sale_id) for _x, r in receipts.values()}
    ids |= {str(r.return_id) for _x, r in receipts.values() if r.return_id}
    docs = {row.id: row for row in conn.execute(
        select(d.id, d.device_id, d.kind, d.receipt_no, d.total, d.original_id)
        .where(d.id.in_(sorted(ids))))}
    stored = set(conn.execute(select(c.receipt_id).where(
        c.device_id == device["id"], c.receipt_id.in_(sorted(receipts)))).scalars())
    alerts = []
    for receipt_id, (x, r) in receipts.items():
        problem = _cash_receipt_problem(device, r, docs)
        if problem is not None:
            alerts.append((x, f"{p.CASH_RECEIPT_NOT_COUNTED}: {r.receipt_no}, {problem}"))
            continue
        values = {"stall_id": device["stall_id"], "kind": r.kind, "sale_id": str(r.sale_id),
                  "receipt_no": r.receipt_no,
                  "return_id": str(r.return_id) if r.return_id else None,
                  "cancels": r.cancels, "enterprise_name": r.enterprise_name, "bizno": r.bizno,
                  "amount": r.amount, "identity_kind": r.identity_kind, "identity": r.identity,
                  "purpose": r.purpose, "voluntary": r.voluntary, "state": r.state,
                  "approval_no": r.approval_no, "business_day": r.business_day,
                  "due_day": r.due_day, "created_at": r.created_at,
                  "updated_at": r.updated_at, "seq": x.seq}
        if receipt_id in stored:
            conn.execute(t.cash_receipts.update().where(
                c.device_id == device["id"], c.receipt_id == receipt_id).values(**values))
        else:
            conn.execute(t.cash_receipts.insert().values(device_id=device["id"],
                                                         receipt_id=receipt_id, **values))
    return alerts


def _returned_elsewhere(conn: Connection, device: dict, returns: list) -> list:
    """Returns of another till's sale that has cash receipt requests in force: the till that
    took them does not learn of the return, so its enterprises must cancel them by hand; the
    organizer is told (an alert per return)."""
    if not returns:
        return []
    c = t.cash_receipts.c
    originals = sorted({str(doc.original_id) for _x, doc in returns if doc.original_id})
    standing: dict[str, list] = {}
    for row in conn.execute(select(c.sale_id, c.receipt_no, c.enterprise_name, c.amount)
                            .where(c.sale_id.in_(originals), c.device_id != device["id"],
                                   c.kind == "issue", c.state != "cancelled")):
        standing.setdefault(row.sale_id, []).append(row)
    alerts = []
    for x, doc in returns:
        found = standing.get(str(doc.original_id))
        if found:
            names = ", ".join(f"{r.enterprise_name} {r.amount}" for r in found)
            alerts.append((x, f"{p.CASH_RECEIPT_RETURNED_ELSEWHERE}: {found[0].receipt_no} "
                              f"returned by {doc.receipt_no} ({names})"))
    return alerts


def _cash_receipt_problem(device: dict, r: p.CashReceiptPayload, docs: dict) -> str | None:
    """Why a cash receipt request does not fit the till's documents, or None."""
    sale = docs.get(str(r.sale_id))
    if sale is None or sale.device_id != device["id"] or sale.kind != "sale":
        return "its sale is not a sale this till sent"
    if sale.receipt_no != r.receipt_no:
        return f"its sale's receipt number is {sale.receipt_no}"
    if r.kind == "issue" and r.amount > sale.total:
        return f"{r.amount} won is more than the sale's total, {sale.total}"
    if r.kind == "cancel":
        back = docs.get(str(r.return_id)) if r.return_id else None
        if back is None or back.device_id != device["id"] or back.kind == "sale" \
                or back.original_id != sale.id:
            return "its return is not a return of that sale this till sent"
        if r.amount > -back.total:
            return f"{r.amount} won is more than the return's total, {-back.total}"
    return None


def audit_problem(entry: p.AuditPayload, before: str | None, held: str | None = None,
                  local_id: str | None = None) -> str | None:
    """What is wrong with an audit entry, said as an alert's reason, or None: its fields do not
    give its hash, it does not follow `before` (the hash of the till's entry n - 1 the server
    has; None: it has none), its number came already (`held`: the hash of the first entry of
    that number), or it names another device than the till's earlier entries (`local_id`)."""
    wrong = []
    if held == entry.hash:
        wrong.append(f"{p.AUDIT_AGAIN}: entry {entry.n}")
    elif held is not None:
        wrong.append(f"{p.AUDIT_TAKEN}: entry {entry.n} (both are kept)")
    fields = entry.model_dump(exclude={"prev_hash", "hash"})
    if chain_hash(entry.prev_hash, **fields) != entry.hash:
        wrong.append(f"{p.AUDIT_EDITED}: entry {entry.n}, {entry.action} {entry.subject}".strip())
    if held is None and before is None:
        wrong.append(f"{p.AUDIT_CHAIN}: entry {entry.n}; the server has no entry "
                     f"{entry.n - 1} of this till")
    elif held is None and entry.prev_hash != before:
        wrong.append(f"{p.AUDIT_CHAIN}: entry {entry.n}; its prev_hash is not the hash of "
                     f"entry {entry.n - 1}")
    if local_id is not None and entry.device_id != local_id:
        wrong.append(f"{p.AUDIT_DEVICE}: entry {entry.n} names {entry.device_id}, the till's "
                     f"earlier entries {local_id}")
    return "; ".join(wrong) or None


def _put_audit(conn: Connection, device: dict,
               logged: list[tuple[p.Incoming, p.AuditPayload]]) -> list[tuple]:
    """A batch's `audit.logged` entries into the till's audit log on the server, each checked
    against its hash and the entry before it (stored, or earlier in the batch). Every entry is
    kept as sent, one row per event: one that breaks the chain, comes with a number the server
    already has, or names another device than the till's earlier entries has the reason in
    `problem` and is alerted (returned as (event, reason)); the chain goes on from the first
    entry of each number."""
    if not logged:
        return []
    a = t.audit_entries.c
    numbers = [entry.n for _x, entry in logged]
    held: dict[int, str] = {}
    for n, digest in conn.execute(select(a.n, a.hash).where(
            a.device_id == device["id"], a.n.between(min(numbers) - 1, max(numbers)))
            .order_by(a.id)):
        held.setdefault(n, digest)
    local_id = device.get("local_id") or conn.execute(
        select(a.local_device_id).where(a.device_id == device["id"]).order_by(a.id)
        .limit(1)).scalar()
    rows, alerts = [], []
    for x, entry in logged:
        before = GENESIS if entry.n == 1 else held.get(entry.n - 1)
        problem = audit_problem(entry, before, held.get(entry.n), local_id)
        if problem is not None:
            alerts.append((x, problem))
        held.setdefault(entry.n, entry.hash)
        local_id = local_id or entry.device_id
        rows.append({"device_id": device["id"], "n": entry.n, "stall_id": device["stall_id"],
                     "seq": x.seq, "day": entry.at[:10], "at": entry.at,
                     "local_device_id": entry.device_id, "staff_id": entry.staff_id,
                     "staff_name": entry.staff_name, "action": entry.action,
                     "subject": entry.subject,
                     "details": json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
                     "prev_hash": entry.prev_hash, "hash": entry.hash, "problem": problem})
    conn.execute(t.audit_entries.insert(), rows)
    return alerts


def _project_rows(rows: dict, device_id: str, seq: int, doc: p.Document,
                  waiting: bool = False) -> None:
    """The document as the rows the totals are summed from."""
    doc_id = str(doc.id)  # tuples in the tables' column order (see tables.py)
    original = str(doc.original_id) if doc.original_id is not None else None
    rows["documents"].append((doc_id, device_id, seq, doc.kind, doc.receipt_no,
                              doc.business_day, doc.total, doc.taxable_total, doc.supply_value,
                              doc.vat, doc.exempt_total, original, waiting, doc.staff_name,
                              int(doc.created_at[11:13])))
    rows["lines"] += [(doc_id, ln.line_no, ln.enterprise_id, ln.enterprise_name, ln.name,
                       ln.qty, ln.amount, ln.original_line_no) for ln in doc.lines]
    rows["payments"] += [(doc_id, pay.n, pay.method, pay.amount) for pay in doc.payments]


# -- catalog ----------------------------------------------------------------------------------

def put_product(conn: Connection, *, stall_id: str, product: p.ProductChange,
                notes: list[str] | None = None, origin: str | None = None) -> bool:
    """Keep the product if its stamp is newer than the one stored (last writer wins by the
    hybrid logical clock, the device code breaking ties). The enterprise block is a register of
    its own with its own stamp: the newer of the stored and the incoming one is kept, whichever
    product edit wins, as long as both name the same enterprise. Returns whether the product
    was taken.

    A product of an id the stall has not seen that is one the stall has (`pos.catalog_match`:
    by SKU, barcode, or enterprise and name) is not doubled: it is kept as merged into that
    product, which gains its barcodes (and SKU and category where it had none); an edit of a
    merged product made after the merge (stamped later) is an edit of the one it was merged
    into, one made before it is dropped (the stall's product was kept). What a person should
    look at (the two differed, or the rules pointed at different products) goes to `notes`.
    `origin`: the
    device it came from, or "organizer"; products from the same origin are never matched to
    each other (a till's two products of one name are two products)."""
    notes = notes if notes is not None else []
    if product.merged_into:
        product = _merge_target(conn, stall_id, product, origin)
    stored = conn.execute(select(t.catalog.c.hlc, t.catalog.c.body)
                          .where(t.catalog.c.stall_id == stall_id,
                                 t.catalog.c.product_id == product.id)).first()
    hidden = bool(product.merged_into or product.removed)
    if stored is None and not hidden:
        found = _match(conn, stall_id, product, origin)
        if found.conflict:
            notes.append(f"catalog: {product.name!r} kept as a product of its own: "
                         f"{found.reason()}")
        if found.id is not None:
            _merge_into(conn, stall_id, product, found.id, found.by, notes, origin)
            return True
    if stored is not None:
        old = p.Product.model_validate_json(stored.body)
        if old.merged_into and not hidden:
            if product.hlc <= stored.hlc:  # made before the merge: the stall's product won
                return False
            target = _stored_product(conn, stall_id, old.merged_into)
            if target is not None and not (target.merged_into or target.removed):
                codes = list(dict.fromkeys(target.barcodes + product.barcodes))[:p.MAX_BARCODES]
                return put_product(conn, stall_id=stall_id, notes=notes, origin=origin,
                                   product=product.model_copy(
                                       update={"id": target.id, "barcodes": codes}))
        if stored.hlc >= product.hlc:  # the product edit loses; its enterprise may not
            if not _newer_enterprise(product.enterprise, old.enterprise):
                return False
            _store_product(conn, stall_id, old.model_copy(update={"enterprise": product.enterprise}),
                           exists=True)
            return False
        if _newer_enterprise(old.enterprise, product.enterprise):
            product = product.model_copy(update={"enterprise": old.enterprise})
    fitted, holders = _fit_in_stall(conn, stall_id, product, origin, notes)
    _store_product(conn, stall_id, fitted, exists=stored is not None, origin=origin)
    for holder in holders:  # sent again: a till that dropped its SKU or barcode for this
        _resend(conn, stall_id, holder)  # product's takes it back once this one has given up
    if product.merged_into and stored is not None and not (old.merged_into or old.removed):
        _give_to(conn, stall_id, old, _stored_product(conn, stall_id, product.merged_into), notes)
    return True


def _merge_target(conn: Connection, stall_id: str, product: p.ProductChange,
                  origin: str | None) -> p.ProductChange:
    """A merge names a live product of the stall, other than itself; a chain of merges is
    followed to its live end. The organizer is told a bad one (422); a till's (it hid the
    product already) becomes a removal, so that every till and the server hide it alike."""
    target, hops = product.merged_into, 0
    while target != product.id and hops < 10:
        found = _stored_product(conn, stall_id, target)
        if found is None or found.removed:
            break
        if not found.merged_into:
            return product.model_copy(update={"merged_into": target, "active": False})
        target, hops = found.merged_into, hops + 1
    if origin == "organizer":
        raise Refused(422, f"merged_into {_said(product.merged_into)} is not another live "
                           "product of this stall")
    return product.model_copy(update={"merged_into": None, "removed": True, "active": False})


def _fit_in_stall(conn: Connection, stall_id: str, product, origin: str | None,
                  notes: list[str]):
    """One product per SKU and per barcode in a stall, as on every till: a barcode or SKU that
    another live product holds is refused to the organizer (409) and left out of a till's
    product (alerted), and a barcode listed twice is kept once."""
    if product.merged_into or product.removed:
        return product, set()
    codes = list(dict.fromkeys(product.barcodes))
    b, c = t.catalog_barcodes.c, t.catalog.c
    owners = {r.barcode: r.product_id for r in conn.execute(select(b.barcode, b.product_id).where(
        b.stall_id == stall_id, b.barcode.in_(codes), b.product_id != product.id))} if codes \
        else {}
    held = sorted(owners)
    sku_owner = conn.execute(select(c.product_id).where(
        c.stall_id == stall_id, c.sku == product.sku, c.product_id != product.id)).scalar() \
        if product.sku else None
    sku_taken = sku_owner is not None
    if (held or sku_taken) and origin == "organizer":
        what = f"SKU {product.sku}" if sku_taken else f"barcode {held[0]}"
        raise Refused(409, f"another product of the stall has {what}: one product per SKU and "
                           "per barcode (merge them with merged_into)")
    if held or sku_taken:
        notes.append(f"catalog: {product.name!r} kept without "
                     + ", ".join(([f"SKU {product.sku}"] if sku_taken else [])
                                 + [f"barcode {x}" for x in held])
                     + ": another product of the stall has it")
    if held or sku_taken or codes != list(product.barcodes):
        # the same stamp: a till takes the server's version of an edit it has (`sync.client`)
        product = product.model_copy(update={
            "barcodes": [x for x in codes if x not in held],
            "sku": None if sku_taken else product.sku})
    return product, set(owners.values()) | ({sku_owner} if sku_owner else set())


def _resend(conn: Connection, stall_id: str, product_id: str) -> None:
    """The product again at the stall's next version, as it is (same stamp)."""
    found = _stored_product(conn, stall_id, product_id)
    if found is not None:
        _store_product(conn, stall_id, found, exists=True)


def _stored_product(conn: Connection, stall_id: str, product_id: str) -> p.Product | None:
    body = conn.execute(select(t.catalog.c.body).where(
        t.catalog.c.stall_id == stall_id, t.catalog.c.product_id == product_id)).scalar()
    return p.Product.model_validate_json(body) if body is not None else None


def _match(conn: Connection, stall_id: str, product: p.ProductChange,
           origin: str | None) -> catalog_match.Match:
    c, b = t.catalog.c, t.catalog_barcodes.c
    elsewhere = (c.origin.is_(None) | (c.origin != origin)) if origin else true()

    def by_sku(sku: str):
        row = conn.execute(select(c.product_id, c.sku).where(c.stall_id == stall_id, c.sku == sku,
                                                             elsewhere)
                           .order_by(c.version).limit(1)).first()
        return catalog_match.Known(row.product_id, row.sku) if row else None

    def by_barcodes(codes: list[str]):
        rows = conn.execute(select(b.barcode, b.product_id, c.sku).join(
            t.catalog, (c.stall_id == b.stall_id) & (c.product_id == b.product_id)).where(
            b.stall_id == stall_id, b.barcode.in_(codes), elsewhere)).all()
        return {r.barcode: catalog_match.Known(r.product_id, r.sku) for r in rows}

    def by_key(key: str):
        return [catalog_match.Known(r.product_id, r.sku) for r in conn.execute(
            select(c.product_id, c.sku).where(c.stall_id == stall_id, c.match_key == key,
                                              elsewhere)
            .order_by(c.version).limit(5))]

    return catalog_match.match(sku=product.sku, barcodes=product.barcodes,
                               key=catalog_match.name_key(product.enterprise.name, product.name),
                               by_sku=by_sku, by_barcodes=by_barcodes, by_key=by_key)


def _merge_into(conn: Connection, stall_id: str, product: p.ProductChange, target_id: str,
                by: str | None, notes: list[str], origin: str | None) -> None:
    """`product` (an id the stall has not seen) is the stall's `target_id`: kept merged into it
    (hidden on every till), and the target takes what it lacked."""
    target = _stored_product(conn, stall_id, target_id)
    differs = [f"{what} {mine} / {theirs}" for what, mine, theirs in (
        ("name", target.name, product.name), ("price", f"{target.price:,}", f"{product.price:,}"),
        ("tax", target.tax_class, product.tax_class),
        ("enterprise", target.enterprise.name, product.enterprise.name)) if mine != theirs]
    if differs:
        notes.append(f"catalog: {product.name!r} matched the stall's {target.name!r} by {by}; "
                     f"the stall's is kept, they differ: " + ", ".join(differs))
    _store_product(conn, stall_id, p.ProductChange(
        **{**product.model_dump(), "barcodes": [], "sku": None, "active": False,
           "merged_into": target_id, "hlc": server_stamp(conn, stall_id)}), exists=False,
        origin=origin)
    _give_to(conn, stall_id, product, target, notes)


def _give_to(conn: Connection, stall_id: str, source, target: p.Product,
             notes: list[str]) -> None:
    """A product merged into `target` gives it the barcodes (up to 20), SKU and category it
    lacked."""
    held = {r.barcode for r in conn.execute(select(t.catalog_barcodes.c.barcode).where(
        t.catalog_barcodes.c.stall_id == stall_id,
        t.catalog_barcodes.c.barcode.in_(source.barcodes)))} if source.barcodes else set()
    codes = list(target.barcodes)
    for code in source.barcodes:
        if code not in held and code not in codes:
            if len(codes) < p.MAX_BARCODES:
                codes.append(code)
            else:
                notes.append(f"catalog: barcode {code} of {source.name!r} not given to the "
                             f"stall's {target.name!r}: it has {p.MAX_BARCODES} barcodes "
                             "already")
    update: dict = {}
    if codes != list(target.barcodes):
        update["barcodes"] = codes
    if source.sku and not target.sku and conn.execute(select(t.catalog.c.product_id).where(
            t.catalog.c.stall_id == stall_id, t.catalog.c.sku == source.sku)).first() is None:
        update["sku"] = source.sku
    if source.category and not target.category:
        update["category"] = source.category
    # sent again whether or not it changed, with its own stamp (an edit made meanwhile on a
    # till still wins): the tills hid the merged product and take the target's barcodes,
    # which one of them may have left out while its own copy held them
    _store_product(conn, stall_id, target.model_copy(update=update), exists=True)


def _newer_enterprise(a: p.ProductEnterprise, b: p.ProductEnterprise) -> bool:
    """Whether `a` is a newer edit of the same enterprise as `b`."""
    same = (a.bizno == b.bizno) if (a.bizno and b.bizno) else a.name == b.name
    return same and bool(a.hlc) and (not b.hlc or a.hlc > b.hlc)


def _store_product(conn: Connection, stall_id: str, product: p.ProductChange | p.Product, *,
                   exists: bool, origin: str | None = None) -> None:
    current = conn.execute(select(t.catalog_versions.c.version)
                           .where(t.catalog_versions.c.stall_id == stall_id)
                           .with_for_update()).scalar()
    version = (current or 0) + 1
    if current is None:
        conn.execute(t.catalog_versions.insert().values(stall_id=stall_id, version=version))
    else:
        conn.execute(t.catalog_versions.update().where(t.catalog_versions.c.stall_id == stall_id)
                     .values(version=version))
    body = product.model_dump_json()
    live = not (product.merged_into or product.removed)
    keys = {"sku": product.sku if live else None,
            "match_key": catalog_match.name_key(product.enterprise.name, product.name)
            if live else None}
    if not exists:
        conn.execute(t.catalog.insert().values(stall_id=stall_id, product_id=product.id,
                                               hlc=product.hlc, version=version, body=body,
                                               origin=origin, **keys))
    else:
        conn.execute(t.catalog.update().where(t.catalog.c.stall_id == stall_id,
                                              t.catalog.c.product_id == product.id)
                     .values(hlc=product.hlc, version=version, body=body, **keys))
    b = t.catalog_barcodes.c
    conn.execute(t.catalog_barcodes.delete().where(b.stall_id == stall_id,
                                                   b.product_id == product.id))
    if live and product.barcodes:
        held = {r.barcode for r in conn.execute(select(b.barcode).where(
            b.stall_id == stall_id, b.barcode.in_(product.barcodes)))}
        free = [c for c in dict.fromkeys(product.barcodes) if c not in held]
        if free:
            conn.execute(t.catalog_barcodes.insert(), [
                {"stall_id": stall_id, "barcode": c, "product_id": product.id} for c in free])


def catalog_page_json(conn: Connection, *, stall_id: str, after: int, limit: int) -> str:
    """`catalog_page` as JSON, built from the stored (already validated) product bodies."""
    def page(after: int):
        return conn.execute(select(t.catalog.c.version, t.catalog.c.body)
                            .where(t.catalog.c.stall_id == stall_id, t.catalog.c.version > after)
                            .order_by(t.catalog.c.version).limit(limit + 1)).all()

    rows = page(after)
    if not rows and after > 0:
        # a cursor past every version the stall has: the server was restored from an older
        # backup (or the till was); the till takes the catalog again from the start, keeping
        # what is newer by stamp, instead of waiting for versions it thinks it has
        newest = conn.execute(select(func.max(t.catalog.c.version))
                              .where(t.catalog.c.stall_id == stall_id)).scalar()
        if (newest or 0) < after:
            after = 0
            rows = page(0)
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = rows[-1].version if rows else after
    return (f'{{"protocol":{p.PROTOCOL_VERSION},"products":[' + ",".join(r.body for r in rows)
            + f'],"next_after":{next_after},"more":{"true" if more else "false"}}}')


def server_stamp(conn: Connection, stall_id: str) -> str:
    """An HLC stamp for an organizer's edit of the stall's catalog: the server's clock, past
    every stamp the stall's catalog holds (which are never more than `MAX_CLOCK_AHEAD_MS`
    ahead of it, see `within_clock`; another stall's stamps have no say)."""
    millis = int(time.time() * 1000)
    bound = f"{millis + p.MAX_CLOCK_AHEAD_MS + 1:013d}"  # stamps compare as text
    newest = conn.execute(select(func.max(t.catalog.c.hlc)).where(
        t.catalog.c.stall_id == stall_id, t.catalog.c.hlc < bound)).scalar()
    counter = 0
    if newest:
        n_millis, n_counter = (int(x) for x in newest.split("-")[:2])
        if n_millis >= millis:
            millis, counter = n_millis, n_counter + 1
            if counter > 99_999:  # the counter has five digits: the next millisecond
                millis, counter = millis + 1, 0
    return f"{millis:013d}-{counter:05d}-SRV"


def within_clock(conn: Connection, stall_id: str, product: p.ProductChange) -> p.ProductChange:
    """The product as the catalog keeps it: a stamp (the product's or its enterprise's) more
    than `MAX_CLOCK_AHEAD_MS` ahead of the server's clock is replaced by a server stamp made on
    arrival. The event itself is kept as it was sent."""
    limit = int(time.time() * 1000) + p.MAX_CLOCK_AHEAD_MS

    def ahead(stamp: str | None) -> bool:
        return stamp is not None and int(stamp[:13]) > limit

    if not ahead(product.hlc) and not ahead(product.enterprise.hlc):
        return product
    stamp = server_stamp(conn, stall_id)
    enterprise = product.enterprise
    if ahead(enterprise.hlc):
        enterprise = enterprise.model_copy(update={"hlc": stamp})
    return product.model_copy(update={"hlc": stamp if ahead(product.hlc) else product.hlc,
                                      "enterprise": enterprise})


# -- settings ----------------------------------------------------------------------------------

def put_settings(conn: Connection, *, event_id: str, settings: p.TillSettings) -> int:
    """Replace the event's till settings; returns their new version (what tills pull by)."""
    current = conn.execute(select(t.event_settings.c.version)
                           .where(t.event_settings.c.event_id == event_id)
                           .with_for_update()).scalar()
    values = {"version": (current or 0) + 1, "body": settings.model_dump_json(),
              "updated_at": _now()}
    if current is None:
        conn.execute(t.event_settings.insert().values(event_id=event_id, **values))
    else:
        conn.execute(t.event_settings.update().where(t.event_settings.c.event_id == event_id)
                     .values(**values))
    return values["version"]


def settings_page(conn: Connection, *, device: dict, after: int) -> p.SettingsPage:
    row = conn.execute(
        select(t.event_settings.c.version, t.event_settings.c.body)
        .join(t.stalls, t.stalls.c.event_id == t.event_settings.c.event_id)
        .where(t.stalls.c.id == device["stall_id"])).first()
    if row is None:
        return p.SettingsPage(version=0)
    if row.version == after:
        return p.SettingsPage(version=after)
    # newer, or older than the till's cursor (the server was restored from an older backup):
    # the settings the server has, with its version, so that the next edit reaches the till
    return p.SettingsPage(version=row.version,
                          settings=p.TillSettings.model_validate_json(row.body))


# -- totals ------------------------------------------------------------------------------------

def totals(conn: Connection, *, event_id: str) -> dict:
    """The event's net sales per enterprise, per stall and device, per day, per method.

    Exact whatever the rows hold: PostgreSQL sums integers as numeric; SQLite's SUM stops at 64
    bits, and amounts written before they were bounded (`protocol.MAX_WON`) could pass them,
    so there the sums are taken again by `exact_sum` (`db.py`), in Python integers."""
    try:
        return _totals(conn, event_id, func.sum)
    except OperationalError as e:
        if conn.dialect.name != "sqlite" or "overflow" not in str(e.orig):
            raise
        return _totals(conn, event_id, func.exact_sum)


def _totals(conn: Connection, event_id: str, total) -> dict:
    d, l, s, dv, pm = (t.documents.c, t.document_lines.c, t.stalls.c, t.devices.c,
                       t.document_payments.c)
    in_event = (select(dv.id).join(t.stalls, s.id == dv.stall_id).where(s.event_id == event_id)
                .scalar_subquery())
    by_enterprise = conn.execute(
        select(l.enterprise_name, total(l.amount), total(l.qty))
        .select_from(t.document_lines.join(t.documents, d.id == l.document_id))
        .where(d.device_id.in_(in_event)).group_by(l.enterprise_name)
        .order_by(l.enterprise_name)).all()
    by_device = conn.execute(
        select(s.name, dv.device_code, func.coalesce(total(d.total), 0),
               func.count(d.id), dv.last_seq)
        .select_from(t.devices.join(t.stalls, s.id == dv.stall_id)
                     .outerjoin(t.documents, d.device_id == dv.id))
        .where(s.event_id == event_id).group_by(s.name, dv.device_code, dv.last_seq)
        .order_by(s.name, dv.device_code)).all()
    by_day = conn.execute(
        select(d.business_day, total(d.total), func.count(d.id))
        .where(d.device_id.in_(in_event)).group_by(d.business_day)
        .order_by(d.business_day)).all()
    by_method = conn.execute(
        select(pm.method, total(pm.amount))
        .select_from(t.document_payments.join(t.documents, d.id == pm.document_id))
        .where(d.device_id.in_(in_event)).group_by(pm.method).order_by(pm.method)).all()
    net = conn.execute(select(func.coalesce(total(d.total), 0))
                       .where(d.device_id.in_(in_event))).scalar()
    enterprise_count = len(by_enterprise)
    return {
        "event_id": event_id, "net": int(net), "enterprises": enterprise_count,
        "by_enterprise": [{"enterprise": r[0], "net": int(r[1]), "qty": int(r[2])}
                          for r in by_enterprise],
        "by_device": [{"stall": r[0], "device": r[1], "net": int(r[2]), "documents": int(r[3]),
                       "acked_seq": int(r[4])} for r in by_device],
        "by_day": [{"day": r[0], "net": int(r[1]), "documents": int(r[2])} for r in by_day],
        "by_method": [{"method": r[0], "net": int(r[1])} for r in by_method],
    }
