"""The organizer's JSON API: the same set-up as the `jangteo-server` commands, organizer token
only, and the codes it hands out enroll real tills."""

from __future__ import annotations

import httpx
import pytest

from pos import services as svc
from pos.bizno import with_check_digit
from sync import client
from sync.server import service


@pytest.fixture
def organizer(server):
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def test_an_organizer_sets_up_an_event_and_a_till_enrolls_with_its_code(server, organizer, till):
    event = organizer.post("/api/v1/events", json={"name": "2026 서울역 공동판매장"})
    assert event.status_code == 201
    event = event.json()
    assert organizer.get("/api/v1/events").json() == [event]
    stall = organizer.post(f"/api/v1/events/{event['id']}/stalls", json={"name": "A동 1번"})
    assert stall.status_code == 201 and stall.json()["event_id"] == event["id"]
    bizno = with_check_digit("123456789")
    firm = organizer.post(f"/api/v1/events/{event['name']}/enterprises",
                          json={"name": "행복한 빵집", "bizno": bizno.replace("-", "")})
    assert firm.status_code == 201 and firm.json()["bizno"] == bizno
    again = organizer.post(f"/api/v1/events/{event['id']}/enterprises", json={"name": "행복한 빵집"})
    assert again.status_code == 409 and "행복한 빵집" in again.json()["detail"]
    wrong = organizer.post(f"/api/v1/events/{event['id']}/enterprises",
                           json={"name": "다른 곳",
                                 "bizno": bizno[:-1] + str((int(bizno[-1]) + 1) % 10)})
    assert wrong.status_code == 422 and "business registration" in wrong.json()["detail"]
    code = organizer.post(f"/api/v1/stalls/{stall.json()['id']}/device-codes",
                          json={"valid_hours": 2})
    assert code.status_code == 201
    info = client.enroll(till, url=server.url, code=code.json()["code"])
    assert info["stall"] == "A동 1번" and info["event"] == "2026 서울역 공동판매장"
    client.sync_now(till)
    stalls = organizer.get(f"/api/v1/events/{event['id']}/stalls").json()
    assert [d["device_code"] for d in stalls[0]["devices"]] == [till.device["code"]]
    assert stalls[0]["devices"][0]["last_seq"] == client.sync_state(till).last_seq
    with till.unit_of_work(write=False) as uow:
        day = svc.list_documents(uow)[0]["business_day"]
        net = svc.day_settlement(uow, day=day).net
    assert organizer.get(f"/api/v1/events/{event['id']}/totals").json()["net"] == net
    assert organizer.get(f"/api/v1/events/{event['id']}/alerts").json() == []


def test_organizer_routes_refuse_devices_strangers_and_bad_input(server, organizer, till):
    event = organizer.post("/api/v1/events", json={"name": "장터"}).json()
    stall = organizer.post(f"/api/v1/events/{event['id']}/stalls", json={"name": "판매장"}).json()
    code = organizer.post(f"/api/v1/stalls/{stall['id']}/device-codes", json={}).json()["code"]
    client.enroll(till, url=server.url, code=code)
    device = {"Authorization": f"Bearer {client.load_token(till)}"}
    with httpx.Client(base_url=server.url) as http:
        for method, path, body in [
                ("GET", "/api/v1/events", None),
                ("POST", "/api/v1/events", {"name": "몰래"}),
                ("POST", f"/api/v1/events/{event['id']}/stalls", {"name": "몰래"}),
                ("POST", f"/api/v1/stalls/{stall['id']}/device-codes", {}),
                ("GET", f"/api/v1/events/{event['id']}/alerts", None)]:
            assert http.request(method, path, json=body).status_code == 401
            assert http.request(method, path, json=body, headers=device).status_code == 403
    assert organizer.post("/api/v1/events", json={"name": ""}).status_code == 422
    assert organizer.post("/api/v1/events", json={"name": "x", "extra": 1}).status_code == 422
    assert organizer.post("/api/v1/events/없는행사/stalls", json={"name": "x"}).status_code == 404
    assert organizer.post(f"/api/v1/stalls/{stall['id']}/device-codes",
                          json={"valid_hours": -1}).status_code == 422
    assert organizer.put(f"/api/v1/stalls/{stall['id']}/products", json={
        "id": "P1", "name": "잼", "price": 5000, "tax_class": "zero-rated",
        "enterprise": {"name": "행복한 빵집"}}).status_code == 422
    assert [e["name"] for e in organizer.get("/api/v1/events").json()] == ["장터"]


def test_the_organizer_sees_a_changed_event_as_an_alert(server, organizer, till):
    event = organizer.post("/api/v1/events", json={"name": "장터"}).json()
    stall = organizer.post(f"/api/v1/events/{event['id']}/stalls", json={"name": "판매장"}).json()
    code = organizer.post(f"/api/v1/stalls/{stall['id']}/device-codes", json={}).json()["code"]
    client.enroll(till, url=server.url, code=code)
    client.sync_now(till)
    with till.unit_of_work(write=False) as uow:
        events = client.pending_events(uow, after=0, limit=1)
    events[0]["hlc"] = "9999999999999-00000-A01"
    httpx.post(f"{server.url}/api/v1/push", json={"protocol": 1, "events": events},
               headers={"Authorization": f"Bearer {client.load_token(till)}"})
    alerts = organizer.get(f"/api/v1/events/{event['id']}/alerts").json()
    assert [(a["stall"], a["device_code"], a["seq"], a["reason"]) for a in alerts] == [
        ("판매장", till.device["code"], 1, "differs from the stored event")]


def test_the_server_refuses_plain_http_off_loopback(tmp_path):
    import subprocess
    import sys

    from sync.server.cli import _loopback
    from tests.conftest import ROOT

    def serve(lang):
        return subprocess.run([sys.executable, "-m", "sync.server.cli", "--lang", lang, "--db",
                               f"sqlite:///{tmp_path / 's.db'}", "serve", "--host", "0.0.0.0"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)

    out = serve("en")
    assert out.returncode == 2 and "Refusing plain HTTP on 0.0.0.0" in out.stderr
    assert "--tls-cert" in out.stderr and "--insecure-http" in out.stderr
    out = serve("ko")
    assert out.returncode == 2 and "0.0.0.0에서 평문 HTTP는 거부합니다" in out.stderr
    assert [_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "10.0.0.5", "0.0.0.0")] == [
        True, True, True, False, False]


def korean_server_cli(tmp_path):
    """`jangteo-server --db D ARGS…` on a Korean system, as a function of ARGS: its output,
    after checking it exited 0."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    db = f"sqlite:///{tmp_path / 's.db'}"
    env = {**os.environ, "LANG": "ko_KR.UTF-8"}
    env.pop("JANGTEO_LANG", None)

    def server(*args):
        out = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", db, *args],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
        return out.stdout

    return server


def test_the_organizers_command_line_speaks_korean_by_default_on_a_korean_system(tmp_path):
    server = korean_server_cli(tmp_path)
    assert "행사의 판매장" in server("--help") and "사용법:" in server("--help")
    server("event", "create", "--name", "가을 장터")
    server("stall", "create", "--event", "가을 장터", "--name", "A동")
    totals = server("totals", "가을 장터")
    assert totals.splitlines()[0] == "순매출 0원 · 업체 0곳"
    assert "판매장·기기별" in totals
    assert server("alerts", "가을 장터").strip() == "경고 없음"


def test_event_create_says_what_it_made_and_what_comes_next(tmp_path):
    """What the organizer did: `event create`, then the command it said to type next. A script
    has `--quiet` (the id alone) and `--json`."""
    import json
    import re
    import shlex
    import uuid

    db = f"sqlite:///{tmp_path / 's.db'}"
    server = korean_server_cli(tmp_path)
    said = server("event", "create", "--name", "가을 장터")
    assert said.startswith("행사 ‘가을 장터’을(를) 만들었습니다 (id ")
    made = re.search(r"\(id ([0-9a-f-]{36})\)", said).group(1)
    assert str(uuid.UUID(made)) == made
    listed = server("event", "list")
    assert f"{made}\t가을 장터" in listed
    commands = [line.strip() for line in said.splitlines() if "jangteo-server" in line]
    assert len(commands) == 2 and "stall create" in commands[0] and "device-code" in commands[1]
    # the commands said are the ones to type: same database, the event as a shell reads it
    for command in commands:
        words = shlex.split(command)
        assert words[:3] == ["jangteo-server", "--db", db]
        out = server(*words[3:])
        assert out.strip()  # the stall's id, then an enrollment code for it

    quiet = server("event", "create", "--name", "봄 장터", "--quiet").strip()
    assert str(uuid.UUID(quiet)) == quiet
    answer = json.loads(server("event", "create", "--name", "여름 장터", "--json"))
    assert answer["name"] == "여름 장터" and str(uuid.UUID(answer["id"])) == answer["id"]
    english = server("--lang", "en", "event", "create", "--name", "Winter fair")
    assert english.startswith("Created the event ‘Winter fair’ (id ")
    assert "Next, make a stall:" in english and "device-code" in english


def test_the_server_keeps_its_database_in_its_data_folder_not_where_it_was_started(tmp_path):
    """`jangteo-server serve` started from some folder, as an organizer would: the database is
    in the user's data folder, and the first line says where; JANGTEO_SERVER_DATA_DIR moves it
    and --db still wins."""
    import os
    import socket
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    home, started_in = tmp_path / "home", tmp_path / "somewhere"
    started_in.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "LANG": "ko_KR.UTF-8"}
    for var in ("JANGTEO_LANG", "JANGTEO_SERVER_DATA_DIR", "JANGTEO_SERVER_DB", "LC_ALL"):
        env.pop(var, None)
    expected = home / "data" / "Jangteo Server" / "jangteo-server.db"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "serve", "--port",
                             str(port)], cwd=started_in, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).json()["ok"]:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    said = (tmp_path / "server.log").read_text(encoding="utf-8").splitlines()
    assert said[0] == f"서버 데이터베이스: {expected}"
    assert expected.is_file() and list(started_in.iterdir()) == []

    def server(*args, **more):
        out = subprocess.run([sys.executable, "-m", "sync.server.cli", *args], cwd=started_in,
                             env={**env, **more}, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert f"SQLite 파일 {expected}" in server("--help", COLUMNS="400")  # unwrapped
    # the organizer's commands use the same database as the server they run beside
    made = server("event", "create", "--name", "가을 장터", "--quiet").strip()
    assert made in server("event", "list")
    own = tmp_path / "own"
    server("event", "create", "--name", "봄 장터", "--quiet", JANGTEO_SERVER_DATA_DIR=str(own))
    assert (own / "jangteo-server.db").is_file()
    given = tmp_path / "given.db"
    server("--db", f"sqlite:///{given}", "event", "create", "--name", "x", "--quiet",
           JANGTEO_SERVER_DATA_DIR=str(own))
    assert given.is_file() and "x" not in server("event", "list",
                                                 JANGTEO_SERVER_DATA_DIR=str(own)).split()
    assert list(started_in.iterdir()) == []


def test_what_the_server_said_it_made_is_committed_before_the_answer_leaves(server):
    """Watched at the moment the answer starts to go out, from another connection: the new
    event is already there. (When the commit came after the answer, a stall created at once on
    the new event was sometimes refused with "no event".)"""
    import asyncio

    from sqlalchemy import select

    from sync.server import tables as tables

    seen = []
    app = server.app
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))

    async def watching(scope, receive, send):
        async def watched_send(message):
            if message["type"] == "http.response.start" and message["status"] == 201:
                names = await asyncio.to_thread(server.admin, lambda c: list(
                    c.execute(select(tables.events.c.name)).scalars()))
                seen.append(names)
            await send(message)
        await app(scope, receive, watched_send)

    async def run():
        transport = httpx.ASGITransport(app=watching)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for k in range(5):
                answer = await http.post("/api/v1/events", json={"name": f"장터 {k}"},
                                         headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 201

    asyncio.run(run())
    assert len(seen) == 5 and all(f"장터 {k}" in names for k, names in enumerate(seen))


def test_two_organizers_adding_the_same_enterprise_at_once_get_a_409_not_a_500(server, organizer):
    import concurrent.futures

    event = organizer.post("/api/v1/events", json={"name": "장터"}).json()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: organizer.post(
            f"/api/v1/events/{event['id']}/enterprises", json={"name": "같은 이름"}).status_code,
            range(16)))
    assert sorted(set(answers)) in ([201, 409], [201]) and answers.count(201) == 1
