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
import threading
import time
from dataclasses import dataclass
from typing import Callable

from pos import events, print_jobs as jobs, services as svc
from pos.background import BackgroundLoop
from pos import tables as t  # noqa: F401 - callers reach the table through here
from pos.print_jobs import (DONE, DROPPED, FAILED, INTERRUPTED, NEEDS_HAND, QUEUED,  # noqa: F401
                            REPLACED, RETRY, SENDING, WAITING, QueueState, drop, enqueue_bytes,
                            enqueue_receipt, job, jobs_for, queue_state, recent_jobs, recover,
                            retry)
from pos.store import Store, StoreError, UnitOfWork
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
        """The next job, rendered, or (None, when the next is due). A job that cannot be drawn
        fails with its reason and the queue goes on; a drawer kick made too long ago is
        dropped; bytes drawn for another printer model than the one set up now (a test page,
        a report) are not sent to it. The receipt is drawn in a read transaction, so a sale
        being paid never waits for a backlog being drawn; the job is marked `sending` only
        when the printer is connected and ready (`_mark_sending`)."""
        while True:
            with self.store.unit_of_work(write=False) as uow:
                row = jobs.head(uow, only=only)
                if row is None:
                    return None, None
                due, now = jobs.due_at(row), self._now()
                if due > now + self.backoff[-1] + self.hold_poll:
                    due = now  # the clock was put back: what was due then is due now
                if due > now:
                    return None, due
                late = jobs.drawer_too_late(uow, row)
                # Waiting jobs go to the printer as it is set up now: a corrected address or a
                # changed width or mode applies to receipts that were waiting for it.
                setup = printer_setup(uow)
                other_model = (setup is not None and row["data"] is not None
                               and row["kind"] not in (jobs.RECEIPT, jobs.DRAWER)
                               and row["profile"] != setup.profile_key)
                if setup is not None:
                    row["printer_url"], row["profile"] = setup.url, setup.profile_key
                row["setup"] = setup
                problem = None
                if not late and not other_model:
                    try:
                        row["data"] = render_job(uow, row, setup.profile if setup else None)
                    except Exception as e:  # noqa: BLE001 - one bad receipt must not stop the queue
                        log.exception("print job %s could not be drawn", row["id"])
                        problem = e
            if late or other_model or problem is not None:
                with self.store.unit_of_work() as uow:
                    if not self._unchanged(uow, row):
                        continue  # dropped or retried by hand meanwhile: look again
                    if late:
                        jobs.set_status(uow, row["id"], status=DROPPED,
                                        last_error="drawer_too_late")
                    else:
                        jobs.set_status(uow, row["id"], status=FAILED,
                                        attempts=row["attempts"] + 1,
                                        last_error="render_failed" if problem is not None
                                        else "printed_for_other_printer")
                    uow.commit()
                if problem is not None:
                    self._notify(error=PrinterError("render_failed", target=row["printer_url"],
                                                    detail=str(problem)))
                continue
            return row, None

    @staticmethod
    def _unchanged(uow: UnitOfWork, row: dict) -> bool:
        now = jobs.job(uow, row["id"])
        return (now["status"], now["updated_at"]) == (row["status"], row["updated_at"])

    def _mark_sending(self, row: dict, *, main: bool = True) -> None:
        """Just before the first byte goes: the job is `sending` from here on (a crash now
        leaves it `interrupted`); before, a crash leaves it waiting, still the original."""
        with self.store.unit_of_work() as uow:
            if not self._unchanged(uow, row):
                raise _Withdrawn()
            jobs.set_status(uow, row["id"], status=SENDING, data=row["data"],
                            printer_url=row["printer_url"], profile=row["profile"])
            uow.commit()
        if main:
            self._marked = True

    def run_once(self, only: list[int] | None = None) -> bool:
        """Send the next due job (of `only`, when given), if any; True when one was handled."""
        if not self._settle_owed() or self._resting():
            return False
        row, _ = self._claim(only)
        if row is None:
            return False
        self._notify(sending=True)
        error = None
        prof = row["setup"].profile if row["setup"] else stored_profile(row["profile"], None)

        meanwhile: list[threading.Event] = []

        def paused(code: str | None) -> None:
            self._notify(sending=True, error=PrinterError(code, target=row["printer_url"])
                         if code else None)
            if code == "printer_paused" and not meanwhile:
                meanwhile.append(threading.Event())
                threading.Thread(target=self._drawers_meanwhile, args=(meanwhile[0],),
                                 name="print-drawer", daemon=True).start()
            elif code is None and meanwhile:
                meanwhile.pop().set()

        notice = None
        self._marked = False
        drawer = row["kind"] == jobs.DRAWER
        try:
            state = self._send(row["printer_url"], row["data"], timeout=self.timeout,
                               ask=prof.status, cancel=self._stop, on_wait=paused,
                               patience=self.patience, before_job=lambda: self._mark_sending(row),
                               confirm=not drawer,
                               when_offline=render_drawer_pulse(prof) if drawer else None)
            status = {"status": DONE, "last_error": None}
            self.sent += 1
            if getattr(state, "paper_low", False):
                notice = PrinterError("printer_paper_low", target=row["printer_url"])
        except _Withdrawn:
            return True  # dropped or retried by hand while connecting: nothing was sent
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
        except StoreError as e:  # the job could not be marked (e.g. the disk is full)
            if self._marked:
                raise
            log.warning("print job %s waits: %s", row["id"], e)
            self._rest_until = time.monotonic() + 2.0
            self._notify(error=PrinterError("printer_error", target=row["printer_url"],
                                            detail=str(e)))
            return False  # nothing was sent; the job is still waiting, as the original
        except Exception as e:  # noqa: BLE001 - an unknown fault fails the job, not the till
            log.exception("print job %s failed", row["id"])
            error = PrinterError("printer_error", target=row["printer_url"], detail=str(e))
            status = {"status": FAILED, "attempts": row["attempts"] + 1,
                      "last_error": "printer_error"}
        for stop in meanwhile:
            stop.set()
        self._owed = (row["id"], status)
        self._settle_owed()
        self._notify(error=error or notice)
        return True

    def _drawers_meanwhile(self, stop: threading.Event) -> None:
        """While a receipt waits mid-way for the printer (the paper ran out), cash still
        changes hands: drawer kicks go out on a connection of their own, as the real-time pulse
        a stopped printer obeys (`ESC p` would wait behind the receipt, and the drawer would
        spring open when paper is loaded). A printer that takes one connection at a time
        cannot: the kick then waits, and is dropped once too late, as always."""
        while not stop.wait(0.3):
            try:
                with self.store.unit_of_work(write=False) as uow:
                    row = jobs.head(uow)
                    if row is None or row["kind"] != jobs.DRAWER:
                        continue
                    late = jobs.drawer_too_late(uow, row)
                    setup = printer_setup(uow)
                if setup is None:
                    continue
                if late:
                    with self.store.unit_of_work() as uow:
                        if self._unchanged(uow, row):
                            jobs.set_status(uow, row["id"], status=DROPPED,
                                            last_error="drawer_too_late")
                            uow.commit()
                    continue
                row.update(printer_url=setup.url, profile=setup.profile_key,
                           data=render_drawer_pulse(setup.profile))
                self._send(setup.url, row["data"], timeout=2.0, ask=False, confirm=False,
                           cancel=stop, patience=0.0,
                           before_job=lambda: self._mark_sending(row, main=False))
                done = {"status": DONE, "last_error": None}
            except _Withdrawn:
                continue
            except PrinterError as e:
                if self._unchanged_sending(row):  # marked, then not taken: try it again
                    done = {"status": RETRY, "last_error": e.code,
                            "next_try_at": self._now() + 1.0}
                else:
                    stop.wait(1.0)
                    continue
            except Exception:  # noqa: BLE001 - the receipt's wait must not be disturbed
                log.exception("drawer kick while the printer waits")
                stop.wait(1.0)
                continue
            try:
                with self.store.unit_of_work() as uow:
                    jobs.set_status(uow, row["id"], **done)
                    uow.commit()
            except StoreError:
                log.warning("drawer kick %s: its end could not be written yet", row["id"])

    def _unchanged_sending(self, row: dict) -> bool:
        with self.store.unit_of_work(write=False) as uow:
            return jobs.job(uow, row["id"])["status"] == SENDING

    def _resting(self) -> bool:
        return time.monotonic() < getattr(self, "_rest_until", 0.0)

    def _settle_owed(self) -> bool:
        """Write down how the last job ended; if the store cannot take it now (the disk is
        full), it stays owed and is written before anything else is sent. False while owed."""
        owed = getattr(self, "_owed", None)
        if owed is None:
            return True
        job_id, status = owed
        try:
            with self.store.unit_of_work() as uow:
                jobs.set_status(uow, job_id, **status)
                uow.commit()
        except StoreError as e:
            log.warning("print job %s ended %s but the store cannot take it yet: %s", job_id,
                        status["status"], e)
            return False
        self._owed = None
        return True

    def step(self) -> float:
        try:
            if self.run_once():
                return 0
            if getattr(self, "_owed", None) is not None or self._resting():
                self._notify()  # the store cannot take a write yet: not "sending" any more
                return 2.0
            _, due = self._claim()
        except Exception:  # noqa: BLE001 - e.g. the disk is full: try again later
            log.exception("print worker")
            due = None
        return self.idle_wait if due is None else max(0.05, min(self.idle_wait, due - self._now()))


class _Withdrawn(Exception):
    """The job changed (dropped, retried) between being drawn and being sent."""
