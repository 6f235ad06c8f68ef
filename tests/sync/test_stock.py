"""Stock as movements: goods received, counted and returned are events, sales take goods away and
returns bring them back, and the stall's stock is their sum over every till, on the server and,
after a sync, on each till (with what it did since). Three real tills (own data folders) on a
real server, SQLite and PostgreSQL, with the fault injector between them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from pos import services as svc
from pos.clock import SteppingClock
from pos.demo import load_demo_catalog
from pos.domain import DomainError, Tender
from pos.money import MAX_STOCK
from pos.services import SaleItem
from pos.services.stock import record_stock
from pos.store import Store
from sync import client, protocol as p
from sync.client import SyncError
from sync.server import tables as t
from tests.conftest import ROOT, in_shift
from tests.sync.conftest import Faults, another_code, setup_stall

KST = timezone(timedelta(hours=9))


@pytest.fixture
def tills(tmp_path):
    """Tills of one stall; their clocks tell one time, as laptops at a market do."""
    opened = []
    clock = SteppingClock(datetime(2026, 11, 21, 9, 0, tzinfo=KST), timedelta(seconds=1))

    def make(name: str) -> Store:
        store = Store(tmp_path / name, clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def first_till(server, tills, *, received: int) -> tuple[str, Store, str]:
    """A stall's first till, enrolled with the demo catalog, that received goods of its first
    product and synced: (the stall's id, the till, the product's id)."""
    _event, stall, code = setup_stall(server)
    a = tills("a")
    load_demo_catalog(a)
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    with a.unit_of_work(write=False) as uow:
        pid = svc.list_products(uow)[0]["id"]
    move(a, pid, "received", received)
    client.sync_now(a)
    return stall, a, pid


def stall_of_three(server, tills) -> tuple[str, Store, Store, Store]:
    """A stall's three tills: the first enrolled with the demo catalog, the others joining it,
    all synced: (the stall's id, the tills)."""
    _event, stall, code = setup_stall(server)
    a, b, c = tills("a"), tills("b"), tills("c")
    load_demo_catalog(a)
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    for till in (b, c):
        client.enroll(till, url=server.url, code=another_code(server, stall))
        client.sync_now(till)
    return stall, a, b, c


def stock_of(store, pid: str) -> int | None:
    with store.unit_of_work(write=False) as uow:
        return svc.get_product(uow, product_id=pid)["stock"]


def sell(store, pid: str, qty: int) -> str:
    with store.unit_of_work() as uow:
        in_shift(uow)
        price = svc.get_product(uow, product_id=pid)["price"]
        doc = svc.record_sale(uow, items=[SaleItem(pid, qty=qty)],
                              tenders=[Tender("cash", price * qty)])
        uow.commit()
    return doc.id


def refund(store, sale_id: str, qty: int) -> None:
    with store.unit_of_work() as uow:
        svc.refund_sale(uow, sale_id=sale_id, quantities={1: qty}, method="cash",
                        reason="고객 변심")
        uow.commit()


def move(store, pid: str, kind: str, qty: int) -> dict:
    with store.unit_of_work() as uow:
        moved = record_stock(uow, product_id=pid, kind=kind, qty=qty)
        uow.commit()
    return moved


def test_movements_on_one_till_and_what_they_refuse(tills):
    till = tills("a")
    load_demo_catalog(till)
    with till.unit_of_work(write=False) as uow:
        pid = svc.list_products(uow)[0]["id"]
    assert stock_of(till, pid) is None  # not tracked until it has a movement
    assert move(till, pid, "received", 10)["stock"] == 10
    sold = sell(till, pid, 3)
    assert stock_of(till, pid) == 7
    counted = move(till, pid, "counted", 5)
    assert (counted["change"], counted["stock"]) == (-2, 5)  # two went missing
    assert move(till, pid, "returned", 2)["stock"] == 3
    with till.unit_of_work() as uow, pytest.raises(DomainError) as refused:
        record_stock(uow, product_id=pid, kind="returned", qty=4)
    assert refused.value.code == "stock_return_too_many"
    refund(till, sold, 1)
    assert stock_of(till, pid) == 4
    for kind, qty in (("received", 0), ("received", -1), ("returned", 0), ("counted", -1),
                      ("received", MAX_STOCK + 1), ("counted", 2**63), ("received", True),
                      ("received", 1.5), ("received", "3")):
        with till.unit_of_work() as uow, pytest.raises(DomainError) as refused:
            record_stock(uow, product_id=pid, kind=kind, qty=qty)
        assert refused.value.code == "stock_qty_invalid", (kind, qty)
    with till.unit_of_work() as uow, pytest.raises(DomainError):
        record_stock(uow, product_id="nope", kind="received", qty=1)
    # every movement is an event the protocol takes, in order
    with till.unit_of_work(write=False) as uow:
        rows = uow.conn.execute(select(t_outbox()).where(
            t_outbox().c.event_type == "stock.moved").order_by(t_outbox().c.seq)).mappings().all()
    payloads = [p.StockPayload.model_validate(json.loads(r["payload"])) for r in rows]
    assert [(x.kind, x.qty) for x in payloads] == [("received", 10), ("counted", -2),
                                                    ("returned", -2)]


def t_outbox():
    from pos import tables

    return tables.outbox


def test_hostile_stock_payloads_are_refused_by_the_protocol():
    good = {"id": "m1", "product_id": "p1", "kind": "received", "qty": 3,
            "business_day": "2026-11-21", "created_at": "2026-11-21T10:00:00+09:00"}
    assert p.StockPayload.model_validate(good).qty == 3
    for bad in ({"qty": 0}, {"qty": -3}, {"kind": "returned", "qty": 3},
                {"kind": "counted", "qty": 1}, {"kind": "stolen"}, {"qty": 2**63},
                {"qty": "3"}, {"qty": 3.0}, {"product_id": ""}, {"product_id": "x" * 37},
                {"reason": "a\x00b"}, {"business_day": "2026-13-01"}, {"extra": 1},
                {"kind": "received", "counted": 3}):
        with pytest.raises(Exception):
            p.StockPayload.model_validate({**good, **bad})


def test_three_tills_share_the_stalls_stock_and_sold_out_reaches_every_till(server, tills):
    _event, stall, code = setup_stall(server)
    a, b, c = tills("a"), tills("b"), tills("c")
    load_demo_catalog(a)
    client.enroll(a, url=server.url, code=code)
    with a.unit_of_work(write=False) as uow:
        pid = svc.list_products(uow)[0]["id"]
    move(a, pid, "received", 10)  # the enterprise brought ten at opening
    client.sync_now(a)
    for till in (b, c):
        client.enroll(till, url=server.url, code=another_code(server, stall))
        client.sync_now(till)
        assert stock_of(till, pid) == 10
    # offline, b sells 4 and c sells 7: each shows what it knows, and c sells past zero
    sell(b, pid, 4)
    sold_c = sell(c, pid, 7)
    assert (stock_of(a, pid), stock_of(b, pid), stock_of(c, pid)) == (10, 6, 3)
    for till in (b, c, a, b):
        client.sync_now(till)
    assert stock_of(a, pid) == stock_of(b, pid) == stock_of(c, pid) == -1  # sold out, flagged
    refund(c, sold_c, 1)
    for till in (c, a, b):
        client.sync_now(till)
    assert stock_of(a, pid) == stock_of(b, pid) == stock_of(c, pid) == 0
    level = server.admin(lambda conn: conn.execute(select(t.stall_stock.c.qty).where(
        t.stall_stock.c.stall_id == stall, t.stall_stock.c.product_id == pid)).scalar())
    assert level == 0
    # a count at closing: 2 found (the server counts what the tills did, not what one says)
    assert move(b, pid, "counted", 2)["change"] == 2
    for till in (b, a, c):
        client.sync_now(till)
    assert stock_of(a, pid) == stock_of(c, pid) == 2


def test_stock_converges_exactly_under_faults(server, tills):
    """Random receipts, sales, refunds, counts and returns on three tills, pushed and pulled
    through dropped requests, lost answers, duplicates, late deliveries and garbage: at the
    end every till and the server hold the same stock, and it is the sum of what happened."""
    stall, a, b, c = stall_of_three(server, tills)
    rng = random.Random(3)
    with a.unit_of_work(write=False) as uow:
        pids = [x["id"] for x in svc.list_products(uow)[:4]]
    for pid in pids:
        move(a, pid, "received", 20)
    client.sync_now(a)
    for till in (b, c):
        client.sync_now(till)
    faults = Faults(delay=0.01)
    kinds = ["ok"] * 5 + ["drop_request", "drop_response", "server_error", "duplicate",
                          "reorder", "garbage", "reset"]
    sales: dict[int, list] = {0: [], 1: [], 2: []}
    expected = {pid: 20 for pid in pids}
    stores = [a, b, c]
    for _ in range(30):
        k = rng.randrange(3)
        till, pid = stores[k], rng.choice(pids)
        action = rng.choice(["sell", "sell", "sell", "refund", "receive", "return"])
        if action == "sell":
            qty = rng.randint(1, 3)
            sales[k].append((sell(till, pid, qty), pid, qty))
            expected[pid] -= qty
        elif action == "refund" and sales[k]:
            sale_id, spid, qty = sales[k].pop(rng.randrange(len(sales[k])))
            refund(till, sale_id, 1)
            expected[spid] += 1
            if qty > 1:
                sales[k].append((sale_id, spid, 0))  # no second refund of it here
        elif action == "receive":
            move(till, pid, "received", 5)
            expected[pid] += 5
        elif action == "return":
            try:  # refused when this till knows of none (the goods were counted elsewhere)
                move(till, pid, "returned", 1)
                expected[pid] -= 1
            except DomainError as e:
                assert e.code == "stock_return_too_many" and stock_of(till, pid) < 1
        faults.plan = [rng.choice(kinds) for _ in range(3)]
        try:
            client.sync_now(stores[rng.randrange(3)], transport=faults, timeout=5)
        except SyncError:
            pass
    for _ in range(2):
        for till in stores:
            client.sync_now(till)
    assert sum(f != "ok" for f in faults.seen) >= 10 and expected != {pid: 20 for pid in pids}
    for till in stores:
        assert {pid: stock_of(till, pid) for pid in pids} == expected
    on_server = server.admin(lambda conn: dict(conn.execute(
        select(t.stall_stock.c.product_id, t.stall_stock.c.qty)
        .where(t.stall_stock.c.stall_id == stall)).all()))
    assert {pid: on_server[pid] for pid in pids} == expected


def test_stock_from_the_command_line(tmp_path):
    data = tmp_path / "d"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]}

    def jangteo(*args):
        return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(data),
                               "--lang", "ko", *args], cwd=ROOT, capture_output=True, text=True,
                              env=env, timeout=120)

    assert jangteo("demo", "--sales", "0").returncode == 0
    with Store(data) as store, store.unit_of_work(write=False) as uow:
        product = next(x for x in svc.list_products(uow) if x["sku"])
    got = jangteo("stock", "receive", product["sku"], "12", "--reason", "아침 입고")
    assert got.returncode == 0 and "+12" in got.stdout and "12개" in got.stdout, got.stderr
    assert jangteo("stock", "return", product["name"], "2").returncode == 0
    counted = jangteo("stock", "count", product["sku"], "9")
    assert counted.returncode == 0 and "-1" in counted.stdout
    listed = jangteo("stock", "list")
    assert f"{product['name']} ({product['enterprise_name']}): 9개" in listed.stdout
    for bad in (("receive", product["sku"], "0"), ("count", product["sku"], "-1"),
                ("receive", "없는 상품", "1"), ("receive", product["sku"], "1.5")):
        out = jangteo("stock", *bad)
        assert out.returncode != 0 and "Traceback" not in out.stderr and out.stderr, bad


def test_the_settlement_shows_received_sold_returned_and_missing(tills, tmp_path):
    from pypdf import PdfReader

    from printing.pdf import settlement_pdf

    till = tills("a")
    load_demo_catalog(till)
    with till.unit_of_work() as uow:
        in_shift(uow)
        product = svc.list_products(uow)[0]
        uow.commit()
    pid = product["id"]
    move(till, pid, "received", 10)  # at opening
    sell(till, pid, 3)
    move(till, pid, "counted", 5)  # at closing: two are missing
    move(till, pid, "returned", 2)  # and what is left minus three goes back
    with till.unit_of_work(write=False) as uow:
        shift = svc.current_shift(uow)
        f = svc.shift_settlement(uow, shift_id=shift["id"])
        enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
    (goods,) = f.stock
    assert (goods.received, goods.sold, goods.returned, goods.missing, goods.stock) == \
        (10, 3, 2, 2, 3)
    # one till, one shift, nothing before: the period balances with the stock now
    assert goods.received - goods.sold - goods.returned - goods.missing == goods.stock
    path = settlement_pdf(tmp_path / "s.pdf", f, enterprises=enterprises, shift=shift)
    page = next(pg.extract_text() for pg in PdfReader(path).pages
                if product["enterprise_name"] in pg.extract_text())
    assert "상품 입출고" in page and "업체 반품" in page, page
    goods_part = page[page.index("상품 입출고"):]  # the cells after the product's name
    after = goods_part[goods_part.index(product["name"]) + len(product["name"]):].split()
    assert after[:5] == ["10", "3", "2", "2", "3"], goods_part[:300]
    from tests.printing.test_reports import pages_to_png

    pages_to_png(path, "settlement-stock")


def test_a_movement_of_a_product_the_stall_lacks_is_nobodys_stock(server, tills):
    from tests.sync.test_returns import Till
    from tests.sync.test_server_bounds import body

    stall, a, pid = first_till(server, tills, received=4)

    class Api:  # what tests.sync.test_returns.Till needs
        def __init__(self):
            import httpx

            self.http = httpx.Client(base_url=server.url)

    other = Till(Api(), another_code(server, stall), "Z01")
    events = [{"event_id": f"00000000-0000-4000-8000-{k:012d}", "seq": k, "type": "stock.moved",
               "hlc": f"1796194548047-{k:05d}-Z01", "created_at": "2026-11-21T10:00:00+09:00",
               "payload": {"id": f"m{k}", "product_id": f"ghost-{k}", "kind": "received",
                           "qty": MAX_STOCK, "business_day": "2026-11-21",
                           "created_at": "2026-11-21T10:00:00+09:00"}} for k in range(1, 4)]
    r = other.api.http.post("/api/v1/push", content=body(*events),
                            headers={**other.auth, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["acked_seq"] == 3, r.text
    client.sync_now(a)
    token = client.load_token(a)
    page = other.api.http.get("/api/v1/stock", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200
    assert [x["id"] for x in page.json()["products"]] == [pid] and stock_of(a, pid) == 4


def test_sales_before_a_product_was_tracked_do_not_count_against_its_goods(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a"), tills("b")
    load_demo_catalog(a)
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    client.enroll(b, url=server.url, code=another_code(server, stall))
    client.sync_now(b)
    with a.unit_of_work(write=False) as uow:
        pid = svc.list_products(uow)[0]["id"]
    sell(a, pid, 3)
    sell(b, pid, 2)  # not tracked yet: these sales are nobody's stock
    for till in (a, b):
        client.sync_now(till)
    move(a, pid, "received", 10)
    for till in (a, b, a):
        client.sync_now(till)
    assert stock_of(a, pid) == stock_of(b, pid) == 10
    sell(b, pid, 1)  # from now on a sale counts
    for till in (b, a):
        client.sync_now(till)
    assert stock_of(a, pid) == stock_of(b, pid) == 9


def test_a_stock_answer_that_cannot_be_is_garbage(tills, server):
    import httpx

    _stall, a, pid = first_till(server, tills, received=8)

    class Liar(httpx.BaseTransport):
        def __init__(self, answer):
            self.inner, self.answer = httpx.HTTPTransport(), answer

        def handle_request(self, request):
            if request.url.path == "/api/v1/stock":
                return httpx.Response(200, json=self.answer, request=request)
            return self.inner.handle_request(request)

    last = client.sync_state(a).last_seq
    for answer in ({"products": [{"id": pid, "qty": 2**53 - 1}], "counted_seq": last},
                   {"products": [{"id": pid, "qty": 5.0}], "counted_seq": last},
                   {"products": [{"id": pid, "qty": 1}, {"id": pid, "qty": 2}],
                    "counted_seq": last},
                   {"products": [{"id": pid, "qty": 1}], "counted_seq": 0},
                   {"products": [{"id": pid, "qty": 1}], "counted_seq": last + 5}):
        with pytest.raises(SyncError) as refused:
            client.sync_now(a, transport=Liar(answer))
        assert refused.value.code == "sync_garbage", answer
        assert stock_of(a, pid) == 8


def test_a_count_sets_the_stock_whatever_the_other_tills_sold_before_it(server, tills):
    """The shelf was counted after the sales the other tills made offline: the count is the
    stock, in any order of pushes; a sale made after the count is taken off it."""
    for order in ("abc", "cab", "bca"):
        _event, stall, code = setup_stall(server)
        a, b, c = tills(f"a{order}"), tills(f"b{order}"), tills(f"c{order}")
        load_demo_catalog(a)
        client.enroll(a, url=server.url, code=code)
        with a.unit_of_work(write=False) as uow:
            pid = svc.list_products(uow)[0]["id"]
        move(a, pid, "received", 20)
        client.sync_now(a)
        for till in (b, c):
            client.enroll(till, url=server.url, code=another_code(server, stall))
            client.sync_now(till)
        sell(a, pid, 3)
        sell(b, pid, 4)  # both offline
        assert move(c, pid, "counted", 13)["change"] == -7  # c believed 20
        sell(c, pid, 1)  # after the count
        stores = {"a": a, "b": b, "c": c}
        for name in order + order:
            client.sync_now(stores[name])
        assert [stock_of(x, pid) for x in (a, b, c)] == [12, 12, 12], order
        # two vendors count the same shelf: 12 and 12 is 12, not a change taken twice
        move(a, pid, "counted", 12)
        move(b, pid, "counted", 12)
        for name in order + order:
            client.sync_now(stores[name])
        assert [stock_of(x, pid) for x in (a, b, c)] == [12, 12, 12], order
