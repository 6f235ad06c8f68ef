"""Catalog edits made on any till of a stall, or by the organizer, converge everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from pos import services as svc
from pos.clock import SteppingClock
from pos.demo import load_demo_catalog
from pos.store import Store
from sync import client
from tests.sync.conftest import another_code, setup_stall

KST = timezone(timedelta(hours=9))


def products(store) -> dict[str, tuple]:
    with store.unit_of_work(write=False) as uow:
        return {p["id"]: (p["name"], p["price"], p["enterprise_name"], tuple(p["barcodes"]))
                for p in svc.list_products(uow)}


@pytest.fixture
def two_tills(server, tmp_path):
    """Tills A (with the demo catalog) and B, enrolled in one stall, each on its own clock."""
    _event, stall, code = setup_stall(server)
    clocks = [SteppingClock(datetime(2026, 11, 21, 9, 0, tzinfo=KST), timedelta(seconds=1))
              for _ in range(2)]
    with Store(tmp_path / "a", clock=clocks[0]) as a, \
            Store(tmp_path / "b", clock=clocks[1], device_code="B01") as b:
        load_demo_catalog(a)
        client.enroll(a, url=server.url, code=code)
        client.enroll(b, url=server.url, code=another_code(server, stall))
        yield a, b, clocks[1], stall


def test_two_tills_and_the_organizer_converge(server, two_tills):
    a, b, clock_b, stall = two_tills
    client.sync_now(a)
    assert products(b) == {}
    while client.pull_once(b, limit=7):  # paged
        pass
    assert products(b) == products(a) and len(products(b)) == 40

    pid = next(iter(products(a)))
    with a.unit_of_work() as uow:
        svc.update_product(uow, product_id=pid, price=7000)
        uow.commit()
    clock_b.advance(timedelta(minutes=5))  # B edits the same product later
    with b.unit_of_work() as uow:
        svc.update_product(uow, product_id=pid, price=8000)
        uow.commit()
    for till in (a, b, a, b):
        client.sync_now(till)
    assert products(a)[pid][1] == products(b)[pid][1] == 8000

    from sync.server import service

    organizer = server.admin(lambda c: service.organizer_token(c, name="센터"))
    with httpx.Client(base_url=server.url) as http:
        answer = http.put(f"/api/v1/stalls/{stall}/products", json={
            "id": pid, "name": "천연 수제비누 (행사가)", "price": 5000, "tax_class": "taxable",
            "enterprise": {"name": "꿈드림공예협동조합"}, "barcodes": ["8800000000093"]},
            headers={"Authorization": f"Bearer {organizer}"})
        assert answer.status_code == 200 and answer.json()["taken"]
        refused = http.put(f"/api/v1/stalls/{stall}/products", json={
            "id": pid, "name": "x", "price": 1, "tax_class": "taxable",
            "enterprise": {"name": "x"}}, headers={"Authorization": "Bearer dev_x"})
        assert refused.status_code in (401, 403)
    for till in (a, b):
        client.sync_now(till)
    assert products(a)[pid] == products(b)[pid] == (
        "천연 수제비누 (행사가)", 5000, "꿈드림공예협동조합", ("8800000000093",))
    with a.unit_of_work() as uow:  # a later local edit still wins over the organizer's
        svc.update_product(uow, product_id=pid, price=5500)
        uow.commit()
    for till in (a, b):
        client.sync_now(till)
    assert products(a)[pid][1] == products(b)[pid][1] == 5500
    assert products(a) == products(b)


def enterprises(store) -> dict[str, tuple]:
    with store.unit_of_work(write=False) as uow:
        return {e["name"]: (e["bizno"], e["tax_status"], e["commission_bp"])
                for e in svc.list_enterprises(uow)}


def test_enterprise_edits_converge_even_past_later_product_edits(two_tills):
    a, b, clock_b, _stall = two_tills
    client.sync_now(a)
    client.sync_now(b)
    assert enterprises(b) == enterprises(a)
    with a.unit_of_work(write=False) as uow:
        firm = next(e for e in svc.list_enterprises(uow) if e["bizno"])
        pid = svc.list_products(uow, enterprise_id=firm["id"])[0]["id"]
    with a.unit_of_work() as uow:  # A changes the enterprise's terms ...
        svc.update_enterprise(uow, enterprise_id=firm["id"], commission_bp=1500,
                              tax_status="simplified")
        uow.commit()
    clock_b.advance(timedelta(minutes=5))
    with b.unit_of_work() as uow:  # ... B, not synced yet, edits one of its products later
        svc.update_product(uow, product_id=pid, price=12300)
        uow.commit()
    for till in (a, b, a, b):
        client.sync_now(till)
    for till in (a, b):
        assert enterprises(till)[firm["name"]] == (firm["bizno"], "simplified", 1500)
        assert products(till)[pid][1] == 12300  # and B's price stands
    with a.unit_of_work() as uow:  # a rename travels too, matched by the business number
        svc.update_enterprise(uow, enterprise_id=firm["id"], name=firm["name"] + " 협동조합")
        uow.commit()
    for till in (a, b):
        client.sync_now(till)
    assert enterprises(b) == enterprises(a) and firm["name"] not in enterprises(b)
    assert products(b) == products(a)
    assert products(b)[pid][2] == firm["name"] + " 협동조합"


def test_an_enterprises_card_terminal_and_trade_reach_every_till(two_tills):
    """Whose card terminal an enterprise uses and whether its trade must issue cash receipts
    travel with its products: the other till offers its terminal and asks as this one does."""
    from pos.demo import OWN_TERMINAL

    def flags(store):
        with store.unit_of_work(write=False) as uow:
            return {e["name"]: (e["card_terminal"], bool(e["cash_receipt_mandatory"]))
                    for e in svc.list_enterprises(uow)}

    a, b, _clock_b, _stall = two_tills
    client.sync_now(a)
    client.sync_now(b)
    assert flags(b)[OWN_TERMINAL] == ("own", False)
    assert flags(b) == flags(a)
    with a.unit_of_work(write=False) as uow:
        firm = next(e for e in svc.list_enterprises(uow) if e["name"] != OWN_TERMINAL)
        coffee = next(e for e in svc.list_enterprises(uow) if e["name"] == OWN_TERMINAL)
    with a.unit_of_work() as uow:
        svc.update_enterprise(uow, enterprise_id=firm["id"], cash_receipt_mandatory=True,
                              card_terminal="own")
        svc.update_enterprise(uow, enterprise_id=coffee["id"], card_terminal="stall")
        uow.commit()
    for till in (a, b):
        client.sync_now(till)
    assert flags(b)[firm["name"]] == ("own", True)
    assert flags(b)[OWN_TERMINAL] == ("stall", False)
    assert flags(b) == flags(a)
