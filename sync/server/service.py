"""What the server does, independent of HTTP: enrollment, applying pushed events exactly once,
and the event's totals."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from sync import protocol as p
from sync.server import tables as t


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Refused(Exception):
    """A request the server will not carry out; `status` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# -- organizer ---------------------------------------------------------------------------------

def create_event(conn: Connection, *, name: str) -> str:
    eid = str(uuid.uuid4())
    conn.execute(t.events.insert().values(id=eid, name=name.strip(), created_at=_now()))
    return eid


def find_event(conn: Connection, ref: str) -> dict:
    row = conn.execute(select(t.events).where((t.events.c.id == ref) | (t.events.c.name == ref))
                       ).mappings().first()
    if row is None:
        raise Refused(404, f"no event {ref!r}")
    return dict(row)


def create_stall(conn: Connection, *, event_id: str, name: str) -> str:
    sid = str(uuid.uuid4())
    conn.execute(t.stalls.insert().values(id=sid, event_id=event_id, name=name.strip(),
                                          created_at=_now()))
    return sid


def find_stall(conn: Connection, ref: str) -> dict:
    row = conn.execute(select(t.stalls).where((t.stalls.c.id == ref) | (t.stalls.c.name == ref))
                       ).mappings().first()
    if row is None:
        raise Refused(404, f"no stall {ref!r}")
    return dict(row)


def add_enterprise(conn: Connection, *, event_id: str, name: str, bizno: str | None = None) -> str:
    eid = str(uuid.uuid4())
    conn.execute(t.enterprises.insert().values(id=eid, event_id=event_id, name=name.strip(),
                                               bizno=bizno))
    return eid


def device_code(conn: Connection, *, stall_id: str, valid_hours: float = 72) -> str:
    """A one-time enrollment code; the server keeps only its hash."""
    code = "-".join(secrets.token_hex(2).upper() for _ in range(3))  # e.g. 4F2A-9C01-77BE
    conn.execute(t.enrollment_codes.insert().values(
        code_hash=digest_of(code), stall_id=stall_id,
        expires_at=int(time.time() + valid_hours * 3600), used_at=None))
    return code


def organizer_token(conn: Connection, *, name: str) -> str:
    token = "org_" + secrets.token_urlsafe(32)
    conn.execute(t.organizer_tokens.insert().values(token_hash=digest_of(token), name=name,
                                                    created_at=_now()))
    return token


def is_organizer(conn: Connection, token: str) -> bool:
    return conn.execute(select(t.organizer_tokens.c.name)
                        .where(t.organizer_tokens.c.token_hash == digest_of(token))).first() is not None


# -- devices -----------------------------------------------------------------------------------

def enroll(conn: Connection, req: p.EnrollRequest) -> p.EnrollResponse:
    code = conn.execute(select(t.enrollment_codes)
                        .where(t.enrollment_codes.c.code_hash == digest_of(req.code.strip().upper()))
                        .with_for_update()).mappings().first()
    if code is None or code["used_at"] is not None or code["expires_at"] < time.time():
        raise Refused(403, "the enrollment code is unknown, used or expired")
    conn.execute(t.enrollment_codes.update().where(t.enrollment_codes.c.code_hash == code["code_hash"])
                 .values(used_at=_now()))
    token = "dev_" + secrets.token_urlsafe(32)
    device_id = str(uuid.uuid4())
    conn.execute(t.devices.insert().values(
        id=device_id, stall_id=code["stall_id"], device_code=req.device_code,
        name=req.device_name, token_hash=digest_of(token), last_seq=0, enrolled_at=_now()))
    stall = find_stall(conn, code["stall_id"])
    event = find_event(conn, stall["event_id"])
    return p.EnrollResponse(device_id=device_id, token=token, stall_id=stall["id"],
                            stall_name=stall["name"], event_name=event["name"])


def device_for(conn: Connection, token: str) -> dict:
    row = conn.execute(select(t.devices).where(t.devices.c.token_hash == digest_of(token))
                       ).mappings().first()
    if row is None:
        raise Refused(401, "unknown device token")
    return dict(row)


def status(conn: Connection, device: dict) -> p.Status:
    stall = find_stall(conn, device["stall_id"])
    event = find_event(conn, stall["event_id"])
    last = conn.execute(select(t.devices.c.last_seq).where(t.devices.c.id == device["id"])).scalar()
    return p.Status(device_id=device["id"], acked_seq=int(last), stall_name=stall["name"],
                    event_name=event["name"])


def _canonical(event: p.Event) -> str:
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def push(conn: Connection, device: dict, req: p.PushRequest) -> p.PushResponse:
    """Apply events in seq order, in the caller's one transaction: skip what is already there
    (after checking it is the same event), apply `last_seq + 1`, stop at a gap.

    The device row is locked for the transaction (two pushes of one device never interleave);
    lookups and inserts are made for the whole batch at once."""
    last = int(conn.execute(select(t.devices.c.last_seq).where(t.devices.c.id == device["id"])
                            .with_for_update()).scalar())
    known = last  # what the server had before this batch
    bodies = [_canonical(ev) for ev in req.events]
    old_seqs = [ev.seq for ev in req.events if ev.seq <= known]
    stored = {}
    if old_seqs:
        stored = {r.seq: (r.event_id, r.digest) for r in conn.execute(
            select(t.device_events.c.seq, t.device_events.c.event_id, t.device_events.c.digest)
            .where(t.device_events.c.device_id == device["id"],
                   t.device_events.c.seq.in_(old_seqs)))}
    new = [ev for ev in req.events if ev.seq > known]
    used_events = set()
    used_docs = set()
    if new:
        used_events = {r[0] for r in conn.execute(
            select(t.device_events.c.event_id)
            .where(t.device_events.c.event_id.in_([str(ev.event_id) for ev in new])))}
        doc_ids = [str(ev.document.id) for ev in new if ev.document is not None]
        if doc_ids:
            used_docs = {r[0] for r in conn.execute(
                select(t.documents.c.id).where(t.documents.c.id.in_(doc_ids)))}
    applied = already = 0
    mismatches: list[p.Mismatch] = []
    rows = {"events": [], "documents": [], "lines": [], "payments": []}
    received = _now()
    for ev, body in zip(req.events, bodies):
        digest = digest_of(body)
        if ev.seq <= known:
            if stored.get(ev.seq) == (str(ev.event_id), digest):
                already += 1
            else:
                mismatches.append(_alert(conn, device, ev, body, "differs from the stored event"))
            continue
        if ev.seq != last + 1:
            break  # a gap: the device sends from acked + 1 next time
        event_id = str(ev.event_id)
        doc_id = str(ev.document.id) if ev.document is not None else None
        if event_id in used_events or (doc_id and doc_id in used_docs):
            mismatches.append(_alert(conn, device, ev, body, "event or document id already used"))
            break
        used_events.add(event_id)
        if doc_id:
            used_docs.add(doc_id)
            _project_rows(rows, device["id"], ev.seq, ev.document)
        elif ev.type == "product.changed":
            put_product(conn, stall_id=device["stall_id"],
                        product=p.Product.model_validate(ev.payload))
        rows["events"].append({"device_id": device["id"], "seq": ev.seq, "event_id": event_id,
                               "type": ev.type, "hlc": ev.hlc, "digest": digest, "body": body,
                               "received_at": received})
        last = ev.seq
        applied += 1
    for table, key in ((t.device_events, "events"), (t.documents, "documents"),
                       (t.document_lines, "lines"), (t.document_payments, "payments")):
        _insert_many(conn, table, rows[key])
    conn.execute(t.devices.update().where(t.devices.c.id == device["id"]).values(last_seq=last))
    return p.PushResponse(acked_seq=last, applied=applied, already_there=already,
                          mismatches=mismatches)


def _insert_many(conn: Connection, table, rows: list[dict]) -> None:
    """Bulk insert: PostgreSQL's COPY inside the transaction, else executemany."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    conn.execute(table.insert(), rows)


def _alert(conn, device, ev: p.Event, body: str, reason: str) -> p.Mismatch:
    conn.execute(t.alerts.insert().values(device_id=device["id"], seq=ev.seq,
                                          event_id=str(ev.event_id), reason=reason, body=body,
                                          created_at=_now()))
    return p.Mismatch(seq=ev.seq, event_id=str(ev.event_id), reason=reason)


def _project_rows(rows: dict, device_id: str, seq: int, doc: p.Document) -> None:
    """The document as the rows the totals are summed from."""
    doc_id = str(doc.id)
    rows["documents"].append({
        "id": doc_id, "device_id": device_id, "seq": seq, "kind": doc.kind,
        "receipt_no": doc.receipt_no, "business_day": doc.business_day, "total": doc.total,
        "taxable_total": doc.taxable_total, "supply_value": doc.supply_value, "vat": doc.vat,
        "exempt_total": doc.exempt_total})
    rows["lines"] += [{"document_id": doc_id, "line_no": ln.line_no,
                       "enterprise_id": ln.enterprise_id, "enterprise_name": ln.enterprise_name,
                       "name": ln.name, "qty": ln.qty, "amount": ln.amount} for ln in doc.lines]
    rows["payments"] += [{"document_id": doc_id, "n": pay.n, "method": pay.method,
                          "amount": pay.amount} for pay in doc.payments]


# -- catalog ----------------------------------------------------------------------------------

def put_product(conn: Connection, *, stall_id: str, product: p.Product) -> bool:
    """Keep the product if its stamp is newer than the one stored (last writer wins by the
    hybrid logical clock, the device code breaking ties). Returns whether it was taken."""
    stored = conn.execute(select(t.catalog.c.hlc).where(t.catalog.c.stall_id == stall_id,
                                                        t.catalog.c.product_id == product.id)
                          ).scalar()
    if stored is not None and stored >= product.hlc:
        return False
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
    if stored is None:
        conn.execute(t.catalog.insert().values(stall_id=stall_id, product_id=product.id,
                                               hlc=product.hlc, version=version, body=body))
    else:
        conn.execute(t.catalog.update().where(t.catalog.c.stall_id == stall_id,
                                              t.catalog.c.product_id == product.id)
                     .values(hlc=product.hlc, version=version, body=body))
    return True


def catalog_page_json(conn: Connection, *, stall_id: str, after: int, limit: int) -> str:
    """`catalog_page` as JSON, built from the stored (already validated) product bodies."""
    rows = conn.execute(select(t.catalog.c.version, t.catalog.c.body)
                        .where(t.catalog.c.stall_id == stall_id, t.catalog.c.version > after)
                        .order_by(t.catalog.c.version).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = rows[-1].version if rows else after
    return (f'{{"protocol":{p.PROTOCOL_VERSION},"products":[' + ",".join(r.body for r in rows)
            + f'],"next_after":{next_after},"more":{"true" if more else "false"}}}')


def server_stamp(conn: Connection) -> str:
    """An HLC stamp for an organizer's edit: the server's clock, past anything it has seen."""
    newest = conn.execute(select(func.max(t.catalog.c.hlc))).scalar()
    millis = int(time.time() * 1000)
    counter = 0
    if newest:
        n_millis, n_counter = (int(x) for x in newest.split("-")[:2])
        if n_millis >= millis:
            millis, counter = n_millis, n_counter + 1
    return f"{millis:013d}-{counter:05d}-SRV"


# -- totals ------------------------------------------------------------------------------------

def totals(conn: Connection, *, event_id: str) -> dict:
    """The event's net sales per enterprise, per stall and device, per day, per method."""
    d, l, s, dv, pm = (t.documents.c, t.document_lines.c, t.stalls.c, t.devices.c,
                       t.document_payments.c)
    in_event = (select(dv.id).join(t.stalls, s.id == dv.stall_id).where(s.event_id == event_id)
                .scalar_subquery())
    by_enterprise = conn.execute(
        select(l.enterprise_name, func.sum(l.amount), func.sum(l.qty))
        .select_from(t.document_lines.join(t.documents, d.id == l.document_id))
        .where(d.device_id.in_(in_event)).group_by(l.enterprise_name)
        .order_by(l.enterprise_name)).all()
    by_device = conn.execute(
        select(s.name, dv.device_code, func.coalesce(func.sum(d.total), 0),
               func.count(d.id), dv.last_seq)
        .select_from(t.devices.join(t.stalls, s.id == dv.stall_id)
                     .outerjoin(t.documents, d.device_id == dv.id))
        .where(s.event_id == event_id).group_by(s.name, dv.device_code, dv.last_seq)
        .order_by(s.name, dv.device_code)).all()
    by_day = conn.execute(
        select(d.business_day, func.sum(d.total), func.count(d.id))
        .where(d.device_id.in_(in_event)).group_by(d.business_day)
        .order_by(d.business_day)).all()
    by_method = conn.execute(
        select(pm.method, func.sum(pm.amount))
        .select_from(t.document_payments.join(t.documents, d.id == pm.document_id))
        .where(d.device_id.in_(in_event)).group_by(pm.method).order_by(pm.method)).all()
    net = conn.execute(select(func.coalesce(func.sum(d.total), 0))
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
