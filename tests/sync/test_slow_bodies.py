"""Bodies that come slowly: a client that trickles its upload is cut off (408) and holds nothing
that others need; a till has one push at a time (429 `push_in_progress`), and the till takes
both answers as "later", never as a refusal of what it sent."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import closing

import httpx
import pytest

from sync import client
from tests.sync.conftest import RunningServer, database, setup_stall

SECONDS, IDLE = 4.0, 1.5  # the body limits of the server under test (the real ones: 60 s, 15 s)


@pytest.fixture(params=["sqlite", "postgresql"])
def strict(request, tmp_path):
    """A real server whose bodies must arrive within SECONDS, with no pause over IDLE."""
    with database(request.param, tmp_path) as url:
        srv = RunningServer(url, body_seconds=SECONDS, body_idle=IDLE)
        yield srv
        srv.stop()


def enroll_raw(server: RunningServer, code: str, device_code: str) -> str:
    r = httpx.post(f"{server.url}/api/v1/enroll",
                   json={"code": code, "device_code": device_code, "device_name": device_code})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def new_code(server: RunningServer, stall_id: str) -> str:
    from sync.server import service

    return server.admin(lambda conn: service.device_code(conn, stall_id=stall_id))


class Trickle:
    """A push whose headers promise `length` bytes and whose body then comes `step` bytes every
    `every` seconds, on a raw socket; `answer()` is what the server said, once it has."""

    def __init__(self, server: RunningServer, token: str | None, *, path="/api/v1/push",
                 length=4000, step=1, every=0.5, pause_after: int | None = None):
        self.sock = socket.create_connection(("127.0.0.1", server.port))
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                           f"Content-Type: application/json\r\nContent-Length: {length}\r\n"
                           "\r\n").encode())
        self.started = time.monotonic()
        self.received = b""
        self.answered_at: float | None = None
        self._stop = threading.Event()
        self.sender = threading.Thread(target=self._send, args=(length, step, every, pause_after),
                                       daemon=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.sender.start()
        self.reader.start()

    def _send(self, length, step, every, pause_after):
        sent = 0
        body = b'{"events": [' + b" " * length
        while sent < length and not self._stop.is_set():
            if pause_after is not None and sent >= pause_after:
                self._stop.wait(3600)  # goes quiet, connection open
                return
            try:
                self.sock.sendall(body[sent:sent + step])
            except OSError:
                return
            sent += step
            self._stop.wait(every)

    def _read(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.received += chunk
                if self.answered_at is None and b"\r\n\r\n" in self.received:
                    head, _, rest = self.received.partition(b"\r\n\r\n")
                    length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                       if line.lower().startswith(b"content-length")), b"0"))
                    if len(rest) >= length:
                        self.answered_at = time.monotonic()
        except OSError:
            pass

    def answered(self) -> bool:
        return self.answered_at is not None

    def answer(self, wait: float = 30.0) -> tuple[int, dict, dict]:
        deadline = time.monotonic() + wait
        while not self.answered() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.answered(), f"no answer after {wait} s: {self.received[:200]!r}"
        head, _, body = self.received.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, \
            json.loads(body)

    def close(self):
        self._stop.set()
        with closing(self.sock):
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def trickles():
    made: list[Trickle] = []
    yield made
    for t in made:
        t.close()


def test_a_trickling_push_is_cut_off_by_the_whole_body_deadline(strict, trickles):
    _event, stall, code = setup_stall(strict)
    token = enroll_raw(strict, code, "T01")
    slow = Trickle(strict, token, every=0.3)  # never pauses IDLE, but never finishes either
    trickles.append(slow)
    status, headers, body = slow.answer()
    assert status == 408 and body["code"] == "body_too_slow", body
    assert "too slowly" in body["detail"] and "nothing was kept" in body["detail"]
    assert slow.answered_at - slow.started >= SECONDS - 0.5  # not before the deadline
    # and the device may push again at once: its first push no longer counts as in progress
    r = httpx.post(f"{strict.url}/api/v1/push", headers={"Authorization": f"Bearer {token}"},
                   json={"events": []})
    assert r.status_code == 422 and r.json()["code"] == "batch", r.text  # read, not "in progress"


def test_a_body_that_goes_quiet_is_cut_off_on_every_route(strict, trickles):
    _event, stall, code = setup_stall(strict)
    token = enroll_raw(strict, code, "T01")
    quiet_push = Trickle(strict, token, step=200, every=0.01, pause_after=200)
    quiet_enroll = Trickle(strict, None, path="/api/v1/enroll", step=20, every=0.01,
                           pause_after=20)
    trickles += [quiet_push, quiet_enroll]
    for t in (quiet_push, quiet_enroll):
        status, _headers, body = t.answer()
        assert status == 408 and body["code"] == "body_too_slow", body
        # cut off at the pause, well before the whole-body deadline
        assert t.answered_at - t.started < SECONDS


def test_one_push_at_a_time_per_till_and_slow_tills_hold_no_slot(strict, trickles, store):
    from pos.demo import run_demo
    from sync.server.app import PUSH_SLOTS

    _event, stall, code = setup_stall(strict)
    tokens = [enroll_raw(strict, new_code(strict, stall) if k else code, f"T{k:02d}")
              for k in range(PUSH_SLOTS + 2)]
    # more slow pushes than there are slots to apply pushes, each from its own till
    slow = [Trickle(strict, tok, every=0.5) for tok in tokens]
    trickles += slow
    time.sleep(0.5)
    # the same till again while its push is still coming in: told to wait, with how long
    r = httpx.post(f"{strict.url}/api/v1/push", headers={"Authorization": f"Bearer {tokens[0]}"},
                   json={"events": []})
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "push_in_progress" and int(r.headers["Retry-After"]) >= 1
    # a till with real sales pushes them all while every slow push is still unanswered
    run_demo(store, sales=30, seed=4)
    client.enroll(store, url=strict.url, code=new_code(strict, stall))
    sent = client.push_all(store)
    assert sent == client.sync_state(store).last_seq > 30
    assert not any(t.answered() for t in slow), "a slow push was answered before the others"
    for t in slow:
        assert t.answer()[0] == 408


def test_the_till_takes_a_busy_answer_as_later_and_keeps_everything(strict, trickles, store):
    from pos.demo import run_demo

    _event, stall, code = setup_stall(strict)
    run_demo(store, sales=5, seed=2)
    client.enroll(store, url=strict.url, code=code)
    # this till's own token has a push coming in slowly (say, an earlier connection of it)
    hold = Trickle(strict, client.load_token(store), every=0.3)
    trickles.append(hold)
    time.sleep(0.3)
    with pytest.raises(client.SyncError) as e:
        client.push_all(store)
    assert e.value.code == "sync_busy" and e.value.params["seconds"] >= 1
    state = client.sync_state(store)
    assert state.blocked is None and state.acked_seq == 0 and state.waiting == state.last_seq
    worker = client.SyncWorker(store, interval=0.1)
    assert worker.step() >= e.value.params["seconds"]  # rests as long as the server asked
    hold.close()  # the slow connection goes away: the till's next round goes through
    deadline = time.monotonic() + 20
    while True:
        try:
            client.push_all(store)
            break
        except client.SyncError as again:
            assert again.code == "sync_busy" and time.monotonic() < deadline
            time.sleep(0.2)
    assert client.sync_state(store).waiting == 0


def test_the_status_bar_says_busy_and_revoked_not_offline(qtbot, store):
    from ui.app import application
    from ui.sync_service import SyncService

    application()
    service = SyncService(store, interval=3600)
    try:
        service.state = client.SyncState(configured=True, waiting=7, acked_seq=3, last_seq=10,
                                          error="sync_busy",
                                          error_params={"seconds": 5, "detail": "x"})
        assert service.status_text() == "동기화: 서버 혼잡, 대기 7건"
        assert "5초" in service.error_text()
        service.state = client.SyncState(configured=True, waiting=7, acked_seq=3, last_seq=10,
                                          error="sync_revoked", error_params={"detail": "x"})
        assert service.status_text() == "동기화: 주최측이 등록 취소, 보관 7건"
        assert "새 등록 코드" in service.error_text()
    finally:
        service.stop()
