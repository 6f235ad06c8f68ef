"""A client written from docs/sync-protocol.md alone — httpx, the document's field names and its
rules (the VAT rule, the signs, the clock stamp) — against `jangteo-server serve` run as its own
process, on SQLite and on PostgreSQL: it enrolls, pushes, replays, is refused with a reason, and
reads the totals. Nothing here imports the till or the protocol's models; what it sends is
checked against the document's own field tables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.sync.conftest import _free_port, database

DOC = Path(__file__).resolve().parents[2] / "docs" / "sync-protocol.md"


def documented_fields() -> dict[str, tuple[set[str], set[str]]]:
    """Each message of the document's tables: (its fields, the required ones)."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    name = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#### (\w+)$", line)
        if heading:
            name = heading.group(1)
            found[name] = (set(), set())
            continue
        row = re.match(r"^\| `(\w+)` \| (.*?) \| (yes|no.*?) \|", line)
        if name and row:
            found[name][0].add(row.group(1))
            if row.group(3) == "yes":
                found[name][1].add(row.group(1))
    return found


FIELDS = documented_fields()


def as_documented(message: str, obj: dict) -> dict:
    """`obj`, after checking it has every required field of `message` and no other."""
    fields, required = FIELDS[message]
    assert set(obj) <= fields, f"{message}: not in the document: {set(obj) - fields}"
    assert required <= set(obj), f"{message}: required by the document: {required - set(obj)}"
    return obj


def half_away_from_zero(numerator: int, denominator: int) -> int:
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def vat_split(lines: list[dict]) -> tuple[int, int, int, int]:
    """The document's VAT rule: per enterprise, supply = taxable × 10/11 rounded half away from
    zero (the taxable sum itself for a simplified taxpayer), VAT the rest."""
    per: dict[str, list] = {}
    for ln in lines:
        acc = per.setdefault(ln["enterprise_id"], [ln["tax_status"], 0, 0])
        if ln["tax_class"] == "taxable" and ln["tax_status"] != "exempt":
            acc[1] += ln["amount"]
        else:
            acc[2] += ln["amount"]
    taxable = supply = exempt = 0
    for status, tx, ex in per.values():
        taxable += tx
        exempt += ex
        supply += tx if status == "simplified" else half_away_from_zero(tx * 10, 11)
    return taxable, supply, taxable - supply, exempt


class Till:
    """What a till keeps: its device code, its clock, its numbering."""

    def __init__(self, device_code: str):
        self.device_code = device_code
        self.seq = 0
        self.counter = 0
        self.events: list[dict] = []
        self.receipts = 0

    def stamp(self) -> str:
        self.counter += 1
        return f"{int(time.time() * 1000):013d}-{self.counter:05d}-{self.device_code}"

    def record(self, type_: str, *, document=None, payload=None) -> dict:
        self.seq += 1
        event = {"event_id": str(uuid.uuid4()), "seq": self.seq, "type": type_,
                 "hlc": self.stamp(), "created_at": "2026-11-22T10:00:00+09:00"}
        if document is not None:
            event["document"] = as_documented("Document", document)
        if payload is not None:
            event["payload"] = payload
        self.events.append(as_documented("Event", event))
        return event

    def receipt_no(self) -> str:
        self.receipts += 1
        return f"{self.device_code}-20261122-{self.receipts:04d}"


def line(n, name, price, qty, firm, tax="taxable", status="general", **more) -> dict:
    return as_documented("Line", {
        "line_no": n, "name": name, "unit_price": price, "qty": qty, "line_discount": 0,
        "receipt_discount": 0, "amount": price * qty, "enterprise_id": firm,
        "enterprise_name": f"업체 {firm}", "tax_class": tax, "tax_status": status, **more})


def pay(n, method, kind, amount, tendered=None, change=0) -> dict:
    return as_documented("Payment", {"n": n, "method": method, "kind": kind, "amount": amount,
                                     "tendered": amount if tendered is None else tendered,
                                     "change": change})


def document(till: Till, kind: str, lines: list[dict], payments: list[dict], shift: str,
             original: str | None = None) -> dict:
    taxable, supply, vat, exempt = vat_split(lines)
    doc = {"id": str(uuid.uuid4()), "kind": kind, "receipt_no": till.receipt_no(),
           "business_day": "2026-11-22", "created_at": "2026-11-22T10:00:00+09:00",
           "total": sum(x["amount"] for x in lines), "taxable_total": taxable,
           "supply_value": supply, "vat": vat, "exempt_total": exempt,
           "change": sum(x["change"] for x in payments), "shift_id": shift,
           "lines": lines, "payments": payments}
    if original:
        doc["original_id"] = original
    return doc


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path):
    """`jangteo-server serve` in a process of its own, and the database it serves."""
    with database(request.param, tmp_path) as db:
        port = _free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = open(tmp_path / "server.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "--db", db, "serve",
                                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                env=env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=2).json()["ok"]:
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            yield url, db
        finally:
            proc.terminate()
            proc.wait(20)
            log.close()


def test_a_client_written_from_the_document_alone(served):
    url, db = served
    # the organizer: a token from the command line, then the organizer API
    token = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", db,
                            "organizer-token", "--name", "문서"], capture_output=True, text=True,
                           check=True).stdout.strip()
    org = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
    event = org.post("/api/v1/events", json=as_documented("NewEvent", {"name": "문서 장터"}))
    assert event.status_code == 201, event.text
    stall = org.post(f"/api/v1/events/{event.json()['id']}/stalls",
                     json=as_documented("NewStall", {"name": "문서 매대"}))
    assert stall.status_code == 201, stall.text
    code = org.post(f"/api/v1/stalls/{stall.json()['id']}/device-codes", json={})
    assert code.status_code == 201, code.text

    # the till enrolls and keeps its token
    enrolled = httpx.post(f"{url}/api/v1/enroll", json=as_documented("EnrollRequest", {
        "code": code.json()["code"], "device_code": "D01", "device_name": "문서 클라이언트"}))
    assert enrolled.status_code == 200, enrolled.text
    assert set(enrolled.json()) <= FIELDS["EnrollResponse"][0]
    dev = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {enrolled.json()['token']}"})

    till = Till("D01")
    shift = str(uuid.uuid4())
    till.record("shift.opened", payload=as_documented("ShiftPayload", {
        "id": shift, "device_id": "my-own-id", "number": 1, "status": "open",
        "business_day": "2026-11-22", "opened_at": "2026-11-22T09:00:00+09:00",
        "float_amount": 50000, "float_counts": {"10000": 5}}))
    till.record("product.changed", payload=as_documented("ProductChange", {
        "id": "p-jam", "name": "딸기잼", "price": 6000, "tax_class": "taxable",
        "enterprise": as_documented("EnterpriseEdit", {"name": "업체 E1"}),
        "barcodes": ["8800000000017"], "hlc": till.stamp()}))
    # a joint-stall sale: two enterprises, VAT split per enterprise (5,455 + 5,455 supply value,
    # where the receipt's 12,000 at once would be 10,909); paid in cash with change
    joint = [line(1, "딸기잼", 6000, 1, "E1"), line(2, "쿠키", 6000, 1, "E2"),
             line(3, "생감자", 5000, 2, "E3", tax="exempt")]
    sale1 = document(till, "sale", joint, [pay(1, "cash", "cash", 22000, 30000, 8000)], shift)
    till.record("sale.recorded", document=sale1)
    # a card sale by a simplified taxpayer, and a voucher that gives no change
    sale2 = document(till, "sale", [line(1, "머그컵", 15000, 2, "E4", status="simplified")],
                     [pay(1, "card", "card", 20000), pay(2, "gift", "voucher", 10000, 10000)],
                     shift)
    till.record("sale.recorded", document=sale2)
    # a refund of one line of the first sale: every amount negative, the price positive
    back = [line(1, "쿠키", 6000, -1, "E2", original_line_no=2)]
    refund = document(till, "refund", back, [pay(1, "cash", "cash", -6000)], shift,
                      original=sale1["id"])
    till.record("refund.recorded", document=refund)
    till.record("cash.moved", payload=as_documented("CashPayload", {
        "id": str(uuid.uuid4()), "shift_id": shift, "kind": "out", "amount": 2000,
        "reason": "봉투 구입", "created_at": "2026-11-22T12:00:00+09:00"}))
    expected = 50000 + 30000 - 8000 - 6000 - 2000
    till.record("shift.closed", payload=as_documented("ShiftPayload", {
        "id": shift, "device_id": "my-own-id", "number": 1, "status": "closed",
        "business_day": "2026-11-22", "opened_at": "2026-11-22T09:00:00+09:00",
        "float_amount": 50000, "float_counts": {"10000": 5},
        "closed_at": "2026-11-22T18:00:00+09:00", "counted_amount": expected - 1000,
        "counts": {"10000": 6, "5000": 1, "1000": 4, "500": 1}, "expected_amount": expected,
        "difference": -1000}))
    n = len(till.events)

    batch = as_documented("PushRequest", {"protocol": 1, "events": till.events})
    first = dev.post("/api/v1/push", json=batch)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert set(answer) <= FIELDS["PushResponse"][0]
    assert (answer["acked_seq"], answer["applied"], answer["already_there"],
            answer["mismatches"]) == (n, n, 0, [])

    # replayed (the answer was lost): nothing counted twice, even written another way
    again = dev.post("/api/v1/push", json=batch).json()
    assert (again["acked_seq"], again["applied"], again["already_there"]) == (n, 0, n)
    shuffled = [dict(reversed(list(e.items()))) for e in till.events]
    assert dev.post("/api/v1/push", json={"events": shuffled}).json()["already_there"] == n
    # the same seq with other content: listed, never taken for sent
    changed = {**till.events[2], "document": {**till.events[2]["document"],
                                                "receipt_no": "D01-20261122-9999"}}
    seen = dev.post("/api/v1/push", json={"events": [changed]}).json()
    assert seen["mismatches"] == [{"seq": 3, "event_id": changed["event_id"],
                                   "reason": "differs from the stored event"}]

    # a document whose VAT is rounded once for the whole receipt: refused, with where
    taxable, supply, vat, exempt = vat_split(joint)
    wrong = document(till, "sale", joint, [pay(1, "card", "card", 22000)], shift)
    wrong.update(supply_value=half_away_from_zero(taxable * 10, 11),
                 vat=taxable - half_away_from_zero(taxable * 10, 11))
    assert (wrong["supply_value"], wrong["vat"]) != (supply, vat)  # it differs by a won
    bad = till.record("sale.recorded", document=wrong)
    refused = dev.post("/api/v1/push", json={"events": [bad]})
    assert refused.status_code == 422
    problem = refused.json()
    assert set(problem) <= FIELDS["Problem"][0]
    assert (problem["code"], problem["seq"], problem["event_id"]) == ("event", n + 1,
                                                                      bad["event_id"])
    assert "VAT" in problem["detail"]

    status = dev.get("/api/v1/status").json()
    assert status["acked_seq"] == n and status["stall_name"] == "문서 매대"

    totals = org.get(f"/api/v1/events/{event.json()['id']}/totals").json()
    assert set(totals) <= FIELDS["Totals"][0]
    net = sale1["total"] + sale2["total"] + refund["total"]
    assert totals["net"] == net == 22000 + 30000 - 6000
    by_firm = {row["enterprise"]: (row["net"], row["qty"]) for row in totals["by_enterprise"]}
    assert by_firm == {"업체 E1": (6000, 1), "업체 E2": (0, 0), "업체 E3": (10000, 2),
                       "업체 E4": (30000, 2)}
    assert {row["method"]: row["net"] for row in totals["by_method"]} == {
        "cash": 22000 - 6000, "card": 20000, "gift": 10000}
    assert [(row["device"], row["documents"], row["acked_seq"])
            for row in totals["by_device"]] == [("D01", 3, n)]

    alerts = org.get(f"/api/v1/events/{event.json()['id']}/alerts").json()
    reasons = sorted(a["reason"].split(":")[0] for a in alerts)
    assert reasons == ["differs from the stored event", "push refused"], alerts
    assert all(set(a) <= FIELDS["Alert"][0] for a in alerts)
