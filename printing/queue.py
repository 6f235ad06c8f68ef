"""The durable print queue: jobs in the store, a worker thread that sends them.

A sale never waits for a printer: paying only adds a job row. The worker renders the receipt
(keeping the bytes in the job, for resending and previews), sends it, and retries with back-off
while nothing reached the printer. A job cut off mid-send is `interrupted`: some of it may be
on paper, so it is never resent as if it were the original; retrying it prints a new job
marked as a copy. Jobs left `sending` by a crash are `interrupted` at the next start.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select

from pos import services as svc
from pos.background import BackgroundLoop
from pos import tables as t
from pos.store import Store, UnitOfWork
from printing.profiles import PrinterProfile, profile as make_profile
from printing.receipt import layout_receipt, receipt_for
from printing.render import render
from printing.transport import PrinterError, send as transport_send

log = logging.getLogger("jangteo.printing")

QUEUED, SENDING, DONE, RETRY, FAILED, INTERRUPTED, DROPPED, REPLACED = (
    "queued", "sending", "done", "retry", "failed", "interrupted", "dropped", "replaced")
WAITING = (QUEUED, RETRY)
NEEDS_HAND = (FAILED, INTERRUPTED)


@dataclass(frozen=True)
class PrinterSetup:
    url: str
    profile: PrinterProfile
    print_on_pay: str = "ask"  # always / ask / never
    drawer: bool = True


def printer_setup(uow: UnitOfWork) -> PrinterSetup | None:
    """The till's printer from settings, or None when none is set up."""
    stored = svc.get_setting(uow, "printer") or {}
    if not stored.get("url"):
        return None
    return PrinterSetup(stored["url"], make_profile(stored.get("profile"), stored.get("overrides")),
                        svc.get_setting(uow, "receipt_mode", "ask"), stored.get("drawer", True))


def save_printer_setup(uow: UnitOfWork, *, url: str, profile_key: str, drawer: bool = True,
                       overrides: dict | None = None) -> None:
    make_profile(profile_key, overrides)  # refuse an unknown profile before storing it
    svc.set_setting(uow, "printer", {"url": url.strip(), "profile": profile_key,
                                     "overrides": overrides or {}, "drawer": drawer})


def _now(uow: UnitOfWork) -> str:
    return uow.clock.now().isoformat()


def enqueue_receipt(uow: UnitOfWork, setup: PrinterSetup, *, document_id: str,
                    copy: bool = False, drawer: bool = False, replaces: int | None = None) -> int:
    """Queue a receipt; it is rendered by the worker, off the selling path."""
    receipt_no = uow.conn.execute(select(t.sales.c.receipt_no)
                                  .where(t.sales.c.id == document_id)).scalar()
    return _insert(uow, setup, kind="receipt", document_id=document_id, receipt_no=receipt_no,
                   copy=copy, drawer=drawer, data=None, replaces=replaces)


def enqueue_bytes(uow: UnitOfWork, setup: PrinterSetup, *, kind: str, data: bytes) -> int:
    return _insert(uow, setup, kind=kind, document_id=None, receipt_no=None, copy=False,
                   drawer=False, data=data, replaces=None)


def _insert(uow, setup, **values) -> int:
    now = _now(uow)
    result = uow.conn.execute(t.print_jobs.insert().values(
        printer_url=setup.url, profile=setup.profile.key, status=QUEUED, attempts=0,
        created_at=now, updated_at=now, **values))
    return int(result.inserted_primary_key[0])


def render_receipt(uow: UnitOfWork, setup_profile: PrinterProfile, *, document_id: str,
                   copy: bool = False, drawer: bool = False) -> bytes:
    receipt = receipt_for(uow, sale_id=document_id, copy=copy)
    return render(layout_receipt(receipt, setup_profile.columns), setup_profile, drawer=drawer)


def job(uow: UnitOfWork, job_id: int) -> dict:
    row = uow.conn.execute(select(t.print_jobs).where(t.print_jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise KeyError(job_id)
    return dict(row)


def recent_jobs(uow: UnitOfWork, limit: int = 30) -> list[dict]:
    q = (select(*[c for c in t.print_jobs.c if c.name != "data"])
         .order_by(t.print_jobs.c.id.desc()).limit(limit))
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def retry(uow: UnitOfWork, job_id: int, setup: PrinterSetup | None = None) -> int:
    """Send a failed or interrupted job again. An interrupted receipt is printed anew as a
    marked copy (a new job); a job that never reached the printer is simply queued again."""
    row = job(uow, job_id)
    if row["status"] not in NEEDS_HAND + (RETRY,):
        raise ValueError(f"job {job_id} is {row['status']}")
    if row["status"] == INTERRUPTED and row["kind"] == "receipt":
        target = setup or PrinterSetup(row["printer_url"], make_profile(row["profile"]))
        new_id = enqueue_receipt(uow, target, document_id=row["document_id"], copy=True,
                                 replaces=job_id)
        _set(uow, job_id, status=REPLACED)
        return new_id
    _set(uow, job_id, status=QUEUED, attempts=0, next_try_at=None)
    return job_id


def drop(uow: UnitOfWork, job_id: int) -> None:
    row = job(uow, job_id)
    if row["status"] in (DONE, SENDING):
        raise ValueError(f"job {job_id} is {row['status']}")
    _set(uow, job_id, status=DROPPED)


def recover(uow: UnitOfWork) -> int:
    """Jobs left `sending` by a crash or power cut: they may be half on paper."""
    return uow.conn.execute(t.print_jobs.update().where(t.print_jobs.c.status == SENDING)
                            .values(status=INTERRUPTED, last_error="interrupted_by_restart",
                                    updated_at=_now(uow))).rowcount


def _set(uow: UnitOfWork, job_id: int, **values) -> None:
    uow.conn.execute(t.print_jobs.update().where(t.print_jobs.c.id == job_id)
                     .values(updated_at=_now(uow), **values))


@dataclass(frozen=True)
class QueueState:
    waiting: int
    failed: int
    interrupted: int
    sending: bool
    last_error: str | None
    last_error_params: dict | None = None


def queue_state(uow: UnitOfWork, *, sending: bool = False, last_error=None, params=None) -> QueueState:
    counts = dict(uow.conn.execute(select(t.print_jobs.c.status, func.count())
                                   .group_by(t.print_jobs.c.status)).all())
    return QueueState(sum(counts.get(s, 0) for s in WAITING), counts.get(FAILED, 0),
                      counts.get(INTERRUPTED, 0), sending, last_error, params)


class PrintWorker(BackgroundLoop):
    """Sends queued jobs on its own thread; `listener(QueueState)` hears every change (from
    the worker thread: a GUI must hand it over to its own thread)."""

    def __init__(self, store: Store, *, send: Callable[..., None] = transport_send,
                 listener: Callable[[QueueState], None] | None = None, timeout: float = 10.0,
                 backoff: tuple[float, ...] = (1, 2, 4, 8, 16), idle_wait: float = 30.0):
        self.store = store
        self._send = send
        self.listener = listener
        self.timeout = timeout
        self.backoff = backoff
        self.idle_wait = idle_wait
        self.sent = 0
        super().__init__()

    name = "print-worker"

    def start(self) -> None:
        with self.store.unit_of_work() as uow:
            if recover(uow):
                log.warning("print jobs interrupted by a restart were marked interrupted")
            uow.commit()
        super().start()
        self._notify()

    def _notify(self, *, sending: bool = False, error: PrinterError | None = None) -> None:
        if self.listener is None:
            return
        try:
            with self.store.unit_of_work(write=False) as uow:
                state = queue_state(uow, sending=sending, last_error=error.code if error else None,
                                    params=error.params if error else None)
            self.listener(state)
        except Exception:  # noqa: BLE001 - a listener must never stop the printing
            log.exception("print queue listener failed")

    def _claim(self) -> dict | None:
        now = time.time()
        with self.store.unit_of_work() as uow:
            row = uow.conn.execute(
                select(t.print_jobs).where(
                    (t.print_jobs.c.status == QUEUED)
                    | ((t.print_jobs.c.status == RETRY) & (t.print_jobs.c.next_try_at <= now)))
                .order_by(t.print_jobs.c.id).limit(1)).mappings().first()
            if row is None:
                return None
            row = dict(row)
            if row["data"] is None:
                prof = make_profile(row["profile"])
                row["data"] = render_receipt(uow, prof, document_id=row["document_id"],
                                             copy=row["copy"], drawer=row["drawer"])
            _set(uow, row["id"], status=SENDING, data=row["data"])
            uow.commit()
        return row

    def _next_due(self) -> float | None:
        with self.store.unit_of_work(write=False) as uow:
            return uow.conn.execute(select(func.min(t.print_jobs.c.next_try_at))
                                    .where(t.print_jobs.c.status == RETRY)).scalar()

    def run_once(self) -> bool:
        """Send the next due job, if any; True when one was handled."""
        row = self._claim()
        if row is None:
            return False
        self._notify(sending=True)
        error = None
        try:
            self._send(row["printer_url"], row["data"], timeout=self.timeout)
            status = {"status": DONE, "last_error": None}
            self.sent += 1
        except PrinterError as e:
            error = e
            attempts = row["attempts"] + 1
            if e.partial:
                status = {"status": INTERRUPTED, "attempts": attempts, "last_error": e.code}
            elif attempts >= len(self.backoff):
                status = {"status": FAILED, "attempts": attempts, "last_error": e.code}
            else:
                status = {"status": RETRY, "attempts": attempts, "last_error": e.code,
                          "next_try_at": time.time() + self.backoff[attempts - 1]}
        except Exception as e:  # noqa: BLE001 - an unknown fault fails the job, not the till
            log.exception("print job %s failed", row["id"])
            error = PrinterError("printer_error", target=row["printer_url"], detail=str(e))
            status = {"status": FAILED, "attempts": row["attempts"] + 1,
                      "last_error": "printer_error"}
        with self.store.unit_of_work() as uow:
            _set(uow, row["id"], **status)
            uow.commit()
        self._notify(error=error)
        return True

    def step(self) -> float:
        try:
            if self.run_once():
                return 0
            due = self._next_due()
        except Exception:  # noqa: BLE001 - e.g. the disk is full: try again later
            log.exception("print worker")
            due = None
        return self.idle_wait if due is None else max(0.05, min(self.idle_wait, due - time.time()))
