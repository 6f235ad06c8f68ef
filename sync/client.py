"""The till's side of sync: enroll once, then push the outbox in seq order from the server's
acked seq + 1, in batches, on a background thread that never blocks selling.

- The server's answer is the only truth about what it has: the local ack moves only to the
  `acked_seq` the server returned, after it committed. A time-out is "unknown": the same batch
  is sent again, and the server answers "already there" for what it has.
- Documents are read back from their (immutable) tables for every send, so a resent event is
  byte for byte the one sent before.
- The device token is kept in a file only the user can read (`sync-token` in the data folder).
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
from sqlalchemy import bindparam, select

from pos import services as svc
from pos import tables as t
from pos.background import BackgroundLoop
from pos.store import Store, UnitOfWork
from sync import protocol as p

BATCH = 500
TOKEN_FILE = "sync-token"


class SyncError(RuntimeError):
    """`code` keys the message in `pos.i18n`."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code} {params}")
        self.code = code
        self.params = params


def _token_path(store: Store) -> Path:
    return Path(store.data_dir) / TOKEN_FILE


def save_token(store: Store, token: str) -> None:
    path = _token_path(store)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    os.chmod(path, 0o600)


def load_token(store: Store) -> str | None:
    path = _token_path(store)
    return path.read_text().strip() if path.exists() else None


def settings(uow: UnitOfWork) -> dict:
    return svc.get_setting(uow, "sync") or {}


def _http(url: str, transport: httpx.BaseTransport | None, timeout: float) -> httpx.Client:
    return httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)


def _raise_for(response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise SyncError("sync_refused", detail=_detail(response))
    if response.status_code >= 500:
        raise SyncError("sync_server_error", status=response.status_code)
    if response.status_code >= 400:
        raise SyncError("sync_rejected", detail=_detail(response))


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))
    except ValueError:
        return response.text[:200]


def enroll(store: Store, *, url: str, code: str, transport=None, timeout: float = 10) -> dict:
    """Trade a one-time code for this device's identity and token at the organizer's server."""
    with store.unit_of_work(write=False) as uow:
        device = store.device
    body = p.EnrollRequest(code=code.strip(), device_code=device["code"],
                           device_name=device.get("name") or "").model_dump()
    try:
        with _http(url, transport, timeout) as http:
            response = http.post("/api/v1/enroll", json=body)
    except httpx.HTTPError as e:
        raise SyncError("sync_offline", detail=str(e)) from None
    _raise_for(response)
    answer = p.EnrollResponse.model_validate(response.json())
    save_token(store, answer.token)
    with store.unit_of_work() as uow:
        svc.set_setting(uow, "sync", {"url": url.rstrip("/"), "device_id": answer.device_id,
                                      "stall": answer.stall_name, "event": answer.event_name,
                                      "acked_seq": 0})
        uow.commit()
    return {"device_id": answer.device_id, "stall": answer.stall_name, "event": answer.event_name}


def _documents(uow: UnitOfWork, ids: list[str]) -> dict[str, dict]:
    """Documents as protocol messages, read back from their tables three queries a batch."""
    if not ids:
        return {}
    s, l, pm = t.sales.c, t.sale_lines.c, t.payments.c
    docs = {}
    for r in uow.conn.execute(select(t.sales).where(s.id.in_(ids))).mappings():
        docs[r["id"]] = {
            "id": r["id"], "kind": r["kind"], "receipt_no": r["receipt_no"],
            "business_day": r["business_day"], "created_at": r["created_at"],
            "change": r["change"], "original_id": r["original_id"], "total": r["total"],
            "taxable_total": r["taxable_total"], "supply_value": r["supply_value"],
            "vat": r["vat"], "exempt_total": r["exempt_total"], "shift_id": r["shift_id"],
            "lines": [], "payments": []}
    for r in uow.conn.execute(select(t.sale_lines).where(l.sale_id.in_(ids))
                              .order_by(l.sale_id, l.line_no)).mappings():
        docs[r["sale_id"]]["lines"].append({
            k: r[k] for k in ("line_no", "name", "unit_price", "qty", "line_discount",
                              "receipt_discount", "amount", "enterprise_id", "enterprise_name",
                              "tax_class", "tax_status", "product_id", "sku", "barcode",
                              "original_line_no")})
    for r in uow.conn.execute(select(t.payments).where(pm.sale_id.in_(ids))
                              .order_by(pm.sale_id, pm.n)).mappings():
        docs[r["sale_id"]]["payments"].append({
            k: r[k] for k in ("n", "method", "kind", "amount", "tendered", "change",
                              "approval_no", "reference")})
    return docs


def document_message(uow: UnitOfWork, document_id: str) -> dict:
    return _documents(uow, [document_id])[document_id]


def pending_events(uow: UnitOfWork, *, after: int, limit: int = BATCH) -> list[dict]:
    """The outbox from `after + 1`, as protocol events."""
    rows = uow.conn.execute(select(t.outbox).where(t.outbox.c.device_id == uow.store.device["id"],
                                                   t.outbox.c.seq > after)
                            .order_by(t.outbox.c.seq).limit(limit)).mappings().all()
    docs = _documents(uow, [r["document_id"] for r in rows if r["payload"] is None])
    events = []
    for r in rows:
        ev = {"event_id": r["event_id"], "seq": r["seq"], "type": r["event_type"],
              "hlc": r["hlc"], "created_at": r["created_at"]}
        if r["payload"] is None:
            ev["document"] = docs[r["document_id"]]
        else:
            ev["payload"] = json.loads(r["payload"])
        events.append(ev)
    return events


@dataclass(frozen=True)
class SyncState:
    configured: bool
    waiting: int
    acked_seq: int
    last_seq: int
    error: str | None = None
    error_params: dict | None = None
    syncing: bool = False
    catalog_after: int = 0


def sync_state(store: Store, *, error: SyncError | None = None, syncing: bool = False) -> SyncState:
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
        last = uow.conn.execute(select(t.outbox.c.seq).where(
            t.outbox.c.device_id == store.device["id"]).order_by(t.outbox.c.seq.desc())
            .limit(1)).scalar() or 0
    acked = int(conf.get("acked_seq", 0))
    return SyncState(bool(conf.get("url")), max(0, last - acked), acked, last,
                     error.code if error else None, error.params if error else None, syncing,
                     int(conf.get("catalog_after", 0)))


def push_once(store: Store, *, transport=None, timeout: float = 10, batch: int = BATCH) -> int:
    """Send what the server does not have yet; returns how many events it newly acked."""
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
        if not conf.get("url"):
            raise SyncError("sync_not_enrolled")
        events = pending_events(uow, after=int(conf.get("acked_seq", 0)), limit=batch)
    if not events:
        return 0
    answer = push_batch(store, url=conf["url"], events=events, transport=transport,
                        timeout=timeout)
    return _record_ack(store, answer)


def push_batch(store: Store, *, url: str, events: list[dict], transport=None,
               timeout: float = 10) -> p.PushResponse:
    """POST one batch and return the server's answer (nothing is recorded locally)."""
    token = load_token(store)
    if not token:
        raise SyncError("sync_not_enrolled")
    body = {"protocol": p.PROTOCOL_VERSION, "events": events}
    try:
        with _http(url, transport, timeout) as http:
            response = http.post("/api/v1/push", json=json.loads(json.dumps(body, default=str)),
                                 headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as e:
        raise SyncError("sync_offline", detail=type(e).__name__) from None
    _raise_for(response)
    try:
        return p.PushResponse.model_validate(response.json())
    except ValueError:
        raise SyncError("sync_garbage") from None


def _record_ack(store: Store, answer: p.PushResponse) -> int:
    """Move the local ack to what the server says it committed, never past this device's own
    newest event; flag mismatches."""
    with store.unit_of_work() as uow:
        conf = settings(uow)
        before = int(conf.get("acked_seq", 0))
        newest = uow.conn.execute(select(t.outbox.c.seq).where(
            t.outbox.c.device_id == store.device["id"]).order_by(t.outbox.c.seq.desc())
            .limit(1)).scalar() or 0
        acked = min(answer.acked_seq, newest)  # never past what this device ever made
        if acked > before:
            svc.set_setting(uow, "sync", {**conf, "acked_seq": acked})
            uow.conn.execute(t.outbox.update().where(
                t.outbox.c.device_id == store.device["id"], t.outbox.c.seq <= acked,
                t.outbox.c.acked_at.is_(None)).values(acked_at=store.clock.now().isoformat()))
        uow.commit()
    if answer.mismatches:
        raise SyncError("sync_mismatch", count=len(answer.mismatches),
                        detail=answer.mismatches[0].reason)
    return max(0, acked - before)


def sync_now(store: Store, *, transport=None, timeout: float = 10) -> int:
    """Push until the server has everything, then pull the catalog. Returns the events acked."""
    total = 0
    while True:
        n = push_once(store, transport=transport, timeout=timeout)
        total += n
        if n == 0 or sync_state(store).waiting == 0:
            break
    while pull_once(store, transport=transport, timeout=timeout):
        pass
    return total


def pull_once(store: Store, *, transport=None, timeout: float = 10, limit: int = 500) -> bool:
    """Fetch one page of catalog changes after the local cursor and apply it with the cursor in
    one transaction. Returns whether more pages wait."""
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
    token = load_token(store)
    if not conf.get("url") or not token:
        raise SyncError("sync_not_enrolled")
    after = int(conf.get("catalog_after", 0))
    try:
        with _http(conf["url"], transport, timeout) as http:
            response = http.get("/api/v1/catalog", params={"after": after, "limit": limit},
                                headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as e:
        raise SyncError("sync_offline", detail=type(e).__name__) from None
    _raise_for(response)
    try:
        page = p.CatalogPage.model_validate(response.json())
    except ValueError:
        raise SyncError("sync_garbage") from None
    with store.unit_of_work() as uow:
        apply_remote_page(uow, list(page.products))
        conf = settings(uow)
        svc.set_setting(uow, "sync", {**conf, "catalog_after": page.next_after})
        uow.commit()
    return page.more


def apply_remote_page(uow: UnitOfWork, products: list[p.Product]) -> int:
    """Take the products whose stamp is newer than the local one (the newest edit wins,
    wherever it was made), a page at a time with one lookup per table. They go in without
    outbox events: they came from the server. The device's clock moves past every stamp seen,
    so a later local edit wins. Returns how many were taken."""
    from pos.clock import Hlc, receive

    if not products:
        return 0
    ids = [x.id for x in products]
    local = dict(uow.conn.execute(select(t.products.c.id, t.products.c.hlc)
                                  .where(t.products.c.id.in_(ids))).all())
    device = uow.store.device
    newest = max(Hlc.parse(x.hlc) for x in products)
    last = uow.conn.execute(select(t.device.c.last_hlc).where(t.device.c.id == device["id"])).scalar()
    seen = receive(Hlc.parse(last) if last else None, newest, uow.clock.now(), device["code"])
    uow.conn.execute(t.device.update().where(t.device.c.id == device["id"])
                     .values(last_hlc=str(seen)))
    uow.on_commit(uow.store.numbering.forget)
    newer = [x for x in products if local.get(x.id) is None or local[x.id] < x.hlc]
    if not newer:
        return 0
    enterprises = {r.name: r.id for r in uow.conn.execute(
        select(t.enterprises.c.name, t.enterprises.c.id))}
    for x in newer:
        if x.enterprise.name not in enterprises:
            enterprises[x.enterprise.name] = svc.add_enterprise(
                uow, name=x.enterprise.name, tax_status=x.enterprise.tax_status,
                commission_bp=x.enterprise.commission_bp)
    categories: dict[str, str] = {}
    for x in newer:
        if x.category and x.category not in categories:
            categories[x.category] = svc.add_category(uow, name=x.category)
    skus = {r.sku: r.id for r in uow.conn.execute(
        select(t.products.c.sku, t.products.c.id)
        .where(t.products.c.sku.in_([x.sku for x in newer if x.sku])))}
    now = uow.clock.now().isoformat()
    inserts, updates = [], []
    for x in newer:
        values = {"name": x.name, "price": x.price, "tax_class": x.tax_class,
                  "enterprise_id": enterprises[x.enterprise.name],
                  "category_id": categories.get(x.category) if x.category else None,
                  "active": x.active, "sku": x.sku, "hlc": x.hlc, "updated_at": now}
        if x.sku and skus.get(x.sku) not in (None, x.id):
            values["sku"] = None  # another local product holds the SKU: keep both
        if x.id in local:
            updates.append({"b_id": x.id, **values})
        else:
            inserts.append({"id": x.id, "version": 1, "stock": None, **values})
    if inserts:
        uow.conn.execute(t.products.insert(), inserts)
    if updates:
        cols = [c for c in updates[0] if c != "b_id"]
        uow.conn.execute(t.products.update().where(t.products.c.id == bindparam("b_id"))
                         .values({c: bindparam(c) for c in cols}), updates)
    taken = [x.id for x in newer]
    for k in range(0, len(taken), 500):
        uow.conn.execute(t.barcodes.delete().where(t.barcodes.c.product_id.in_(taken[k:k + 500])))
    wanted = [(b, x.id) for x in newer for b in x.barcodes]
    owners = {}
    codes = [b for b, _ in wanted]
    for k in range(0, len(codes), 500):
        owners.update(dict(uow.conn.execute(select(t.barcodes.c.barcode, t.barcodes.c.product_id)
                                            .where(t.barcodes.c.barcode.in_(codes[k:k + 500])))
                           .all()))
    free = [{"barcode": b, "product_id": pid} for b, pid in wanted if b not in owners]
    if free:
        uow.conn.execute(t.barcodes.insert(), free)
    return len(newer)


class SyncWorker(BackgroundLoop):
    """Pushes in the background with back-off and jitter; `listener(SyncState)` is called from
    the worker thread."""

    def __init__(self, store: Store, *, listener: Callable[[SyncState], None] | None = None,
                 transport=None, interval: float = 10.0, max_backoff: float = 300.0):
        self.store = store
        self.listener = listener
        self.transport = transport
        self.interval = interval
        self.max_backoff = max_backoff
        self.failures = 0
        super().__init__()

    name = "sync-worker"

    def _notify(self, **kw) -> None:
        if self.listener is not None:
            try:
                self.listener(sync_state(self.store, **kw))
            except Exception:  # noqa: BLE001 - a listener must never stop syncing
                pass

    def step(self) -> float:
        error = None
        try:
            with self.store.unit_of_work(write=False) as uow:
                configured = bool(settings(uow).get("url"))
            if configured:
                self._notify(syncing=True)
                sync_now(self.store, transport=self.transport)
                self.failures = 0
        except SyncError as e:
            error = e
            self.failures += 1
        except Exception as e:  # noqa: BLE001 - e.g. the disk is full: try again later
            error = SyncError("sync_offline", detail=str(e))
            self.failures += 1
        self._notify(error=error)
        if not self.failures:
            return self.interval
        wait = min(self.max_backoff, self.interval * 2 ** min(self.failures, 8))
        return wait * random.uniform(0.5, 1.0)  # jitter: tills do not retry in step
