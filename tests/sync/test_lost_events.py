"""A till that lost events the server already has (restored from an older backup, a cut
journal) numbers new ones where the server's are: it renumbers its own after the server's and
sends them, so the organizer gets every sale of both files once; no receipt number changes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos import backups, services as svc, tables as lt
from pos.demo import load_demo_catalog
from pos.domain import Tender
from pos.services.check import run_checks
from pos.store import Store
from sync import client
from sync.client import SyncError
from sync.server import service, tables as t
from tests.conftest import ROOT, in_shift
from tests.sync.conftest import setup_stall


def sell(store: Store, n: int) -> list[str]:
    numbers = []
    for k in range(n):
        with store.unit_of_work() as uow:
            products = svc.list_products(uow)
            product = products[k % len(products)]
            in_shift(uow)
            doc = svc.record_sale(uow, items=[svc.SaleItem(product["id"], qty=k % 2 + 1)],
                                  tenders=[Tender("cash", product["price"] * (k % 2 + 1))])
            uow.commit()
        numbers.append(doc.receipt_no)
    return numbers


def open_shift(store: Store) -> None:
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=10000)
        uow.commit()


def close_shift(store: Store) -> Path:
    with store.unit_of_work() as uow:
        shift = svc.current_shift(uow)
        closed = svc.close_shift(uow, counted=svc.expected_cash(uow, shift_id=shift["id"]))
        uow.commit()
    assert closed.backup is not None, closed.backup_error
    return closed.backup


def receipts(path: Path) -> dict[str, int]:
    """receipt number -> total, read from a data file as it is on disk."""
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT receipt_no, total FROM sales").fetchall())
    finally:
        con.close()


def local(store: Store) -> dict:
    with store.unit_of_work(write=False) as uow:
        return {
            "seqs": uow.conn.execute(select(lt.outbox.c.seq).order_by(lt.outbox.c.seq))
            .scalars().all(),
            "sales": [(d["receipt_no"], d["id"], d["total"]) for d in sorted(
                svc.list_documents(uow), key=lambda d: d["receipt_no"])],
            "held": [tuple(r) for r in uow.conn.execute(
                select(lt.events_on_server.c.first_seq, lt.events_on_server.c.last_seq))],
            "problems": run_checks(uow),
        }


def on_server(server, device_id: str) -> dict:
    def read(c):
        docs = dict(c.execute(select(t.documents.c.receipt_no, t.documents.c.total)
                              .where(t.documents.c.device_id == device_id)).all())
        count = c.execute(select(func.count()).select_from(t.documents)
                          .where(t.documents.c.device_id == device_id)).scalar()
        seqs = c.execute(select(t.device_events.c.seq).where(
            t.device_events.c.device_id == device_id).order_by(t.device_events.c.seq)
        ).scalars().all()
        alerts = c.execute(select(func.count()).select_from(t.alerts)).scalar()
        return {"receipts": docs, "documents": count, "seqs": seqs, "alerts": alerts}

    return server.admin(read)


def jangteo(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(data), "--lang",
                           "en", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@dataclass
class Restored:
    store: Store  # the till on the restored file
    device_id: str
    event_id: str
    replaced: Path  # the data file the restore moved aside
    kept: int  # the newest seq the restored file kept
    server_had: int  # the server's newest seq of this device at the restore


def restored_till(server, tmp_path, clock, *, synced_after_close: bool) -> Restored:
    """Enroll, open a shift, sell 2, close it (its backup), sell 3, sync them or not, restore
    the close's backup."""
    event, _stall, code = setup_stall(server)
    data = tmp_path / "till"
    store = Store(data, clock=clock)
    load_demo_catalog(store)
    device_id = client.enroll(store, url=server.url, code=code)["device_id"]
    open_shift(store)
    assert sell(store, 2)[-1].endswith("-0002")
    if not synced_after_close:
        client.sync_now(store)
    close_shift(store)
    assert sell(store, 3)[-1].endswith("-0005")
    if synced_after_close:
        client.sync_now(store)
    server_had = len(on_server(server, device_id)["seqs"])
    store.close()
    done = backups.restore(data)
    assert done.lacking == 3
    store = Store(data, clock=clock)
    kept = max(local(store)["seqs"])
    return Restored(store, device_id, event, done.kept / "jangteo.db", kept, server_had)


@pytest.mark.parametrize("batch", [client.BATCH, 2])
def test_after_a_restore_new_sales_are_renumbered_after_the_servers_and_all_arrive(
        server, tmp_path, clock, batch):
    r = restored_till(server, tmp_path, clock, synced_after_close=True)
    till = r.store
    try:
        assert r.kept < r.server_had  # the server has events the restored file lacks
        # a shift opened (the restored file's was closed) and three sales: 4 new events
        assert sell(till, 3) == [f"A01-20261121-{n:04d}" for n in (6, 7, 8)]  # the floors
        before = local(till)
        assert before["seqs"][-1] == r.kept + 4 <= r.server_had  # where the server's are

        sent = client.push_all(till, batch=batch)  # no sync_mismatch: this is handled
        after = local(till)
        state = client.sync_state(till)
        lost = r.server_had - r.kept
        # the server holds every receipt of both files, each once, with its amount
        expected = {**receipts(r.replaced), **receipts(till.path)}
        assert sorted(expected) == [f"A01-20261121-{n:04d}" for n in range(1, 9)]
        server_has = on_server(server, r.device_id)
        assert server_has["receipts"] == expected and server_has["documents"] == 8
        assert server_has["seqs"] == list(range(1, r.server_had + 5))  # gapless in its view
        totals = server.admin(lambda c: service.totals(c, event_id=r.event_id))
        assert totals["net"] == sum(expected.values())
        assert totals["by_device"][0]["documents"] == 8
        assert sum(day["documents"] for day in totals["by_day"]) == 8
        # the till: receipts and their numbers as they were; its events after the server's
        assert after["sales"] == before["sales"]
        assert after["seqs"] == (list(range(1, r.kept + 1))
                                 + list(range(r.server_had + 1, r.server_had + 5)))
        assert after["held"] == [(r.kept + 1, r.server_had)]
        assert after["problems"] == []  # jangteo check is clean
        assert state.waiting == 0 and state.acked_seq == state.last_seq == r.server_had + 4
        assert sent == r.kept + 4  # what the server confirmed of this till's own events
        assert state.notice.text("en") == (
            f"This till had lost {lost} events the server already has (restored or damaged "
            "data); its newer events (4) were renumbered after them and sent. No receipt "
            "number changed.")
        assert "영수증 번호는 바뀌지 않았습니다" in state.notice.text("ko")

        alerts = server_has["alerts"]  # the server saw the till's first, colliding copies
        assert 0 < alerts <= 4
        assert client.sync_now(till) == 0  # a second sync sends nothing, says nothing wrong
        assert on_server(server, r.device_id) == server_has
        assert client.sync_state(till).waiting == 0

        assert sell(till, 1) == ["A01-20261121-0009"]  # numbered after the server's
        assert local(till)["seqs"][-1] == r.server_had + 5
        assert client.sync_now(till) == 1
        assert on_server(server, r.device_id)["seqs"] == list(range(1, r.server_had + 6))
        assert local(till)["problems"] == []
    finally:
        till.close()
    check = jangteo(till.data_dir, "check")
    assert check.returncode == 0, check.stderr
    status = jangteo(till.data_dir, "sync", "status")
    assert status.returncode == 0, status.stderr
    assert f"This till had lost {lost} events the server already has" in status.stdout
    assert f"the server has everything up to record {r.server_had + 5:,}" in status.stdout


def test_sales_past_the_servers_newest_are_kept_where_the_server_took_them(server, tmp_path,
                                                                          clock):
    """Five sales after the restore, the server holding three numbers more than the file: the
    server takes the fourth and fifth at once (they follow its newest), the first three are
    renumbered after them."""
    r = restored_till(server, tmp_path, clock, synced_after_close=True)
    till = r.store
    try:
        lost = r.server_had - r.kept
        new = sell(till, lost + 2)
        assert new[0].endswith("-0006") and r.kept + len(new) > r.server_had
        client.sync_now(till)
        after = local(till)
        expected = {**receipts(r.replaced), **receipts(till.path)}
        assert len(expected) == 5 + len(new)
        server_has = on_server(server, r.device_id)
        assert server_has["receipts"] == expected
        top = r.kept + 1 + len(new) + lost  # a shift opened, then the sales
        assert server_has["seqs"] == list(range(1, top + 1))
        assert after["seqs"] == list(range(1, r.kept + 1)) + list(range(r.server_had + 1,
                                                                          top + 1))
        assert after["held"] == [(r.kept + 1, r.server_had)]
        assert after["problems"] == []
        assert [s[0] for s in after["sales"]][-len(new):] == new  # receipt numbers unchanged
        assert client.sync_now(till) == 0 and client.sync_state(till).waiting == 0
    finally:
        till.close()


def test_a_restored_till_that_syncs_before_selling_numbers_after_the_server(server, tmp_path,
                                                                           clock):
    r = restored_till(server, tmp_path, clock, synced_after_close=True)
    till = r.store
    try:
        client.sync_now(till)  # nothing new: the server answers it holds more than the file
        state = client.sync_state(till)
        assert state.error is None and state.acked_seq == r.server_had
        assert local(till)["held"] == [(r.kept + 1, r.server_had)]
        assert state.notice.text("en").startswith(
            f"This till had lost {r.server_had - r.kept} events the server already has")
        assert sell(till, 1) == ["A01-20261121-0006"]
        # a shift opened and the sale: never a number the server has
        assert local(till)["seqs"][-1] == r.server_had + 2
        assert client.sync_now(till) == 2
        server_has = on_server(server, r.device_id)
        assert server_has["alerts"] == 0  # nothing ever collided
        assert server_has["seqs"] == list(range(1, r.server_had + 3))
        assert len(server_has["receipts"]) == 6
        assert local(till)["problems"] == []
    finally:
        till.close()


def test_newest_events_lost_before_they_were_synced_are_simply_sent_again(server, tmp_path,
                                                                         clock):
    """The server is behind the restored file: nothing to renumber. The three receipts the
    restore lost were never synced: they are lost (in `replaced/` only), and check says so."""
    r = restored_till(server, tmp_path, clock, synced_after_close=False)
    till = r.store
    try:
        assert r.server_had < r.kept
        new = sell(till, 3)
        assert [n[-4:] for n in new] == ["0006", "0007", "0008"]
        sent = client.sync_now(till)
        after = local(till)
        state = client.sync_state(till)
        assert sent == after["seqs"][-1] - r.server_had  # sent from where the server was
        assert after["seqs"] == list(range(1, r.kept + 5)) and after["held"] == []  # shift+3
        assert state.notice is None and state.waiting == 0
        server_has = on_server(server, r.device_id)
        assert server_has["receipts"] == receipts(till.path)  # 0001, 0002, 0006–0008
        assert server_has["seqs"] == after["seqs"] and server_has["alerts"] == 0
        assert [(p.code, p.detail) for p in after["problems"]] == [
            ("receipts_missing", "A01-20261121-0003 .. A01-20261121-0005")]
        assert client.sync_now(till) == 0
    finally:
        till.close()


def test_an_event_the_server_holds_differently_is_never_acked(server, tmp_path, clock):
    """Not a loss (one event in the middle differs): nothing is renumbered, the ack stops
    before it, and the till says why in its own language."""
    event, _stall, code = setup_stall(server)
    till = Store(tmp_path / "till", clock=clock)
    try:
        load_demo_catalog(till)
        device_id = client.enroll(till, url=server.url, code=code)["device_id"]
        sell(till, 3)
        client.sync_now(till)
        last = client.sync_state(till).last_seq

        def change(c):
            body = c.execute(select(t.device_events.c.body).where(
                t.device_events.c.device_id == device_id, t.device_events.c.seq == 5)).scalar()
            c.execute(t.device_events.update().where(
                t.device_events.c.device_id == device_id, t.device_events.c.seq == 5)
                .values(digest="0" * 64, body=body.replace('"hlc":"', '"hlc":"9', 1)))
        server.admin(change)
        with till.unit_of_work() as uow:  # as if the till had not heard the server's answers
            svc.set_setting(uow, "sync", {**client.settings(uow), "acked_seq": 0})
            uow.commit()
        with pytest.raises(SyncError) as e:
            client.sync_now(till)
        assert e.value.code == "sync_mismatch"
        assert e.value.text("en") == ("1 event differs from what the server already has (the "
                                      "server holds another event at its number). Tell the "
                                      "organizer.")
        assert "서버에는 그 번호에 다른 이벤트가 있음" in e.value.text("ko")
        state = client.sync_state(till)
        assert state.acked_seq == 4 and state.waiting == last - 4 and state.notice is None
        assert local(till)["held"] == [] and local(till)["seqs"] == list(range(1, last + 1))
        with pytest.raises(SyncError):
            client.sync_now(till)  # and again: it is never marked as the server's
        assert client.sync_state(till).acked_seq == 4
    finally:
        till.close()


CUT_CHILD = """
import os, signal, sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from pos.clock import SteppingClock
from pos.store import Store
from sync import client
from tests.sync.test_lost_events import sell
data = Path(sys.argv[1])
clock = SteppingClock(datetime(2026, 11, 21, 10, 30, tzinfo=timezone(timedelta(hours=9))),
                      timedelta(seconds=1))
store = Store(data, clock=clock)
for _ in range(10):
    number = sell(store, 1)[0]
    print(number, os.path.getsize(data / "jangteo.db-wal"), flush=True)
client.sync_now(store)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_cut_journal_after_a_sync_is_mended_the_same_way(server, tmp_path, clock):
    """Ten sales synced, then the journal loses the last four (and the acks): the two sales
    made after it are renumbered after the server's and sent."""
    from datetime import datetime, timedelta

    from pos.clock import SteppingClock
    from tests.conftest import KST

    _event, _stall, code = setup_stall(server)
    data = tmp_path / "till"
    with Store(data, clock=clock) as store:
        load_demo_catalog(store)
        device_id = client.enroll(store, url=server.url, code=code)["device_id"]
        client.sync_now(store)
    child = subprocess.run([sys.executable, "-c", CUT_CHILD, str(data)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    sold = [line.split() for line in child.stdout.splitlines()]
    assert len(sold) == 10, child.stderr
    server_had = on_server(server, device_id)["seqs"][-1]
    with open(data / "jangteo.db-wal", "r+b") as wal:
        wal.truncate(int(sold[5][1]))  # sales 7–10 are gone from the till, not from the server
    later = SteppingClock(datetime(2026, 11, 21, 11, 0, tzinfo=KST), timedelta(seconds=1))
    with Store(data, clock=later) as till:
        kept = local(till)["seqs"][-1]
        assert kept == server_had - 4
        assert sell(till, 2) == ["A01-20261121-0011", "A01-20261121-0012"]
        client.sync_now(till)
        after = local(till)
        assert after["held"] == [(kept + 1, server_had)]
        assert after["seqs"][-2:] == [server_had + 1, server_had + 2]
        server_has = on_server(server, device_id)
        assert sorted(server_has["receipts"]) == [f"A01-20261121-{n:04d}" for n in range(1, 13)]
        assert server_has["seqs"] == list(range(1, server_had + 3))
        # the seqs add up; the four receipts are listed still: without the file a restore
        # compares, the till cannot tell which of the server's events they were
        assert [p.code for p in after["problems"]] == ["receipts_missing"]
        assert client.sync_now(till) == 0
