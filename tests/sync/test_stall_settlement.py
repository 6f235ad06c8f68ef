"""The stall's settlement: made at one till for every till of the stall from what the server has
of the others and from its own store, by the same computation as a till's own; it says which
tills are in it up to when. Three real tills on a real server, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from pos import services as svc
from pos.settlement import settle
from pos.services.shifts import _enterprises, _load
from sync import client, returns, stall
from sync.client import SyncError
from tests.conftest import ROOT
from tests.sync.test_cross_till_returns import opened, receipt_of, stall_of_three
from tests.sync.test_stock import sell, tills  # noqa: F401 - the fixture


def by_name(figures) -> dict[str, tuple]:
    return {e.name: (e.sales, e.refunds, e.net, e.qty_sold, e.vat, e.commission,
                     tuple(sorted(e.by_method.items())))
            for e in figures.enterprises}


def reference(stores, day):
    """Every till's own documents of the day put together and settled once (enterprises by
    name: each till has its own ids for them)."""
    rows = [[], [], [], []]
    names = {}
    for store in stores:
        with store.unit_of_work(write=False) as uow:
            loaded = _load(uow, day=day)
            for info in _enterprises(uow).values():
                names.setdefault(info.name, info)
            ids = {info.id: info.name for info in _enterprises(uow).values()}
        from dataclasses import replace

        rows[0] += loaded[0]
        rows[1] += [replace(ln, enterprise_id=names[ids[ln.enterprise_id]].id)
                    for ln in loaded[1]]
        rows[2] += loaded[2]
        rows[3] += [replace(pt, enterprise_id=names[ids[pt.enterprise_id]].id)
                    for pt in loaded[3]]
    return settle(*rows, {i.id: i for i in names.values()})


def test_the_stalls_settlement_is_every_tills_and_says_how_far_each_is(server, tills,  # noqa: F811
                                                                       tmp_path):
    stall_id, a, b, c, pid = stall_of_three(server, tills)
    with a.unit_of_work(write=False) as uow:
        products = svc.list_products(uow)
    other = next(x for x in products if x["enterprise_id"] != products[0]["enterprise_id"])
    sold_a = sell(a, pid, 3)
    sell(a, other["id"], 1)
    sell(b, other["id"], 2)
    sold_c = sell(c, pid, 1)
    for till in (a, b, c):
        client.sync_now(till)
    # b gives back one of a's receipt; c sells again and does not sync
    opened(b)
    found = returns.look_up(b, receipt_of(a, sold_a).receipt_no)
    returns.give_back(b, kind="refund", sale_id=found.others[0].id, quantities={1: 1},
                      method="cash")
    client.sync_now(b)
    sell(c, other["id"], 5)
    day = receipt_of(a, sold_a).business_day
    made = stall.stall_settlement(a, day=day)
    # what the server had: a and b whole, c without its last sale
    with c.unit_of_work(write=False) as uow:
        unsent = svc.list_documents(uow, day_from=day, day_to=day)[-1]
    assert unsent["id"] != sold_c
    assert by_name(made.settlement) != by_name(reference([a, b, c], day))
    client.sync_now(c)
    made = stall.stall_settlement(a, day=day)
    expected = reference([a, b, c], day)
    assert by_name(made.settlement) == by_name(expected)
    assert made.settlement.net == expected.net == sum(
        svc.day_settlement(uow, day=day).net for uow in _uows(a, b, c))
    assert made.settlement.refund_count == 1 and made.settlement.receipt_count == 5
    # and every till makes the same one
    assert by_name(stall.stall_settlement(c, day=day).settlement) == by_name(expected)
    notes = made.till_notes("ko")
    assert [n.split(":")[0] for n in notes] == ["단말 A01 (이 단말)", "단말 A02", "단말 A03"]
    assert all("포함" in n for n in notes)
    # the command line writes it as a PDF whose text is the figures
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]}
    pdf = tmp_path / "stall.pdf"
    a.close()
    got = subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(tmp_path / "a"),
                          "--lang", "ko", "sync", "settlement", "--date", day, "--pdf",
                          str(pdf)], cwd=ROOT, capture_output=True, text=True, env=env,
                         timeout=120)
    assert got.returncode == 0, got.stderr
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "단말 A01, A02, A03 (매대 전체)" in text and "단말 A03" in text
    for e in expected.enterprises:
        assert f"{e.net:,}" in text


def _uows(*stores):
    for store in stores:
        with store.unit_of_work(write=False) as uow:
            yield uow


def test_no_server_no_stall_settlement(tills):  # noqa: F811
    a = tills("a")
    with pytest.raises(SyncError) as e:
        stall.stall_settlement(a, day="2026-11-21")
    assert e.value.code == "sync_not_enrolled"


def test_a_server_answering_garbage_or_a_stuck_cursor(server, tills):  # noqa: F811
    stall_id, a, b, c, pid = stall_of_three(server, tills)
    day = "2026-11-21"

    class Stuck(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, json={"protocol": 1, "day": day, "tills": [],
                                             "documents": [], "more": True,
                                             "last_device": "", "last_seq": 0})

    with pytest.raises(SyncError) as e:
        stall.stall_settlement(a, day=day, transport=Stuck())
    assert e.value.code == "sync_garbage"
    token = client.load_token(a)
    for bad in ("2026-13-01", "x" * 50, "2026-11-21\x00", ""):
        got = httpx.get(f"{server.url}/api/v1/stall/documents", params={"day": bad},
                        headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 422, (bad, got.text)
    for params in ({"after_seq": 2**63}, {"after_seq": -1}, {"limit": 0}, {"limit": 10**9},
                   {"after_device": "\x00"}, {"after_device": "x" * 37}):
        got = httpx.get(f"{server.url}/api/v1/stall/documents", params={"day": day, **params},
                        headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 422 and got.json()["code"] != "unstorable", params


def test_an_enterprise_only_another_till_has_comes_with_its_commission(server, tills,  # noqa: F811
                                                                       monkeypatch):
    stall_id, a, b, c, pid = stall_of_three(server, tills)
    with b.unit_of_work() as uow:
        eid = svc.add_enterprise(uow, name="B전용업체", commission_bp=1500)
        new = svc.add_product(uow, name="수제 잼", price=7000, enterprise_id=eid)
        uow.commit()
    sell(b, new, 2)
    client.sync_now(b)
    with b.unit_of_work(write=False) as uow:
        day = svc.list_documents(uow, kinds=("sale",))[-1]["business_day"]
        own = {e.name: e for e in svc.day_settlement(uow, day=day).enterprises}
    made = {e.name: e for e in stall.stall_settlement(a, day=day).settlement.enterprises}
    assert (made["B전용업체"].net, made["B전용업체"].commission) == (14000, 2100) == (
        own["B전용업체"].net, own["B전용업체"].commission)
    # a day longer than the pages it may take is refused, never cut short
    sell(b, pid, 1)
    client.sync_now(b)
    monkeypatch.setattr(stall, "PAGE", 1)
    monkeypatch.setattr(stall, "MAX_PAGES", 1)
    with pytest.raises(SyncError) as e:
        stall.stall_settlement(a, day=day)
    assert e.value.code == "sync_garbage"


def test_a_page_of_another_days_documents_is_garbage(server, tills):  # noqa: F811
    stall_id, a, b, c, pid = stall_of_three(server, tills)
    sold = sell(b, pid, 1)
    client.sync_now(b)
    real = httpx.HTTPTransport()

    class OtherDay(httpx.BaseTransport):
        def handle_request(self, request):
            response = real.handle_request(request)
            if request.url.path != "/api/v1/stall/documents":
                return response
            response.read()
            body = response.json()
            for item in body["documents"]:
                item["document"]["business_day"] = "2020-01-01"
            return httpx.Response(200, json=body)

    day = receipt_of(b, sold).business_day
    with pytest.raises(SyncError) as e:
        stall.stall_settlement(a, day=day, transport=OtherDay())
    assert e.value.code == "sync_garbage"
