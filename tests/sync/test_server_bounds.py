"""What a till or a stranger may send the organizer's server: every number and text bounded,
clock stamps kept near the server's clock, documents checked by the till's own rules. Whatever
the server cannot take it refuses with a 4xx and a reason (never a 5xx, which would make a till
send the same batch for ever), and it goes on taking valid pushes afterwards, with the totals
right. On SQLite and on PostgreSQL, against a real server."""

from __future__ import annotations

import copy
import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from pos import services as svc
from pos.money import MAX_WON
from sync import client, protocol as p
from sync.server import service, tables as t
from tests.sync.conftest import setup_stall

NOW = "2026-11-22T10:00:00+09:00"


# -- hand-made events -----------------------------------------------------------------------------

def line(n: int, price: int, qty: int = 1, *, firm: str = "E1", tax: str = "exempt",
         status: str = "general", **over) -> dict:
    return {"line_no": n, "name": f"상품 {n}", "unit_price": price, "qty": qty,
            "line_discount": 0, "receipt_discount": 0, "amount": price * qty,
            "enterprise_id": firm, "enterprise_name": f"업체 {firm}", "tax_class": tax,
            "tax_status": status, **over}


def document(lines: list[dict], *, supply: int = 0, vat: int = 0, payments=None, **over) -> dict:
    """A sale of `lines` paid in cash; `supply` and `vat` as given (0 for exempt lines)."""
    total = sum(x["amount"] for x in lines)
    taxable = sum(x["amount"] for x in lines if x["tax_class"] == "taxable"
                  and x["tax_status"] != "exempt")
    pays = payments or [{"n": 1, "method": "cash", "kind": "cash", "amount": total,
                         "tendered": total, "change": 0}]
    return {"id": str(uuid.uuid4()), "kind": "sale", "receipt_no": "A01-20261122-0001",
            "business_day": "2026-11-22", "created_at": NOW, "total": total,
            "taxable_total": taxable, "supply_value": supply, "vat": vat,
            "exempt_total": total - taxable, "change": 0, "lines": lines, "payments": pays,
            **over}


def event(seq: int, doc: dict | None = None, **over) -> dict:
    doc = doc if doc is not None else document([line(1, 5000)])
    return {"event_id": str(uuid.uuid4()), "seq": seq, "type": f"{doc['kind']}.recorded",
            "hlc": f"{int(time.time() * 1000):013d}-00000-A01", "created_at": NOW,
            "document": doc, **over}


def body(*events) -> bytes:
    return json.dumps({"protocol": 1, "events": list(events)}, ensure_ascii=False).encode()


class Api:
    """A till's and the organizer's view of one real server."""

    def __init__(self, server, store):
        self.server = server
        self.event, self.stall, code = setup_stall(server)
        client.enroll(store, url=server.url, code=code)
        self.device = {"Authorization": f"Bearer {client.load_token(store)}"}
        self.organizer = {"Authorization": "Bearer " + server.admin(
            lambda c: service.organizer_token(c, name="센터"))}
        self.http = httpx.Client(base_url=server.url, timeout=60)

    def push(self, content: bytes | str, **headers) -> httpx.Response:
        return self.http.post("/api/v1/push", content=content, headers={
            **self.device, "Content-Type": "application/json", **headers})

    def org(self, method: str, path: str, **kw) -> httpx.Response:
        return self.http.request(method, path, headers={**self.organizer,
                                                        **kw.pop("headers", {})}, **kw)

    def totals(self) -> dict:
        answer = self.org("GET", f"/api/v1/events/{self.event}/totals")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def count(self, table) -> int:
        return self.server.admin(
            lambda c: c.execute(select(func.count()).select_from(table)).scalar())

    def flagged(self) -> int:
        """Alerts about events kept or compared (not the alerts that a push was refused)."""
        return self.server.admin(lambda c: c.execute(
            select(func.count()).select_from(t.alerts)
            .where(t.alerts.c.reason.not_like(p.REFUSED + "%"))).scalar())


@pytest.fixture
def api(server, store):
    a = Api(server, store)
    yield a
    a.http.close()


def refused(answer: httpx.Response, status: int = 422) -> dict:
    """The answer is a refusal of `status` in the one documented shape, with a reason."""
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    problem = p.Problem.model_validate(answer.json())
    assert problem.code and problem.detail
    return answer.json()


# -- item 1: a clock stamp far ahead ----------------------------------------------------------------

def product_event(seq: int, stamp: str, *, product_id: str = "P-1", name: str = "수제 잼",
                  enterprise_stamp: str | None = None) -> dict:
    payload = {"id": product_id, "name": name, "price": 5000, "tax_class": "taxable",
               "enterprise": {"name": "행복한 빵집", "hlc": enterprise_stamp}, "barcodes": [],
               "active": True, "hlc": stamp}
    return {"event_id": str(uuid.uuid4()), "seq": seq, "type": "product.changed",
            "hlc": stamp, "created_at": NOW, "payload": payload}


def millis(stamp: str) -> int:
    return int(stamp.split("-")[0])


def test_a_stamp_far_ahead_of_the_servers_clock_freezes_no_product_and_no_other_event(api):
    far = "9999999999999-99999-A01"
    assert api.push(body(product_event(1, far, enterprise_stamp=far))).status_code == 200
    before = int(time.time() * 1000)
    page = api.http.get("/api/v1/catalog", headers=api.device).json()
    kept = page["products"][0]
    # re-stamped on arrival, near the server's clock, the enterprise's stamp too
    for stamp in (kept["hlc"], kept["enterprise"]["hlc"]):
        assert millis(stamp) <= before + 60_000 and stamp.endswith("-SRV")
    stored = api.server.admin(lambda c: c.execute(select(t.device_events.c.body)).scalar())
    assert far in stored  # the event itself is kept as the till sent it
    # the organizer changes that very product, and edits another event's stall
    edit = {"id": "P-1", "name": "수제 딸기잼", "price": 6000, "tax_class": "taxable",
            "enterprise": {"name": "행복한 빵집"}}
    answer = api.org("PUT", f"/api/v1/stalls/{api.stall}/products", json=edit)
    assert answer.status_code == 200 and answer.json()["taken"] is True, answer.text
    assert answer.json()["hlc"] > kept["hlc"]
    other = api.server.admin(lambda c: service.create_stall(
        c, event_id=service.create_event(c, name="다른 장터"), name="B동"))
    answer = api.org("PUT", f"/api/v1/stalls/{other}/products", json=edit)
    assert answer.status_code == 200, answer.text
    assert abs(millis(answer.json()["hlc"]) - time.time() * 1000) < 60_000
    names = [x["name"] for x in api.http.get("/api/v1/catalog", headers=api.device)
             .json()["products"]]
    assert names == ["수제 딸기잼"]
    # a later edit from the till (a sane clock) still wins over the organizer's
    later = f"{int(time.time() * 1000) + 1000:013d}-00000-A01"
    assert api.push(body(product_event(2, later, name="잼 (새 병)"))).status_code == 200
    assert [x["name"] for x in api.http.get("/api/v1/catalog", headers=api.device)
            .json()["products"]] == ["잼 (새 병)"]


def test_the_servers_stamps_stay_whole_when_their_counter_is_full(api):
    near = f"{int(time.time() * 1000) + 5 * 60_000:013d}-99999-A01"  # ahead, within the bound
    assert api.push(body(product_event(1, near))).status_code == 200
    edit = {"id": "P-2", "name": "초", "price": 100, "tax_class": "taxable",
            "enterprise": {"name": "행복한 빵집"}}
    answer = api.org("PUT", f"/api/v1/stalls/{api.stall}/products", json=edit)
    assert answer.status_code == 200, answer.text
    assert answer.json()["hlc"] > near and p.Product.model_fields["hlc"]  # a stamp, ordered
    assert millis(answer.json()["hlc"]) == millis(near) + 1


def _migrated_to(url: str, revision: str):
    from alembic import command
    from alembic.config import Config

    from sync.server.db import MIGRATIONS, make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    from tests.sync.conftest import database

    with database(request.param, tmp_path) as url:
        yield url


def test_a_database_stamped_far_ahead_before_the_bound_heals_when_the_server_starts(empty_db):
    """A product stamped 9999999999999-… by an older server, and alerts it made once per copy:
    the migration brings the stamps back near the clock, in their order, and counts the copies
    on one alert."""
    from sync.server.db import migrate

    engine = _migrated_to(empty_db, "s0004")
    far = ["9999999999999-00003-A01", "9999999999999-00007-A01"]
    with engine.begin() as c:
        event = service.create_event(c, name="장터")
        stall = service.create_stall(c, event_id=event, name="A동")
        c.execute(t.devices.insert().values(id="D1", stall_id=stall, device_code="A01",
                                            name="", token_hash="x" * 64, last_seq=0,
                                            enrolled_at=NOW))
        for k, stamp in enumerate(far):
            body_ = {"id": f"P{k}", "name": f"상품{k}", "price": 1, "tax_class": "taxable",
                     "enterprise": {"name": "e", "hlc": stamp}, "barcodes": [],
                     "active": True, "hlc": stamp}
            c.execute(t.catalog.insert().values(stall_id=stall, product_id=f"P{k}", hlc=stamp,
                                                version=k + 1, body=json.dumps(body_)))
        copy_ = '{"seq":3}'
        for _ in range(3):
            c.execute(t.alerts.insert().values(device_id="D1", seq=3, event_id="e", reason="r",
                                               body=copy_, created_at=NOW))
        c.execute(t.alerts.insert().values(device_id="D1", seq=3, event_id="e", reason="r",
                                           body='{"seq":3,"x":1}', created_at=NOW))
    migrate(engine)
    with engine.begin() as c:
        rows = c.execute(select(t.catalog.c.product_id, t.catalog.c.hlc, t.catalog.c.body)
                         .order_by(t.catalog.c.hlc)).all()
        assert [r.product_id for r in rows] == ["P0", "P1"]  # their order kept
        for r in rows:
            assert millis(r.hlc) < time.time() * 1000 + 2 * p.MAX_CLOCK_AHEAD_MS
            assert json.loads(r.body)["hlc"] == r.hlc
            assert json.loads(r.body)["enterprise"]["hlc"] <= r.hlc
        stamp = service.server_stamp(c, stall)
        assert stamp > rows[-1].hlc and p.ProductChange(
            id="P0", name="x", price=1, tax_class="taxable", enterprise={"name": "e"}, hlc=stamp)
        kept = c.execute(select(t.alerts.c.body, t.alerts.c.times).order_by(t.alerts.c.id)).all()
        assert [(r.body, r.times) for r in kept] == [('{"seq":3}', 3), ('{"seq":3,"x":1}', 1)]
    engine.dispose()


# -- item 2: what used to be a 500 ----------------------------------------------------------------

def _deep(levels: int):
    value: object = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def _with_payload(seq: int, payload) -> dict:
    return {"event_id": str(uuid.uuid4()), "seq": seq, "type": "cash.moved",
            "hlc": f"{int(time.time() * 1000):013d}-00000-A01", "created_at": NOW,
            "payload": payload}


HUGE = 2**63


@pytest.mark.parametrize("case, make, field", [
    ("an amount of 2^63", lambda: event(1, document([line(1, HUGE)])), "document"),
    ("an amount of 2^63-1", lambda: event(1, document([line(1, HUGE - 1)])), "document"),
    ("a billion and one", lambda: event(1, document([line(1, MAX_WON + 1)])),
     "document.lines.0.unit_price"),
    ("a quantity of 2^31", lambda: event(1, document([line(1, 1, 2**31)])),
     "document.lines.0.qty"),
    ("a NUL in a name", lambda: event(1, document([line(1, 100, name="잼\x00")])),
     "document.lines.0.name"),
    ("a line break in a name", lambda: event(1, document([line(1, 100, name="잼\n병")])),
     "document.lines.0.name"),
    ("a direction override", lambda: event(1, document([line(1, 100, enterprise_name="\u202e빵")])),
     "document.lines.0.enterprise_name"),
    ("a 10 KB name", lambda: event(1, document([line(1, 100, name="가" * 10_000)])),
     "document.lines.0.name"),
    ("a NUL in the receipt number", lambda: event(1, document([line(1, 100)],
                                                           receipt_no="A\x00")),
     "document.receipt_no"),
    ("a payload nested 300 deep", lambda: _with_payload(1, _deep(300)), None),
    ("a payload nested 20 deep", lambda: _with_payload(1, _deep(20)), "payload"),
    ("a NUL in a payload", lambda: _with_payload(1, {"reason": "\x00"}), "payload"),
    ("10,000 values in a payload", lambda: _with_payload(1, {"x": list(range(10_000))}),
     "payload"),
    ("a product named with a NUL", lambda: {**product_event(1, f"{int(time.time() * 1000):013d}"
                                                               "-00000-A01", name="잼\x00")},
     "payload"),
    ("two lines of one line_no", lambda: event(1, document([line(1, 100), line(1, 200)])),
     "document"),
    ("two payments of one n", lambda: event(1, document([line(1, 300)], payments=[
        {"n": 1, "method": "cash", "kind": "cash", "amount": 100, "tendered": 100, "change": 0},
        {"n": 1, "method": "card", "kind": "card", "amount": 200, "tendered": 200,
         "change": 0}])), "document"),
    ("an enterprise of two tax statuses", lambda: event(1, document(
        [line(1, 100), line(2, 100, status="simplified")])), "document"),
    ("a sale's line naming an original", lambda: event(1, document(
        [line(1, 100, original_line_no=1)])), "document"),
    ("a refund's line naming none", lambda: event(1, document(
        [line(1, 100, -1)], kind="refund", original_id=str(uuid.uuid4()))), "document"),
    ("less tendered than paid", lambda: event(1, document([line(1, 300)], payments=[
        {"n": 1, "method": "cash", "kind": "cash", "amount": 300, "tendered": 200,
         "change": 0}])), "document"),
    ("a seq of 0", lambda: event(0), "seq"),
    ("a seq of -1", lambda: event(-1), "seq"),
    ("a seq of 2^63", lambda: event(HUGE), "seq"),
    ("a seq of true", lambda: event(True), "seq"),
    ("a seq of 1.0", lambda: event(1.0), "seq"),
    ("a quantity of true", lambda: event(1, document([line(1, 100, qty=True)])),
     "document.lines.0.qty"),
    ("a total of 5000.0", lambda: event(1, {**document([line(1, 5000)]), "total": 5000.0}),
     "document.total"),
])
def test_what_once_was_a_500_is_refused_with_its_reason(api, case, make, field):
    ev = make()
    answer = refused(api.push(body(ev)))
    assert answer["code"] in ("event", "batch"), answer
    if field is not None:
        assert answer["field"].startswith(field), answer
    if answer.get("field") != "seq":
        assert answer["seq"] == ev["seq"] and answer["event_id"] == ev["event_id"], answer
    assert api.count(t.device_events) == 0 and api.flagged() == 0
    ok = api.push(body(event(1)))  # and the next valid push is taken
    assert ok.status_code == 200 and ok.json()["applied"] == 1, ok.text


@pytest.mark.parametrize("path, payload", [
    ("/api/v1/events", {"name": "장터\x00"}),
    ("/api/v1/events/{event}/stalls", {"name": "\x00"}),
    ("/api/v1/events/{event}/enterprises", {"name": "빵\x00집"}),
    ("/api/v1/events/{event}/enterprises", {"name": "빵집", "bizno": "\x00"}),
    ("/api/v1/events", {"name": "가" * 10_000}),
    ("/api/v1/events", {"name": 7}),
    ("/api/v1/events", {"name": ["장터"] * 10_000}),
    ("/api/v1/stalls/{stall}/device-codes", {"valid_hours": True}),
    ("/api/v1/stalls/{stall}/device-codes", {"valid_hours": "NaN"}),
    ("/api/v1/stalls/{stall}/device-codes", {"valid_hours": 1e308}),
])
def test_the_organizers_create_calls_refuse_what_the_database_cannot_hold(api, path, payload):
    path = path.format(event=api.event, stall=api.stall)
    answer = refused(api.org("POST", path, json=payload))
    assert answer["code"] == "invalid" and answer["errors"], answer
    assert answer["errors"][0]["loc"][0] == "body"
    assert [e["name"] for e in api.org("GET", "/api/v1/events").json()] == ["2026 가을 장터"]


@pytest.mark.parametrize("ref", ["%00", "a%00b", "x" * 10_000, "%E2%80%AE", "%FF%FE"])
def test_an_event_or_stall_no_name_can_be_is_simply_not_found(api, ref):
    for method, path in [("GET", f"/api/v1/events/{ref}/stalls"),
                         ("GET", f"/api/v1/events/{ref}/totals"),
                         ("POST", f"/api/v1/stalls/{ref}/device-codes")]:
        answer = refused(api.org(method, path, json={}), 404)
        assert answer["code"] == "not_found" and len(answer["detail"]) < 100


@pytest.mark.parametrize("query", [{"after": str(10**30)}, {"after": str(HUGE)},
                                   {"after": "-1"}, {"after": "1e3"}, {"limit": "0"},
                                   {"limit": str(10**6)}])
def test_cursors_out_of_range_are_refused(api, query):
    answer = refused(api.http.get("/api/v1/catalog", params=query, headers=api.device))
    assert answer["errors"][0]["loc"][0] == "query"
    key = "after" if "after" in query else None
    if key:
        refused(api.http.get("/api/v1/settings", params=query, headers=api.device))
        refused(api.org("GET", f"/api/v1/events/{api.event}/alerts", params=query))


# -- item 3: sums that pass 64 bits ----------------------------------------------------------------

def test_totals_are_exact_even_over_rows_past_64_bits(api):
    """Rows an older server took before amounts were bounded (2^63-1 and another sale): the
    totals are their exact sum, by the API and the command line."""
    device = api.server.admin(lambda c: c.execute(select(t.devices.c.id)).scalar())
    amounts = [2**63 - 1, 5000, 2**62]

    def store_rows(c):
        for k, amount in enumerate(amounts):
            doc = str(uuid.uuid4())
            c.execute(t.documents.insert().values(
                id=doc, device_id=device, seq=k + 1, kind="sale", receipt_no=f"R{k}",
                business_day="2026-11-22", total=amount, taxable_total=0, supply_value=0,
                vat=0, exempt_total=amount))
            c.execute(t.document_lines.insert().values(
                document_id=doc, line_no=1, enterprise_id="E", enterprise_name="빵집",
                name="x", qty=1, amount=amount))
            c.execute(t.document_payments.insert().values(document_id=doc, n=1,
                                                          method="cash", amount=amount))
    api.server.admin(store_rows)
    totals = api.totals()
    assert totals["net"] == sum(amounts)
    assert totals["by_enterprise"] == [{"enterprise": "빵집", "net": sum(amounts), "qty": 3}]
    assert [d["net"] for d in totals["by_day"]] == [sum(amounts)]
    assert [m["net"] for m in totals["by_method"]] == [sum(amounts)]
    assert [d["net"] for d in totals["by_device"]] == [sum(amounts)]
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", api.server.db_url,
                          "totals", "--json", api.event], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["net"] == sum(amounts)


def test_amounts_up_to_the_tills_bound_are_taken_and_summed(api):
    big = document([line(1, MAX_WON)])
    several = document([line(k, MAX_WON) for k in range(1, 4)], payments=[
        {"n": k, "method": "cash", "kind": "cash", "amount": MAX_WON, "tendered": MAX_WON,
         "change": 0} for k in range(1, 4)])
    answer = api.push(body(event(1, big), event(2, several)))
    assert answer.status_code == 200 and answer.json()["applied"] == 2, answer.text
    assert api.totals()["net"] == 4 * MAX_WON
    refused(api.push(body(event(3, document([line(1, MAX_WON + 1)])))))


# -- item 4: seq and alerts ----------------------------------------------------------------------

def test_alerts_are_one_per_copy_and_come_in_pages(api):
    first = [event(k) for k in range(1, 6)]
    assert api.push(body(*first)).status_code == 200
    changed = [{**e, "document": {**e["document"], "receipt_no": "바뀐번호"}} for e in first]
    for _ in range(3):  # a till sending the same differing copies again and again
        answer = api.push(body(*changed))
        assert [m["seq"] for m in answer.json()["mismatches"]] == [1, 2, 3, 4, 5]
    other = {**changed[0], "document": {**changed[0]["document"], "receipt_no": "또 다른"}}
    api.push(body(other))
    assert api.count(t.alerts) == 6
    alerts = api.org("GET", f"/api/v1/events/{api.event}/alerts").json()
    assert [(a["seq"], a["times"]) for a in alerts] == [(1, 3), (2, 3), (3, 3), (4, 3),
                                                        (5, 3), (1, 1)]
    pages, after = [], 0
    while True:
        page = api.org("GET", f"/api/v1/events/{api.event}/alerts",
                       params={"after": after, "limit": 4}).json()
        if not page:
            break
        assert len(page) <= 4
        pages.append(page)
        after = page[-1]["id"]
    assert [a for page in pages for a in page] == alerts and len(pages) == 2


def test_a_seq_below_one_never_becomes_an_alert(api):
    assert api.push(body(event(1))).status_code == 200
    for seq in (0, -1, -10_000):
        refused(api.push(body(event(seq))))
    refused(api.push(body(*[event(k) for k in range(-499, 1)])))
    assert api.flagged() == 0


# -- item 8: times, VAT, payments and discounts ---------------------------------------------------

@pytest.mark.parametrize("where, value", [
    ("created_at", "yesterday"), ("created_at", "2026-13-45T10:00:00+09:00"),
    ("created_at", "2026-11-22T10:00:00"), ("created_at", "2026-11-22"),
    ("business_day", "2026-13-45"), ("business_day", "2026-02-30"),
    ("business_day", "yesterday"), ("event.created_at", "yesterday"),
    ("event.created_at", "2026-11-22T25:00:00+09:00"), ("event.hlc", "yesterday"),
    ("event.hlc", "1796184264906-00000-a01"),
])
def test_times_days_and_stamps_are_checked_as_documented(api, where, value):
    ev = event(1)
    if where.startswith("event."):
        ev[where.removeprefix("event.")] = value
    else:
        ev["document"][where] = value
    answer = refused(api.push(body(ev)))
    assert answer["field"] == (where.removeprefix("event.") if where.startswith("event.")
                               else f"document.{where}")
    assert api.count(t.device_events) == 0


def test_the_vat_split_is_the_tills_own_rule(api):
    """7,000 and 6,000 won from two general taxpayers: split per enterprise (the till's rule),
    6,364 + 636 and 5,455 + 545; split once over 13,000 it would be 11,818 + 1,182."""
    lines = [line(1, 7000, firm="E1", tax="taxable"), line(2, 6000, firm="E2", tax="taxable")]
    answer = refused(api.push(body(event(1, document(lines, supply=11818, vat=1182)))))
    assert "VAT" in answer["detail"] and answer["seq"] == 1
    one_firm = [line(1, 7000, tax="taxable"), line(2, 6000, tax="taxable")]
    refused(api.push(body(event(1, document(one_firm, supply=11819, vat=1181)))))
    simplified = [line(1, 5500, tax="taxable", status="simplified")]
    refused(api.push(body(event(1, document(simplified, supply=5000, vat=500)))))
    exempt_firm = [line(1, 5500, tax="taxable", status="exempt")]  # sells everything exempt
    refused(api.push(body(event(1, document(exempt_firm, supply=5000, vat=500)))))
    good = [event(1, document(lines, supply=11819, vat=1181)),
            event(2, document(one_firm, supply=11818, vat=1182)),
            event(3, document(simplified, supply=5500, vat=0)),
            event(4, document(exempt_firm))]
    answer = api.push(body(*good))
    assert answer.status_code == 200 and answer.json()["applied"] == 4, answer.text


def test_a_sale_is_not_paid_negatively_nor_discounted_below_zero(api):
    lines = [line(1, 17000)]
    two = [{"n": 1, "method": "cash", "kind": "cash", "amount": 20000, "tendered": 20000,
            "change": 0},
           {"n": 2, "method": "card", "kind": "card", "amount": -3000, "tendered": -3000,
            "change": 0}]
    answer = refused(api.push(body(event(1, document(lines, payments=two)))))
    assert answer["field"] == "document" and "negative" in answer["detail"]
    discounted = [line(1, 5000, line_discount=-1000, amount=6000)]
    answer = refused(api.push(body(event(1, document(discounted)))))
    assert "discount" in answer["detail"]
    over = [line(1, 5000, line_discount=6000, amount=-1000)]
    refused(api.push(body(event(1, document(over)))))
    assert api.count(t.device_events) == 0
    fair = [line(1, 5000, line_discount=1000, amount=4000)]
    assert api.push(body(event(1, document(fair)))).status_code == 200


# -- item 11: tokens and the published API ---------------------------------------------------------

def test_tokens_missing_unknown_and_without_the_right(api):
    organizer_path, device_path = "/api/v1/events", "/api/v1/status"
    for path in (organizer_path, device_path):
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"},
                        {"Authorization": "Bearer"}):
            answer = refused(api.http.get(path, headers=headers), 401)
            assert answer["code"] in ("token_missing", "token_unknown")
            assert api.http.get(path, headers=headers).headers["www-authenticate"] == "Bearer"
    assert refused(api.http.get(organizer_path, headers=api.device), 403)["code"] == "forbidden"
    assert refused(api.http.get(device_path, headers=api.organizer), 403)["code"] == "forbidden"
    refused(api.push(body(event(1)), Authorization=api.organizer["Authorization"]), 403)
    assert api.http.get(organizer_path, headers=api.organizer).status_code == 200
    assert api.http.get(device_path, headers=api.device).status_code == 200


def test_the_openapi_declares_the_bearer_scheme_and_every_refusal(api):
    schema = api.http.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert list(schemes.values()) == [{"type": "http", "scheme": "bearer",
                                       "description": schemes["bearer"]["description"]}]
    models = schema["components"]["schemas"]
    assert "HTTPValidationError" not in models and "Problem" in models
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            public = path in ("/api/v1/health", "/api/v1/enroll")
            assert bool(op.get("security")) is not public, (method, path)
            codes = {c for c in op["responses"] if c.startswith("4")}
            if not public:
                assert {"401", "403"} <= codes, (method, path, codes)
            if "requestBody" in op:
                assert {"413", "415", "422"} <= codes, (method, path, codes)
            if "{" in path:
                assert "404" in codes, (method, path, codes)
            for code in codes:
                ref = op["responses"][code]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/Problem"}, (method, path, code)


def test_every_refusal_matches_the_schema_the_openapi_gives_it(api):
    import jsonschema_rs  # schemathesis's validator

    schema = api.http.get("/openapi.json").json()
    problem = {**schema["components"]["schemas"]["Problem"],
               "components": schema["components"]}

    def resolve(node):  # the Problem schema with its references inlined
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(schema["components"]["schemas"][node["$ref"].split("/")[-1]])
            return {k: resolve(v) for k, v in node.items() if k != "components"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node
    problem = resolve(problem)
    answers = [api.org("POST", "/api/v1/events", json={"name": ""}),
               api.org("POST", "/api/v1/events", json={"nope": 1}),
               api.org("POST", "/api/v1/events", content=b"{", headers={
                   "Content-Type": "application/json"}),
               api.org("POST", "/api/v1/events/없음/stalls", json={"name": "x"}),
               api.push(b"not json"), api.push(body(event(0))),
               api.push(body(event(1, document([line(1, HUGE)])))),
               api.http.get("/api/v1/events"), api.http.get("/nowhere"),
               api.org("DELETE", "/api/v1/events")]
    assert {a.status_code for a in answers} == {401, 404, 405, 422}
    for answer in answers:
        jsonschema_rs.validate(problem, answer.json())
        assert answer.headers["content-type"] == "application/json"


# -- a stranger's attacks -------------------------------------------------------------------------

DEEP = 100_000
PUSH_ATTACKS = {
    "NaN": b'{"protocol": 1, "events": [{"seq": 1, "total": NaN}]}',
    "Infinity": b'{"protocol": 1, "events": [{"seq": 1, "total": -Infinity}]}',
    "not UTF-8": b'{"protocol": 1, "events": [{"seq": 1, "name": "\xff\xfe\xc0"}]}',
    "a lone surrogate": b'{"protocol": 1, "events": [{"seq": 1, "name": "\\ud800"}]}',
    "nested 100,000 deep": b'{"protocol": 1, "events": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    "nested 100,000 deep in an event": (b'{"protocol": 1, "events": [{"seq": 1, "payload": '
                                        + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}]}"),
    "10,000 events": json.dumps({"protocol": 1, "events": [
        {"seq": k} for k in range(1, 10_001)]}).encode(),
    "10,000 lines": body(event(1, document([line(k, 1) for k in range(1, 10_001)]))),
    "10,000 payments": body(event(1, document([line(1, 10_000)], payments=[
        {"n": k, "method": "cash", "kind": "cash", "amount": 1, "tendered": 1, "change": 0}
        for k in range(1, 10_001)]))),
    "a protocol of 2^64": b'{"protocol": 18446744073709551616, "events": [{"seq": 1}]}',
    "a protocol of true": b'{"protocol": true, "events": [{"seq": 1}]}',
    "a protocol of 1.0": b'{"protocol": 1.0, "events": [{"seq": 1}]}',
    "a seq of 2^64": b'{"protocol": 1, "events": [{"seq": 18446744073709551616}]}',
    "a seq of 1e400": b'{"protocol": 1, "events": [{"seq": 1e400}]}',
    "an empty body": b"",
    "null": b"null",
    "a string": b'"events"',
    "events of null": b'{"protocol": 1, "events": null}',
    "a 10 KB key": json.dumps({"protocol": 1, "events": [{"seq": 1, "k" * 10_000: 1}]}).encode(),
    "a 10 KB event id": body(event(1, event_id="e" * 10_000)),
    "a 10 KB stamp": body(event(1, hlc="1" * 10_000)),
    "an unknown type": body(event(1, type="sale.deleted")),
    "a payload on a sale": body(event(1, payload={"x": 1})),
    "a document and no kind": body(event(1, {**document([line(1, 1)]), "kind": None})),
    "floats for every amount": body(event(1, json.loads(json.dumps(document([line(1, 5000)])),
                                                        parse_int=float))),
    "booleans for ints": body(event(1, document([line(1, 1, True)]))),
}


def test_a_strangers_bodies_get_a_reason_each_and_the_tills_pushes_go_on(server, till):
    api = Api(server, till)
    with till.unit_of_work(write=False) as uow:
        events = client.pending_events(uow, after=0, limit=500)
    for name, content in PUSH_ATTACKS.items():
        answer = api.push(content)
        assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:300])
        refused(answer, answer.status_code)
    assert api.count(t.device_events) == 0 and api.flagged() == 0
    # the till's real events after all that: taken, and the totals are the till's own
    client.sync_now(till)
    assert client.sync_state(till).acked_seq == len(events)
    with till.unit_of_work(write=False) as uow:
        day = svc.list_documents(uow)[0]["business_day"]
        net = svc.day_settlement(uow, day=day).net
    assert api.totals()["net"] == net
    # and the same real batch, with one strange event put in its middle, is refused whole
    k = next(i for i, e in enumerate(events) if "document" in e)
    doc = events[k]["document"]
    strange = copy.deepcopy(events)
    strange[k]["document"] = {**doc, "lines": [{**doc["lines"][0], "qty": 1.5}] + doc["lines"][1:]}
    answer = refused(api.push(body(*strange)))
    assert answer["seq"] == events[k]["seq"] and answer["field"] == "document.lines.0.qty"
    assert api.totals()["net"] == net


ORGANIZER_ATTACKS = [
    ("POST", "/api/v1/events", b'{"name": NaN}', "application/json"),
    ("POST", "/api/v1/events", b'{"name": "\xff\xfe"}', "application/json"),
    ("POST", "/api/v1/events", b'{"name": "\\ud800"}', "application/json"),
    ("POST", "/api/v1/events", b'{"name": ' + b"[" * DEEP + b"]" * DEEP + b"}",
     "application/json"),
    ("POST", "/api/v1/events", b"", "application/json"),
    ("POST", "/api/v1/events", b"{", "application/json"),
    ("POST", "/api/v1/events", '{"name": "장터"}'.encode(), "text/plain"),
    ("POST", "/api/v1/events", b"name=%EC%9E%A5%ED%84%B0", "application/x-www-form-urlencoded"),
    ("POST", "/api/v1/events", '{"name": "장터"}'.encode(), "multipart/form-data; boundary=x"),
    ("POST", "/api/v1/events", json.dumps({"name": ["x"] * 10_000}).encode(), "application/json"),
    ("POST", "/api/v1/stalls/{stall}/device-codes", b'{"valid_hours": Infinity}',
     "application/json"),
    ("POST", "/api/v1/stalls/{stall}/device-codes", b'{"valid_hours": 1e400}',
     "application/json"),
    ("PUT", "/api/v1/stalls/{stall}/products", json.dumps({
        "id": "P", "name": "잼", "price": 2**63, "tax_class": "taxable",
        "enterprise": {"name": "빵집"}}).encode(), "application/json"),
    ("PUT", "/api/v1/stalls/{stall}/products", json.dumps({
        "id": "P", "name": "잼", "price": 5000.5, "tax_class": "taxable",
        "enterprise": {"name": "빵집"}}).encode(), "application/json"),
    ("PUT", "/api/v1/stalls/{stall}/products", json.dumps({
        "id": "P", "name": "잼", "price": True, "tax_class": "taxable",
        "enterprise": {"name": "빵집"}}).encode(), "application/json"),
    ("PUT", "/api/v1/stalls/{stall}/products", json.dumps({
        "id": "P", "name": "잼", "price": 1, "tax_class": "taxable", "active": 1,
        "enterprise": {"name": "빵집"}}).encode(), "application/json"),
    ("PUT", "/api/v1/stalls/{stall}/products", json.dumps({
        "id": "P", "name": "잼", "price": 1, "tax_class": "taxable", "barcodes": ["1"] * 10_000,
        "enterprise": {"name": "빵집"}}).encode(), "application/json"),
    ("PUT", "/api/v1/stalls/{stall}/products", json.dumps({
        "id": "P", "name": "잼", "price": 1, "tax_class": "taxable",
        "enterprise": {"name": "빵\x00집", "commission_bp": 2**63}}).encode(), "application/json"),
    ("PUT", "/api/v1/events/{event}/settings", json.dumps({
        "payment_methods": [{"code": "cash", "kind": "cash", "label_ko": "현금\x00",
                             "label_en": "Cash"}]}).encode(), "application/json"),
    ("PUT", "/api/v1/events/{event}/settings", json.dumps({
        "receipt_footer": "감사합니다\x1b[2J"}).encode(), "application/json"),
    ("POST", "/api/v1/enroll", json.dumps({"code": "ABCDEF\x00", "device_code": "A01"}).encode(),
     "application/json"),
    ("POST", "/api/v1/enroll", json.dumps({"code": "ABCDEF", "device_code": "A01",
                                            "device_name": "\u202e"}).encode(), "application/json"),
]


@pytest.mark.parametrize("method, path, content, kind", ORGANIZER_ATTACKS)
def test_the_organizers_calls_answer_a_stranger_with_a_reason(api, method, path, content, kind):
    path = path.format(event=api.event, stall=api.stall)
    answer = api.org(method, path, content=content, headers={"Content-Type": kind})
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    problem = refused(answer, answer.status_code)
    if kind != "application/json":
        assert answer.status_code == 415 and problem["code"] == "unsupported_media_type"
    assert [e["name"] for e in api.org("GET", "/api/v1/events").json()] == ["2026 가을 장터"]
    assert api.http.get("/api/v1/catalog", headers=api.device).json()["products"] == []
    assert api.org("POST", "/api/v1/events", json={"name": "그 다음"}).status_code == 201


FIFTY_MB = 50 * 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_50_mb_is_413_with_or_without_its_length(api, chunked):
    def chunks():
        part = b" " * (1024 * 1024)
        for _ in range(FIFTY_MB // len(part)):
            yield part

    content = chunks() if chunked else b" " * FIFTY_MB
    answered, cut = [], []
    for method, path, headers in [("POST", "/api/v1/push", api.device),
                                  ("POST", "/api/v1/events", api.organizer),
                                  ("POST", "/api/v1/enroll", {})]:
        try:
            answer = api.http.request(method, path, content=content, headers={
                **headers, "Content-Type": "application/json"})
        except httpx.WriteError:  # the server answered and closed before all 50 MB were sent
            cut.append(path)
            continue
        assert refused(answer, 413)["code"] == "too_large"
        answered.append(path)
        content = chunks() if chunked else content
    assert answered  # a refusal was heard, not only a closed connection
    assert api.push(body(event(1))).status_code == 200


def test_a_push_not_sent_as_json_is_415(api):
    answer = refused(api.push(body(event(1)), **{"Content-Type": "text/plain"}), 415)
    assert "JSON" in answer["detail"]
    assert api.push(body(event(1)), **{"Content-Type": "application/json; charset=utf-8"}
                    ).status_code == 200
