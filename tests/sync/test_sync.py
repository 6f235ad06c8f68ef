"""A till's day reaches the organizer's server exactly once, whatever the network does."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from pos import services as svc
from sync import client
from sync.client import SyncError
from sync.server import tables as t
from tests.sync.conftest import Faults, another_code, setup_stall
from tests.conftest import in_shift


def server_events(server, device_id: str) -> list[int]:
    return server.admin(lambda c: [r[0] for r in c.execute(
        select(t.device_events.c.seq).where(t.device_events.c.device_id == device_id)
        .order_by(t.device_events.c.seq))])


def organizer(server) -> str:
    from sync.server import service

    return server.admin(lambda c: service.organizer_token(c, name="센터"))


def local_totals(store) -> tuple[int, dict[str, int]]:
    with store.unit_of_work(write=False) as uow:
        day = svc.list_documents(uow)[0]["business_day"]
        f = svc.day_settlement(uow, day=day)
    return f.net, {e.name: e.net for e in f.enterprises}


def test_a_demo_day_reaches_the_server_and_the_totals_agree(server, till):
    event, stall, code = setup_stall(server)
    info = client.enroll(till, url=server.url, code=code)
    assert info["stall"] == "성수 공동판매장"
    sent = client.sync_now(till)
    state = client.sync_state(till)
    assert sent == state.last_seq and state.waiting == 0 and state.acked_seq == state.last_seq
    assert server_events(server, info["device_id"]) == list(range(1, state.last_seq + 1))
    token = organizer(server)
    with httpx.Client(base_url=server.url) as http:
        totals = http.get(f"/api/v1/events/{event}/totals",
                          headers={"Authorization": f"Bearer {token}"}).json()
    net, by_enterprise = local_totals(till)
    assert totals["net"] == net
    assert {r["enterprise"]: r["net"] for r in totals["by_enterprise"]} == by_enterprise
    assert totals["by_device"][0]["acked_seq"] == state.last_seq
    # replaying everything changes nothing: "already there" is success
    with till.unit_of_work() as uow:
        conf = client.settings(uow)
        svc.set_setting(uow, "sync", {**conf, "acked_seq": 0})
        uow.commit()
    assert client.sync_now(till) == state.last_seq
    assert server_events(server, info["device_id"]) == list(range(1, state.last_seq + 1))
    assert server.admin(lambda c: c.execute(select(func.sum(t.documents.c.total))).scalar()) == net


@pytest.mark.parametrize("faults", [["drop_response"], ["drop_request"], ["server_error"],
                                    ["garbage"], ["duplicate"], ["slow"], ["reset"],
                                    ["reorder"], ["reorder", "drop_response", "reorder"],
                                    ["drop_response", "duplicate", "server_error"]])
def test_faults_never_lose_or_double_an_event(server, till, faults):
    event, stall, code = setup_stall(server)
    info = client.enroll(till, url=server.url, code=code)
    transport = Faults()
    transport.plan = list(faults)
    errors = []
    for _ in range(len(faults) + 3):
        try:
            client.push_once(till, transport=transport, batch=50)
        except SyncError as e:
            errors.append(e.code)
            with till.unit_of_work(write=False) as uow:  # never ahead of the server
                acked = client.settings(uow)["acked_seq"]
            assert acked <= len(server_events(server, info["device_id"]))
    client.sync_now(till, transport=transport)
    state = client.sync_state(till)
    assert server_events(server, info["device_id"]) == list(range(1, state.last_seq + 1))
    assert state.waiting == 0
    expected = {"drop_response": "sync_offline", "drop_request": "sync_offline",
                "server_error": "sync_server_error", "garbage": "sync_garbage",
                "reset": "sync_offline", "reorder": "sync_offline"}
    assert sorted(errors) == sorted(expected[f] for f in faults if f in expected)
    net, _ = local_totals(till)
    assert server.admin(lambda c: c.execute(select(func.sum(t.documents.c.total))).scalar()) == net


def test_sales_made_while_offline_go_when_the_server_is_back(server, till):
    _event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    client.sync_now(till)
    with till.unit_of_work() as uow:
        p = svc.list_products(uow)[0]
        from pos.domain import Tender

        in_shift(uow)
        svc.record_sale(uow, items=[svc.SaleItem(p["id"])], tenders=[Tender("card", p["price"])])
        uow.commit()
    transport = Faults()
    transport.plan = ["drop_request"] * 3
    for _ in range(3):
        with pytest.raises(SyncError):
            client.push_once(till, transport=transport)
    assert client.sync_state(till).waiting == 1
    client.sync_now(till, transport=transport)
    assert client.sync_state(till).waiting == 0


def test_a_changed_event_is_flagged_not_dropped(server, till):
    _event, _stall, code = setup_stall(server)
    info = client.enroll(till, url=server.url, code=code)
    client.sync_now(till)
    with till.unit_of_work(write=False) as uow:
        events = client.pending_events(uow, after=0, limit=1)
    events[0]["hlc"] = "9999999999999-00000-A01"  # the same seq, different content
    token = client.load_token(till)
    with httpx.Client(base_url=server.url) as http:
        answer = http.post("/api/v1/push", json={"protocol": 1, "events": events},
                           headers={"Authorization": f"Bearer {token}"}).json()
    assert answer["mismatches"][0]["seq"] == 1 and answer["applied"] == 0
    alerts = server.admin(lambda c: c.execute(select(t.alerts)).mappings().all())
    assert alerts[0]["device_id"] == info["device_id"] and alerts[0]["seq"] == 1


def test_authentication_and_validation_refuse_and_store_nothing(server, till):
    event, stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    token = client.load_token(till)
    with till.unit_of_work(write=False) as uow:
        events = client.pending_events(uow, after=0, limit=60)  # catalog, then the first sales
    body = {"protocol": 1, "events": events}
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/v1/push", json=body).status_code == 401
        assert http.post("/api/v1/push", json=body,
                         headers={"Authorization": "Bearer dev_wrong"}).status_code == 401
        assert http.post("/api/v1/enroll", json={"code": code, "device_code": "B02"}
                         ).status_code == 403  # the code was used
        assert http.get(f"/api/v1/events/{event}/totals",
                        headers={"Authorization": f"Bearer {token}"}).status_code == 403
        bad = [dict(e) for e in events]
        k = next(i for i, e in enumerate(bad) if "document" in e)
        bad[k] = {**bad[k], "document": {**bad[k]["document"],
                                         "total": bad[k]["document"]["total"] + 1}}
        r = http.post("/api/v1/push", json={"protocol": 1, "events": bad},
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422 and "add up" in r.text
        r = http.post("/api/v1/push", json={**body, "surprise": 1},
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422
        gap = {"protocol": 1, "events": [events[0], events[2]]}
        assert http.post("/api/v1/push", json=gap,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 422
        huge = b"{" + b" " * (9 * 1024 * 1024) + b"}"
        r = http.post("/api/v1/push", content=huge, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert r.status_code == 413
        # another stall's till sees only its own device
        other_stall = server.admin(lambda c: __import__("sync.server.service", fromlist=["x"])
                                   .create_stall(c, event_id=event, name="다른 판매장"))
        other = http.post("/api/v1/enroll", json={"code": another_code(server, other_stall),
                                                  "device_code": "B01"}).json()
        status = http.get("/api/v1/status",
                          headers={"Authorization": f"Bearer {other['token']}"}).json()
        assert status["acked_seq"] == 0 and status["stall_name"] == "다른 판매장"
    assert server.admin(lambda c: c.execute(select(func.count()).select_from(t.device_events))
                        .scalar()) == 0


def test_the_token_file_is_private(till, server):
    import os
    import stat

    _event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    mode = os.stat(till.data_dir / client.TOKEN_FILE).st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_an_answer_slower_than_the_tills_patience_is_unknown_then_already_there(server, till):
    _event, _stall, code = setup_stall(server)
    info = client.enroll(till, url=server.url, code=code)
    transport = Faults(delay=0.5)
    transport.plan = ["slow"]
    with pytest.raises(SyncError) as e:
        client.push_once(till, transport=transport, batch=40, timeout=0.2)
    assert e.value.code == "sync_offline"
    assert client.sync_state(till).acked_seq == 0  # nothing marked on a time-out
    assert server_events(server, info["device_id"]) == list(range(1, 41))  # yet it committed
    client.push_once(till, transport=transport, batch=40)
    assert client.sync_state(till).acked_seq == 40
    assert server.admin(lambda c: c.execute(select(func.count()).select_from(t.alerts)).scalar()) == 0


class MemoryKeyring:
    """Stands in for the system's credential store (a true edge: the OS's keychain)."""

    priority = 1

    def __init__(self):
        self.saved = {}

    def set_password(self, service, account, password):
        self.saved[(service, account)] = password

    def get_password(self, service, account):
        return self.saved.get((service, account))


def test_the_token_goes_to_the_credential_store_where_there_is_one(till, server, monkeypatch):
    ring = MemoryKeyring()
    monkeypatch.setattr(client, "_keyring", lambda: ring)
    _event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    assert not (till.data_dir / client.TOKEN_FILE).exists()
    (token,) = ring.saved.values()
    assert token.startswith("dev_") and client.load_token(till) == token
    assert client.sync_now(till) == client.sync_state(till).last_seq  # it works from there


def test_without_a_credential_store_the_file_is_used(till, server):
    from keyring.backends import fail

    import keyring

    assert isinstance(keyring.get_keyring(), fail.Keyring)  # as on a bare laptop or in CI
    assert client._keyring() is None
    _event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    assert (till.data_dir / client.TOKEN_FILE).read_text() == client.load_token(till)
