"""kill -9 on either side, and several tills under random faults: the invariants hold."""

from __future__ import annotations

import random
import uuid
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, func, select

from pos import services as svc
from pos.demo import run_demo
from pos.store import Store
from sync import client
from sync.client import SyncError
from sync.server import tables as t
from tests.conftest import ROOT
from tests.sync.conftest import (Faults, RunningServer, _drop_postgres, _free_port, _postgres_url,
                                 setup_stall)


def seqs_on_server(engine, device_id):
    with engine.connect() as c:
        return [r[0] for r in c.execute(select(t.device_events.c.seq).where(
            t.device_events.c.device_id == device_id).order_by(t.device_events.c.seq))]


def start_server(db_url: str, port: int, workers: int = 1) -> subprocess.Popen:
    """`jangteo-server serve` in its own process group (kill it with `stop_server`)."""
    proc = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "--db", db_url, "serve",
                             "--port", str(port), "--workers", str(workers)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(proc.stderr.read().decode())


def stop_server(proc: subprocess.Popen) -> None:
    import os

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


@pytest.mark.slow
def test_two_server_processes_share_one_postgresql(tmp_path):
    """`serve --workers 2`: tills pushing at once land on either process; each device's events
    are still 1..N exactly once and the totals add up."""
    from sync.server import service
    from sync.server.db import make_engine

    pg_name, db_url = _postgres_url()
    port = _free_port()
    proc = start_server(db_url, port, workers=2)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            event = service.create_event(conn, name="장터")
        tills, devices, nets = [], [], 0
        for k in range(4):
            till = Store(tmp_path / f"till{k}", device_code=f"B0{k + 1}")
            run_demo(till, sales=120, seed=20 + k)
            with engine.begin() as conn:
                stall = service.create_stall(conn, event_id=event, name=f"판매장 {k}")
                code = service.device_code(conn, stall_id=stall)
            devices.append(client.enroll(till, url=f"http://127.0.0.1:{port}", code=code)
                           ["device_id"])
            tills.append(till)
            with till.unit_of_work(write=False) as uow:
                nets += svc.day_settlement(
                    uow, day=svc.list_documents(uow)[0]["business_day"]).net
        errors = []

        def push(till):
            try:
                for _ in range(3):  # again and again: the later rounds are "already there"
                    client.push_all(till, batch=25)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=push, args=(till,)) for till in tills]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert errors == []
        for till, device in zip(tills, devices):
            assert seqs_on_server(engine, device) == list(range(1, client.sync_state(till).last_seq + 1))
            till.close()
        with engine.connect() as conn:
            assert service.totals(conn, event_id=event)["net"] == nets
        out = subprocess.run([sys.executable, "-m", "sync.server.cli", "--lang", "en", "--db",
                              db_url, "alerts", "장터"], cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.strip() == "no alerts"
    finally:
        stop_server(proc)
        engine.dispose()
        _drop_postgres(pg_name)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_server_killed_mid_batch(tmp_path, database):
    pg_name = None
    if database == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'server.db'}"
    else:
        pg_name, db_url = _postgres_url()
    port = _free_port()
    proc = start_server(db_url, port)
    try:
        from sync.server import service
        from sync.server.db import make_engine

        engine = make_engine(db_url)
        with engine.begin() as conn:
            event = service.create_event(conn, name="장터")
            stall = service.create_stall(conn, event_id=event, name="판매장")
            code = service.device_code(conn, stall_id=stall)
        with Store(tmp_path / "till") as till:
            run_demo(till, sales=400, seed=5)
            info = client.enroll(till, url=f"http://127.0.0.1:{port}", code=code)
            rng = random.Random(7)
            for _ in range(3):  # push in small batches, kill the server at a random moment
                done = threading.Event()

                def pusher():
                    try:
                        while client.sync_state(till).waiting and not done.is_set():
                            client.push_once(till, batch=10, timeout=2)
                    except SyncError:
                        pass

                thread = threading.Thread(target=pusher)
                thread.start()
                time.sleep(rng.uniform(0.05, 0.4))
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                done.set()
                thread.join(30)
                acked = client.sync_state(till).acked_seq
                assert acked <= len(seqs_on_server(engine, info["device_id"]))  # never ahead
                proc = start_server(db_url, port)
            client.sync_now(till)
            state = client.sync_state(till)
            assert seqs_on_server(engine, info["device_id"]) == list(range(1, state.last_seq + 1))
            with till.unit_of_work(write=False) as uow:
                day = svc.list_documents(uow)[0]["business_day"]
                net = svc.day_settlement(uow, day=day).net
            with engine.connect() as c:
                assert c.execute(select(func.sum(t.documents.c.total))).scalar() == net
        engine.dispose()
    finally:
        proc.kill()
        proc.wait(10)
        if pg_name:
            _drop_postgres(pg_name)


CLIENT = """
import sys
from pos.store import Store
from sync import client
with Store(sys.argv[1]) as till:
    while client.sync_state(till).waiting:
        client.push_once(till, batch=5)
"""


@pytest.mark.slow
def test_client_killed_between_the_servers_commit_and_its_own_ack(tmp_path):
    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        _event, _stall, code = setup_stall(server)
        with Store(tmp_path / "till") as till:
            run_demo(till, sales=300, seed=6)
            info = client.enroll(till, url=server.url, code=code)
        rng = random.Random(3)
        for _ in range(6):
            child = subprocess.Popen([sys.executable, "-c", CLIENT, str(tmp_path / "till")],
                                     cwd=ROOT, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.3, 1.2))
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        with Store(tmp_path / "till") as till:
            before = client.sync_state(till)
            assert before.acked_seq <= len(seqs_on_server(server.engine, info["device_id"]))
            client.sync_now(till)
            state = client.sync_state(till)
        assert seqs_on_server(server.engine, info["device_id"]) == list(range(1, state.last_seq + 1))
        alerts = server.admin(lambda c: c.execute(select(func.count()).select_from(t.alerts)).scalar())
        assert alerts == 0
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    srv = RunningServer(f"sqlite:///{tmp_path_factory.mktemp('srv') / 'server.db'}")
    yield srv
    srv.stop()


FAULTS = st.sampled_from(["ok", "ok", "drop_request", "drop_response", "server_error", "garbage",
                          "duplicate", "slow", "reset", "reorder"])


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(2, 3),
       st.lists(st.tuples(st.integers(0, 2), FAULTS, st.integers(3, 40), st.booleans()),
                min_size=5, max_size=25),
       st.integers(0, 10**6))
def test_several_tills_under_random_faults(shared_server, tills, steps, seed):
    """Tills of one stall sell, edit prices, receive and count goods, refund each other's
    receipts and push through random faults; then every device's events are 1..N on the server
    exactly once, acks were never ahead, the server's totals per enterprise are the tills'
    settlements added up, no sale is given back past what was sold, every till's stock is the
    stall's, and every catalog is the same."""
    from collections import Counter

    from sync.server import service

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        stores, devices, transports = [], [], []
        # a name of its own: hypothesis runs a failing case again on the same server
        event = shared_server.admin(lambda c: service.create_event(
            c, name=f"장터 {seed} {uuid.uuid4().hex[:8]}"))
        stall = shared_server.admin(lambda c: service.create_stall(c, event_id=event,
                                                                    name="공동판매장"))
        try:
            for k in range(tills):
                store = Store(Path(tmp) / f"till{k}", device_code=f"A0{k + 1}")
                run_demo(store, sales=25 + 10 * k, seed=seed + k)
                code = shared_server.admin(lambda c: service.device_code(c, stall_id=stall))
                devices.append(client.enroll(store, url=shared_server.url, code=code)["device_id"])
                stores.append(store)
                transports.append(Faults(delay=0.05))
            for who, fault, batch, edit in steps:
                i = who % tills
                action = rng.random()
                if action < 0.25:  # goods received or counted at this till
                    _move_stock(stores[i], rng)
                elif action < 0.5:  # a customer brings another till's receipt here
                    _refund_another_tills(stores, i, rng)
                if edit:  # a price changed at this till before it pushes
                    with stores[i].unit_of_work() as uow:
                        product = rng.choice(svc.list_products(uow))
                        svc.update_product(uow, product_id=product["id"],
                                           price=rng.randrange(1, 50) * 500)
                        uow.commit()
                transports[i].plan = [fault]
                try:
                    client.push_once(stores[i], transport=transports[i], batch=batch)
                except SyncError:
                    pass
                acked = client.sync_state(stores[i]).acked_seq
                assert acked <= len(seqs_on_server(shared_server.engine, devices[i]))
            nets, by_enterprise = 0, Counter()
            for store, device in zip(stores, devices):
                client.sync_now(store)
                state = client.sync_state(store)
                assert seqs_on_server(shared_server.engine, device) == list(range(1, state.last_seq + 1))
                # every business day the till has documents on: a refund given now of the
                # demo's sales from yesterday goes to today (which day "now" is depends on the
                # clock the run starts at: the demo's day is yesterday before 18:00)
                with store.unit_of_work(write=False) as uow:
                    days = sorted({r["business_day"] for r in svc.list_documents(uow)})
                    for day in days:
                        figures = svc.day_settlement(uow, day=day)
                        nets += figures.net
                        by_enterprise.update({e.name: e.net for e in figures.enterprises})
            totals = shared_server.admin(lambda c: service.totals(c, event_id=event))
            assert totals["net"] == nets
            assert {r["enterprise"]: r["net"] for r in totals["by_enterprise"]} == {
                name: net for name, net in by_enterprise.items() if net}
            for store in stores:  # everyone has pushed: one more pull each and all agree
                client.sync_now(store)
            # no sale of the stall is given back past what was sold, whichever tills did it
            over = shared_server.admin(lambda c: c.execute(
                select(t.alerts.c.reason).join(t.devices, t.devices.c.id == t.alerts.c.device_id)
                .where(t.devices.c.stall_id == stall,
                       t.alerts.c.reason.like("returns more%"))).scalars().all())
            assert over == []
            # the stall's stock as the server gives it (merged products in the one they are)
            page = shared_server.admin(lambda c: service.stock_page(c, dict(c.execute(
                select(t.devices).where(t.devices.c.id == devices[0])).mappings().one())))
            levels = {level.id: level.qty for level in page.products}
            for store in stores:
                with store.unit_of_work(write=False) as uow:
                    mine = {p["id"]: p["stock"] for p in svc.list_products(uow)
                            if p["stock"] is not None}
                assert mine == levels
            catalogs = [_catalog(store) for store in stores]
            assert all(c == catalogs[0] for c in catalogs), [
                sorted(set(c.items()) ^ set(catalogs[0].items()))[:6] for c in catalogs[1:]]
            # each till loaded the demo: its forty products once, whichever till sent them
            assert len(catalogs[0]) == 40
        finally:
            for store in stores:
                store.close()


def _move_stock(store, rng) -> None:
    from pos.services.stock import record_stock

    with store.unit_of_work() as uow:
        product = rng.choice(svc.list_products(uow)[:6])  # a few products, so tills meet
        kind = rng.choice(["received", "received", "counted"])
        record_stock(uow, product_id=product["id"], kind=kind,
                     qty=rng.randrange(1, 30) if kind == "received" else rng.randrange(0, 40))
        uow.commit()


def _refund_another_tills(stores, i, rng) -> None:
    """Till i gives back one item of a receipt another till has pushed (read and held on the
    server without faults: offline, nothing can be held)."""
    from sync import returns
    from tests.conftest import in_shift

    j = rng.choice([k for k in range(len(stores)) if k != i])
    try:  # the till that printed it has sent it (else the server cannot know it yet)
        client.sync_now(stores[j])
    except SyncError:
        pass
    acked = client.sync_state(stores[j]).acked_seq
    with stores[j].unit_of_work(write=False) as uow:
        sold = [r for r in svc.list_documents(uow, kinds=("sale",)) if r["seq"] <= acked]
    if not sold:
        return
    number = rng.choice(sold)["receipt_no"]
    found = returns.look_up(stores[i], number)
    if not found.others:
        return
    copy = found.others[0]
    with stores[i].unit_of_work() as uow:
        in_shift(uow)
        uow.commit()
        left = [r.line.line_no for r in svc.refundable_lines(uow, sale_id=copy.id) if r.remaining]
    if left:
        returns.give_back(stores[i], kind="refund", sale_id=copy.id,
                          quantities={rng.choice(left): 1}, method="cash")


def _catalog(store) -> dict[str, tuple]:
    with store.unit_of_work(write=False) as uow:
        return {p["id"]: (p["name"], p["price"], p["enterprise_name"], bool(p["active"]),
                          p["sku"], tuple(sorted(p["barcodes"])))
                for p in svc.list_products(uow)}
