"""Staff and the audit log on the organizer's server: a till with staff accounts sells, a
manager approves a cashier's void, and the server has the people (never a PIN or its hash),
every audit entry once and in order with both names on the approval, and who recorded each
document; the organizer reads them on the API and the command line. An entry that breaks its
till's hash chain is kept with an alert, never dropped, never a 5xx. Real tills, a real
server on 127.0.0.1 (SQLite and PostgreSQL), the fault injector between them."""

from __future__ import annotations

import sqlite3
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text

from pos import audit, services as s
from pos.domain import Tender
from sync import client
from sync.server import service, tables as t
from sync.server.cli import main as server_cli
from tests.conftest import in_shift, manager_and_cashier
from tests.sync.conftest import Faults, setup_stall


def people(store):
    """A manager and a cashier, accounts on, the cashier signed in."""
    return manager_and_cashier(store)


def sell_and_void(store, stall):
    """The cashier sells a soap and voids it with the manager's approval."""
    boss, clerk = people(store)
    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        uow.commit()
    with store.unit_of_work() as uow:
        uow.approver = boss
        void = s.void_sale(uow, sale_id=sale.id, reason="잘못 찍음")
        uow.commit()
    return sale, void


def organizer(server) -> httpx.Client:
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def stored_entries(server, device_id: str) -> list[tuple[int, str]]:
    e = t.audit_entries.c
    return server.admin(lambda c: [(r.n, r.hash) for r in c.execute(
        select(e.n, e.hash).where(e.device_id == device_id).order_by(e.id))])


def everything_stored(server) -> str:
    """Every value of every table of the server's database, as text."""
    if server.db_url.startswith("sqlite"):
        with server.engine.connect() as conn:
            names = [n for n, in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table'"))]
            return "\n".join(str(row) for name in names
                             for row in conn.execute(text(f'SELECT * FROM "{name}"')))
    with server.engine.connect() as conn:
        names = [n for n, in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        return "\n".join(row for name in names
                         for row, in conn.execute(text(f'SELECT x::text FROM "{name}" x')))


def test_the_server_has_the_staff_the_audit_log_and_who_recorded_each_document(server, store,
                                                                              stall, capsys):
    sale, void = sell_and_void(store, stall)
    event, stall_id, code = setup_stall(server)
    info = client.enroll(store, url=server.url, code=code)
    client.sync_now(store)
    with store.unit_of_work(write=False) as uow:
        local = audit.entries(uow)
    with organizer(server) as api:
        people_ = api.get(f"/api/v1/stalls/{stall_id}/staff").json()
        entries = api.get(f"/api/v1/stalls/{stall_id}/audit").json()
        alerts = api.get(f"/api/v1/events/{event}/alerts").json()
    assert [(x["device_code"], x["name"], x["role"], x["active"]) for x in people_] == [
        (info["device_code"], "김매니저", "manager", True),
        (info["device_code"], "이계산", "cashier", True)]
    assert set(people_[0]) == {"device_code", "id", "name", "role", "enterprise_name", "active",
                               "updated_at"}
    # every entry, in the till's order, as it was logged, and chaining
    assert [(x["n"], x["action"], x["hash"], x["prev_hash"], x["staff_name"]) for x in entries] \
        == [(e.n, e.action, e.hash, e.prev_hash, e.staff_name) for e in local]
    assert all(x["problem"] is None for x in entries) and alerts == []
    approval, = [x for x in entries if x["action"] == "approval"]
    assert approval["details"] == {"right": "void", "staff": "이계산", "approver": "김매니저",
                                   "amount": 3000}
    assert approval["staff_name"] == "이계산" and approval["subject"] == sale.receipt_no
    voided, = [x for x in entries if x["action"] == "void"]
    assert voided["subject"] == void.receipt_no
    d = t.documents.c
    assert server.admin(lambda c: dict(c.execute(select(d.id, d.staff_name)).all())) == {
        str(sale.id): "이계산", str(void.id): "이계산"}
    # no PIN, hash or salt of the till anywhere in the server's database
    secrets_ = sqlite3.connect(store.path).execute(
        "SELECT pin_hash, pin_salt FROM staff").fetchall()
    assert len(secrets_) == 2
    dump = everything_stored(server)
    assert "이계산" in dump  # the search reads the tables
    for pin_hash, pin_salt in secrets_:
        assert pin_hash not in dump and pin_salt not in dump
    # the organizer's command line says the same
    db = ["--lang", "en", "--db", server.db_url]
    assert server_cli([*db, "staff", stall_id]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{info['device_code']}\t김매니저\tmanager\t-",
                   f"{info['device_code']}\t이계산\tcashier\t-"]
    assert server_cli([*db, "audit", stall_id, "--staff", "이계산"]) == 0
    out = capsys.readouterr().out
    assert "manager approval" in out and "approver=김매니저" in out and "staff=이계산" in out
    assert len(out.splitlines()) == len([e for e in local if e.staff_name == "이계산"])
    assert server_cli([*db, "audit", stall_id, "--from", "2026-11-22"]) == 0
    assert capsys.readouterr().out.strip() == "No audit entries match."
    assert server_cli(["--lang", "ko", "--db", server.db_url, "audit", stall_id]) == 0
    out = capsys.readouterr().out
    assert "매니저 승인" in out and "판매 취소" in out
    assert server_cli([*db, "audit", stall_id, "--from", "2026-13-01"]) == 1
    assert "is not a date" in capsys.readouterr().err


def test_the_organizer_filters_and_pages_the_audit_log(server, store, stall):
    sell_and_void(store, stall)
    _event, stall_id, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    client.sync_now(store)
    with store.unit_of_work(write=False) as uow:
        local = audit.entries(uow)
    path = f"/api/v1/stalls/{stall_id}/audit"
    with organizer(server) as api:
        def ns(**params):
            answer = api.get(path, params=params)
            assert answer.status_code == 200, answer.text
            return [x["n"] for x in answer.json()]

        everything = [e.n for e in local]
        assert ns(**{"from": "2026-11-21", "to": "2026-11-21"}) == everything
        assert ns(**{"from": "2026-11-22"}) == [] and ns(to="2026-11-20") == []
        assert ns(staff="김매니저") == [e.n for e in local if e.staff_name == "김매니저"]
        assert ns(staff="없는사람") == []
        pages, after = [], 0
        while True:
            page = api.get(path, params={"after": after, "limit": 2}).json()
            if not page:
                break
            assert len(page) <= 2
            pages += [x["n"] for x in page]
            after = page[-1]["id"]
        assert pages == everything


@pytest.mark.parametrize("faults", [["reset"], ["drop_response"], ["duplicate", "reset"]])
def test_a_push_cut_mid_way_and_sent_again_stores_each_entry_once(server, store, stall, faults):
    sell_and_void(store, stall)
    _event, _stall_id, code = setup_stall(server)
    info = client.enroll(store, url=server.url, code=code)
    transport = Faults()
    transport.plan = list(faults)
    for _ in range(len(faults) + 2):
        try:
            client.push_once(store, transport=transport, batch=4)
        except client.SyncError:
            pass
    client.sync_now(store, transport=transport)
    with store.unit_of_work(write=False) as uow:
        local = [(e.n, e.hash) for e in audit.entries(uow)]
    assert stored_entries(server, info["device_id"]) == local
    m = t.staff_members.c
    assert server.admin(lambda c: c.execute(select(func.count()).select_from(t.staff_members)
                                            .where(m.device_id == info["device_id"])).scalar()) == 2
    assert server.admin(lambda c: c.execute(select(func.count()).select_from(t.alerts))
                        .scalar()) == 0


def _event(seq: int, code: str, kind: str, payload: dict) -> dict:
    return {"event_id": str(uuid.uuid4()), "seq": seq, "type": kind,
            "hlc": f"{1795000000000 + seq:013d}-00000-{code}",
            "created_at": "2026-11-21T10:00:00+09:00", "payload": payload}


def _entry(n: int, prev: str, *, action: str = "void", subject: str = "", forged: bool = False,
           staff_name: str | None = "이계산", device_id: str = "till-1") -> dict:
    fields = dict(n=n, at=f"2026-11-21T10:{n:02d}:00+09:00", device_id=device_id,
                  staff_id="s-1" if staff_name else None, staff_name=staff_name,
                  action=action, subject=subject, details={"total": -3000})
    digest = audit.chain_hash(prev, **fields)
    if forged:  # the fields changed after the hash was made
        fields["details"] = {"total": -30}
    return {**fields, "prev_hash": prev, "hash": digest}


def test_a_broken_chain_is_stored_with_an_alert_and_the_newest_staff_change_wins(server,
                                                                                  store):
    event, stall_id, code = setup_stall(server)
    info = client.enroll(store, url=server.url, code=code)
    till = info["device_code"]
    mine = store.device["id"]
    first = _entry(1, audit.GENESIS, device_id=mine)
    forged = _entry(2, first["hash"], forged=True, subject="A01-20261121-0002", device_id=mine)
    unchained = _entry(3, audit.GENESIS, device_id=mine)  # its hash recomputes; follows nothing
    after_gap = _entry(5, unchained["hash"], device_id=mine)  # entry 4 never came
    again = _entry(2, first["hash"], subject="다시", device_id=mine)  # number 2 once more
    person = {"id": "s-1", "name": "이계산", "role": "cashier", "enterprise_name": None,
              "active": True, "updated_at": "2026-11-21T10:05:00+09:00"}
    # sent later, made earlier (09:30 KST), though its text sorts after the other's
    older = {**person, "name": "옛 이름", "updated_at": "2026-11-21T10:30:00+10:00"}
    events = [_event(k, till, kind, payload) for k, (kind, payload) in enumerate([
        ("audit.logged", first), ("audit.logged", forged), ("audit.logged", unchained),
        ("audit.logged", after_gap), ("audit.logged", again),
        ("staff.changed", person), ("staff.changed", older)], start=1)]
    device = {"Authorization": f"Bearer {client.load_token(store)}"}
    pushed = httpx.post(f"{server.url}/api/v1/push", json={"protocol": 1, "events": events},
                        headers=device)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["acked_seq"] == 7 and pushed.json()["applied"] == 7
    assert pushed.json()["mismatches"] == []  # taken: alerts are for the organizer
    with organizer(server) as api:
        entries = api.get(f"/api/v1/stalls/{stall_id}/audit").json()
        alerts = api.get(f"/api/v1/events/{event}/alerts").json()
        people_ = api.get(f"/api/v1/stalls/{stall_id}/staff").json()
    assert [(x["n"], x["hash"]) for x in entries] == [
        (1, first["hash"]), (2, forged["hash"]), (3, unchained["hash"]), (5, after_gap["hash"]),
        (2, again["hash"])]  # every entry is kept, a number sent twice too
    problems = {x["n"]: x["problem"] for x in entries[:4]}
    assert problems[1] is None
    assert problems[2].startswith("audit entry does not match its hash: entry 2")
    assert problems[3] == ("audit entry does not follow the till's entry before it: entry 3; "
                           "its prev_hash is not the hash of entry 2")
    assert problems[5] == ("audit entry does not follow the till's entry before it: entry 5; "
                           "the server has no entry 4 of this till")
    assert entries[1]["details"] == {"total": -30}  # kept as sent
    assert entries[4]["problem"] == ("audit entry number already received with another hash: "
                                     "entry 2 (both are kept)")
    assert [(a["seq"], a["reason"]) for a in alerts] == [
        (2, problems[2]), (3, problems[3]), (4, problems[5]), (5, entries[4]["problem"])]
    assert [(x["name"], x["updated_at"]) for x in people_] == [("이계산", person["updated_at"])]
    # the same batch sent again changes nothing and alerts nothing new
    again_pushed = httpx.post(f"{server.url}/api/v1/push",
                              json={"protocol": 1, "events": events}, headers=device)
    assert again_pushed.json()["already_there"] == 7
    assert stored_entries(server, info["device_id"]) == [(x["n"], x["hash"]) for x in entries]
    with organizer(server) as api:
        assert len(api.get(f"/api/v1/events/{event}/alerts").json()) == 4
    # a newer change of the person wins, an older one sent later does not
    newer = {**person, "active": False, "updated_at": "2026-11-21T11:00:00+09:00"}
    httpx.post(f"{server.url}/api/v1/push", headers=device, json={
        "protocol": 1, "events": [_event(8, till, "staff.changed", newer)]})
    with organizer(server) as api:
        assert [(x["name"], x["active"]) for x in
                api.get(f"/api/v1/stalls/{stall_id}/staff").json()] == [("이계산", False)]


def test_a_payload_with_a_pin_or_hash_is_refused_and_nothing_of_it_kept(server, store):
    _event_, stall_id, code = setup_stall(server)
    info = client.enroll(store, url=server.url, code=code)
    person = {"id": "s-1", "name": "이계산", "role": "cashier", "active": True,
              "updated_at": "2026-11-21T10:05:00+09:00", "pin_hash": "ab" * 32}
    answer = httpx.post(f"{server.url}/api/v1/push", json={
        "protocol": 1, "events": [_event(1, info["device_code"], "staff.changed", person)]},
        headers={"Authorization": f"Bearer {client.load_token(store)}"})
    assert answer.status_code == 422 and "pin_hash" in answer.json()["detail"]
    assert "ab" * 32 not in everything_stored(server)


HOSTILE = [2**63, -1, "x", "1" * 10_000, "\x00", "7\x00"]
NOT_A_DAY = HOSTILE + ["", "2026-13-45", "2026-02-30", "２０２６-11-21", "2026-11-21T10:00"]
NOT_A_NAME = ["", "1" * 10_000, "\x00", "7\x00", "a" * 41, "\u202e이계산", "이\n계산"]


def test_hostile_query_values_on_the_staff_and_audit_routes_are_refused_with_a_reason(
        server, store):
    _event_, stall_id, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    with organizer(server) as api:
        path = f"/api/v1/stalls/{stall_id}/audit"
        for name, values in (("after", HOSTILE), ("limit", HOSTILE + [0, 1001]),
                             ("from", NOT_A_DAY), ("to", NOT_A_DAY), ("staff", NOT_A_NAME)):
            for value in values:
                answer = api.get(path, params={name: value})
                assert 400 <= answer.status_code < 500, (name, repr(value)[:20], answer.text)
                assert answer.json()["detail"], (name, value)
        answer = api.get(path, params={"from": "2026-11-22", "to": "2026-11-21"})
        assert answer.status_code == 422 and "after" in answer.json()["detail"]
        assert api.get(path, params={"after": 2**53 - 1}).json() == []
        assert api.get(path, params={"staff": "x"}).json() == []
        for ref in ("x" * 10_000, "%00", "7%00", "없는 판매장", str(2**63)):
            for route in ("staff", "audit"):
                answer = api.get(f"/api/v1/stalls/{ref}/{route}")
                assert answer.status_code == 404, (route, repr(ref)[:20], answer.text)
    device = {"Authorization": f"Bearer {client.load_token(store)}"}
    for route in ("staff", "audit"):
        assert httpx.get(f"{server.url}/api/v1/stalls/{stall_id}/{route}").status_code == 401
        assert httpx.get(f"{server.url}/api/v1/stalls/{stall_id}/{route}",
                         headers=device).status_code == 403


def test_an_upgraded_server_fills_staff_and_audit_in_from_the_events_it_stored(server, store,
                                                                               stall):
    """A server that stored `staff.changed` and `audit.logged` only as events (before s0014)
    has them as rows once upgraded, as a push would have made them, the chain checked."""
    from alembic import command
    from alembic.config import Config

    from sync.server.db import MIGRATIONS, make_engine, migrate

    sell_and_void(store, stall)
    _event_, _stall_id, code = setup_stall(server)
    info = client.enroll(store, url=server.url, code=code)
    client.sync_now(store)
    till = info["device_code"]
    with store.unit_of_work(write=False) as uow:
        last = audit.entries(uow)[-1]
    forged = _entry(last.n + 1, last.hash, forged=True, device_id=store.device["id"])
    state = httpx.get(f"{server.url}/api/v1/status",
                      headers={"Authorization": f"Bearer {client.load_token(store)}"}).json()
    httpx.post(f"{server.url}/api/v1/push", json={"protocol": 1, "events": [
        _event(state["acked_seq"] + 1, till, "audit.logged", forged)]},
        headers={"Authorization": f"Bearer {client.load_token(store)}"}).raise_for_status()

    def rows():
        e, m, d = t.audit_entries.c, t.staff_members.c, t.documents.c
        return server.admin(lambda c: (
            [tuple(r)[1:] for r in c.execute(select(t.audit_entries).order_by(e.device_id, e.n))],
            [tuple(r) for r in c.execute(select(t.staff_members).order_by(m.staff_id))],
            sorted(c.execute(select(d.id, d.staff_name)).all())))

    pushed = rows()
    assert len(pushed[0]) == last.n + 1 and pushed[0][-1][-1].startswith(
        "audit entry does not match its hash") and len(pushed[1]) == 2
    engine = make_engine(server.db_url)
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "s0013")
        migrate(engine)
    finally:
        engine.dispose()
    assert rows() == pushed


def _signed(entry: dict, **changes) -> dict:
    """The entry with `changes`, its hash made again (a till that means it)."""
    fields = {k: v for k, v in {**entry, **changes}.items() if k not in ("prev_hash", "hash")}
    return {**fields, "prev_hash": entry["prev_hash"],
            "hash": audit.chain_hash(entry["prev_hash"], **fields)}


def test_secrets_and_unprintable_details_are_refused_and_odd_entries_kept_with_a_reason(
        server, store):
    """A stranger's attack: a PIN inside an entry's details had been stored and served, a line
    break in them forged lines in `jangteo-server audit`, a staff change dated in the year 9999
    froze the person, an entry sent again was said to differ, and one naming another till's
    device passed unremarked."""
    event, stall_id, code = setup_stall(server)
    info = client.enroll(store, url=server.url, code=code)
    till, mine = info["device_code"], store.device["id"]
    device = {"Authorization": f"Bearer {client.load_token(store)}"}
    first = _entry(1, audit.GENESIS, device_id=mine)

    def push(events):
        return httpx.post(f"{server.url}/api/v1/push", headers=device,
                          json={"protocol": 1, "events": events})

    for details in ({"pin": "1234"}, {"PIN_Hash": "ab" * 32}, {"x": {"salt": "cd"}},
                    {"reason": "ok\nA01  131  forged line"}, {"reason": "a\u202eb"},
                    {"a\nb": 1}, {"percent": 12.5}):
        answer = push([_event(1, till, "audit.logged", _signed(first, details=details))])
        assert answer.status_code == 422, (details, answer.text)
        assert answer.json()["detail"]
    assert "1234" not in everything_stored(server) and "ab" * 32 not in everything_stored(server)

    future = {"id": "s-1", "name": "이계산", "role": "cashier", "active": True,
              "updated_at": "9999-01-01T00:00:00+09:00"}
    blank = {**future, "id": "s-2", "name": "   ", "updated_at": "2026-11-21T10:00:00+09:00"}
    assert push([_event(1, till, "staff.changed", blank)]).status_code == 422
    other = _signed(_entry(2, first["hash"], device_id=mine), device_id="another-till")
    answer = push([_event(1, till, "audit.logged", first),
                   _event(2, till, "audit.logged", first),  # the same entry, a new event
                   _event(3, till, "audit.logged", other),
                   _event(4, till, "staff.changed", future)])
    assert answer.status_code == 200 and answer.json()["acked_seq"] == 4, answer.text
    later = {**future, "active": False, "updated_at": "2026-11-21T11:00:00+09:00"}
    assert push([_event(5, till, "staff.changed", later)]).status_code == 200
    with organizer(server) as api:
        entries = api.get(f"/api/v1/stalls/{stall_id}/audit").json()
        people_ = api.get(f"/api/v1/stalls/{stall_id}/staff").json()
        reasons = [a["reason"] for a in api.get(f"/api/v1/events/{event}/alerts").json()]
    assert [x["problem"] for x in entries] == [
        None, "audit entry received again as another event: entry 1",
        f"audit entry names another device: entry 2 names another-till, the till's earlier "
        f"entries {mine}"]
    assert any(r.startswith("staff change dated ahead of the server's clock") for r in reasons)
    # taken as made when it came (the server's now): a change the till dates before that does
    # not win over it, one dated after it will; never the year 9999
    from datetime import datetime, timezone

    kept = datetime.fromisoformat(people_[0]["updated_at"])
    assert abs((kept - datetime.now(timezone.utc)).total_seconds()) < 600
    assert people_[0]["active"] is True
