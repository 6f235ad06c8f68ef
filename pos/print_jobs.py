"""The print queue's records: jobs in the same SQLite file as the sales they print.

A paid sale's jobs are written here, in the sale's own transaction (`for_document`): the
drawer kick first, as a job of its own, then the receipt. Rendering and sending are the
printing layer's (`printing.queue.PrintWorker`); this module only keeps the rows, so `pos`
knows the printer by its address and profile key, never by its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select

from pos import events, tables as t
from pos.domain import Document, MethodKind
from pos.services.settings import till_settings
from pos.store import UnitOfWork

QUEUED, SENDING, DONE, RETRY, FAILED, INTERRUPTED, DROPPED, REPLACED = (
    "queued", "sending", "done", "retry", "failed", "interrupted", "dropped", "replaced")
WAITING = (QUEUED, RETRY)
NEEDS_HAND = (FAILED, INTERRUPTED)
RECEIPT, DRAWER, TEST, REPORT = "receipt", "drawer", "test", "report"

# A drawer kick that could not reach the printer within this time is dropped, not sent later:
# a drawer that springs open minutes after the sale, with nobody at it, is worse than none.
DRAWER_PATIENCE = timedelta(minutes=2)


class Target(Protocol):
    """Where a job goes: the printer's address and its profile's key."""

    url: str
    profile_key: str


@dataclass(frozen=True)
class _Row:
    """A job's own printer, for a retry with no printer set up any more."""

    url: str
    profile_key: str


def opens_drawer(doc: Document) -> bool:
    """Cash changed hands: taken, given back as change, or paid out for a refund or a void."""
    return doc.change > 0 or any(p.kind == MethodKind.CASH and p.amount for p in doc.payments)


def for_document(uow: UnitOfWork, doc: Document) -> list[int]:
    """The jobs a just-written document prints, in its own transaction: the drawer kick for
    cash, then the receipt if one was asked for. None without a printer."""
    target = till_settings(uow).printer
    if not target.url:
        return []
    made = []
    if target.drawer and opens_drawer(doc):
        made.append(_insert(uow, target, kind=DRAWER, document_id=doc.id,
                            receipt_no=doc.receipt_no, copy=False, drawer=True, data=None,
                            replaces=None))
    if doc.receipt_requested:
        made.append(enqueue_receipt(uow, target, document_id=doc.id, receipt_no=doc.receipt_no))
    return made


def enqueue_receipt(uow: UnitOfWork, target: Target, *, document_id: str, copy: bool = False,
                    drawer: bool = False, replaces: int | None = None,
                    receipt_no: str | None = None) -> int:
    """Queue a receipt; the worker renders it, off the selling path."""
    if receipt_no is None:
        receipt_no = uow.conn.execute(select(t.sales.c.receipt_no)
                                      .where(t.sales.c.id == document_id)).scalar()
    return _insert(uow, target, kind=RECEIPT, document_id=document_id, receipt_no=receipt_no,
                   copy=copy, drawer=drawer, data=None, replaces=replaces)


def enqueue_drawer(uow: UnitOfWork, target: Target) -> int:
    """A drawer kick by itself (a "no sale": `pos.services.shifts.open_drawer`)."""
    return _insert(uow, target, kind=DRAWER, document_id=None, receipt_no=None, copy=False,
                   drawer=True, data=None, replaces=None)


def enqueue_bytes(uow: UnitOfWork, target: Target, *, kind: str, data: bytes) -> int:
    """Queue bytes already rendered (a test page, a report)."""
    return _insert(uow, target, kind=kind, document_id=None, receipt_no=None, copy=False,
                   drawer=False, data=data, replaces=None)


def _insert(uow: UnitOfWork, target: Target, **values) -> int:
    now = uow.clock.now()
    result = uow.conn.execute(t.print_jobs.insert().values(
        printer_url=target.url, profile=target.profile_key, status=QUEUED, attempts=0,
        created_at=now.isoformat(), updated_at=now.isoformat(), **values))
    # A new job is a good moment to try the printer again (it may be back): jobs waiting out
    # a back-off are due now, and keep their order.
    uow.conn.execute(t.print_jobs.update().where(t.print_jobs.c.status == RETRY)
                     .values(next_try_at=now.timestamp()))
    uow.note(events.PRINT)
    return int(result.inserted_primary_key[0])


def job(uow: UnitOfWork, job_id: int) -> dict:
    row = uow.conn.execute(select(t.print_jobs).where(t.print_jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise KeyError(job_id)
    return dict(row)


def jobs_for(uow: UnitOfWork, document_id: str) -> list[dict]:
    """A document's jobs, oldest first, without their bytes."""
    q = (select(*[c for c in t.print_jobs.c if c.name != "data"])
         .where(t.print_jobs.c.document_id == document_id).order_by(t.print_jobs.c.id))
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def recent_jobs(uow: UnitOfWork, limit: int = 30) -> list[dict]:
    q = (select(*[c for c in t.print_jobs.c if c.name != "data"])
         .order_by(t.print_jobs.c.id.desc()).limit(limit))
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def head(uow: UnitOfWork, *, only: list[int] | None = None) -> dict | None:
    """The job that goes next (of `only`, when given): a drawer kick before anything else, then
    the oldest waiting job. Receipts go out in the order they were paid: one that waits for the
    printer holds the ones behind it (they go to the same printer)."""
    q = (select(t.print_jobs).where(t.print_jobs.c.status.in_(WAITING))
         .order_by((t.print_jobs.c.kind != DRAWER), t.print_jobs.c.id).limit(1))
    if only is not None:
        q = q.where(t.print_jobs.c.id.in_(only))
    row = uow.conn.execute(q).mappings().first()
    return None if row is None else dict(row)


def due_at(row: dict) -> float:
    """When a waiting job may be tried (a timestamp; 0 for a queued one)."""
    return (row["next_try_at"] or 0.0) if row["status"] == RETRY else 0.0


def drawer_too_late(uow: UnitOfWork, row: dict) -> bool:
    """A drawer kick made more than `DRAWER_PATIENCE` away from now, either way: a clock put
    back an hour must not let a kick from before wait for it and spring the drawer later."""
    if row["kind"] != DRAWER:
        return False
    return abs(uow.clock.now() - datetime.fromisoformat(row["created_at"])) > DRAWER_PATIENCE


def retry(uow: UnitOfWork, job_id: int, target: Target | None = None) -> int:
    """Send a failed or interrupted job again. An interrupted receipt is printed anew as a
    marked copy (a new job); a job that never reached the printer is simply queued again."""
    row = job(uow, job_id)
    if row["status"] not in NEEDS_HAND + (RETRY,):
        raise ValueError(f"job {job_id} is {row['status']}")
    if row["status"] == INTERRUPTED and row["kind"] == RECEIPT:
        target = target or _Row(row["printer_url"], row["profile"])
        new_id = enqueue_receipt(uow, target, document_id=row["document_id"], copy=True,
                                 replaces=job_id)
        set_status(uow, job_id, status=REPLACED)
        return new_id
    set_status(uow, job_id, status=QUEUED, attempts=0, next_try_at=None)
    uow.note(events.PRINT)
    return job_id


def drop(uow: UnitOfWork, job_id: int) -> None:
    row = job(uow, job_id)
    if row["status"] in (DONE, SENDING):
        raise ValueError(f"job {job_id} is {row['status']}")
    set_status(uow, job_id, status=DROPPED)


def recover(uow: UnitOfWork) -> int:
    """Jobs left `sending` by a crash or power cut: they may be half on paper."""
    return uow.conn.execute(t.print_jobs.update().where(t.print_jobs.c.status == SENDING)
                            .values(status=INTERRUPTED, last_error="interrupted_by_restart",
                                    updated_at=uow.clock.now().isoformat())).rowcount


KEEP_BYTES_DAYS = 7  # a finished job's bytes, kept this long for a look at what went out


def forget_bytes(uow: UnitOfWork, *, days: int = KEEP_BYTES_DAYS) -> int:
    """Finished jobs (done, dropped, replaced) older than `days` keep their record but not
    their bytes: every printed receipt's bytes had stayed in the store for ever (7.9 MB after
    290 jobs). A receipt's copy is drawn again from its sale. Returns how many were pruned."""
    from datetime import timedelta

    cutoff = (uow.clock.now() - timedelta(days=days)).isoformat()
    return uow.conn.execute(t.print_jobs.update().where(
        t.print_jobs.c.status.in_((DONE, DROPPED, REPLACED)),
        t.print_jobs.c.updated_at < cutoff, t.print_jobs.c.data.is_not(None))
        .values(data=None)).rowcount


def set_status(uow: UnitOfWork, job_id: int, **values) -> None:
    uow.conn.execute(t.print_jobs.update().where(t.print_jobs.c.id == job_id)
                     .values(updated_at=uow.clock.now().isoformat(), **values))


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



