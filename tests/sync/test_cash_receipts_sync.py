"""Cash receipt requests on the organizer's server: a real till records a request, has it
issued and refunded, and pushes; the server holds each request as its latest event says,
shows the organizer the customer's number masked, and refuses a payload that breaks the
protocol's rules with a 422, never a 5xx. Real till, real server on 127.0.0.1 (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json

import httpx

from pos import services as s
from pos.domain import Tender
from pos.services import cash_receipts as cr
from sync import client
from sync.server import service
from tests.conftest import in_shift
from tests.sync.conftest import setup_stall
from tests.sync.test_stock import stall_of_three, tills  # noqa: F401 - the fixture


def test_the_server_keeps_each_request_as_the_till_last_said_it(server, store, stall):
    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.candle), s.SaleItem(stall.eggs)],
                             tenders=[Tender("cash", 20_000)],
                             cash_receipt=cr.Ask("010-2345-6789"))
        uow.commit()
    general = next(r for r in sale.cash_receipts if r.enterprise_id == stall.general)
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=general.id, approval_no="900100")
        uow.commit()
    _event, stall_id, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    client.sync_now(store)
    with store.unit_of_work() as uow:  # after the first push: a refund cancels the issued one
        line = next(ln.line_no for ln in sale.lines if ln.enterprise_id == stall.general)
        refund = s.refund_sale(uow, sale_id=sale.id, quantities={line: 1}, method="cash")
        uow.commit()
    client.sync_now(store)
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    with httpx.Client(base_url=server.url,
                      headers={"Authorization": f"Bearer {token}"}) as api:
        got = api.get(f"/api/v1/stalls/{stall_id}/cash-receipts")
        assert got.status_code == 200, got.text
        rows = got.json()
        with store.unit_of_work(write=False) as uow:
            local = {r.id: r for r in cr.list_requests(uow)}
        assert {r["id"] for r in rows} == set(local) and len(rows) == 3
        for r in rows:
            mine = local[r["id"]]
            assert (r["state"], r["amount"], r["kind"], r["approval_no"]) == (
                mine.state, mine.amount, mine.kind, mine.approval_no)
            assert r["identity"] == "010-****-6789"
        assert "2345" not in got.text
        (cancel,) = [r for r in rows if r["kind"] == "cancel"]
        assert cancel["cancels"] == general.id and cancel["amount"] == 12_000
        assert refund.cash_receipts[0].id == cancel["id"]
        issued = api.get(f"/api/v1/stalls/{stall_id}/cash-receipts", params={"state": "issued"})
        assert [r["approval_no"] for r in issued.json()] == ["900100"]
        for bad in ({"state": "lost"}, {"from": "2026-13-01"}, {"from": "2026-11-22",
                                                                  "to": "2026-11-21"}):
            answer = api.get(f"/api/v1/stalls/{stall_id}/cash-receipts", params=bad)
            assert answer.status_code == 422, (bad, answer.text)


def test_the_server_gives_the_tills_vat_figures_across_its_tills(server, store, stall, capsys,
                                                                 tmp_path):
    """Once a till has synced, the server's VAT figures for the event are the till's own."""
    from dataclasses import replace

    from pos.vat import vat_figures
    from sync.server.cli import main as server_cli

    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.candle), s.SaleItem(stall.eggs),
                                         s.SaleItem(stall.brooch)],
                             tenders=[Tender("card", 10_000, approval_no="1"),
                                      Tender("cash", 22_000)],
                             cash_receipt=cr.Ask("010-2345-6789"))
        s.record_sale(uow, items=[s.SaleItem(stall.rice)],
                      tenders=[Tender("onnuri", 15_000, face_value=5_000, count=3)])
        line = next(ln.line_no for ln in sale.lines if ln.enterprise_id == stall.exempt)
        s.refund_sale(uow, sale_id=sale.id, quantities={line: 1}, method="cash")
        uow.commit()
    general = next(r for r in sale.cash_receipts if r.enterprise_id == stall.general)
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=general.id, approval_no="42")
        uow.commit()
    event, _stall_id, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    client.sync_now(store)
    with store.unit_of_work(write=False) as uow:
        mine = [replace(f, enterprise_id=f.name, representative="", bizno="")
                for f in vat_figures(uow, day_from="2026-11-21", day_to="2026-11-21")]
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    with httpx.Client(base_url=server.url,
                      headers={"Authorization": f"Bearer {token}"}) as api:
        got = api.get(f"/api/v1/events/{event}/vat",
                      params={"from": "2026-11-21", "to": "2026-11-21"})
        assert got.status_code == 200, got.text
        theirs = {r["enterprise"]: r for r in got.json()}
        for bad in ({"from": "2026-11-21"}, {"from": "2026-11-22", "to": "2026-11-21"},
                    {"from": "x", "to": "2026-11-21"}):
            assert api.get(f"/api/v1/events/{event}/vat", params=bad).status_code == 422
    assert set(theirs) == {f.name for f in mine}
    for f in mine:
        row = theirs[f.name]
        for k in ("net", "taxable_total", "supply_value", "vat", "exempt_total", "card",
                  "cash_receipts_issued", "cash_receipts_waiting", "other_cash", "vouchers"):
            assert row[k] == getattr(f, k), (f.name, k)
    assert server_cli(["--lang", "en", "--db", server.db_url, "vat", event, "--from",
                       "2026-11-21", "--to", "2026-11-21", "--csv", str(tmp_path / "v.csv")]) == 0
    out = capsys.readouterr().out
    assert f"모두의공방: net ₩{theirs['모두의공방']['net']:,}" in out
    assert (tmp_path / "v.csv").read_text(encoding="utf-8-sig").count("\n") == len(mine) + 1
    day = ["--from", "2026-11-21", "--to", "2026-11-21"]
    for bad, said in ((["--csv", str(tmp_path / "no" / "v.csv")], "Cannot write"),
                      (["--pdf", str(tmp_path)], "Cannot write"),
                      (["--pdf", str(tmp_path / "x"), "--csv", str(tmp_path / "x")],
                       "name the same file")):
        assert server_cli(["--lang", "en", "--db", server.db_url, "vat", event, *day,
                           *bad]) == 1
        assert said in capsys.readouterr().err


def test_a_payload_against_the_rules_is_refused_with_a_reason(server, store, stall):
    from sync.protocol import PushRequest
    import pydantic
    import pytest

    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)],
                             cash_receipt=cr.Ask("010-2345-6789"))
        uow.commit()
    payload = sale.cash_receipts[0].payload()
    event = {"event_id": "0190c0de-0000-7000-8000-000000000001", "seq": 1,
             "type": "cash_receipt.changed", "hlc": "1796194548047-00000-A01",
             "created_at": "2026-11-21T10:00:00+09:00"}
    for change in ({"amount": 0}, {"amount": 2**63}, {"identity": "010-2345-6789"},
                   {"state": "issued"}, {"kind": "cancel"}, {"purpose": "gift"},
                   {"identity": "0" * 20}, {"enterprise_name": "\x00"}, {"extra": 1},
                   {"identity": "０１０２３４５６７８９"}, {"identity_kind": "self"},
                   {"identity_kind": "card"}, {"voluntary": True}, {"due_day": "2026-11-01"},
                   {"bizno": "abcdefghijkl"}, {"enterprise_name": "a\u2028b"},
                   {"kind": "cancel", "cancels": "x"}):
        with pytest.raises(pydantic.ValidationError):
            PushRequest.model_validate({"events": [{**event, "payload": {**payload, **change}}]})
    _event, _stall_id, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    body = json.dumps({"events": [{**event, "payload": {**payload, "amount": -5}}]})
    answer = httpx.post(f"{server.url}/api/v1/push", content=body,
                        headers={"Authorization": f"Bearer {client.load_token(store)}",
                                 "Content-Type": "application/json"})
    assert answer.status_code == 422 and "amount" in answer.text


def test_a_request_that_does_not_fit_the_tills_documents_is_alerted_not_counted(server, store,
                                                                                stall):
    import uuid

    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)],
                             cash_receipt=cr.Ask("010-2345-6789"))
        uow.commit()
    event, stall_id, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    client.sync_now(store)
    with store.unit_of_work(write=False) as uow:
        from pos.outbox import newest_seq

        seq = newest_seq(uow)
    good = sale.cash_receipts[0].payload()
    wrong = [{**good, "id": "x1", "sale_id": str(uuid.uuid4())},  # a sale the till never sent
             {**good, "id": "x2", "receipt_no": "A01-20261121-9999"},
             {**good, "id": "x3", "amount": 3001}]  # more than the sale's total
    events = [{"event_id": str(uuid.uuid4()), "seq": seq + k + 1, "type": "cash_receipt.changed",
               "hlc": f"17961945480{k:02d}-00000-A01", "created_at": "2026-11-21T10:00:00+09:00",
               "payload": body} for k, body in enumerate(wrong)]
    answer = httpx.post(f"{server.url}/api/v1/push", json={"events": events},
                        headers={"Authorization": f"Bearer {client.load_token(store)}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["acked_seq"] == seq + 3  # taken: the till's sync goes on
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    with httpx.Client(base_url=server.url,
                      headers={"Authorization": f"Bearer {token}"}) as api:
        rows = api.get(f"/api/v1/stalls/{stall_id}/cash-receipts").json()
        alerts = api.get(f"/api/v1/events/{event}/alerts").json()
    assert [r["id"] for r in rows] == [good["id"]]
    reasons = [a["reason"] for a in alerts if "cash receipt request not counted" in a["reason"]]
    assert len(reasons) == 3
    assert any("is not a sale this till sent" in r for r in reasons)
    assert any("more than the sale's total" in r for r in reasons)


def test_a_sale_given_back_at_another_till_alerts_its_cash_receipts(server, tills):  # noqa: F811
    """The till that took the request does not hear of a return made at another till: the
    organizer is told which requests its enterprises must cancel."""
    from sqlalchemy import select

    from sync import returns
    from sync.server import tables as t

    _stall, a, b, _c = stall_of_three(server, tills)
    with a.unit_of_work() as uow:
        in_shift(uow)
        pid = s.list_products(uow)[0]["id"]
        price = s.list_products(uow)[0]["price"]
        sold = s.record_sale(uow, items=[s.SaleItem(pid)], tenders=[Tender("cash", price)],
                             cash_receipt=cr.Ask("010-2345-6789"))
        uow.commit()
    client.sync_now(a)
    with b.unit_of_work() as uow:
        in_shift(uow)
        uow.commit()
    found = returns.look_up(b, sold.receipt_no)
    returns.give_back(b, kind="void", sale_id=found.others[0].id)
    client.sync_now(b)
    reasons = server.admin(lambda c: [r for r, in c.execute(select(t.alerts.c.reason))])
    said = [r for r in reasons if "cash receipts of a sale given back at another till" in r]
    assert len(said) == 1 and sold.receipt_no in said[0]
    assert f"{sold.cash_receipts[0].enterprise_name} {price}" in said[0]
