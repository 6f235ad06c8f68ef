"""The organizer's console in a real browser (Debian's chromium driven by Playwright) against a
real server on PostgreSQL: people added with the server's command line sign in, create an
event and a stall; a till enrolls and pushes and the event's page shows its sales; a viewer
cannot change anything, an enterprise login sees only its own figures, a second organization
sees nothing of the first; forms without their token and guessed passwords are refused.
Screenshots of each page at 1366×768 and on a phone-size window go to test-artifacts."""

from __future__ import annotations

import re
import shutil
from contextlib import closing
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.sync.conftest import RunningServer, database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "장터-비밀번호-2026"
ORG, OTHER_ORG = "서울시 사회적경제지원센터", "성동구 사회적경제지원센터"


def jangteo_server(db: str, *args: str, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", db, "--lang", "en",
                           *args], input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A server on a PostgreSQL database of its own, with two organizations and their people,
    added by the command line."""
    folder = tmp_path_factory.mktemp("console")
    with database("postgresql", folder) as url:
        srv = RunningServer(url)
        try:
            for org in (ORG, OTHER_ORG):
                assert jangteo_server(url, "org", "add", org).returncode == 0
            for email, org, role, extra in (
                    ("admin@center.kr", ORG, "admin", ()),
                    ("viewer@center.kr", ORG, "viewer", ()),
                    ("coffee@daon.kr", ORG, "enterprise", ("--enterprise", "다온커피협동조합")),
                    ("admin@seongdong.kr", OTHER_ORG, "admin", ())):
                added = jangteo_server(url, "user", "add", email, "--org", org, "--role", role,
                                       *extra, "--password-stdin", stdin=PASSWORD + "\n")
                assert added.returncode == 0, added.stderr
            yield srv
        finally:
            srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed (.ci/run installs it): apt-get install chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def new_page(browser, *, phone: bool = False, lang: str = "ko-KR"):
    size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 768}
    context = browser.new_context(viewport=size, locale=lang, is_mobile=phone,
                                  device_scale_factor=2 if phone else 1)
    return context.new_page()


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"console-{name}.png"
    page.evaluate("document.fonts.ready")  # Hangul from the server's font, on a bare machine
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, url: str, email: str, password: str = PASSWORD):
    page.goto(f"{url}/console/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_an_organizer_signs_in_sets_up_an_event_and_sees_a_tills_sales(console, browser,
                                                                        tmp_path):
    from pos.demo import OWN_TERMINAL, run_demo
    from pos.store import Store
    from sync import client
    from sync.server import service

    page = new_page(browser)
    page.goto(f"{console.url}/console/events")
    assert "/console/sign-in" in page.url  # signed out: to the sign-in page
    assert page.locator("h1").inner_text() == "로그인"
    shoot(page, "sign-in-1366")
    # this machine has no Korean font of its own: the page's Hangul is the server's
    assert page.evaluate("[...document.fonts].some(f => f.status === 'loaded')")
    sign_in(page, console.url, "admin@center.kr", "wrong password!")
    assert "이메일 또는 비밀번호가 맞지 않습니다" in page.inner_text("[role=alert]")
    sign_in(page, console.url, "ADMIN@center.kr ")  # as typed: case and spaces aside
    assert page.url.endswith("/console/events")
    assert "아직 행사가 없습니다" in page.inner_text("main")
    page.fill("input[name=name]", "2026 가을 사회적경제 장터")
    page.click("text=행사 만들기")
    assert page.locator("h1").inner_text() == "2026 가을 사회적경제 장터"
    event_id = page.url.rstrip("/").split("/")[-1]
    page.fill("input[name=name]", "서울역 공동매대")
    page.click("text=매대 만들기")
    assert "서울역 공동매대" in page.inner_text("main")
    page.fill("input[name=name]", "서울역 공동매대")  # the same name again: said, not a 500
    page.click("text=매대 만들기")
    assert "이미 있습니다" in page.inner_text("[role=alert]")

    # the enterprises, with their numbers checked and their commission
    page.fill("#enterprises ~ .card input[name=name]", "꿈드림공예협동조합")
    page.fill("input[name=bizno]", "101-81-01234")
    page.fill("input[name=commission]", "12.5")
    page.click("text=업체 추가")
    assert "올바른 사업자등록번호가 아닙니다" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=commission]") == "12.5"  # what was typed stays
    from pos import bizno

    page.fill("input[name=bizno]", bizno.with_check_digit("101810123"))
    page.click("text=업체 추가")
    assert "12.5 %" in page.locator("#enterprises ~ .table-wrap tr", has_text="꿈드림공예협동조합").inner_text()

    # the stall's page makes an enrollment code, as text and QR, shown once
    page.click("text=서울역 공동매대")
    page.fill("input[name=till]", "a9")  # typed small: taken as A9
    page.click("text=코드 만들기")
    code = page.inner_text("#new-code .big").strip()
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", code)
    assert page.locator("#new-code svg").count() == 1 and "A9" in page.inner_text("#new-code")
    shoot(page, "stall-code-1366")
    stall_url = page.url.split("/codes")[0]
    page.goto(stall_url)
    assert code not in page.content()  # never shown again
    assert "쓰지 않은 코드 하나" in page.inner_text("main")

    # a till enrolls with that code and pushes a market day
    with Store(tmp_path / "till") as till:
        client.enroll(till, url=console.url, code=code)
        run_demo(till, sales=60, seed=4)
        client.sync_now(till)
        with till.unit_of_work(write=False) as uow:
            from pos import services as svc

            sold = {e.name: e.net for e in svc.day_settlement(
                uow, day=svc.list_documents(uow)[0]["business_day"]).enterprises}
    page.goto(f"{console.url}/console/events/{event_id}")
    text = page.inner_text("main")
    totals = console.admin(lambda c: service.totals(c, event_id=event_id))
    assert totals["net"] == sum(sold.values()) > 0
    for name, net in sold.items():
        row = page.locator("table").first.locator("tr", has_text=name).inner_text()
        assert f"{net:,}" in row, (name, row)
    assert "A9" in text  # the till, under its stall
    shoot(page, "event-1366")
    page.fill("form[action$='/stalls'] input[name=name]", "아주 긴 이름의 공동매대 " * 12)
    page.click("text=매대 만들기")
    phone = new_page(browser, phone=True)
    sign_in(phone, console.url, "admin@center.kr")
    phone.goto(f"{console.url}/console/events/{event_id}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing wider than the phone: tables scroll in their box
    tills = phone.locator("td.list").last.bounding_box()
    assert tills["width"] >= 100  # a long stall name wraps; the tills' column keeps its room
    shoot(phone, "event-phone")

    # the live board: the till's last push, bars, and it refreshes by itself
    console.app.state.board_seconds = 0.5
    page.click("text=실시간 현황 보기")
    assert "방금" in page.locator("tr", has_text="A9").inner_text()  # it has just pushed
    assert page.locator(".bar-row").count() >= len(sold) + 2
    before = page.inner_text("#board .figures .big")
    with Store(tmp_path / "till") as till:
        with till.unit_of_work() as uow:
            from pos.domain import Tender
            from tests.conftest import in_shift

            in_shift(uow)
            product = svc.list_products(uow)[0]
            svc.record_sale(uow, items=[svc.SaleItem(product["id"])],
                            tenders=[Tender("cash", product["price"])])
            uow.commit()
        client.sync_now(till)
    after = f"{totals['net'] + product['price']:,}원"
    import time

    deadline = time.monotonic() + 10  # no reload: the page fetches its board itself
    while page.inner_text("#board .figures .big") != after and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert page.inner_text("#board .figures .big") == after
    assert before != after
    shoot(page, "board-1366")
    phone_board = new_page(browser, phone=True)
    sign_in(phone_board, console.url, "admin@center.kr")
    phone_board.goto(page.url)
    assert phone_board.evaluate("document.documentElement.scrollWidth") <= 391
    shoot(phone_board, "board-phone")

    # a push the server refuses is an alert: on the board, resolved on the alerts page
    with Store(tmp_path / "till") as till:
        token = client.load_token(till)
        with till.unit_of_work(write=False) as uow:
            next_seq = client.sync_state(till).acked_seq + 1
    for n in range(2):
        bad = httpx.post(f"{console.url}/api/v1/push", headers={
            "Authorization": f"Bearer {token}"}, json={"protocol": 1, "events": [{
                "event_id": f"00000000-0000-4000-8000-00000000000{n}", "seq": next_seq,
                "type": "sale.recorded", "hlc": f"1796194548047-0000{n}-A9",
                "created_at": "2026-12-08T10:00:00+09:00", "document": {"id": "x"}}]})
        assert bad.status_code == 422
    alerts = console.admin(lambda c: service.alerts(c, event_id=event_id))
    assert len(alerts) >= 1 and all(a["resolved_at"] is None for a in alerts)
    page.goto(f"{console.url}/console/events/{event_id}/board")
    assert page.inner_text("#board .figures .card:nth-child(3) .big") == str(len(alerts))
    page.click("text=알림 모두 보기")
    first = alerts[0]["id"]
    page.click(f"#alert-{first} button")
    assert "open=1" in page.url and page.locator(f"#alert-{first}").count() == 0  # gone
    page.click("text=모든 알림")
    assert "확인 완료 (admin@center.kr" in page.inner_text(f"#alert-{first}")
    shoot(page, "alerts-1366")
    api_token = console.admin(lambda c: service.organizer_token(c, name="센터"))
    listed = httpx.get(f"{console.url}/api/v1/events/{event_id}/alerts",
                       headers={"Authorization": f"Bearer {api_token}"}).json()
    assert listed[0]["resolved_by"] == "admin@center.kr" and listed[0]["resolved_at"]
    again = httpx.post(f"{console.url}/api/v1/events/{event_id}/alerts/{first}/resolve",
                       headers={"Authorization": f"Bearer {api_token}"})
    assert again.status_code == 200 and again.json()["resolved_by"] == "admin@center.kr"
    nowhere = httpx.post(f"{console.url}/api/v1/events/{event_id}/alerts/999999/resolve",
                         headers={"Authorization": f"Bearer {api_token}"})
    assert nowhere.status_code == 404
    cli = jangteo_server(console.db_url, "alerts", event_id)
    assert cli.returncode == 0 and "resolved" in cli.stdout.splitlines()[0]
    page.goto(f"{console.url}/console/events/{event_id}/board")
    assert page.inner_text("#board .figures .card:nth-child(3) .big") == str(len(alerts) - 1)

    # the till is revoked from its stall's page: it can send nothing more
    page.goto(stall_url)
    page.click("button:has-text(\"차단\")")
    assert "차단됨" in page.inner_text("main")
    page.goto(f"{console.url}/console/events/{event_id}")
    assert "A9 (차단됨)" in page.inner_text("main")
    with Store(tmp_path / "till") as till:
        with pytest.raises(client.SyncError) as refused:
            client.sync_now(till)
    assert refused.value.code == "sync_revoked"

    # an enterprise login: only its own enterprise's row, no stalls, no forms
    mine = new_page(browser)
    sign_in(mine, console.url, "coffee@daon.kr")
    mine.goto(f"{console.url}/console/events/{event_id}")
    rows = mine.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1 and OWN_TERMINAL in rows[0] and f"{sold[OWN_TERMINAL]:,}" in rows[0]
    assert mine.locator("form[action$='/stalls']").count() == 0
    assert "A9" not in mine.inner_text("main")
    assert "꿈드림공예협동조합" not in mine.inner_text("main") or OWN_TERMINAL == "꿈드림공예협동조합"
    mine.goto(stall_url)
    assert "그런 매대가 없습니다" in mine.inner_text("main")
    shoot(mine, "event-enterprise-1366")
    mine.goto(f"{console.url}/console/events")  # the list too: its own net, not the event's
    assert f"{sold[OWN_TERMINAL]:,}" in mine.inner_text("tbody")
    assert f"{totals['net']:,}" not in mine.inner_text("main")

    # a second organization sees nothing of the first
    other = new_page(browser, lang="en-US")
    sign_in(other, console.url, "admin@seongdong.kr")
    assert "No events yet" in other.inner_text("main")  # and in English for an English browser
    other.goto(f"{console.url}/console/events/{event_id}")
    assert "No such event" in other.inner_text("main")
    shoot(other, "events-other-org-1366")


def _form_token(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, name
    return found.group(1)


def _signed_in(url: str, email: str) -> tuple[httpx.Client, str]:
    http = httpx.Client(base_url=url, follow_redirects=False)
    page = http.get("/console/sign-in")
    token = _form_token(page.text, "form_token")
    done = http.post("/console/sign-in", data={"email": email, "password": PASSWORD,
                                               "form_token": token, "next": "/console/events"})
    assert done.status_code == 303, done.text
    events = http.get("/console/events")
    return http, _form_token(events.text, "csrf")


def test_a_viewer_changes_nothing_and_a_form_needs_its_token(console):
    http, csrf = _signed_in(console.url, "viewer@center.kr")
    with closing(http):
        page = http.get("/console/events")
        assert page.status_code == 200 and "행사 만들기" not in page.text  # no form to fill
        tried = http.post("/console/events", data={"name": "몰래 만든 행사", "csrf": csrf})
        assert tried.status_code == 403 and "조회만" in tried.text
    admin, csrf = _signed_in(console.url, "admin@center.kr")
    with closing(admin):
        forged = admin.post("/console/events", data={"name": "위조된 행사"})  # no token
        assert forged.status_code == 403 and "만료" in forged.text
        wrong = admin.post("/console/events", data={"name": "위조된 행사", "csrf": "x" * 5000})
        assert wrong.status_code == 403
        huge = admin.post("/console/events", content=b"name=" + b"x" * 100_000 + b"&csrf=" +
                          csrf.encode(), headers={"content-type":
                                                  "application/x-www-form-urlencoded"})
        assert huge.status_code == 413  # an oversized form is said so
        for name in ("", " \n ", "x" * 201):
            bad = admin.post("/console/events", data={"name": name, "csrf": csrf})
            assert bad.status_code == 422 and "1~200자" in bad.text
        for name in ("a\x00b", "bell\x07\x1b[31m", "abc\u202etxt.exe", "\u200b", "\u3164"):
            bad = admin.post("/console/events", data={"name": name, "csrf": csrf})
            assert bad.status_code == 422 and "제어 문자" in bad.text, repr(name)
        made = admin.post("/console/events", data={"name": "<script>alert(1)</script> 장터",
                                                  "csrf": csrf})
        assert made.status_code == 303
        listed = admin.get("/console/events").text
        assert "<script>alert" not in listed and "&lt;script&gt;" in listed  # shown as text
        huge = admin.post("/console/events", content=b"csrf=" + csrf.encode() + b"&name=x" +
                          b"&a=1" * 60, headers={"content-type":
                                                 "application/x-www-form-urlencoded"})
        assert huge.status_code == 413 and "너무 큽니다" in huge.text
        wrong_method = admin.delete("/console/events")
        assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["allow"]
        assert admin.head("/console/events").status_code == 200
        gone = admin.post("/console/sign-out", data={"csrf": csrf})
        assert gone.status_code == 303
        assert admin.get("/console/events").status_code == 303  # signed out for good
    assert httpx.get(f"{console.url}/console/nowhere").status_code == 404
    assert httpx.get(f"{console.url}/api/v1/events").status_code == 401  # the API as it was


def test_guessing_passwords_is_stopped_and_a_reset_ends_the_sessions(console):
    http = httpx.Client(base_url=console.url)
    with http:
        token = _form_token(http.get("/console/sign-in").text, "form_token")
        answers = [http.post("/console/sign-in", data={
            "email": "viewer@center.kr", "password": f"guess number {n}", "form_token": token})
            for n in range(12)]
        codes = [a.status_code for a in answers]
        first = codes.index(429)  # 10 wrong tries for one e-mail
        assert first == 10 and set(codes[:first]) == {401} and set(codes[first:]) == {429}
        assert int(answers[first].headers["retry-after"]) > 0
        # the right password waits too: the limit is checked before the password
        late = http.post("/console/sign-in", data={"email": "viewer@center.kr",
                                                   "password": PASSWORD, "form_token": token})
        assert late.status_code == 429 and "다시 해 주세요" in late.text
    admin, _csrf = _signed_in(console.url, "admin@seongdong.kr")
    with closing(admin):
        assert admin.get("/console/events").status_code == 200
        reset = jangteo_server(console.db_url, "user", "password", "admin@seongdong.kr",
                               "--password-stdin", stdin="새-비밀번호-2026-12\n")
        assert reset.returncode == 0, reset.stderr
        assert admin.get("/console/events").status_code == 303  # its session ended
    binary = subprocess.run(
        [sys.executable, "-m", "sync.server.cli", "--db", console.db_url, "--lang", "en",
         "user", "password", "admin@seongdong.kr", "--password-stdin"],
        input=b"\xff\xfe\xfdabcdefghijk\n", capture_output=True, timeout=120, cwd=ROOT)
    assert binary.returncode == 1 and b"UTF-8" in binary.stderr
    assert b"Traceback" not in binary.stderr
    short = jangteo_server(console.db_url, "user", "password", "admin@seongdong.kr",
                           "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "10 to 256 characters" in short.stderr
    none = jangteo_server(console.db_url, "user", "add", "x@y.kr", "--org", ORG)
    assert none.returncode == 2 and "--password-stdin" in none.stderr  # no terminal to ask on
    for args, said in ((("user", "add", "not-an-email", "--org", ORG), "not an e-mail"),
                       (("user", "add", "new@center.kr", "--org", "없는 기관"), "no organization"),
                       (("user", "add", "admin@center.kr", "--org", ORG), "already has"),
                       (("user", "add", "e@center.kr", "--org", ORG, "--role", "enterprise"),
                        "names its enterprise"),
                       (("org", "add", ORG), "already an organization"),
                       (("org", "add", "\x1b]0;pwned\x07Evil"), "control"),
                       (("user", "add", "\u202eevil@center.kr", "--org", ORG), "not an e-mail"),
                       (("user", "add", "e2@center.kr", "--org", ORG, "--role", "enterprise",
                         "--enterprise", "\x1b[31mX"), "control")):
        bad = jangteo_server(console.db_url, *args, "--password-stdin", stdin=PASSWORD + "\n") \
            if args[0] == "user" else jangteo_server(console.db_url, *args)
        assert bad.returncode == 1 and said in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.stderr


def test_event_names_are_an_organizations_own(console):
    """Two organizations may each hold a market of one name; neither learns of the other's."""
    added = jangteo_server(console.db_url, "user", "add", "staff@seongdong.kr", "--org",
                           OTHER_ORG, "--role", "staff", "--password-stdin",
                           stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    a, csrf_a = _signed_in(console.url, "admin@center.kr")
    b, csrf_b = _signed_in(console.url, "staff@seongdong.kr")
    with closing(a), closing(b):
        assert a.post("/console/events", data={"name": "연말 장터", "csrf": csrf_a}
                      ).status_code == 303
        assert b.post("/console/events", data={"name": "연말 장터", "csrf": csrf_b}
                      ).status_code == 303
        again = b.post("/console/events", data={"name": "연말 장터", "csrf": csrf_b})
        assert again.status_code == 422 and "이미 있습니다" in again.text  # its own, again
    ambiguous = jangteo_server(console.db_url, "totals", "연말 장터")
    assert ambiguous.returncode == 1 and "give the event's id" in ambiguous.stderr
