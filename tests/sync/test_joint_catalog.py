"""A stall's tills share one catalog: real tills (own data folders) that each loaded the demo or
imported one products.csv join a stall on a real server (SQLite and PostgreSQL) and end with
the same products, never doubled; the vendor who joins a stall that has a catalog chooses to
take it or to merge; the organizer edits at the same time; every catalog converges."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from pos import catalog_io, services as svc
from pos.domain import Tender
from pos.services import SaleItem
from pos.clock import SteppingClock
from pos.demo import load_demo_catalog
from pos.store import Store
from sync import client
from sync.client import SyncError
from sync.server import service, tables as t
from tests.conftest import in_shift
from tests.sync.conftest import Faults, another_code, setup_stall

KST = timezone(timedelta(hours=9))


@pytest.fixture
def tills(tmp_path):
    opened = []

    def make(name: str, *, demo: bool = True) -> Store:
        clock = SteppingClock(datetime(2026, 11, 21, 9, 0, tzinfo=KST), timedelta(seconds=1))
        store = Store(tmp_path / name, clock=clock)
        opened.append(store)
        if demo:
            load_demo_catalog(store, seed=1)
        return store

    yield make
    for store in opened:
        store.close()


def catalog(store) -> dict[str, tuple]:
    """What a till sells: every live product with every field that travels."""
    with store.unit_of_work(write=False) as uow:
        return {p["id"]: (p["name"], p["price"], p["tax_class"], p["enterprise_name"],
                          p["category_name"], p["sku"], tuple(sorted(p["barcodes"])),
                          bool(p["active"]))
                for p in svc.list_products(uow)}


def server_catalog(server, stall: str) -> dict[str, tuple]:
    from sync import protocol as p

    bodies = server.admin(lambda c: [b for b, in c.execute(
        select(t.catalog.c.body).where(t.catalog.c.stall_id == stall))])
    out = {}
    for body in bodies:
        x = p.Product.model_validate_json(body)
        if not (x.merged_into or x.removed):
            out[x.id] = (x.name, x.price, x.tax_class, x.enterprise.name, x.category, x.sku,
                         tuple(sorted(x.barcodes)), x.active)
    return out


def codes_of(rows) -> list[str]:
    return [c for row in rows for c in row[6]]


def alerts(server) -> list[str]:
    return server.admin(lambda c: [r for r, in c.execute(select(t.alerts.c.reason))])


def test_two_tills_that_each_loaded_the_demo_end_with_one_catalog(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a"), tills("b")
    assert len(catalog(a)) == len(catalog(b)) == 40 and not set(catalog(a)) & set(catalog(b))
    before = list(catalog(b).values())
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    info = client.enroll(b, url=server.url, code=another_code(server, stall))
    # every one of b's products is one of the stall's: merged without asking
    assert info["join"] == {"stall_products": 40, "matched": 40, "own": 0, "conflicts": [],
                            "pending": False}
    assert catalog(b) == catalog(a)
    for till in (b, a, b):
        client.sync_now(till)
    assert catalog(a) == catalog(b) == server_catalog(server, stall)
    assert len(catalog(b)) == 40
    # nothing lost: every SKU and barcode b had is on the stall's product now
    assert sorted(row[5] for row in catalog(b).values()) == sorted(row[5] for row in before)
    assert sorted(c for row in catalog(b).values() for c in row[6]) == \
        sorted(c for row in before for c in row[6]) and len(codes_of(before)) == 17
    # a scan on b sells the stall's product
    code0 = next(row[6][0] for row in catalog(a).values() if row[6])
    with b.unit_of_work(write=False) as uow:
        assert svc.product_by_code(uow, code=code0)["id"] in catalog(a)
    assert alerts(server) == []
    # enrolled again (its token lost) with a product added since its last sync: the same till,
    # nothing to choose, and the new product joins the stall's catalog
    with b.unit_of_work() as uow:
        maker = svc.list_enterprises(uow)[0]
        svc.add_product(uow, name="새 상품", price=1000, enterprise_id=maker["id"])
        uow.commit()
    again = client.enroll(b, url=server.url, code=another_code(server, stall))
    assert again["join"] is None and again["device_id"] == info["device_id"]
    client.sync_now(b)
    client.sync_now(a)
    assert catalog(a) == catalog(b) and len(catalog(a)) == 41


def test_two_tills_that_imported_one_file_before_either_synced_converge(server, tills, tmp_path):
    _event, stall, code = setup_stall(server)
    a, b = tills("a", demo=False), tills("b", demo=False)
    sheet = tmp_path / "products.csv"
    sheet.write_text("name,price,enterprise,sku,barcode,category\n"
                     "수제비누,3000,모두의공방,SOAP,8800000000017,생활\n"
                     "향초,12000,모두의공방,CANDLE,8800000000024,생활\n"
                     "유정란 10구,7000,늘푸른농장,,8800000000031,먹거리\n"
                     "자수 브로치,13000,손끝공방,,,소품\n", encoding="utf-8")
    for till in (a, b):
        with till.unit_of_work() as uow:
            for name in ("모두의공방", "늘푸른농장", "손끝공방"):
                svc.add_enterprise(uow, name=name)
            report = catalog_io.import_catalog(uow, sheet)
            assert report.applied and not report.problems, report.problems
            uow.commit()
    # both enroll into a stall that has no catalog yet: nothing to choose, both send theirs
    assert client.enroll(a, url=server.url, code=code)["join"] is None
    assert client.enroll(b, url=server.url, code=another_code(server, stall))["join"] is None
    for till in (a, b, a, b):
        client.sync_now(till)
    # the server matched b's products to a's (SKU, barcode, enterprise + name): four, not eight
    assert len(server_catalog(server, stall)) == 4
    assert catalog(a) == catalog(b) == server_catalog(server, stall)
    by_name = {row[0]: row for row in catalog(a).values()}
    assert by_name["수제비누"][5:7] == ("SOAP", ("8800000000017",))
    assert by_name["유정란 10구"][6] == ("8800000000031",) and by_name["자수 브로치"][4] == "소품"


def test_joining_a_stall_with_a_catalog_the_vendor_takes_it(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a"), tills("b")
    with b.unit_of_work() as uow:  # two products only b has; one of them sold
        maker = svc.find_enterprise(uow, ref="모두의공방") or svc.list_enterprises(uow)[0]
        sold = svc.add_product(uow, name="b만의 컵", price=9000, enterprise_id=maker["id"],
                               sku="B-CUP", barcodes=["2000000000015"])
        unsold = svc.add_product(uow, name="b만의 접시", price=15000, enterprise_id=maker["id"])
        uow.commit()
    with b.unit_of_work() as uow:
        in_shift(uow)
        svc.record_sale(uow, items=[SaleItem(sold, qty=1)], tenders=[Tender("cash", 9000)])
        uow.commit()
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    info = client.enroll(b, url=server.url, code=another_code(server, stall))
    assert info["join"]["pending"] and info["join"]["own"] == 2 and info["join"]["matched"] == 40
    assert len(catalog(b)) == 42  # the stall's forty (its own copies merged at once), its two
    with pytest.raises(SyncError) as waiting:  # nothing is sent until the vendor chose
        client.sync_now(b)
    assert waiting.value.code == "sync_catalog_choice"
    done = client.join_catalog(b, "take")
    assert done == {"merged": 0, "removed": 1, "kept_inactive": 1, "joined": 0}  # 40 at once
    for till in (b, a, b):
        client.sync_now(till)
    ours = catalog(b)
    assert ours == catalog(a) == server_catalog(server, stall)
    names = {row[0]: row for row in ours.values()}
    assert "b만의 접시" not in names  # removed everywhere
    assert names["b만의 컵"][7] is False  # a sale names it: kept, not sold
    assert len(ours) == 41
    with b.unit_of_work(write=False) as uow:  # its sales still name their products
        assert svc.get_product(uow, product_id=unsold)["removed"]
    assert alerts(server) == []


def test_joining_a_stall_with_a_catalog_the_vendor_merges(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a"), tills("b")
    with b.unit_of_work() as uow:
        maker = svc.list_enterprises(uow)[0]
        svc.add_product(uow, name="b만의 접시", price=15000, enterprise_id=maker["id"])
        # the stall's 수제비누 under another name, but with its SKU: matched by SKU
        soap = next(p for p in svc.list_products(uow) if p["sku"])
        svc.update_product(uow, product_id=soap["id"], name="비누 (b)")
        uow.commit()
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    info = client.enroll(b, url=server.url, code=another_code(server, stall), )
    assert info["join"]["own"] == 1 and info["join"]["pending"]
    assert client.join_catalog(b, "merge")["joined"] == 1
    for till in (b, a, b):
        client.sync_now(till)
    assert catalog(a) == catalog(b) == server_catalog(server, stall)
    names = [row[0] for row in catalog(a).values()]
    assert "b만의 접시" in names and "비누 (b)" not in names and len(names) == 41


def test_a_product_the_rules_cannot_decide_is_listed_not_doubled_silently(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a"), tills("b", demo=False)
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    stall_products = list(catalog(a).values())
    first, second = stall_products[0], stall_products[1]
    with b.unit_of_work() as uow:
        e = svc.add_enterprise(uow, name=first[3])
        # its SKU is the first product's, its barcode the second's
        svc.add_product(uow, name="어느 쪽?", price=1000, enterprise_id=e, sku=first[5],
                        barcodes=[second[6][0]])
        uow.commit()
    info = client.enroll(b, url=server.url, code=another_code(server, stall))
    assert info["join"]["conflicts"] == [{"name": "어느 쪽?", "why": "match_sku_or_barcode",
                                          "params": {"sku": first[5], "barcode": second[6][0]}}]
    from pos.i18n import error_text

    said = error_text(SyncError("match_sku_or_barcode", sku="S", barcode="B"), "ko")
    assert "SKU S" in said and "바코드 B" in said


def test_three_tills_and_the_organizer_editing_at_once_converge(server, tills):
    """Three tills (two with the demo, one with a few of its own), the organizer editing, and
    every till editing prices, names, barcodes and categories while the network fails under
    them: at the end every till holds exactly the server's catalog."""
    _event, stall, code = setup_stall(server)
    rng = random.Random(16)
    a, b, c = tills("a"), tills("b"), tills("c", demo=False)
    with c.unit_of_work() as uow:
        e = svc.add_enterprise(uow, name="새 업체")
        for k in range(5):
            svc.add_product(uow, name=f"c 상품 {k}", price=1000 * (k + 1), enterprise_id=e,
                            sku=f"C-{k}", barcodes=[f"29000000000{k:02d}"])
        uow.commit()
    faults = Faults(delay=0.01)
    client.enroll(a, url=server.url, code=code)
    client.enroll(b, url=server.url, code=another_code(server, stall))  # before a synced
    client.enroll(c, url=server.url, code=another_code(server, stall))
    organizer = server.admin(lambda conn: service.organizer_token(conn, name="센터"))
    kinds = ["ok"] * 6 + ["drop_request", "drop_response", "server_error", "duplicate",
                          "reorder", "slow", "garbage"]
    for round_ in range(12):
        till = rng.choice([a, b, c])
        live = list(catalog(till).items())
        if live:
            pid, row = rng.choice(live)
            change = rng.choice(["price", "name", "barcode", "category", "active"])
            with till.unit_of_work() as uow:
                if change == "price":
                    svc.update_product(uow, product_id=pid, price=rng.randrange(100, 50000, 100))
                elif change == "name":
                    svc.update_product(uow, product_id=pid, name=f"{row[0][:20]} r{round_}")
                elif change == "barcode":
                    svc.update_product(uow, product_id=pid,
                                       barcodes=[f"27{round_:03d}{rng.randrange(10**7):07d}"])
                elif change == "category":
                    svc.update_product(uow, product_id=pid, category_id=svc.add_category(
                        uow, name=f"분류 {round_ % 3}"))
                else:
                    svc.update_product(uow, product_id=pid, active=not row[7])
                uow.commit()
        if round_ % 3 == 1:  # the organizer edits a product the server has
            held = server_catalog(server, stall)
            if held:
                pid = rng.choice(sorted(held))
                name, _price, tax, enterprise, category, sku, codes, active = held[pid]
                r = httpx.put(f"{server.url}/api/v1/stalls/{stall}/products", json={
                    "id": pid, "name": f"{name[:30]} (행사)", "price": 4900, "tax_class": tax,
                    "enterprise": {"name": enterprise}, "category": category, "sku": sku,
                    "barcodes": list(codes), "active": active},
                    headers={"Authorization": f"Bearer {organizer}"})
                assert r.status_code == 200, r.text
        faults.plan = [rng.choice(kinds) for _ in range(4)]
        try:
            client.sync_now(rng.choice([a, b, c]), transport=faults, timeout=5)
        except SyncError:
            pass
    for _ in range(3):
        for till in (a, b, c):
            client.sync_now(till)
    expected = server_catalog(server, stall)
    assert catalog(a) == catalog(b) == catalog(c) == expected
    # the demo's forty, c's five: one of each, whoever loaded it first
    assert len(expected) == 45
    skus = [row[5] for row in expected.values() if row[5]]
    codes = [b for row in expected.values() for b in row[6]]
    assert len(skus) == len(set(skus)) and len(codes) == len(set(codes))


def test_one_tills_two_products_of_one_name_stay_two(server, tills):
    _event, stall, code = setup_stall(server)
    a = tills("a", demo=False)
    with a.unit_of_work() as uow:
        e = svc.add_enterprise(uow, name="티셔츠공방")
        svc.add_product(uow, name="티셔츠", price=15000, enterprise_id=e)  # size S
        svc.add_product(uow, name="티셔츠", price=18000, enterprise_id=e)  # size XL
        uow.commit()
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    client.sync_now(a)
    assert sorted(row[1] for row in server_catalog(server, stall).values()) == [15000, 18000]
    assert len(catalog(a)) == 2
    # the organizer's own product of that name is matched by another till, not by itself
    organizer = server.admin(lambda conn: service.organizer_token(conn, name="센터"))
    for k in range(2):
        r = httpx.put(f"{server.url}/api/v1/stalls/{stall}/products", json={
            "id": f"org-{k}", "name": "에코백", "price": 9000, "tax_class": "taxable",
            "enterprise": {"name": "티셔츠공방"}}, headers={"Authorization": f"Bearer {organizer}"})
        assert r.status_code == 200, r.text
    assert sum(row[0] == "에코백" for row in server_catalog(server, stall).values()) == 2


def test_one_product_per_sku_and_barcode_and_merges_name_a_live_product(server, tills):
    from sync import protocol as p

    _event, stall, code = setup_stall(server)
    _e2, other_stall, _c2 = setup_stall(server, "다른 판매장")
    organizer = server.admin(lambda conn: service.organizer_token(conn, name="센터"))
    auth = {"Authorization": f"Bearer {organizer}"}

    def put(body, where=stall):
        return httpx.put(f"{server.url}/api/v1/stalls/{where}/products", headers=auth, json={
            "price": 1000, "tax_class": "taxable", "enterprise": {"name": "모두의공방"}, **body})

    assert put({"id": "p1", "name": "컵", "sku": "CUP", "barcodes": ["111", "111"]}).status_code == 200
    assert put({"id": "x1", "name": "딴 판매장 컵"}, other_stall).status_code == 200
    for body, status in (({"id": "p2", "name": "다른 컵", "sku": "CUP"}, 409),
                         ({"id": "p2", "name": "다른 컵", "barcodes": ["111"]}, 409),
                         ({"id": "p2", "name": "자기", "merged_into": "p2"}, 422),
                         ({"id": "p2", "name": "없음", "merged_into": "NOPE"}, 422),
                         ({"id": "p2", "name": "딴 곳", "merged_into": "x1"}, 422)):
        r = put(body)
        assert r.status_code == status and r.json()["detail"], (body, r.text)
    a, b = tills("a", demo=False), tills("b", demo=False)
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    assert catalog(a) == server_catalog(server, stall)
    assert [row[6] for row in catalog(a).values()] == [("111",)]  # listed twice, kept once
    # a till changes a SKU to one another till's new product has: neither breaks
    client.enroll(b, url=server.url, code=another_code(server, stall))
    with a.unit_of_work() as uow:
        svc.update_product(uow, product_id="p1", sku="NEW1")
        uow.commit()
    with b.unit_of_work() as uow:
        e = svc.find_enterprise(uow, ref="모두의공방")["id"]
        svc.add_product(uow, name="새 접시", price=2000, enterprise_id=e, sku="NEW1")
        uow.commit()
    for till in (b, a, b, a):
        client.sync_now(till)
    c = tills("c", demo=False)
    client.enroll(c, url=server.url, code=another_code(server, stall))
    client.sync_now(c)
    assert catalog(a) == catalog(b) == catalog(c) == server_catalog(server, stall)
    assert sum(row[5] == "NEW1" for row in catalog(c).values()) == 1
    assert any("SKU NEW1" in reason for reason in alerts(server))
    # the organizer merges one product into another: hidden everywhere, barcodes kept
    assert put({"id": "p3", "name": "머그", "barcodes": ["333"]}).status_code == 200
    client.sync_now(a)  # a has it, c never sees it
    target = next(pid for pid, row in server_catalog(server, stall).items() if row[0] == "새 접시")
    assert put({"id": "p3", "name": "머그", "merged_into": target}).status_code == 200
    for till in (a, b, c):
        client.sync_now(till)
    assert catalog(a) == catalog(b) == catalog(c) == server_catalog(server, stall)
    assert "머그" not in [row[0] for row in catalog(c).values()]
    with a.unit_of_work(write=False) as uow:
        assert svc.get_product(uow, product_id="p3")["merged_into"] == target
        assert svc.product_by_code(uow, code="333")["id"] == target  # its barcode, given on
    with c.unit_of_work(write=False) as uow:
        assert svc.get_product(uow, product_id="p3") is None
    stored = server.admin(lambda conn: conn.execute(select(t.catalog.c.body).where(
        t.catalog.c.stall_id == stall, t.catalog.c.product_id == "p3")).scalar())
    assert p.Product.model_validate_json(stored).merged_into == target


def test_a_merge_past_twenty_barcodes_keeps_twenty_and_the_till_goes_on(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a", demo=False), tills("b", demo=False)
    for till, codes in ((a, [f"77{k:04d}" for k in range(20)]), (b, ["880001", "880002"])):
        with till.unit_of_work() as uow:
            e = svc.add_enterprise(uow, name="모두의공방")
            svc.add_product(uow, name="스무 바코드", price=1000, enterprise_id=e, sku="S20",
                            barcodes=codes)
            uow.commit()
    with a.unit_of_work() as uow:  # a product never takes a 21st barcode on the till either
        pid = next(iter(catalog(a)))
        with pytest.raises(Exception) as refused:
            svc.update_product(uow, product_id=pid, barcodes=[f"9{k:05d}" for k in range(21)])
        assert getattr(refused.value, "code", "") == "barcodes_too_many"
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    info = client.enroll(b, url=server.url, code=another_code(server, stall))
    assert info["join"]["matched"] == 1 and not info["join"]["pending"]
    ours = catalog(b)
    assert len(ours) == 1 and len(next(iter(ours.values()))[6]) == 20
    with b.unit_of_work() as uow:  # the vendor edits it afterwards: it still goes through
        svc.update_product(uow, product_id=next(iter(ours)), price=1500)
        uow.commit()
    for till in (b, a):
        client.sync_now(till)
    assert client.sync_state(b).waiting == 0 and client.sync_state(b).blocked is None
    assert catalog(a) == catalog(b) == server_catalog(server, stall)


def test_a_till_offline_right_after_enrolling_still_asks_before_sending(server, tills):
    _event, stall, code = setup_stall(server)
    a, b = tills("a"), tills("b")
    with b.unit_of_work() as uow:
        svc.add_product(uow, name="오프라인 상품", price=1000,
                        enterprise_id=svc.list_enterprises(uow)[0]["id"])
        uow.commit()
    client.enroll(a, url=server.url, code=code)
    client.sync_now(a)
    faults = Faults()
    faults.plan = ["ok", "drop_request"]  # enrolled; then the network went
    info = client.enroll(b, url=server.url, code=another_code(server, stall), transport=faults)
    assert info["join"] is None
    with pytest.raises(SyncError) as waiting:
        client.sync_now(b)
    assert waiting.value.code == "sync_catalog_choice"
    on_server = server.admin(lambda conn: conn.execute(select(t.device_events.c.seq).where(
        t.device_events.c.device_id == info["device_id"])).all())
    assert on_server == []
    assert len(catalog(b)) == 41  # the stall's forty (its copies merged), its own one
    client.join_catalog(b, "take")
    client.sync_now(b)
    client.sync_now(a)
    assert catalog(a) == catalog(b) and len(catalog(a)) == 40


def test_names_that_look_alike_are_matched():
    from pos.catalog_match import name_key

    assert name_key("공방", "ＡＢＣ컵") == name_key("공방", "abc컵")
    assert name_key("공방", "머그\u200b컵") == name_key("공방", "머그컵")
    assert name_key("공방", "e\u0301") == name_key("공방", "é")
    assert name_key("공방", "  머그   컵 ") == name_key("공방", "머그 컵")
    assert name_key("공방", "머그컵") != name_key("다른 공방", "머그컵")
