"""Voids and refunds point to their sale, and the server checks it: same stall, never a second
void, never more of a line returned than was sold. A till's own sale comes first (order
guarantees it), so what it gets wrong is refused; a sale made on another till of the stall may
arrive later, so its return is taken, waits for it, and is alerted if it returns too much. A
refused push leaves an alert for the organizer. On SQLite and PostgreSQL, a real server."""

from __future__ import annotations


import httpx
import pytest

from sync import protocol as p
from sync.server import service, tables as t
from tests.sync.conftest import another_code, setup_stall
from tests.sync.test_server_bounds import Api, api, body, document, event, line, refused  # noqa: F401 - the fixture


def sale(*qtys: int) -> dict:
    return document([line(n, 1000, q) for n, q in enumerate(qtys, 1)])


def ret(of: dict, kind: str = "refund", **qtys: int) -> dict:
    """A void (every line) or a refund (`l1=2`: two of line 1) of sale `of`."""
    wanted = ({ln["line_no"]: ln["qty"] for ln in of["lines"]} if kind == "void"
              else {int(k[1:]): q for k, q in qtys.items()})
    lines = [line(i, 1000, -q, original_line_no=n) for i, (n, q) in enumerate(wanted.items(), 1)]
    return document(lines, kind=kind, original_id=of["id"])


class Till:
    """Another till, enrolled by HTTP in the stall (or in another stall)."""

    def __init__(self, api: Api, code: str, device_code: str):
        answer = api.http.post("/api/v1/enroll", json={"code": code, "device_code": device_code,
                                                       "device_name": device_code})
        assert answer.status_code == 200, answer.text
        self.api, self.seq, self.code = api, 0, answer.json()["device_code"]
        self.auth = {"Authorization": f"Bearer {answer.json()['token']}"}

    def push(self, *docs: dict) -> httpx.Response:
        events = []
        for doc in docs:
            self.seq += 1
            # numbered as this till numbers them (the server alerts a number another has)
            number = f"{self.code}-{doc['receipt_no'].split('-', 1)[1]}"
            events.append(event(self.seq, {**doc, "receipt_no": number}))
        answer = self.api.http.post("/api/v1/push", content=body(*events), headers={
            **self.auth, "Content-Type": "application/json"})
        if answer.status_code != 200:
            self.seq -= len(docs)
        return answer


@pytest.fixture
def tills(api):
    """Two tills of one stall, and a till of another stall of another event."""
    one = Till(api, another_code(api.server, api.stall), "B01")
    two = Till(api, another_code(api.server, api.stall), "B02")
    _event, _stall, code = setup_stall(api.server, "다른 매장")
    return one, two, Till(api, code, "C01")


def alerts(api) -> list[dict]:
    answer = api.org("GET", f"/api/v1/events/{api.event}/alerts")
    assert answer.status_code == 200, answer.text
    return answer.json()


def taken(answer: httpx.Response) -> dict:
    assert answer.status_code == 200, answer.text
    assert answer.json()["mismatches"] == []
    return answer.json()


def test_a_tills_own_returns_are_checked_against_its_sale(api, tills):
    one, _two, _other = tills
    s = sale(2, 1)
    taken(one.push(s, ret(s, l1=1)))
    taken(one.push(ret(s, l1=1, l2=1)))  # the rest: exactly what was sold
    problem = refused(one.push(ret(s, l1=1)))
    assert problem["code"] == "event" and problem["seq"] == 4 and "of 2 sold" in problem["detail"]
    assert problem["field"] == "document.lines.0.qty"
    problem = refused(one.push(ret(s, kind="void")))  # a void after the refunds
    assert problem["seq"] == 4
    s2 = sale(1)
    taken(one.push(s2, ret(s2, kind="void")))
    problem = refused(one.push(ret(s2, kind="void")))  # a double void
    assert "already voided" in problem["detail"] and problem["seq"] == 6
    # within one batch too: the second refund of the same line is refused with its seq
    s3 = sale(1)
    problem = refused(one.push(s3, ret(s3, l1=1), ret(s3, l1=1)))
    assert problem["seq"] == 8 and api.count(t.documents) == 5  # nothing of the batch kept
    # a line the sale does not have
    problem = refused(one.push(s3, ret(s3, l7=1)))
    assert problem["field"] == "document.lines.0.original_line_no"


def test_a_return_of_another_stalls_sale_is_refused(api, tills):
    one, _two, other = tills
    s = sale(1)
    taken(one.push(s))
    problem = refused(other.push(ret(s, l1=1)))
    assert "another stall" in problem["detail"] and problem["seq"] == 1
    assert problem["field"] == "document.original_id"
    # a return of a return is no return of a sale
    r = ret(s, l1=1)
    taken(one.push(r))
    problem = refused(one.push(ret({**r, "lines": s["lines"]}, l1=1)))
    assert "not a sale" in problem["detail"]


def test_an_unknown_sale_on_the_only_till_of_a_stall_is_refused(api, tills):
    _one, _two, other = tills  # alone in its stall: its sale would have come first
    problem = refused(other.push(ret(sale(1), l1=1)))
    assert "unknown" in problem["detail"] and problem["seq"] == 1


def test_another_tills_over_return_is_taken_and_alerted(api, tills):
    one, two, _other = tills
    s = sale(1)
    taken(one.push(s, ret(s, kind="void")))
    taken(two.push(ret(s, kind="void")))  # the sale was another till's: it could not know
    taken(two.push(ret(s, l1=1)))
    found = [a for a in alerts(api) if a["reason"].startswith(p.OVER_RETURNED)]
    assert [(a["device_code"], a["seq"]) for a in found] == [("B02", 1), ("B02", 2)]
    assert "already voided" in found[0]["reason"]
    assert api.count(t.documents) == 4


def test_a_return_waits_for_its_sale_from_another_till(api, tills):
    one, two, _other = tills
    s, fine = sale(2), sale(1)
    taken(two.push(ret(s, l1=1), ret(s, l1=2), ret(fine, l1=1)))
    waiting = [(a["device_code"], a["seq"]) for a in alerts(api) if a["reason"] == p.WAITING]
    assert waiting == [("B02", 1), ("B02", 2), ("B02", 3)]
    taken(one.push(s, fine))  # the sales arrive: 1 + 2 of 2 sold is one too many
    now = alerts(api)
    assert [(a["device_code"], a["seq"]) for a in now if a["reason"] == p.WAITING] == []
    over = [a for a in now if a["reason"].startswith(p.OVER_RETURNED)]
    assert [(a["device_code"], a["seq"]) for a in over] == [("B02", 2)], now
    assert "of 2 sold" in over[0]["reason"]
    waits = api.server.admin(lambda c: c.execute(
        t.documents.select().where(t.documents.c.waiting.is_(True))).all())
    assert waits == []
    # and the cli shows them
    from sync.server import cli
    assert cli  # imported: the command lists the same rows (service.alerts)
    listed = api.server.admin(lambda c: service.alerts(c, event_id=api.event))
    assert [a["reason"] for a in listed] == [a["reason"] for a in now]


def test_a_sale_that_never_comes_stays_waiting(api, tills):
    _one, two, _other = tills
    taken(two.push(ret(sale(1), l1=1)))
    taken(two.push(sale(1)))  # another sale arriving changes nothing
    assert [a["reason"] for a in alerts(api)] == [p.WAITING]


def test_a_refused_push_is_an_alert_with_the_device_and_reason_once(api, tills):
    one, _two, _other = tills
    s = sale(1)
    taken(one.push(s, ret(s, kind="void")))
    def post(content: bytes) -> httpx.Response:
        return api.http.post("/api/v1/push", content=content,
                             headers={**one.auth, "Content-Type": "application/json"})

    again = body(event(3, ret(s, kind="void")))
    for _ in range(3):  # the till tries again with back-off: one alert, counted
        refused(post(again))
    bad = body(event(3, {**sale(1), "total": 1}))
    for _ in range(2):
        refused(post(bad))
    refused(post(b"not json"))
    found = [a for a in alerts(api) if a["reason"].startswith(p.REFUSED)]
    assert [(a["device_code"], a["seq"], a["times"]) for a in found] == [
        ("B01", 3, 3), ("B01", 3, 2), ("B01", 0, 1)], found
    assert "already voided" in found[0]["reason"] and "total" in found[1]["reason"]
    assert api.count(t.documents) == 2 and api.count(t.device_events) == 2


def _priced(of: dict, kind: str, price: int, **qtys: int) -> dict:
    """A return of `of` whose lines say another unit price than the sale's."""
    wanted = ({ln["line_no"]: ln["qty"] for ln in of["lines"]} if kind == "void"
              else {int(k[1:]): q for k, q in qtys.items()})
    lines = [line(i, price, -q, original_line_no=n) for i, (n, q) in enumerate(wanted.items(), 1)]
    return document(lines, kind=kind, original_id=of["id"])


def test_a_return_gives_back_no_more_money_than_its_line_took(api, tills):
    one, two, _other = tills
    s = sale(1, 1)
    taken(one.push(s))
    # a void of 1,000-won lines that says a million each: its own till knew better
    problem = refused(one.push(_priced(s, "void", 1_000_000)))
    assert problem["field"] == "document.lines.0.amount" and "1000 paid" in problem["detail"]
    # another enterprise's name on the sale's line
    other_firm = document([line(1, 1000, -1, firm="E9", original_line_no=1)], kind="refund",
                          original_id=s["id"])
    problem = refused(one.push(other_firm))
    assert problem["field"] == "document.lines.0.enterprise_name", problem
    # a void that leaves a line out is no void
    half = document([line(1, 1000, -1, original_line_no=1)], kind="void", original_id=s["id"])
    problem = refused(one.push(half))
    assert problem["field"] == "document.lines" and "whole sale" in problem["detail"]
    # from another till of the stall: taken (it could not know), and alerted
    taken(two.push(_priced(s, "refund", 5000, l2=1)))
    over = [a for a in alerts(api) if a["reason"].startswith(p.OVER_RETURNED)]
    assert [(a["device_code"], a["seq"]) for a in over] == [("B02", 1)]
    assert "5000 won of line 2" in over[0]["reason"]
    net = api.org("GET", f"/api/v1/events/{api.event}/totals").json()["net"]
    assert net == 2000 - 5000  # taken as sent (the server never recomputes), but alerted


def test_a_waiting_return_that_takes_too_much_money_is_alerted_when_its_sale_comes(api, tills):
    one, two, _other = tills
    s = sale(1)
    taken(two.push(_priced(s, "refund", 15000, l1=1)))
    assert [a["reason"] for a in alerts(api)] == [p.WAITING]
    taken(one.push(s))
    now = alerts(api)
    assert [a["reason"].split(":")[0] for a in now] == [p.OVER_RETURNED], now
    assert "15000 won of line 1" in now[0]["reason"]


def test_a_till_alone_but_for_revoked_ones_is_alone(api, tills):
    one, two, _other = tills
    for code in ("A01", "B01", "B02"):  # the api's own till, and both others
        assert api.org("POST", f"/api/v1/stalls/{api.stall}/devices/{code}/revoke"
                       ).status_code == 200
    three = Till(api, another_code(api.server, api.stall), "B03")
    problem = refused(three.push(ret(sale(1), l1=1)))
    assert "unknown" in problem["detail"]
