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
from printing.render import measure_for, render, render_drawer_kick, render_drawer_pulse
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
    return render(layout_receipt(receipt, measure_for(setup_profile)), setup_profile,
                  drawer=drawer)


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


# What cannot succeed however often it is tried waits for the vendor (failed); everything
# else is tried again by itself for as long as the till runs.
PERMANENT = frozenset({"printer_url_invalid", "platform_unsupported", "render_failed"})
# The printer said why it cannot print (or, having answered before, does not answer now):
# nothing was sent, and it is asked again every `hold_poll` seconds.
HOLD = frozenset({"printer_paper_out", "printer_cover_open", "printer_offline", "printer_fault",
                  "printer_not_answering"})


class PrintWorker(BackgroundLoop):
    """Sends queued jobs on its own thread; `listener(QueueState)` hears every change (from
    the worker thread: a GUI must hand it over to its own thread).

    `backoff`: the waits between tries of a job the printer did not take (the last one repeats
    for ever). `timeout`: how long a printer may take nothing before the vendor is told it has
    paused; the worker then goes on waiting, unless `patience` (seconds more) says when to give
    up (the command line, which must not keep the data folder for long)."""

    def __init__(self, store: Store, *, send: Callable[..., object] = transport_send,
                 listener: Callable[[QueueState], None] | None = None, timeout: float = 10.0,
                 backoff: tuple[float, ...] = (1, 2, 4, 8, 15, 30, 60), hold_poll: float = 3.0,
                 idle_wait: float = 30.0, patience: float | None = None):
        self.store = store
        self._send = send
        self.listener = listener
        self.timeout = timeout
        self.backoff = backoff
        self.hold_poll = hold_poll
        self.idle_wait = idle_wait
        self.patience = patience
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

    def _claim(self, only: list[int] | None = None) -> tuple[dict | None, float | None]:
        """The next job, rendered and marked `sending`, or (None, when the next is due). A job
        that cannot be drawn fails with its reason and the queue goes on; a drawer kick that
        waited too long is dropped. The receipt is drawn in a read transaction: the write that
        claims it is short, so a sale being paid never waits for a backlog being drawn."""
        while True:
            with self.store.unit_of_work(write=False) as uow:
                row = jobs.head(uow, only=only)
                if row is None:
                    return None, None
                if jobs.due_at(row) > self._now():
                    return None, jobs.due_at(row)
                late = jobs.drawer_too_late(uow, row)
                # Waiting jobs go to the printer as it is set up now: a corrected address or a
                # changed width or mode applies to receipts that were waiting for it.
                setup = printer_setup(uow)
                if setup is not None:
                    row["printer_url"], row["profile"] = setup.url, setup.profile_key
                row["setup"] = setup
                problem = None
                if not late:
                    try:
                        row["data"] = render_job(uow, row, setup.profile if setup else None)
                    except Exception as e:  # noqa: BLE001 - one bad receipt must not stop the queue
                        log.exception("print job %s could not be drawn", row["id"])
                        problem = e
            with self.store.unit_of_work() as uow:
                now = jobs.job(uow, row["id"])
                if (now["status"], now["updated_at"]) != (row["status"], row["updated_at"]):
                    continue  # dropped or retried by hand meanwhile: look again
                if late:
                    jobs.set_status(uow, row["id"], status=DROPPED, last_error="drawer_too_late")
                elif problem is not None:
                    jobs.set_status(uow, row["id"], status=FAILED, attempts=row["attempts"] + 1,
                                    last_error="render_failed")
                else:
                    jobs.set_status(uow, row["id"], status=SENDING, data=row["data"],
                                    printer_url=row["printer_url"], profile=row["profile"])
                uow.commit()
            if problem is not None:
                self._notify(error=PrinterError("render_failed", target=row["printer_url"],
                                                detail=str(problem)))
            if late or problem is not None:
                continue
            return row, None

    def run_once(self, only: list[int] | None = None) -> bool:
        """Send the next due job (of `only`, when given), if any; True when one was handled."""
        row, _ = self._claim(only)
        if row is None:
            return False
        self._notify(sending=True)
        error = None
        prof = row["setup"].profile if row["setup"] else stored_profile(row["profile"], None)

        def paused(code: str | None) -> None:
            self._notify(sending=True, error=PrinterError(code, target=row["printer_url"])
                         if code else None)

        notice = None
        try:
            state = self._send(row["printer_url"], row["data"], timeout=self.timeout,
                               ask=prof.status, cancel=self._stop, on_wait=paused,
                               patience=self.patience,
                               when_offline=render_drawer_pulse(prof)
                               if row["kind"] == jobs.DRAWER else None)
            status = {"status": DONE, "last_error": None}
            self.sent += 1
            if getattr(state, "paper_low", False):
                notice = PrinterError("printer_paper_low", target=row["printer_url"])
        except PrinterError as e:
            error = e
            attempts = row["attempts"] + 1
            if e.partial:
                status = {"status": INTERRUPTED, "attempts": attempts, "last_error": e.code}
            elif e.code in PERMANENT:
                status = {"status": FAILED, "attempts": attempts, "last_error": e.code}
            else:
                wait = self.hold_poll if e.code in HOLD else \
                    self.backoff[min(attempts, len(self.backoff)) - 1]
                status = {"status": RETRY, "attempts": attempts, "last_error": e.code,
                          "next_try_at": self._now() + wait}
        except Exception as e:  # noqa: BLE001 - an unknown fault fails the job, not the till
            log.exception("print job %s failed", row["id"])
            error = PrinterError("printer_error", target=row["printer_url"], detail=str(e))
            status = {"status": FAILED, "attempts": row["attempts"] + 1,
                      "last_error": "printer_error"}
        with self.store.unit_of_work() as uow:
            jobs.set_status(uow, row["id"], **status)
            uow.commit()
        self._notify(error=error or notice)
        return True

    def step(self) -> float:
        try:
            if self.run_once():
                return 0
            _, due = self._claim()
        except Exception:  # noqa: BLE001 - e.g. the disk is full: try again later
            log.exception("print worker")
            due = None
        return self.idle_wait if due is None else max(0.05, min(self.idle_wait, due - self._now()))
