"""Device codes come from the server, unique within the stall: real tills (separate data folders)
enroll against a real server on SQLite and PostgreSQL, take the code they are given and number
their receipts with it; a till enrolled again is known and keeps its code and its seq."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import pytest
from sqlalchemy import select

from pos import demo, services as svc
from pos.marks import read_marks
from pos.store import Store
from sync import client
from sync.server import service, tables as t
from tests.conftest import ROOT
from tests.sync.conftest import another_code, setup_stall
from tests.sync.test_lost_events import sell


@pytest.fixture
def tills(tmp_path, clock):
    """Three tills of one stall, each its own data folder with the demo catalog loaded."""
    opened = []

    def make(name: str) -> Store:
        store = Store(tmp_path / name, clock=clock)
        opened.append(store)
        demo.load_demo_catalog(store, seed=1)
        return store

    yield make
    for store in opened:
        store.close()


def _enroll_raw(server, code: str, device_code: str = "A01", **more) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/enroll",
                      json={"code": code, "device_code": device_code, **more})


def _devices(server, stall: str) -> dict[str, dict]:
    rows = server.admin(lambda c: c.execute(select(t.devices).where(
        t.devices.c.stall_id == stall)).mappings().all())
    return {r["device_code"]: dict(r) for r in rows}


def test_each_till_of_a_stall_gets_its_own_code_and_receipt_numbers(server, tills):
    _event, stall, code = setup_stall(server)
    first, second, third = tills("a"), tills("b"), tills("c")
    # all three start as A01, as a new till does
    assert {s.device["code"] for s in (first, second, third)} == {"A01"}
    given = [client.enroll(first, url=server.url, code=code)["device_code"],
             client.enroll(second, url=server.url, code=another_code(server, stall))["device_code"],
             client.enroll(third, url=server.url, code=another_code(server, stall))["device_code"]]
    assert given == ["A01", "A02", "A03"]
    assert [s.device["code"] for s in (first, second, third)] == given
    numbers = [sell(s, 2) for s in (first, second, third)]
    assert [n[0].split("-")[0] for n in numbers] == given
    flat = [n for ns in numbers for n in ns]
    assert len(set(flat)) == len(flat)  # unique across the stall
    for s in (first, second, third):
        client.sync_now(s)
    on_server = server.admin(lambda c: [r for r, in c.execute(select(t.documents.c.receipt_no))])
    assert sorted(on_server) == sorted(flat)
    assert set(_devices(server, stall)) == {"A01", "A02", "A03"}
    # the code is the till's from now on: a restart keeps it, and so do its marks
    path = second.data_dir
    second.close()
    again = Store(path)
    try:
        assert again.device["code"] == "A02"
        assert sell(again, 1)[0].startswith("A02-")
        assert {m.device_code for m in read_marks(path)} == {"A02"}
    finally:
        again.close()


def test_a_till_that_sold_before_enrolling_keeps_its_numbers_and_sends_them_all(server, tills):
    _event, stall, code = setup_stall(server)
    first, late = tills("a"), tills("b")
    client.enroll(first, url=server.url, code=code)
    before = sell(late, 3)  # sold offline as A01, before it was enrolled
    assert [n.split("-")[0] for n in before] == ["A01"] * 3
    info = client.enroll(late, url=server.url, code=another_code(server, stall))
    assert info["device_code"] == "A02"
    after = sell(late, 2)
    # the day's count goes on under the new code: no number of the day is given twice
    assert [n.rsplit("-", 1)[1] for n in before + after] == ["0001", "0002", "0003", "0004",
                                                             "0005"]
    assert all(n.startswith("A02-") for n in after)
    client.sync_now(late)
    state = client.sync_state(late)
    assert state.waiting == 0
    kept = server.admin(lambda c: [r for r, in c.execute(
        select(t.documents.c.receipt_no).where(t.documents.c.device_id == info["device_id"])
        .order_by(t.documents.c.seq))])
    assert kept == before + after  # the sales made before enrolling went too


def test_a_till_enrolled_again_is_known_and_keeps_its_code_and_seq(server, tills):
    _event, stall, code = setup_stall(server)
    first, second = tills("a"), tills("b")
    client.enroll(first, url=server.url, code=code)
    info = client.enroll(second, url=server.url, code=another_code(server, stall))
    sell(second, 4)
    client.sync_now(second)
    held = client.sync_state(second).acked_seq
    # its token lost: the organizer gives a new code, and the till is the same
    again = client.enroll(second, url=server.url, code=another_code(server, stall))
    assert again["device_id"] == info["device_id"] and again["device_code"] == "A02"
    assert client.sync_state(second).acked_seq == held
    sell(second, 1)
    client.sync_now(second)
    assert client.sync_state(second).waiting == 0
    alerts = server.admin(lambda c: c.execute(select(t.alerts)).all())
    assert alerts == []  # nothing was sent twice or seen as different
    # revoked, then enrolled again: back, with its code, and the old token is refused
    old = client.load_token(second)
    api = server.admin(lambda c: service.organizer_token(c, name="센터"))
    r = httpx.post(f"{server.url}/api/v1/stalls/{stall}/devices/A02/revoke",
                   headers={"Authorization": f"Bearer {api}"})
    assert r.status_code == 200, r.text
    back = client.enroll(second, url=server.url, code=another_code(server, stall))
    assert back["device_id"] == info["device_id"] and back["device_code"] == "A02"
    assert httpx.get(f"{server.url}/api/v1/status",
                     headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert _devices(server, stall)["A02"]["revoked_at"] is None
    assert len(_devices(server, stall)) == 2


def test_a_code_once_given_in_a_stall_goes_to_no_other_till(server):
    _event, stall, code = setup_stall(server)
    api = server.admin(lambda c: service.organizer_token(c, name="센터"))
    auth = {"Authorization": f"Bearer {api}"}

    def named(device_code) -> httpx.Response:
        return httpx.post(f"{server.url}/api/v1/stalls/{stall}/device-codes",
                          json={"device_code": device_code}, headers=auth)

    first = _enroll_raw(server, code, local_id="laptop-1")
    assert first.status_code == 200 and first.json()["device_code"] == "A01", first.text
    assert httpx.post(f"{server.url}/api/v1/stalls/{stall}/devices/A01/revoke",
                      headers=auth).status_code == 200
    # another laptop asking for A01: the revoked till's receipts have that code
    other = _enroll_raw(server, another_code(server, stall), local_id="laptop-2")
    assert other.json()["device_code"] == "A02", other.text
    # the organizer may name a code no till had; not the revoked till's, nor an active one's
    for taken in ("A01", "A02"):
        r = named(taken)
        assert r.status_code == 409 and r.json()["code"] == "device_code_taken", r.text
        assert taken in r.json()["detail"]
    made = named("B07")
    assert made.status_code == 201 and made.json()["device_code"] == "B07", made.text
    got = _enroll_raw(server, made.json()["code"], "Z9", local_id="laptop-3")
    assert got.json()["device_code"] == "B07", got.text
    # a named code that another till took meanwhile is refused when used, and stays unused
    later, sooner = named("C05").json()["code"], named("C05").json()["code"]
    assert _enroll_raw(server, sooner, local_id="laptop-4").json()["device_code"] == "C05"
    refused = _enroll_raw(server, later, local_id="laptop-5")
    assert refused.status_code == 409 and refused.json()["code"] == "device_code_taken"
    assert _enroll_raw(server, another_code(server, stall), local_id="laptop-5"
                       ).json()["device_code"] == "A03"
    # a till known again keeps its code, whatever it asks for; a blank id is no identity
    known = _enroll_raw(server, another_code(server, stall), "B01", local_id="laptop-2")
    assert known.json()["device_code"] == "A02"
    blank = [_enroll_raw(server, another_code(server, stall), local_id=" ").json()
             for _ in range(2)]
    assert blank[0]["device_id"] != blank[1]["device_id"]
    # the revoked A01 laptop comes back: A01 is still free (no active till has it), so it is
    # A01 again; had a new laptop taken its code, it would get another one
    back = _enroll_raw(server, another_code(server, stall), local_id="laptop-1")
    assert back.json()["device_code"] == "A01"
    assert back.json()["device_id"] == first.json()["device_id"]
    # bad wishes and names are 422, not a 500
    for bad in ("a01", "A", "A0000000", "A\n1", "", 7, None):
        r = _enroll_raw(server, another_code(server, stall), bad)
        assert r.status_code == 422, (bad, r.text)
        r = named(bad)
        assert r.status_code == (201 if bad is None else 422), (bad, r.text)
    for bad in ({"local_id": "x" * 65}, {"local_id": 5}, {"next_seq": 0}, {"next_seq": 2**63},
                {"next_seq": "1"}, {"next_seq": 1.5}):
        r = _enroll_raw(server, another_code(server, stall), **bad)
        assert r.status_code == 422, (bad, r.text)


def test_a_revoked_till_whose_code_went_to_another_comes_back_with_a_new_one(server):
    _event, stall, code = setup_stall(server)
    auth = {"Authorization": f"Bearer {server.admin(lambda c: service.organizer_token(c, name='센터'))}"}
    old = _enroll_raw(server, code, local_id="old-laptop").json()
    assert old["device_code"] == "A01"
    assert httpx.post(f"{server.url}/api/v1/stalls/{stall}/devices/A01/revoke",
                      headers=auth).status_code == 200
    # a server before this version gave a revoked till's code to the laptop replacing it:
    # made here by hand (the old till's code moved aside while the new one enrolls as A01)
    server.admin(lambda c: c.execute(t.devices.update().where(
        t.devices.c.id == old["device_id"]).values(device_code="Q01")))
    new = _enroll_raw(server, another_code(server, stall), local_id="new-laptop").json()
    assert new["device_code"] == "A01"
    server.admin(lambda c: c.execute(t.devices.update().where(
        t.devices.c.id == old["device_id"]).values(device_code="A01")))
    back = _enroll_raw(server, another_code(server, stall), local_id="old-laptop").json()
    assert back["device_id"] == old["device_id"] and back["device_code"] not in ("A01", "Q01")
    active = server.admin(lambda c: [r for r, in c.execute(select(t.devices.c.device_code).where(
        t.devices.c.stall_id == stall, t.devices.c.revoked_at.is_(None)))])
    assert len(active) == len(set(active)) == 2


def test_tills_enrolling_at_once_get_different_codes(server):
    _event, stall, _code = setup_stall(server)
    codes = [another_code(server, stall) for _ in range(8)]
    answers: list[httpx.Response] = []

    def go(k: int) -> None:
        answers.append(_enroll_raw(server, codes[k], local_id=f"laptop-{k}"))

    threads = [threading.Thread(target=go, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]
    got = sorted(r.json()["device_code"] for r in answers)
    assert got == [f"A0{k}" for k in range(1, 9)]


def test_a_till_enrolled_in_another_stall_sends_only_what_its_former_server_lacked(server, tills):
    _event, stall, code = setup_stall(server)
    moving = tills("a")
    client.enroll(moving, url=server.url, code=code)
    sell(moving, 3)
    client.sync_now(moving)
    held = client.sync_state(moving).acked_seq
    sell(moving, 2)  # sold after the last sync: not on the former server
    _event2, stall2, code2 = setup_stall(server, "망원 판매장")
    info = client.enroll(moving, url=server.url, code=code2)
    assert info["device_code"] == "A01"
    client.sync_now(moving)
    seqs = server.admin(lambda c: [s for s, in c.execute(
        select(t.device_events.c.seq).where(t.device_events.c.device_id == info["device_id"])
        .order_by(t.device_events.c.seq))])
    assert seqs and seqs[0] == held + 1 and seqs[-1] == client.sync_state(moving).last_seq


def test_the_organizer_names_a_till_code_from_the_command_line(server, tmp_path):
    _event, stall, _code = setup_stall(server)
    url = server.db_url
    out = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", url, "--lang", "en",
                          "device-code", "--stall", stall, "--till", "B02"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    made = out.stdout.strip()
    assert _enroll_raw(server, made).json()["device_code"] == "B02"
    again = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", url, "--lang", "en",
                            "device-code", "--stall", stall, "--till", "B02"],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert again.returncode != 0 and "B02" in again.stderr and "Traceback" not in again.stderr
    bad = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", url,
                          "device-code", "--stall", stall, "--till", "b-2"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_a_receipt_number_printed_before_enrolling_and_taken_is_alerted(server, tills):
    _event, stall, code = setup_stall(server)
    first, late = tills("a"), tills("b")
    client.enroll(first, url=server.url, code=code)
    sell(first, 2)
    client.sync_now(first)
    before = sell(late, 3)  # offline, as A01 too: two of these numbers are first's
    client.enroll(late, url=server.url, code=another_code(server, stall))
    client.sync_now(late)
    reasons = server.admin(lambda c: [r for r, in c.execute(select(t.alerts.c.reason))])
    said = [r for r in reasons if "another till's" in r]
    assert len(said) == 2 and before[0] in said[0], reasons
