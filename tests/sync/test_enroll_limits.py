"""Enrollment against a real server on SQLite and PostgreSQL: names that are keys are unique
(device codes: test_device_codes), wrong codes are limited, tills can be revoked and unused codes
cancelled."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from pos.i18n import error_text
from sync import client
from sync.client import SyncError
from sync.server import service, tables as t
from sync.server.limits import FailureLimit
from tests.sync.conftest import another_code, setup_stall
from tests.sync.test_server_bounds import _migrated_to, empty_db  # noqa: F401  (a fixture)


@pytest.fixture
def api(server):
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def _refusal(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["detail"], body
    return body


def test_enroll_event_and_stall_names_are_unique_where_they_are_keys(server, api):
    event = api.post("/api/v1/events", json={"name": "가을 장터"}).json()["id"]
    body = _refusal(api.post("/api/v1/events", json={"name": " 가을 장터 "}), 409, "conflict")
    assert "already an event named" in body["detail"]
    assert api.post(f"/api/v1/events/{event}/stalls", json={"name": "A동"}).status_code == 201
    _refusal(api.post("/api/v1/events/가을 장터/stalls", json={"name": "A동"}), 409, "conflict")
    # another event may have a stall of that name; then the name alone says no stall
    other = api.post("/api/v1/events", json={"name": "봄 장터"}).json()["id"]
    theirs = api.post(f"/api/v1/events/{other}/stalls", json={"name": "A동"}).json()["id"]
    body = _refusal(api.post("/api/v1/stalls/A동/device-codes", json={}), 409, "ambiguous")
    assert "id" in body["detail"]
    made = api.post(f"/api/v1/stalls/{theirs}/device-codes", json={})
    assert made.status_code == 201, made.text
    enrolled = httpx.post(f"{server.url}/api/v1/enroll",
                          json={"code": made.json()["code"], "device_code": "A01"}).json()
    assert enrolled["stall_id"] == theirs and enrolled["event_name"] == "봄 장터"
    # the database refuses them too, whatever skips the check
    with pytest.raises(Exception):
        server.admin(lambda c: c.execute(t.events.insert().values(
            id="x", name="봄 장터", created_at="2026-01-01T00:00:00+00:00")))


def test_enroll_wrong_codes_are_limited_per_address_with_retry_after(server):
    _event, _stall, code = setup_stall(server)
    with httpx.Client(base_url=server.url) as http:
        for k in range(10):
            _refusal(http.post("/api/v1/enroll", json={"code": f"WRONG-{k:04d}",
                                                       "device_code": "A01"}),
                     403, "code_unusable")
        r = http.post("/api/v1/enroll", json={"code": "WRONG-0011", "device_code": "A01"})
        body = _refusal(r, 429, "too_many_attempts")
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert "this address" in body["detail"]
        # even the right code waits: the limit is heard before the code is looked at
        _refusal(http.post("/api/v1/enroll", json={"code": code, "device_code": "A01"}),
                 429, "too_many_attempts")
        server.app.state.enroll_failures = FailureLimit()  # the minute has passed
        assert http.post("/api/v1/enroll", json={"code": code, "device_code": "A01"}
                         ).status_code == 200


def test_enroll_wrong_codes_are_limited_in_all(server):
    server.app.state.enroll_failures = FailureLimit(per_client=1000, overall=5)
    with httpx.Client(base_url=server.url) as http:
        for k in range(5):
            assert http.post("/api/v1/enroll", json={"code": f"WRONG-{k:04d}",
                                                     "device_code": "A01"}).status_code == 403
        body = _refusal(http.post("/api/v1/enroll", json={"code": "WRONG-9999",
                                                          "device_code": "A01"}),
                        429, "too_many_attempts")
        assert "in all" in body["detail"]


def test_enroll_failure_limit_slides_and_counts_each_address():
    now = [0.0]
    limit = FailureLimit(per_client=2, overall=3, window=60, clock=lambda: now[0])
    limit.failed("10.0.0.1")
    limit.failed("10.0.0.1")
    assert limit.wait("10.0.0.1") == (60.0, "from this address")
    assert limit.wait("10.0.0.2") is None
    limit.failed("10.0.0.2")
    assert limit.wait("10.0.0.3")[1] == "in all"
    now[0] = 30
    assert limit.wait("10.0.0.1")[0] == 30
    now[0] = 60.5
    assert limit.wait("10.0.0.1") is None and limit.wait("10.0.0.3") is None


def test_enroll_a_revoked_till_is_told_so(server, api, till):
    event, stall, code = setup_stall(server)
    info = client.enroll(till, url=server.url, code=code)
    client.push_all(till)
    device_code = till.device["code"]
    gone = api.post(f"/api/v1/stalls/{stall}/devices/{device_code}/revoke")
    assert gone.status_code == 200, gone.text
    assert gone.json()["id"] == info["device_id"] and gone.json()["revoked_at"]
    token = client.load_token(till)
    for path in ("/api/v1/status", "/api/v1/catalog"):
        r = httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"})
        assert "revoked" in _refusal(r, 401, "device_revoked")["detail"]
    r = httpx.post(f"{server.url}/api/v1/push", json={"protocol": 1, "events": []},
                   headers={"Authorization": f"Bearer {token}"})
    _refusal(r, 401, "device_revoked")
    with pytest.raises(SyncError) as refused:
        client.sync_now(till)
    assert refused.value.code == "sync_revoked"  # told so, in the till's own words
    assert "revoked" in str(refused.value.params.get("detail"))
    assert "새 등록 코드" in error_text(refused.value, "ko")
    # revoking again changes nothing; by id too; the listing shows it; what it sent stays
    again = api.post(f"/api/v1/stalls/{stall}/devices/{info['device_id']}/revoke")
    assert again.json()["revoked_at"] == gone.json()["revoked_at"]
    listed = api.get(f"/api/v1/events/{event}/stalls").json()[0]["devices"]
    assert listed[0]["revoked_at"] == gone.json()["revoked_at"]
    assert api.get(f"/api/v1/events/{event}/totals").json()["net"] != 0
    _refusal(api.post(f"/api/v1/stalls/{stall}/devices/{device_code}/revoke"), 404, "not_found")


def test_enroll_an_unused_code_can_be_cancelled(server, api):
    _event, stall, code = setup_stall(server)
    assert api.post("/api/v1/device-codes/cancel", json={"code": code.lower()}).status_code == 200
    assert api.post("/api/v1/device-codes/cancel", json={"code": code}).status_code == 200
    body = _refusal(httpx.post(f"{server.url}/api/v1/enroll",
                               json={"code": code, "device_code": "A01"}), 403, "code_unusable")
    assert "cancelled" in body["detail"]
    used = another_code(server, stall)
    assert httpx.post(f"{server.url}/api/v1/enroll",
                      json={"code": used, "device_code": "A01"}).status_code == 200
    _refusal(api.post("/api/v1/device-codes/cancel", json={"code": used}), 409, "conflict")
    _refusal(api.post("/api/v1/device-codes/cancel", json={"code": "AAAA-BBBB-CCCC"}),
             404, "not_found")
    # a till's token has no right to it
    r = httpx.post(f"{server.url}/api/v1/device-codes/cancel", json={"code": used})
    _refusal(r, 401, "token_missing")


def test_enroll_cli_revokes_a_till_and_cancels_a_code(server, capsys):
    from sync.server.cli import main

    _event, stall, code = setup_stall(server, stall_name="B동")
    enrolled = httpx.post(f"{server.url}/api/v1/enroll",
                          json={"code": code, "device_code": "B01"}).json()
    unused = another_code(server, stall)
    db = ["--db", server.db_url, "--lang", "en"]
    assert main([*db, "device", "cancel-code", unused]) == 0
    assert main([*db, "device", "revoke", "B01", "--stall", "B동"]) == 0
    out = capsys.readouterr().out
    assert "cancelled" in out and enrolled["device_id"] in out and "revoked" in out
    r = httpx.get(f"{server.url}/api/v1/status",
                  headers={"Authorization": f"Bearer {enrolled['token']}"})
    _refusal(r, 401, "device_revoked")
    assert main([*db, "device", "revoke", "B01", "--stall", "B동"]) == 1  # no active B01
    assert main([*db, "device", "revoke", "B01"]) == 2  # which stall?


def test_enroll_migration_renames_names_taken_twice(empty_db):  # noqa: F811
    from sync.server.db import migrate

    engine = _migrated_to(empty_db, "s0006")
    at = "2026-11-0{}T09:00:00+09:00"
    with engine.begin() as c:
        for k, name in enumerate(["장터", "장터", "장터 (2)", "장터"]):
            c.execute(t.events.insert().values(id=f"E{k}", name=name, created_at=at.format(k + 1)))
        for k, (event, name) in enumerate([("E0", "A동"), ("E0", "A동"), ("E1", "A동")]):
            c.execute(t.stalls.insert().values(id=f"S{k}", event_id=event, name=name,
                                               created_at=at.format(k + 1)))
    migrate(engine)
    with engine.begin() as c:
        events = dict(c.execute(select(t.events.c.id, t.events.c.name)).all())
        stalls = dict(c.execute(select(t.stalls.c.id, t.stalls.c.name)).all())
        assert events == {"E0": "장터", "E1": "장터 (3)", "E2": "장터 (2)", "E3": "장터 (4)"}
        assert stalls == {"S0": "A동", "S1": "A동 (2)", "S2": "A동"}
        assert service.find_event(c, "장터")["id"] == "E0"
    engine.dispose()
