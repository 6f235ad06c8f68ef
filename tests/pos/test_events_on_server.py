"""Renumbering a store's events after the ones the organizer's server holds and the store lost
(`pos.outbox`, driven by `sync.client`), on a real SQLite file: one transaction, every place
the seq is kept, receipt numbers unchanged, and `jangteo check` whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from pos import outbox, services as svc, tables as t
from pos.clock import Hlc
from pos.domain import Tender
from pos.services.check import check, run_checks
from tests.conftest import KST, in_shift


def sell(store, stall, n: int) -> list[str]:
    numbers = []
    for _ in range(n):
        with store.unit_of_work() as uow:
            in_shift(uow)
            doc = svc.record_sale(uow, items=[svc.SaleItem(stall.soap)],
                                  tenders=[Tender("cash", 3000)])
            uow.commit()
        numbers.append(doc.receipt_no)
    return numbers


def ledger(store):
    with store.unit_of_work(write=False) as uow:
        seqs = uow.conn.execute(select(t.outbox.c.seq).order_by(t.outbox.c.seq)).scalars().all()
        sales = uow.conn.execute(select(t.sales.c.receipt_no, t.sales.c.id, t.sales.c.seq)
                                 .order_by(t.sales.c.receipt_no)).all()
        held = outbox.on_server(uow)
        hlc = uow.conn.execute(select(t.device.c.last_hlc)).scalar()
        stamps = uow.conn.execute(select(t.outbox.c.hlc)).scalars().all()
    return seqs, sales, held, hlc, stamps


def test_renumbering_after_the_servers_events_keeps_the_ledger_whole(store, stall, clock):
    sell(store, stall, 3)
    clock.set(datetime(2026, 11, 22, 10, 0, tzinfo=KST))  # a second business day
    sell(store, stall, 3)
    seqs, sales, _, _, _ = ledger(store)
    newest = seqs[-1]
    # the server holds other events at newest-1 .. newest+2 and this store's own at
    # newest+3: this store's newest-1 and newest move after it
    with store.unit_of_work() as uow:
        moved = outbox.renumber_after_server(uow, first=newest - 1, last=newest + 2,
                                             server_last=newest + 2)
        uow.commit()
    assert moved == 2
    after, sales_after, held, hlc, stamps = ledger(store)
    assert after == seqs[:-2] + [newest + 3, newest + 4]
    assert held == [(newest - 1, newest + 2)]
    by_receipt = {no: seq for no, _id, seq in sales_after}
    assert [(no, i) for no, i, _ in sales_after] == [(no, i) for no, i, _ in sales]  # unchanged
    assert by_receipt["A01-20261122-0002"] == newest + 3
    assert by_receipt["A01-20261122-0003"] == newest + 4
    assert Hlc.parse(hlc) >= max(Hlc.parse(s) for s in stamps)
    with store.unit_of_work(write=False) as uow:
        assert run_checks(uow) == []  # every document, the outbox from 1
        recent = check(uow, days=1)  # the newest day only: the outbox from its first sale
        assert not recent.everything and recent.problems == []
    assert sell(store, stall, 1) == ["A01-20261122-0004"]
    assert ledger(store)[0][-1] == newest + 5  # the numbering goes on after the server's


def test_check_finds_a_run_of_the_server_that_overlaps_the_outbox(store, stall, clock):
    sell(store, stall, 2)
    clock.set(datetime(2026, 11, 22, 10, 0, tzinfo=KST))
    sell(store, stall, 2)
    newest = ledger(store)[0][-1]
    with store.unit_of_work() as uow:
        uow.conn.execute(insert(t.events_on_server).values(
            device_id=store.device["id"], first_seq=newest, last_seq=newest + 1,
            created_at=clock.now().isoformat()))
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert [p.code for p in run_checks(uow)] == ["seq_gapless"]
        assert [p.code for p in check(uow, days=1).problems] == ["seq_gapless"]
