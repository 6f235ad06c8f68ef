"""Paying is one use case: the sale, its outbox event and its print jobs commit together, and
the store's hub tells listeners only after the commit, with the write lock free."""

from __future__ import annotations

import threading

import pytest

from pos import events, print_jobs, services as s
from pos.domain import DomainError, Tender
from tests.conftest import in_shift


def _printer(store, *, drawer=True, mode="ask"):
    with store.unit_of_work() as uow:
        s.set_setting(uow, "printer", {"url": "tcp://127.0.0.1:9", "profile": "epson-tm-t20-kr",
                                       "drawer": drawer})
        s.set_setting(uow, "receipt_mode", mode)
        uow.commit()


def _sell(store, stall, tenders, *, receipt=True, commit=True):
    with store.unit_of_work() as uow:
        in_shift(uow)
        doc = s.record_sale(uow, items=[s.SaleItem(stall.soap, 2)], tenders=tenders,
                            receipt_requested=receipt)
        if commit:
            uow.commit()
    return doc


def _jobs(store, doc):
    with store.unit_of_work(write=False) as uow:
        return [(j["kind"], j["status"]) for j in print_jobs.jobs_for(uow, doc.id)]


def test_a_cash_sale_writes_the_drawer_kick_then_the_receipt_in_its_own_transaction(store, stall):
    _printer(store)
    doc = _sell(store, stall, [Tender("cash", 10000)])
    assert _jobs(store, doc) == [("drawer", "queued"), ("receipt", "queued")]
    with store.unit_of_work(write=False) as uow:
        (seq,) = uow.conn.exec_driver_sql(
            "SELECT seq FROM outbox WHERE document_id = ?", (doc.id,)).fetchone()
    assert seq == doc.seq


def test_what_prints_follows_the_money_and_the_question(store, stall):
    _printer(store)
    card = _sell(store, stall, [Tender("card", 6000, approval_no="12345678")], receipt=False)
    assert _jobs(store, card) == []  # no cash, no receipt asked for: nothing prints
    change = _sell(store, stall, [Tender("onnuri", 10000)], receipt=False)
    assert change.change == 4000  # 60 % of the 온누리 voucher used: the rest back in cash
    assert _jobs(store, change) == [("drawer", "queued")]
    token = _sell(store, stall, [Tender("token", 10000)], receipt=False)
    assert token.change == 0 and _jobs(store, token) == []  # kept whole: the drawer stays shut
    with store.unit_of_work() as uow:
        back = s.refund_sale(uow, sale_id=card.id, quantities={1: 1}, method="cash",
                             receipt_requested=True)
        uow.commit()
    assert _jobs(store, back) == [("drawer", "queued"), ("receipt", "queued")]  # cash paid out
    with store.unit_of_work() as uow:
        void = s.void_sale(uow, sale_id=token.id)
        uow.commit()
    assert _jobs(store, void) == []  # the token goes back as a token


def test_without_a_printer_or_with_the_drawer_off_no_such_job_is_written(store, stall):
    doc = _sell(store, stall, [Tender("cash", 6000)])
    assert _jobs(store, doc) == []
    _printer(store, drawer=False)
    doc = _sell(store, stall, [Tender("cash", 6000)])
    assert _jobs(store, doc) == [("receipt", "queued")]


def test_a_sale_left_uncommitted_leaves_no_job_no_event_and_tells_nobody(store, stall):
    _printer(store)
    heard = []
    store.hub.subscribe(heard.append)
    doc = _sell(store, stall, [Tender("cash", 6000)], commit=False)
    with store.unit_of_work(write=False) as uow:
        counts = [uow.conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
                  for table in ("sales", "print_jobs", "outbox")]
    assert counts[:2] == [0, 0] and heard == []
    assert _jobs(store, doc) == []


def test_a_refused_payment_writes_nothing(store, stall):
    _printer(store)
    with pytest.raises(DomainError):
        _sell(store, stall, [Tender("cash", 10)])
    with store.unit_of_work(write=False) as uow:
        assert uow.conn.exec_driver_sql("SELECT COUNT(*) FROM print_jobs").scalar() == 0


def test_listeners_hear_once_after_the_commit_with_the_write_lock_free(store, stall):
    _printer(store)
    heard = []

    def listener(committed):
        free = []

        def other_till_thread():
            got = store.write_lock.acquire(timeout=2)
            free.append(got)
            if got:
                store.write_lock.release()

        t = threading.Thread(target=other_till_thread)
        t.start()
        t.join()
        heard.append((committed.topics, committed.documents, free[0]))

    store.hub.subscribe(lambda c: 1 / 0)  # a broken listener: logged, the others still hear
    unsubscribe = store.hub.subscribe(listener)
    doc = _sell(store, stall, [Tender("cash", 6000)])
    ((topics, documents, lock_was_free),) = heard
    assert {events.DOCUMENT, events.OUTBOX, events.PRINT} <= topics
    assert documents == (doc,) and lock_was_free
    unsubscribe()
    _sell(store, stall, [Tender("cash", 6000)])
    assert len(heard) == 1


def test_a_shift_and_a_catalog_edit_have_their_own_topics(store, stall):
    heard = []
    store.hub.subscribe(lambda c: heard.append(c.topics))
    with store.unit_of_work() as uow:
        s.open_shift(uow, float_amount=50000)
        uow.commit()
    with store.unit_of_work() as uow:
        s.update_product(uow, product_id=stall.soap, price=3500)
        uow.commit()
    assert events.SHIFT in heard[0] and events.OUTBOX in heard[0]
    assert events.CATALOG in heard[1]
