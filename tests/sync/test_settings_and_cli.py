"""The organizer's till settings reach the tills by version, and `jangteo sync` as a vendor
types it."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from pos import services as svc
from sync import client
from sync.server import service
from tests.conftest import ROOT
from tests.sync.conftest import setup_stall

METHODS = [
    {"code": "cash", "kind": "cash", "label_ko": "현금", "label_en": "Cash",
     "change_policy": "cash"},
    {"code": "card", "kind": "card", "label_ko": "카드", "label_en": "Card"},
    {"code": "onnuri", "kind": "voucher", "label_ko": "온누리상품권", "label_en": "Onnuri voucher",
     "change_policy": "cash_over_60"},
]


def test_the_organizers_settings_reach_the_till_once_per_change(server, till):
    event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    organizer = {"Authorization": f"Bearer {token}"}
    with till.unit_of_work() as uow:
        svc.set_setting(uow, "receipt_footer", "우리 가게 인사")
        uow.commit()
        local_codes = set(svc.payment_methods(uow))
    answer = httpx.put(f"{server.url}/api/v1/events/{event}/settings", headers=organizer,
                       json={"receipt_footer": "장터 설문: 영수증 QR", "payment_methods": METHODS})
    assert answer.json() == {"version": 1}
    client.sync_now(till)
    with till.unit_of_work(write=False) as uow:
        assert svc.get_setting(uow, "receipt_footer") == "장터 설문: 영수증 QR"
        methods = svc.payment_methods(uow)
    assert [c for c, m in methods.items() if m.active] == ["cash", "card", "onnuri"]
    assert methods["onnuri"].label_ko == "온누리상품권"
    # what the till had and the organizer left out stays, switched off (history keeps names)
    assert {c for c, m in methods.items() if not m.active} == local_codes - {m["code"] for m in METHODS}
    assert local_codes - {m["code"] for m in METHODS}  # the till had others
    with till.unit_of_work() as uow:  # the vendor's own edit after the pull is kept ...
        svc.set_setting(uow, "receipt_footer", "감사합니다")
        uow.commit()
    client.sync_now(till)
    with till.unit_of_work(write=False) as uow:
        assert svc.get_setting(uow, "receipt_footer") == "감사합니다"
    httpx.put(f"{server.url}/api/v1/events/{event}/settings", headers=organizer,
              json={"receipt_footer": "폐장 30분 전입니다"})
    client.sync_now(till)  # ... until the organizer changes the settings again
    with till.unit_of_work(write=False) as uow:
        assert svc.get_setting(uow, "receipt_footer") == "폐장 30분 전입니다"
        assert svc.payment_methods(uow)["onnuri"].active  # left out: the till keeps its own
        assert client.settings(uow)["settings_after"] == 2


def test_settings_without_a_cash_method_or_from_a_device_are_refused(server, till):
    event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    token = server.admin(lambda c: service.organizer_token(c, name="센터"))
    no_cash = [m for m in METHODS if m["kind"] != "cash"]
    r = httpx.put(f"{server.url}/api/v1/events/{event}/settings",
                  headers={"Authorization": f"Bearer {token}"}, json={"payment_methods": no_cash})
    assert r.status_code == 422 and "cash" in r.text
    r = httpx.put(f"{server.url}/api/v1/events/{event}/settings",
                  headers={"Authorization": f"Bearer {client.load_token(till)}"},
                  json={"receipt_footer": "몰래"})
    assert r.status_code == 403
    assert client.pull_settings(till) is False


def _jangteo(data, *args, lang="en"):
    return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(data), "--lang",
                           lang, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_sync_from_the_command_line(server, tmp_path):
    from pos.demo import run_demo
    from pos.store import Store

    data = tmp_path / "till"
    with Store(data) as store:
        run_demo(store, sales=20, seed=3)
    _event, _stall, code = setup_stall(server)
    out = _jangteo(data, "sync", "status")
    assert out.returncode == 0 and "Not enrolled" in out.stdout
    out = _jangteo(data, "sync", "enroll", server.url, code)
    assert out.returncode == 0 and "성수 공동판매장" in out.stdout, out.stderr
    out = _jangteo(data, "sync", "now")
    assert out.returncode == 0 and "0 to send" in out.stdout, out.stderr
    out = _jangteo(data, "sync", "status")
    with Store(data) as store:
        last = client.sync_state(store).last_seq
    assert out.returncode == 0, out.stderr
    # in a vendor's words, never "seq": what went, what is left, what the server holds
    assert f"sent {last:,} records / 0 to send ({last:,} records on this till in all)" \
        in out.stdout
    assert f"the server has everything up to record {last:,}" in out.stdout
    ko = _jangteo(data, "sync", "status", lang="ko")
    assert ko.returncode == 0, ko.stderr
    assert f"보낸 기록 {last:,}건 / 보낼 기록 0건" in ko.stdout
    assert f"서버는 {last:,}번 기록까지 모두 받았습니다" in ko.stdout
    assert "seq" not in out.stdout + ko.stdout
    out = _jangteo(data, "sync", "enroll", server.url, code)  # the code was used
    assert out.returncode != 0 and "refused" in (out.stdout + out.stderr).lower()


@pytest.mark.parametrize("url, code, expected", [
    ("http://127.0.0.1:9", "ABC", "등록 코드가 올바르지 않습니다"),
    ("http://127.0.0.1:9", "x" * 5000, "등록 코드가 올바르지 않습니다"),
    ("not a url", "4F2A-9C01-77BE", "서버 주소가 올바르지 않습니다"),
    ("ftp://example.org", "4F2A-9C01-77BE", "서버 주소가 올바르지 않습니다"),
    ("http://[::1", "4F2A-9C01-77BE", "닿지 않아 등록하지 못했습니다"),
    ("http://127.0.0.1:9", "4F2A-9C01-77BE", "닿지 않아 등록하지 못했습니다"),
])
def test_enrolling_with_a_wrong_code_or_address_says_so(tmp_path, url, code, expected):
    out = subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(tmp_path / "d"),
                          "--lang", "ko", "sync", "enroll", url, code], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and expected in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_a_refused_receipt_blocks_sync_there_and_says_so(server, tmp_path):
    """The server takes a batch whole or not at all: one receipt it refuses must not hold back
    the day before it, must not be called "offline", and must lose nothing."""
    from sqlalchemy import select

    from pos import tables as lt
    from pos.demo import run_demo
    from pos.store import Store

    data = tmp_path / "till"
    with Store(data) as store:
        run_demo(store, sales=30, seed=5)
    _event, _stall, code = setup_stall(server)
    assert _jangteo(data, "sync", "enroll", server.url, code).returncode == 0
    with Store(data) as store:
        with store.unit_of_work() as uow:
            docs = svc.list_documents(uow)
            bad = docs[len(docs) // 2]  # say, written by an older version of the till
            uow.conn.execute(lt.sale_lines.update().where(lt.sale_lines.c.sale_id == bad["id"])
                             .values(name="가" * 300))
            bad_seq = uow.conn.execute(select(lt.outbox.c.seq).where(
                lt.outbox.c.document_id == bad["id"])).scalar()
            uow.commit()
        last = client.sync_state(store).last_seq
    out = _jangteo(data, "sync", "now", lang="ko")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    said = out.stdout + out.stderr
    assert f"영수증 {bad['receipt_no']}에서 막혔습니다" in said, said
    # the server's reason said by the till, in Korean: not its English sentence
    assert "서버가 받지 않습니다 (기록의 내용이 서버의 규칙에 맞지 않음)" in said, said
    assert "200" not in said and "characters" not in said
    assert "연결" not in said  # not "offline"
    with Store(data) as store:
        state = client.sync_state(store)
        with store.unit_of_work(write=False) as uow:
            device = client.settings(uow)["device_id"]
    # what the server said in its words is kept for the log and the organizer
    assert state.blocked["code"] == "event" and "200" in state.blocked["reason"]
    assert state.acked_seq == bad_seq - 1  # everything before it went
    assert state.waiting == last - bad_seq + 1  # it and everything after it is kept
    held = server.admin(lambda c: [r[0] for r in c.execute(
        select(service.t.device_events.c.seq).where(
            service.t.device_events.c.device_id == device).order_by(
            service.t.device_events.c.seq))])
    assert held == list(range(1, bad_seq))
    out = _jangteo(data, "sync", "status")
    assert f"blocked at receipt {bad['receipt_no']}" in out.stdout, out.stdout
    with Store(data) as store:  # selling goes on meanwhile
        from tests.printing.conftest import sell

        sell(store)
        with store.unit_of_work() as uow:  # the till's side is mended
            uow.conn.execute(lt.sale_lines.update().where(lt.sale_lines.c.sale_id == bad["id"])
                             .values(name="고친 이름"))
            uow.commit()
    out = _jangteo(data, "sync", "now")
    assert out.returncode == 0 and "0 to send" in out.stdout, out.stderr
    with Store(data) as store:
        state = client.sync_state(store)
    assert state.blocked is None and state.acked_seq == state.last_seq > last
    assert "blocked" not in _jangteo(data, "sync", "status").stdout


def test_a_blocked_record_that_is_not_a_receipt_is_said_in_the_vendors_words():
    from pos.i18n import error_text

    blocked = {"seq": 1234, "receipt_no": None, "event_type": "shift.opened", "reason": "x"}
    ko = error_text(client.blocked_error(blocked), "ko")
    assert ko.startswith("동기화가 1,234번 기록(교대 시작)에서 막혔습니다")
    en = error_text(client.blocked_error(blocked), "en")
    assert en.startswith("Sync is blocked at record 1,234 (a shift's opening)")
    assert "seq" not in ko + en and "shift.opened" not in ko + en


class RefusingServer:
    """A server on 127.0.0.1 that refuses every request with the answer it is given (status,
    JSON body or text), as another version of the organizer's server, or a proxy, would."""

    def __init__(self, status: int, body):
        import json
        import threading
        import time

        import uvicorn

        from tests.sync.conftest import _free_port

        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        kind = b"text/plain" if isinstance(body, str) else b"application/json"

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            while (await receive()).get("more_body"):
                pass
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", kind)]})
            await send({"type": "http.response.body", "body": content})

        self.url = f"http://127.0.0.1:{_free_port()}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1",
                                                    port=int(self.url.rsplit(":", 1)[1]),
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


def test_the_servers_refusal_is_said_in_the_tills_language(server, tmp_path):
    """What the vendor saw: `jangteo sync enroll` refused, the sentence Korean with the
    server's English reason in the middle. A refusal the till knows is worded by the till; any
    other is said with its code; never the server's English."""
    data = tmp_path / "till"
    _event, _stall, code = setup_stall(server)
    assert _jangteo(data, "sync", "enroll", server.url, code).returncode == 0
    out = _jangteo(data, "sync", "enroll", server.url, code, lang="ko")  # the code was used
    said = out.stdout + out.stderr
    assert out.returncode != 0 and "Traceback" not in said
    assert ("서버가 이 기기를 거부했습니다: 모르는 등록 코드이거나, 이미 쓰였거나, 취소 또는 "
            "만료된 코드. 등록 코드를 다시 받아 주세요.") in said, said
    assert "enrollment code" not in said and "expired" not in said
    out = _jangteo(data, "sync", "enroll", server.url, code)
    assert "an enrollment code that is unknown, used, cancelled or expired" in out.stderr

    answers = [
        (409, {"code": "device_code_taken", "detail": "device code A01 is B's: name another"},
         "서버가 요청을 거절했습니다: 이 판매장의 다른 단말기가 이미 쓰는 단말 번호",
         "The server rejected the request: a till number another till of the stall already "
         "has"),
        (409, {"code": "stall_closed_tonight", "detail": "the stall is closed tonight"},
         "서버가 요청을 거절했습니다: 거절 코드 stall_closed_tonight",
         "The server rejected the request: refusal code stall_closed_tonight"),
        (400, "Bad Request from the proxy",
         "서버가 요청을 거절했습니다: 서버가 이유를 밝히지 않음, HTTP 400",
         "The server rejected the request: the server gave no reason, HTTP 400"),
    ]
    for status, body, korean, english in answers:
        refusing = RefusingServer(status, body)
        try:
            fresh = tmp_path / f"other-{status}-{len(str(body))}"
            out = _jangteo(fresh, "sync", "enroll", refusing.url, "ABCD-EFGH", lang="ko")
            assert out.returncode != 0 and "Traceback" not in out.stderr
            assert korean in out.stdout + out.stderr, out.stderr
            server_words = body["detail"] if isinstance(body, dict) else body
            assert server_words not in out.stdout + out.stderr
            out = _jangteo(fresh, "sync", "enroll", refusing.url, "ABCD-EFGH")
            assert english in out.stderr, out.stderr
        finally:
            refusing.stop()
