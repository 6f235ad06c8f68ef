"""The push body as the server reads it: a copy written differently is still "already there",
a changed or malformed one is not, the limits hold without a length header, and the schema the
server reads by hand is the one it publishes."""

from __future__ import annotations

import json

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from pos import services as svc
from sync import client, protocol as p
from sync.server import tables as t
from tests.sync.conftest import setup_stall


def _enrolled(server, till) -> tuple[str, list[dict]]:
    _event, _stall, code = setup_stall(server)
    client.enroll(till, url=server.url, code=code)
    with till.unit_of_work(write=False) as uow:
        events = client.pending_events(uow, after=0, limit=80)
    return client.load_token(till), events


def _post(server, token, content: bytes | str, **headers) -> httpx.Response:
    with httpx.Client(base_url=server.url) as http:
        return http.post("/api/v1/push", content=content, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers})


def _count(server, table) -> int:
    return server.admin(lambda c: c.execute(select(func.count()).select_from(table)).scalar())


def _flagged(server) -> int:
    """Alerts about events kept or compared (not the alerts that a push was refused)."""
    return server.admin(lambda c: c.execute(
        select(func.count()).select_from(t.alerts)
        .where(t.alerts.c.reason.not_like(p.REFUSED + "%"))).scalar())


def test_a_copy_written_differently_is_already_there(server, till):
    token, events = _enrolled(server, till)
    first = _post(server, token, json.dumps({"protocol": 1, "events": events}))
    assert first.status_code == 200 and first.json()["applied"] == len(events)
    # the same events with keys reversed and optional nulls left out
    def rewrite(obj):
        if isinstance(obj, dict):
            return {k: rewrite(v) for k, v in reversed(obj.items()) if v is not None}
        if isinstance(obj, list):
            return [rewrite(v) for v in obj]
        return obj
    copy = [rewrite(e) for e in events]
    again = _post(server, token, json.dumps({"protocol": 1, "events": copy}, ensure_ascii=True))
    assert again.status_code == 200, again.text
    assert again.json() == {"protocol": 1, "acked_seq": len(events), "applied": 0,
                            "already_there": len(events), "mismatches": []}
    assert _flagged(server) == 0
    # a number written as text is not a number: refused, not taken for the stored event
    k = next(i for i, e in enumerate(events) if "document" in e)
    as_text = {**events[k], "document": {**events[k]["document"],
                                         "total": str(events[k]["document"]["total"])}}
    refused = _post(server, token, json.dumps({"protocol": 1, "events": [as_text]}))
    assert refused.status_code == 422, refused.text
    assert (refused.json()["seq"], refused.json()["field"]) == (events[k]["seq"], "document.total")
    assert _flagged(server) == 0
    # a changed amount on a stored sale is a mismatch, flagged and kept
    k = next(i for i, e in enumerate(events) if "document" in e)
    doc = events[k]["document"]
    line = {**doc["lines"][0], "name": doc["lines"][0]["name"] + " (바뀜)"}
    changed = {**events[k], "document": {**doc, "lines": [line] + doc["lines"][1:]}}
    answer = _post(server, token, json.dumps({"protocol": 1, "events": [changed]})).json()
    assert answer["mismatches"] == [{"seq": events[k]["seq"], "event_id": events[k]["event_id"],
                                     "reason": "differs from the stored event"}]
    alert = server.admin(lambda c: c.execute(select(t.alerts).where(
        t.alerts.c.reason == p.DIFFERS)).mappings().one())
    assert "(바뀜)" in alert["body"]


def test_a_malformed_copy_of_a_stored_event_is_refused_not_flagged(server, till):
    token, events = _enrolled(server, till)
    assert _post(server, token, json.dumps({"protocol": 1, "events": events})).status_code == 200
    bad = {**events[0], "surprise": True}
    r = _post(server, token, json.dumps({"protocol": 1, "events": [bad]}))
    assert r.status_code == 422 and "surprise" in r.json()["detail"]
    assert _flagged(server) == 0


@pytest.mark.parametrize("body, reason", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "protocol"),
    (b'{"protocol": 2, "events": []}', "protocol 2"),
    (b'{"protocol": 1, "events": []}', "1 to 500"),
    (b'{"protocol": 1, "events": [7]}', "object"),
    (b'{"protocol": 1, "events": [{"seq": "x"}]}', "seq"),
])
def test_malformed_bodies_are_refused_with_a_reason(server, till, body, reason):
    token, _events = _enrolled(server, till)
    r = _post(server, token, body)
    assert r.status_code == 422 and reason in r.json()["detail"]
    assert _count(server, t.device_events) == 0


def test_a_bad_new_event_refuses_the_whole_batch(server, till):
    token, events = _enrolled(server, till)
    k = next(i for i, e in enumerate(events) if "document" in e)
    doc = events[k]["document"]
    bad = events[:k] + [{**events[k], "document": {**doc, "vat": doc["vat"] + 1}}]
    r = _post(server, token, json.dumps({"protocol": 1, "events": bad}))
    assert r.status_code == 422 and f"seq {events[k]['seq']}" in r.json()["detail"]
    assert _count(server, t.device_events) == 0 and _count(server, t.documents) == 0


def test_a_body_without_length_is_still_limited(server, till):
    token, _events = _enrolled(server, till)

    def chunks():
        for _ in range(9):
            yield b" " * (1024 * 1024)

    with httpx.Client(base_url=server.url) as http:
        r = http.post("/api/v1/push", content=chunks(), headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert r.status_code == 413


def test_the_published_schema_describes_the_push_body(server):
    schema = httpx.get(f"{server.url}/openapi.json").json()
    body = schema["paths"]["/api/v1/push"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/PushRequest"}
    models = schema["components"]["schemas"]
    assert {"PushRequest", "Event", "Document", "Line", "Payment"} <= set(models)
    assert models["Event"]["additionalProperties"] is False

    def refs(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from refs(v)
    for ref in refs(schema):  # every reference points to a published model
        assert ref.removeprefix("#/components/schemas/") in models, ref


def test_migrations_build_exactly_the_declared_server_tables(server):
    with server.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
        conn.rollback()
    assert diff == []


def test_parse_push_keeps_the_bytes_it_was_given_in_canonical_order():
    raw = {"seq": 3, "b": "가", "a": [2, 1]}
    item = p.parse_push(json.dumps({"events": [raw]}).encode())[0]
    assert item.seq == 3 and item.body == '{"a":[2,1],"b":"가","seq":3}'.encode()
    import hashlib
    assert item.digest == hashlib.sha256(item.body).hexdigest()
    with pytest.raises(p.ProtocolError, match="consecutive"):
        p.parse_push(json.dumps({"events": [{**raw, "seq": 1}, {**raw, "seq": 3}]}).encode())


def test_a_server_that_lost_events_gets_them_again(server, till):
    token, _events = _enrolled(server, till)
    client.sync_now(till)
    state = client.sync_state(till)
    # the server is restored from a backup taken before the last 30 events arrived
    keep = state.last_seq - 30

    def restore(c):
        device = c.execute(select(t.devices.c.id)).scalar()
        docs = select(t.device_events.c.body).where(t.device_events.c.seq > keep)
        lost = [json.loads(b)["document"]["id"] for (b,) in c.execute(docs)
                if "document" in json.loads(b)]
        for table in (t.document_lines, t.document_payments):
            c.execute(table.delete().where(table.c.document_id.in_(lost)))
        c.execute(t.documents.delete().where(t.documents.c.id.in_(lost)))
        c.execute(t.device_events.delete().where(t.device_events.c.seq > keep))
        c.execute(t.audit_entries.delete().where(t.audit_entries.c.seq > keep))
        c.execute(t.devices.update().where(t.devices.c.id == device).values(last_seq=keep))
    server.admin(restore)
    with till.unit_of_work(write=False) as uow:
        day = svc.list_documents(uow)[0]["business_day"]
        net = svc.day_settlement(uow, day=day).net
    client.sync_now(till)  # nothing new on the till: it still asks where the server is
    assert client.sync_state(till).acked_seq == state.last_seq
    seqs = server.admin(lambda c: [r[0] for r in c.execute(
        select(t.device_events.c.seq).order_by(t.device_events.c.seq))])
    assert seqs == list(range(1, state.last_seq + 1))
    assert server.admin(lambda c: c.execute(select(func.sum(t.documents.c.total))).scalar()) == net
