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
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
from sqlalchemy import select

from pos import services as svc
from pos import tables as t
from pos.store import Store, UnitOfWork
from sync import protocol as p

BATCH = 200
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


_DOC_FIELDS = ("receipt_no", "business_day", "created_at", "change", "original_id")


def document_message(uow: UnitOfWork, document_id: str) -> dict:
    doc = svc.get_document(uow, sale_id=document_id)
    shift_id = uow.conn.execute(select(t.sales.c.shift_id).where(t.sales.c.id == document_id)).scalar()
    totals = doc.totals
    return {
        "id": doc.id, "kind": str(doc.kind), **{k: getattr(doc, k) for k in _DOC_FIELDS},
        "total": totals.total, "taxable_total": totals.taxable_total,
        "supply_value": totals.supply_value, "vat": totals.vat,
        "exempt_total": totals.exempt_total, "shift_id": shift_id,
        "lines": [{"line_no": ln.line_no, "name": ln.name, "unit_price": ln.unit_price,
                   "qty": ln.qty, "line_discount": ln.line_discount,
                   "receipt_discount": ln.receipt_discount, "amount": ln.amount,
                   "enterprise_id": ln.enterprise_id, "enterprise_name": ln.enterprise_name,
                   "tax_class": str(ln.tax_class), "tax_status": str(ln.tax_status),
                   "product_id": ln.product_id, "sku": ln.sku, "barcode": ln.barcode,
                   "original_line_no": ln.original_line_no} for ln in doc.lines],
        "payments": [{"n": pay.n, "method": pay.method, "kind": str(pay.kind),
                      "amount": pay.amount, "tendered": pay.tendered, "change": pay.change,
                      "approval_no": pay.approval_no, "reference": pay.reference}
                     for pay in doc.payments],
    }


def pending_events(uow: UnitOfWork, *, after: int, limit: int = BATCH) -> list[dict]:
    """The outbox from `after + 1`, as protocol events."""
    rows = uow.conn.execute(select(t.outbox).where(t.outbox.c.device_id == uow.store.device["id"],
                                                   t.outbox.c.seq > after)
                            .order_by(t.outbox.c.seq).limit(limit)).mappings().all()
    events = []
    for r in rows:
        ev = {"event_id": r["event_id"], "seq": r["seq"], "type": r["event_type"],
              "hlc": r["hlc"], "created_at": r["created_at"]}
        if r["payload"] is None:
            ev["document"] = document_message(uow, r["document_id"])
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


def sync_state(store: Store, *, error: SyncError | None = None, syncing: bool = False) -> SyncState:
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
        last = uow.conn.execute(select(t.outbox.c.seq).where(
            t.outbox.c.device_id == store.device["id"]).order_by(t.outbox.c.seq.desc())
            .limit(1)).scalar() or 0
    acked = int(conf.get("acked_seq", 0))
    return SyncState(bool(conf.get("url")), max(0, last - acked), acked, last,
                     error.code if error else None, error.params if error else None, syncing)


def push_once(store: Store, *, transport=None, timeout: float = 10, batch: int = BATCH) -> int:
    """Send what the server does not have yet; returns how many events it newly acked."""
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
        if not conf.get("url"):
            raise SyncError("sync_not_enrolled")
        events = pending_events(uow, after=int(conf.get("acked_seq", 0)), limit=batch)
    token = load_token(store)
    if not token:
        raise SyncError("sync_not_enrolled")
    if not events:
        return 0
    body = {"protocol": p.PROTOCOL_VERSION, "events": events}
    try:
        with _http(conf["url"], transport, timeout) as http:
            response = http.post("/api/v1/push", json=json.loads(json.dumps(body, default=str)),
                                 headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as e:
        raise SyncError("sync_offline", detail=type(e).__name__) from None
    _raise_for(response)
    try:
        answer = p.PushResponse.model_validate(response.json())
    except ValueError:
        raise SyncError("sync_garbage") from None
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
    """Push until the server has everything (or an error). Returns the events acked."""
    total = 0
    while True:
        n = push_once(store, transport=transport, timeout=timeout)
        total += n
        if n == 0 or sync_state(store).waiting == 0:
            return total


class SyncWorker:
    """Pushes in the background with back-off and jitter; `listener(SyncState)` is called from
    the worker thread."""

    def __init__(self, store: Store, *, listener: Callable[[SyncState], None] | None = None,
                 transport=None, interval: float = 10.0, max_backoff: float = 300.0):
        self.store = store
        self.listener = listener
        self.transport = transport
        self.interval = interval
        self.max_backoff = max_backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _notify(self, **kw) -> None:
        if self.listener is not None:
            try:
                self.listener(sync_state(self.store, **kw))
            except Exception:  # noqa: BLE001 - a listener must never stop syncing
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
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
            wait = self.interval
            if self.failures:
                wait = min(self.max_backoff, self.interval * 2 ** min(self.failures, 8))
                wait *= random.uniform(0.5, 1.0)  # jitter: tills do not retry in step
            self._wake.wait(wait)
            self._wake.clear()
