"""Cursors and answers that do not fit: a till whose catalog or settings cursor is past what the
server has (the server was restored from an older backup) still gets every later edit; a cursor
anywhere in its documented range is answered; and a push answer that cannot be one to the batch
sent is taken for garbage, with nothing marked. On SQLite and PostgreSQL, a real server."""

from __future__ import annotations

import httpx
import pytest

from sync import client, protocol as p
from tests.sync.test_server_bounds import api  # noqa: F401 - the fixture


def _product(pid: str, price: int) -> dict:
    return {"id": pid, "name": "딸기잼", "price": price, "tax_class": "taxable",
            "enterprise": {"name": "업체 E1"}}


def test_a_catalog_cursor_past_the_server_starts_again_from_the_beginning(api):
    assert api.org("PUT", f"/api/v1/stalls/{api.stall}/products",
                   json=_product("p1", 5000)).status_code == 200
    page = api.http.get("/api/v1/catalog", params={"after": 5}, headers=api.device).json()
    assert [x["id"] for x in page["products"]] == ["p1"] and page["next_after"] == 1
    # a cursor the server has: as before
    same = api.http.get("/api/v1/catalog", params={"after": 1}, headers=api.device).json()
    assert same["products"] == [] and same["next_after"] == 1


def test_a_settings_cursor_past_the_server_follows_the_server(api, store):
    settings = {"receipt_footer": "고맙습니다"}
    assert api.org("PUT", f"/api/v1/events/{api.event}/settings",
                   json=settings).status_code == 200
    ahead = api.http.get("/api/v1/settings", params={"after": 5}, headers=api.device).json()
    assert ahead["version"] == 1 and ahead["settings"]["receipt_footer"] == "고맙습니다"
    # the till, told it is at 5 (a server restored since), takes the next edit too
    with store.unit_of_work() as uow:
        client.svc.set_setting(uow, "sync", {**client.settings(uow), "settings_after": 5})
        uow.commit()
    assert client.pull_settings(store)
    for n in range(2, 5):
        assert api.org("PUT", f"/api/v1/events/{api.event}/settings",
                       json={"receipt_footer": f"고맙습니다 {n}"}).status_code == 200
        assert client.pull_settings(store)
    with store.unit_of_work(write=False) as uow:
        assert client.settings(uow)["settings_after"] == 4


@pytest.mark.parametrize("after", [2**31 - 1, 2**31, p.MAX_SEQ])
def test_every_alerts_cursor_in_range_is_answered(api, after):
    answer = api.org("GET", f"/api/v1/events/{api.event}/alerts", params={"after": after})
    assert answer.status_code == 200 and answer.json() == [], answer.text


class Lying(httpx.BaseTransport):
    """Answers every push with what the till is told here, and passes the rest on."""

    def __init__(self, answer: dict):
        self.inner, self.answer = httpx.HTTPTransport(), answer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/push"):
            request.read()
            return httpx.Response(200, json=self.answer, request=request)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("answer", [
    {"acked_seq": 99999, "applied": 99999, "already_there": 0},  # more than was sent
    {"acked_seq": 5, "applied": 0, "already_there": 400},
    {"acked_seq": 3, "applied": -1, "already_there": 0},
    {"acked_seq": 1, "applied": 1, "already_there": 0,
     "mismatches": [{"seq": 7777, "event_id": "x", "reason": p.DIFFERS}]},
])
def test_a_push_answer_that_cannot_be_for_the_batch_is_garbage(api, store, answer):
    from pos.demo import run_demo

    run_demo(store, sales=2, seed=1)
    before = client.sync_state(store)
    with pytest.raises(client.SyncError) as e:
        client.push_all(store, transport=Lying({"protocol": 1, "mismatches": [], **answer}))
    assert e.value.code == "sync_garbage"
    after = client.sync_state(store)
    assert (after.acked_seq, after.last_seq) == (before.acked_seq, before.last_seq) == (
        0, before.last_seq)
    # the real server then takes everything, numbered as it was
    client.push_all(store)
    assert client.sync_state(store).waiting == 0
