"""A receipt given back at another till of the stall: three real tills (their own data folders)
on a real server, SQLite and PostgreSQL. Online the till reads the sale from the server and holds
what it gives back, so what all tills give back of a sale never adds up to more than was sold;
offline it gives back only what the vendor typed in from the receipt, recorded as typed; a
till reads its own stall's sales, nothing else."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import select

from pos import services as svc
from pos.domain import DomainError
from pos.services import sales as sales_svc
from pos.store import Store
from sync import client, protocol as p, returns
from sync.server import tables as t
from tests.conftest import in_shift
from tests.sync.conftest import Faults, another_code, setup_stall
from tests.sync.test_stock import move, sell, stock_of, tills  # noqa: F401 - the fixture
from tests.sync.test_stock import stall_of_three as three_tills


def stall_of_three(server, tills):  # noqa: F811 - the fixture
    """The stall's three tills, synced, and the first product of its catalog."""
    stall, a, b, c = three_tills(server, tills)
    with a.unit_of_work(write=False) as uow:
        pid = svc.list_products(uow)[0]["id"]
    return stall, a, b, c, pid


def looked_up_at_b_and_c(server, tills):  # noqa: F811 - the fixture
    """a sold one and synced; b and c, shifts open, each looked its receipt up: (the tills,
    the sale's number, each of b's and c's copy of it)."""
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 1)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no
    copies = {}
    for till in (b, c):
        opened(till)
        copies[till] = returns.look_up(till, number).others[0].id
    return a, b, c, number, copies


def receipt_of(store, sale_id):
    with store.unit_of_work(write=False) as uow:
        return svc.get_document(uow, sale_id=sale_id)


def offline(store) -> str:
    """The till's server cannot be reached (a wrong port); its address, to put back."""
    with store.unit_of_work() as uow:
        conf = client.settings(uow)
        url, conf["url"] = conf["url"], "http://127.0.0.1:9"
        svc.set_setting(uow, "sync", conf)
        uow.commit()
    return url


def online(store, url: str) -> None:
    with store.unit_of_work() as uow:
        conf = client.settings(uow)
        conf["url"] = url
        svc.set_setting(uow, "sync", conf)
        uow.commit()


def opened(store):
    with store.unit_of_work() as uow:
        in_shift(uow)
        uow.commit()


def test_a_till_refunds_another_tills_receipt_and_no_till_gives_back_more_than_was_sold(
        server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    move(a, pid, "received", 10)
    sold = sell(a, pid, 3)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no
    assert number.startswith("A01-")
    for till in (b, c):
        opened(till)
    # b finds a's receipt on the server, with its lines and payments
    found = returns.look_up(b, (number[:4] + number[4:].replace("-", "")).lower())
    assert found.own is None and found.asked and len(found.others) == 1
    other = found.others[0]
    assert (other.device_code, other.receipt_no, other.typed) == ("A01", number, False)
    assert [ln.qty for ln in other.lines] == [3]
    doc = returns.give_back(b, kind="refund", sale_id=other.id, quantities={1: 2},
                            method="cash", reason="고객 변심")
    assert doc.original_receipt_no == number and doc.totals.total < 0
    # c was told before b pushed: the server holds b's 2, so c may give back 1, not 2
    found_c = returns.look_up(c, number)
    with c.unit_of_work(write=False) as uow:
        assert [r.remaining for r in svc.refundable_lines(uow, sale_id=found_c.others[0].id)] \
            == [1]
    with pytest.raises(DomainError) as refused:
        returns.give_back(c, kind="refund", sale_id=found_c.others[0].id, quantities={1: 2},
                          method="cash")
    assert refused.value.code == "refund_too_much"
    # a itself, offline from what b did, tries to give back all 3 of its own sale: the server
    # holds b's 2 and says so; nothing is recorded
    with a.unit_of_work(write=False) as uow:
        assert [r.remaining for r in svc.refundable_lines(uow, sale_id=sold)] == [3]
    with pytest.raises(returns.ReturnRefused) as over:
        returns.give_back(a, kind="refund", sale_id=sold, quantities={1: 3}, method="cash")
    assert "1 of 3" in over.value.params["detail"]
    # a looks it up again: it sees what b gave back, and a void is refused
    seen = returns.look_up(a, number)
    assert seen.own is not None and seen.elsewhere == {1: 2}
    with pytest.raises(DomainError) as void:
        returns.give_back(a, kind="void", sale_id=sold, lookup=seen)
    assert void.value.code == "void_after_refund"
    returns.give_back(a, kind="refund", sale_id=sold, quantities={1: 1}, method="cash",
                      lookup=seen)
    for till in (b, a, c, b):
        client.sync_now(till)
    # what the server has: 3 sold, 3 given back, no hold left, no alert of over-returning
    held = server.admin(lambda conn: conn.execute(select(t.return_holds)).all())
    assert held == []
    alerts = server.admin(lambda conn: [r.reason for r in conn.execute(select(t.alerts))])
    assert not [r for r in alerts if p.OVER_RETURNED in r], alerts
    assert stock_of(a, pid) == stock_of(b, pid) == stock_of(c, pid) == 10
    # and c, asked again, has nothing left to give
    again = returns.look_up(c, number)
    with c.unit_of_work(write=False) as uow:
        assert [r.remaining for r in svc.refundable_lines(uow, sale_id=again.others[0].id)] \
            == [0]
    # b's refund is in b's own figures (the cash left b's drawer), a's sale in a's
    with b.unit_of_work(write=False) as uow:
        day = svc.day_settlement(uow, day=doc.business_day)
    assert day.refunds == doc.totals.total and day.gross == 0


def test_two_tills_refund_one_receipt_at_once(server, tills):  # noqa: F811
    a, b, c, number, copies = looked_up_at_b_and_c(server, tills)
    done, refused = [], []

    def give(till):
        try:
            done.append(returns.give_back(till, kind="refund", sale_id=copies[till],
                                          quantities={1: 1}, method="cash"))
        except returns.ReturnRefused as e:
            refused.append(e)

    threads = [threading.Thread(target=give, args=(till,)) for till in (b, c)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(done) == 1 and len(refused) == 1


def test_a_void_of_another_tills_sale_gives_back_each_payment(server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 2)
    client.sync_now(a)
    original = receipt_of(a, sold)
    opened(b)
    found = returns.look_up(b, original.receipt_no)
    void = returns.give_back(b, kind="void", sale_id=found.others[0].id)
    assert void.totals.total == -original.totals.total
    assert [(pay.method, pay.amount) for pay in void.payments] == \
        [(pay.method, -pay.amount) for pay in original.payments]
    client.sync_now(b)
    # a, offline from it, has not seen it; asked, the server refuses a's own refund
    opened(a)
    with pytest.raises(returns.ReturnRefused):
        returns.give_back(a, kind="refund", sale_id=sold, quantities={1: 1}, method="cash")


def test_offline_another_tills_receipt_is_refunded_only_as_typed_in(server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 2)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no
    opened(b)
    # the server cannot be reached: b says it cannot check, and finds nothing to give back
    url = offline(b)
    found = returns.look_up(b, number)
    assert found.own is None and not found.asked and found.others == []
    assert found.error is not None and found.error.code == "sync_offline"
    with b.unit_of_work() as uow:
        typed = sales_svc.type_other_sale(uow, receipt_no=number, lines=[
            sales_svc.TypedLine(pid, 2)])
        uow.commit()
    assert typed.typed and typed.device_code == "A01"
    with pytest.raises(DomainError) as void:
        returns.give_back(b, kind="void", sale_id=typed.id)
    assert void.value.code == "void_typed"
    back = returns.give_back(b, kind="refund", sale_id=typed.id, quantities={1: 2},
                             method="cash", reason="영수증 보고 입력")
    online(b, url)
    client.sync_now(b)
    # the server took it, said it was typed in, and checks it against a's real sale
    alerts = server.admin(lambda conn: [r.reason for r in conn.execute(select(t.alerts))])
    typed_alerts = [r for r in alerts if r.startswith(p.TYPED_RETURN)]
    assert len(typed_alerts) == 1 and number in typed_alerts[0], alerts
    assert sold in typed_alerts[0] and p.WAITING not in alerts
    assert back.original_receipt_no == number


def test_a_till_reads_only_its_own_stalls_sales(server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 1)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no
    _event2, stall2, code2 = setup_stall(server, "다른 매대")
    x = tills("x")
    client.enroll(x, url=server.url, code=code2)
    token = client.load_token(x)
    h = {"Authorization": f"Bearer {token}"}
    got = httpx.get(f"{server.url}/api/v1/sales", params={"receipt_no": number}, headers=h)
    assert got.status_code == 404 and got.json()["code"] == "sale_unknown"
    got = httpx.get(f"{server.url}/api/v1/sales/{sold}", headers=h)
    assert got.status_code == 404
    held = httpx.post(f"{server.url}/api/v1/sales/{sold}/returns", headers=h, json={
        "return_id": "0190a000-0000-7000-8000-000000000001", "kind": "refund",
        "lines": [{"line_no": 1, "qty": 1}]})
    assert held.status_code == 404
    # hostile holds: no such line, 2^63, a line twice, garbage ids
    hb = {"Authorization": f"Bearer {client.load_token(b)}"}
    for body, status in (
            ({"return_id": "0190a000-0000-7000-8000-000000000002", "kind": "refund",
              "lines": [{"line_no": 7, "qty": 1}]}, 422),
            ({"return_id": "0190a000-0000-7000-8000-000000000002", "kind": "refund",
              "lines": [{"line_no": 1, "qty": 2**63}]}, 422),
            ({"return_id": "0190a000-0000-7000-8000-000000000002", "kind": "refund",
              "lines": [{"line_no": 1, "qty": 1}, {"line_no": 1, "qty": 1}]}, 422),
            ({"return_id": "x", "kind": "refund", "lines": [{"line_no": 1, "qty": 1}]}, 422),
            ({"return_id": "0190a000-0000-7000-8000-000000000002", "kind": "refund",
              "lines": [{"line_no": 1, "qty": 2}]}, 409)):
        got = httpx.post(f"{server.url}/api/v1/sales/{sold}/returns", headers=hb, json=body)
        assert got.status_code == status, (body, got.text)
    for bad in ("x" * 41, "\x00", "A01-2026"):
        got = httpx.get(f"{server.url}/api/v1/sales", params={"receipt_no": bad}, headers=hb)
        assert got.status_code in (404, 422), got.text
    assert httpx.get(f"{server.url}/api/v1/sales/not-a-uuid", headers=hb).status_code == 422


def test_a_server_answering_garbage_leaves_the_receipt_unchecked(server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 1)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no

    class Garbage(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, content=b'{"protocol": 1, "sales": [{"x": 1}]}')

    found = returns.look_up(b, number, transport=Garbage())
    assert found.others == [] and not found.asked and found.error.code == "sync_garbage"
    faults = Faults()
    faults.plan = ["drop_request"]
    found = returns.look_up(b, number, transport=faults)
    assert found.error is not None and found.others == []
    # the hold's answer is lost: the refund is recorded under the held id, so the hold ends
    # when it arrives and holds nothing from the other tills meanwhile... for good
    opened(b)
    found = returns.look_up(b, number)
    faults.plan = ["drop_response"]
    back = returns.give_back(b, kind="refund", sale_id=found.others[0].id, quantities={1: 1},
                             method="cash", transport=faults)
    held = server.admin(lambda conn: conn.execute(select(t.return_holds.c.return_id)).scalars()
                        .all())
    assert held == [back.id]
    client.sync_now(b)
    assert server.admin(lambda conn: conn.execute(select(t.return_holds)).all()) == []


def test_a_push_between_a_holds_two_reads_cannot_slip_past_it(server, tills,  # noqa: F811
                                                              monkeypatch):
    """b holds and records its refund; c's hold is read while b's push arrives: c sees b's
    return or b's hold, never neither."""
    from sync.server import returns as server_returns

    a, b, c, number, ids = looked_up_at_b_and_c(server, tills)
    returns.give_back(b, kind="refund", sale_id=ids[b], quantities={1: 1}, method="cash")
    real = server_returns._held
    pushed, started = [], []

    def held_after_a_push(conn, sale_ids, besides):
        if not started:
            th = threading.Thread(target=lambda: pushed.append(client.sync_now(b)))
            started.append(th)
            th.start()
            th.join(1.0)  # on PostgreSQL it waits for this hold's lock; SQLite, for its write
        return real(conn, sale_ids, besides)

    monkeypatch.setattr(server_returns, "_held", held_after_a_push)
    with pytest.raises(returns.ReturnRefused):
        returns.give_back(c, kind="refund", sale_id=ids[c], quantities={1: 1}, method="cash")
    started[0].join(30)
    assert pushed and pushed[0] >= 1  # b's refund arrived, after c was refused
    alerts = server.admin(lambda conn: [r.reason for r in conn.execute(select(t.alerts))])
    assert not [r for r in alerts if p.OVER_RETURNED in r], alerts


def test_a_paper_typed_in_offline_counts_once_the_server_is_back(server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 2)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no
    opened(b)
    url = offline(b)
    with b.unit_of_work() as uow:
        typed = sales_svc.type_other_sale(uow, receipt_no=number,
                                          lines=[sales_svc.TypedLine(pid, 2)])
        uow.commit()
    returns.give_back(b, kind="refund", sale_id=typed.id, quantities={1: 2}, method="cash")
    # the same paper again, this till's own code, goods for no money: refused
    for number_typed, line, code in (
            (number, sales_svc.TypedLine(pid, 1), "typed_again"),
            (f"{b.device['code']}-20261121-9999", sales_svc.TypedLine(pid, 1),
             "other_sale_is_own"),
            ("C09-20261121-0001", sales_svc.TypedLine(pid, 1, 0), "refund_nothing"),
            ("C09-20261121\x00-0001", sales_svc.TypedLine(pid, 1), "receipt_no_invalid")):
        with b.unit_of_work() as uow, pytest.raises(DomainError) as e:
            sales_svc.type_other_sale(uow, receipt_no=number_typed, lines=[line])
        assert e.value.code == code, number_typed
    online(b, url)
    client.sync_now(b)
    # online again, b finds the real sale: what it typed back counts, nothing is left
    found = returns.look_up(b, number)
    with b.unit_of_work(write=False) as uow:
        assert [r.remaining for r in svc.refundable_lines(uow, sale_id=found.others[0].id)] \
            == [0]
    with pytest.raises(DomainError):
        returns.give_back(b, kind="refund", sale_id=found.others[0].id, quantities={1: 1},
                          method="cash")


def test_a_return_id_is_its_tills_and_its_sales(server, tills):  # noqa: F811
    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 2)
    other_sale = sell(a, pid, 1)
    client.sync_now(a)
    number = receipt_of(a, sold).receipt_no
    opened(b)
    back = returns.give_back(b, kind="refund", sale_id=returns.look_up(b, number).others[0].id,
                             quantities={1: 1}, method="cash")
    client.sync_now(b)
    body = {"return_id": back.id, "kind": "refund", "lines": [{"line_no": 1, "qty": 1}]}
    hc = {"Authorization": f"Bearer {client.load_token(c)}"}
    hb = {"Authorization": f"Bearer {client.load_token(b)}"}
    got = httpx.post(f"{server.url}/api/v1/sales/{sold}/returns", headers=hc, json=body)
    assert got.status_code == 409 and got.json()["code"] == "return_id_used"
    got = httpx.post(f"{server.url}/api/v1/sales/{sold}/returns", headers=hb, json=body)
    assert got.status_code == 200  # b's own late retry: answered as it stands
    # one id held for two sales at once: the key decides, one is refused
    rid = "0190a000-0000-7000-8000-0000000000aa"
    answers = []

    def hold(sale):
        answers.append(httpx.post(f"{server.url}/api/v1/sales/{sale}/returns", headers=hb,
                                  json={**body, "return_id": rid}).status_code)

    threads = [threading.Thread(target=hold, args=(s,)) for s in (sold, other_sale)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(answers) == [200, 409]
    got = httpx.get(f"{server.url}/api/v1/sales", params={"receipt_no": "A01\x00"}, headers=hb)
    assert got.status_code == 422 and got.json()["code"] != "unstorable"


def test_refund_and_void_from_the_command_line(server, tills, tmp_path):  # noqa: F811
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    stall, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(a, pid, 3)
    other = sell(a, pid, 1)
    client.sync_now(a)
    number, second = receipt_of(a, sold).receipt_no, receipt_of(a, other).receipt_no
    opened(b)
    b.close()
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]}

    def jangteo(*args):
        return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(tmp_path / "b"),
                               "--lang", "ko", *args], cwd=ROOT, capture_output=True, text=True,
                              env=env, timeout=120)

    got = jangteo("refund", number.replace("-", " "), "--line", "1=2", "--reason", "고객 변심")
    assert got.returncode == 0 and number in got.stdout and "-30,000원" in got.stdout, got.stderr
    got = jangteo("refund", number, "--line", "1=2")  # 1 is left
    assert got.returncode != 0 and "Traceback" not in got.stderr and "1개" in got.stderr
    got = jangteo("void", number)
    assert got.returncode != 0 and "Traceback" not in got.stderr and got.stderr
    got = jangteo("void", second)
    assert got.returncode == 0 and second in got.stdout, got.stderr
    for bad in (("refund", number, "--line", "x"), ("refund", number, "--line", "1=99999999"),
                ("refund", "없는번호", "--line", "1=1"), ("void", "A09-20261121-0001"),
                ("refund", number, "--line", "1=1", "--method", "없는수단")):
        got = jangteo(*bad)
        assert got.returncode != 0 and "Traceback" not in got.stderr and got.stderr, bad


def test_a_void_or_refund_at_another_till_goes_back_on_the_terminals_as_sold(
        server, tills):  # noqa: F811
    """Till a's coffee cooperative took its card on its own terminal; till b (whose own
    setting says otherwise) voids one sale and refunds another by card: every enterprise's card
    and cash net to nothing, at the stall and on the server."""
    from pos.demo import OWN_TERMINAL
    from pos.domain import Tender
    from sync import stall
    from sync.server import service

    _stall, a, b, _c = three_tills(server, tills)
    with a.unit_of_work(write=False) as uow:
        ents = {e["name"]: e["id"] for e in svc.list_enterprises(uow)}
        products = svc.list_products(uow)
    coffee = next(p for p in products if p["enterprise_id"] == ents[OWN_TERMINAL])
    other = next(p for p in products if p["enterprise_id"] != ents[OWN_TERMINAL])
    with b.unit_of_work() as uow:  # b was told otherwise by hand
        svc.update_enterprise(uow, enterprise_id=next(
            e["id"] for e in svc.list_enterprises(uow) if e["name"] == OWN_TERMINAL),
            card_terminal="stall")
        in_shift(uow)
        uow.commit()
    sold = []
    for _ in range(2):
        with a.unit_of_work() as uow:
            in_shift(uow)
            sold.append(svc.record_sale(
                uow, items=[svc.SaleItem(coffee["id"]), svc.SaleItem(other["id"])],
                tenders=[Tender("card", coffee["price"], terminal=ents[OWN_TERMINAL]),
                         Tender("cash", other["price"])]))
            uow.commit()
    client.sync_now(a)
    first = returns.look_up(b, sold[0].receipt_no).others[0]
    assert [p.enterprise_id for p in first.payments][0] is not None
    void = returns.give_back(b, kind="void", sale_id=first.id)
    second = returns.look_up(b, sold[1].receipt_no).others[0]
    line = next(ln.line_no for ln in second.lines if ln.enterprise_name == OWN_TERMINAL)
    refund = returns.give_back(b, kind="refund", sale_id=second.id, quantities={line: 1},
                               method="card")
    with b.unit_of_work(write=False) as uow:
        mine = next(e["id"] for e in svc.list_enterprises(uow) if e["name"] == OWN_TERMINAL)
    assert [p.enterprise_id for p in void.payments] == [mine, None]
    assert [(p.amount, p.enterprise_id) for p in refund.payments] == [(-coffee["price"], mine)]
    client.sync_now(b)
    day = sold[0].business_day
    figures = stall.stall_settlement(a, day=day).settlement
    by = {e.name: e.by_method for e in figures.enterprises}
    assert by[OWN_TERMINAL].get("card", 0) == coffee["price"] * 2 - coffee["price"] * 2
    assert by[OWN_TERMINAL].get("cash", 0) == 0
    vat = {f.name: f for f in server.admin(lambda c: service.event_vat(
        c, event_id=service.list_events(c)[0]["id"], since=day, until=day))}
    assert (vat[OWN_TERMINAL].card, vat[OWN_TERMINAL].other_cash) == (0, 0)
    other_name = next(n for n, i in ents.items() if i == other["enterprise_id"])
    assert (vat[other_name].card, vat[other_name].other_cash) == (0, other["price"])  # kept
