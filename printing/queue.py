"""The durable print queue: jobs in the store, a worker thread that sends them.

A sale never waits for a printer: paying only adds job rows, in the sale's own transaction
(`pos.print_jobs`, which keeps the rows). The worker wakes when a job is committed (the store's
hub), sends a drawer kick before anything else, renders the receipt
(keeping the bytes in the job, for resending and previews), sends it, and retries with back-off
while nothing reached the printer. A job cut off mid-send is `interrupted`: some of it may be
on paper, so it is never resent as if it were the original; retrying it prints a new job
marked as a copy. Jobs left `sending` by a crash are `interrupted` at the next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from pos import events, print_jobs as jobs, services as svc
from pos.background import BackgroundLoop
from pos import tables as t  # noqa: F401 - callers reach the table through here
from pos.print_jobs import (DONE, DROPPED, FAILED, INTERRUPTED, NEEDS_HAND, QUEUED,  # noqa: F401
                            REPLACED, RETRY, SENDING, WAITING, QueueState, drop, enqueue_bytes,
                            enqueue_receipt, job, jobs_for, queue_state, recent_jobs, recover,
                            retry)
from pos.store import Store, UnitOfWork
from printing.profiles import PrinterProfile, profile as make_profile
from printing.receipt import layout_receipt, receipt_for
from printing.render import render, render_drawer_kick
from printing.transport import PrinterError, send as transport_send

log = logging.getLogger("jangteo.printing")


@dataclass(frozen=True)
class PrinterSetup:
    """The till's printer with its profile loaded (what rendering needs)."""

    url: str
    profile: PrinterProfile
    print_on_pay: str = "ask"  # always / ask / never
    drawer: bool = True

    @property
    def profile_key(self) -> str:
        return self.profile.key


def printer_setup(uow: UnitOfWork) -> PrinterSetup | None:
    """The till's printer from settings, or None when none is set up."""
    settings = svc.till_settings(uow)
    printer = settings.printer
    if not printer.url:
        return None
    return PrinterSetup(printer.url, stored_profile(printer.profile, printer.overrides),
                        settings.receipt_mode, printer.drawer)


def stored_profile(key: str | None, overrides: dict | None) -> PrinterProfile:
    """The profile settings name, with the vendor's changes; a key this version does not know
    (a data folder from another version) or changes out of range fall back, so receipts still
    print, instead of stopping the till."""
    try:
        return make_profile(key or None, overrides if isinstance(overrides, dict) else None)
    except (KeyError, ValueError, TypeError):
        log.warning("printer profile %r with %r cannot be used; falling back", key, overrides)
    try:
        return make_profile(key or None)
    except (KeyError, ValueError):
        return make_profile(None)


def save_printer_setup(uow: UnitOfWork, *, url: str, profile_key: str, drawer: bool = True,
                       overrides: dict | None = None) -> None:
    make_profile(profile_key, overrides)  # refuse an unknown profile before storing it
    svc.save_settings(uow, printer=svc.PrinterSettings(url.strip(), profile_key, drawer,
                                                       overrides or {}))


def render_receipt(uow: UnitOfWork, setup_profile: PrinterProfile, *, document_id: str,
                   copy: bool = False, drawer: bool = False) -> bytes:
    receipt = receipt_for(uow, sale_id=document_id, copy=copy)
    return render(layout_receipt(receipt, setup_profile.columns), setup_profile, drawer=drawer)


def render_job(uow: UnitOfWork, row: dict, prof: PrinterProfile | None = None) -> bytes:
    """A job's bytes: a receipt or a drawer kick drawn for `prof` (the till's printer as it is
    set up now); bytes drawn elsewhere (a test page, a report) as they were kept."""
    if row["kind"] not in (jobs.RECEIPT, jobs.DRAWER):
        return row["data"]
    prof = prof or stored_profile(row["profile"], None)
    if row["kind"] == jobs.DRAWER:
        return render_drawer_kick(prof)
    return render_receipt(uow, prof, document_id=row["document_id"], copy=row["copy"],
                          drawer=row["drawer"])


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
    wake_topics = frozenset({events.PRINT})

    def start(self) -> None:
        with self.store.unit_of_work() as uow:
            if recover(uow):
                log.warning("print jobs interrupted by a restart were marked interrupted")
            jobs.forget_bytes(uow)
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

    def _now(self) -> float:
        return self.store.clock.now().timestamp()

    def _claim(self, only: list[int] | None = None) -> dict | None:
        """The next job, rendered and marked `sending`. A job that cannot be drawn fails with
        its reason and the queue goes on; a drawer kick that waited too long is dropped."""
        while True:
            with self.store.unit_of_work() as uow:
                row = jobs.next_due(uow, self._now(), only=only)
                if row is None:
                    return None
                if jobs.drawer_too_late(uow, row):
                    jobs.set_status(uow, row["id"], status=DROPPED, last_error="drawer_too_late")
                    uow.commit()
                    continue
                # Waiting jobs go to the printer as it is set up now: a corrected address or a
                # changed width or mode applies to receipts that were waiting for it.
                setup = printer_setup(uow)
                if setup is not None:
                    row["printer_url"], row["profile"] = setup.url, setup.profile_key
                try:
                    row["data"] = render_job(uow, row, setup.profile if setup else None)
                except Exception as e:  # noqa: BLE001 - one bad receipt must not stop the queue
                    log.exception("print job %s could not be drawn", row["id"])
                    jobs.set_status(uow, row["id"], status=FAILED, attempts=row["attempts"] + 1,
                                    last_error="render_failed")
                    uow.commit()
                    self._notify(error=PrinterError("render_failed", target=row["printer_url"],
                                                    detail=str(e)))
                    continue
                jobs.set_status(uow, row["id"], status=SENDING, data=row["data"],
                                printer_url=row["printer_url"], profile=row["profile"])
                uow.commit()
            return row

    def _next_due(self) -> float | None:
        with self.store.unit_of_work(write=False) as uow:
            return jobs.next_retry_at(uow)

    def run_once(self, only: list[int] | None = None) -> bool:
        """Send the next due job (of `only`, when given), if any; True when one was handled."""
        row = self._claim(only)
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
                # a drawer kick is not worth a vendor's retry later: it is dropped, not failed
                status = {"status": DROPPED if row["kind"] == jobs.DRAWER else FAILED,
                          "attempts": attempts, "last_error": e.code}
            else:
                status = {"status": RETRY, "attempts": attempts, "last_error": e.code,
                          "next_try_at": self._now() + self.backoff[attempts - 1]}
        except Exception as e:  # noqa: BLE001 - an unknown fault fails the job, not the till
            log.exception("print job %s failed", row["id"])
            error = PrinterError("printer_error", target=row["printer_url"], detail=str(e))
            status = {"status": FAILED, "attempts": row["attempts"] + 1,
                      "last_error": "printer_error"}
        with self.store.unit_of_work() as uow:
            jobs.set_status(uow, row["id"], **status)
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
        return self.idle_wait if due is None else max(0.05, min(self.idle_wait, due - self._now()))
