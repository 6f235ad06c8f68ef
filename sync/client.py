"""The till's side of sync: enroll once, then push the outbox in seq order from the server's
acked seq + 1, in batches, on a background thread that never blocks selling.

- The server's answer is the only truth about what it has: the local ack moves only to the
  `acked_seq` the server returned, after it committed, and never past an event the server did
  not compare with its own or found different. A time-out is "unknown": the same batch is sent
  again, and the server answers "already there" for what it has.
- A store that lost events the server has (restored from an older backup, a cut journal)
  numbers new events where the server's are: the server answers that they differ from what it
  holds. The till then renumbers its own after the server's (`pos.outbox`), records the run as
  the server's, and sends them again in the same round; no receipt number changes.
- Documents are read back from their (immutable) tables for every send, so a resent event is
  byte for byte the one sent before.
- The device token is kept in the system's credential store where there is one, else in a file
  only the user can read (`sync-token` in the data folder).
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
import orjson
from pydantic import ValidationError
from sqlalchemy import bindparam, func, select

from pos import services as svc
from pos.services import catalog as catalog_service
from pos import events, outbox, tables as t
from pos.background import BackgroundLoop
from pos.i18n import Phrase, detect_lang, error_text, tr
from pos.store import Store, StoreError, UnitOfWork
from sync import protocol as p
from pos.errors import CodedError
from pos.ids import DEVICE_CODE

log = logging.getLogger("jangteo.sync")

BATCH = 500
TOKEN_FILE = "sync-token"


class SyncError(CodedError, RuntimeError):
    """`code` keys the message in `pos.i18n`."""


KEYRING_SERVICE = "Jangteo sync"


def _token_path(store: Store) -> Path:
    return Path(store.data_dir) / TOKEN_FILE


def _keyring_account(store: Store) -> str:
    return str(Path(store.data_dir).resolve())  # one token per data folder (one till each)


def _keyring():
    """The system's credential store (Windows Credential Manager, macOS Keychain, Secret
    Service on a Linux desktop), or None where there is none (a server, a bare laptop)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def save_token(store: Store, token: str) -> str:
    """Keep the device token in the system's credential store where there is one, else in a
    file only the user can read. Returns where it went: "keyring" or "file"."""
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(KEYRING_SERVICE, _keyring_account(store), token)
            if ring.get_password(KEYRING_SERVICE, _keyring_account(store)) == token:
                _token_path(store).unlink(missing_ok=True)  # an older token file goes
                return "keyring"
        except Exception:  # noqa: BLE001 - a locked or broken keyring: the file will do
            pass
    path = _token_path(store)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    os.chmod(path, 0o600)
    return "file"


def load_token(store: Store) -> str | None:
    path = _token_path(store)
    if path.exists():
        return path.read_text().strip() or None
    ring = _keyring()
    if ring is None:
        return None
    try:
        return ring.get_password(KEYRING_SERVICE, _keyring_account(store))
    except Exception:  # noqa: BLE001 - e.g. the keyring is locked: not enrolled, for now
        return None


def settings(uow: UnitOfWork) -> dict:
    return svc.get_setting(uow, "sync") or {}


def _http(url: str, transport: httpx.BaseTransport | None, timeout: float) -> httpx.Client:
    return httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)


def _retry_after(response: httpx.Response, default: int = 10) -> int:
    try:
        return max(1, min(600, int(response.headers.get("Retry-After", default))))
    except ValueError:
        return default


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    if response.status_code in (408, 429):
        # the server is fine and will take it later (a body it got too slowly, another push of
        # this till still being applied, too many attempts): not a refusal of what was sent
        raise SyncError("sync_busy", detail=_detail(response),
                        seconds=_retry_after(response), status=response.status_code)
    body = _body(response) if response.status_code == 401 else None
    if isinstance(body, dict) and body.get("code") == "device_revoked":
        raise SyncError("sync_revoked", detail=_detail(response))
    if response.status_code in (401, 403):
        raise SyncError("sync_refused", detail=_detail(response))
    if response.status_code >= 500:
        raise SyncError("sync_server_error", status=response.status_code)
    if response.status_code >= 400:
        index, seq = _refused_event(response)
        raise SyncError("sync_rejected", detail=_detail(response), status=response.status_code,
                        event_index=index, event_seq=seq)


def _body(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _detail(response: httpx.Response) -> "Refusal":
    """What the server said to a refusal: its code, worded by the till (`Refusal`), with the
    server's own reason kept for the log (its first complaint when it lists several)."""
    body = _body(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(x) for x in first.get("loc", ())[1:] if x != "body")
        detail = f"{where}: {first.get('msg', '')}" if where else first.get("msg")
    if detail is None:
        detail = response.text
    code = body.get("code") if isinstance(body, dict) else None
    return Refusal(code if isinstance(code, str) else None, status=response.status_code,
                   detail=" ".join(str(detail).split())[:300])


class Refusal(Phrase):
    """The server's refusal as the till says it, in the till's language: the server words its
    reasons in English for a program's log, so a code the catalogue knows (context "server",
    `_REFUSALS`) is said from it, and any other one by a sentence naming the code; never the
    server's English in the middle of the till's sentence. `str()` (the log, what is kept of a
    blocked sync) is the code with the server's own words."""

    __slots__ = ()

    def __init__(self, code: str | None, /, *, status: int | None = None, detail: str = ""):
        super().__init__(code or "", status=status, detail=detail)

    def text(self, lang: str) -> str:
        words = _REFUSALS.get(self.code)
        if words is not None:
            return words(lang)
        code = "".join(c for c in self.code if c.isalnum() or c in "_-.")[:40]
        if code:
            return tr("refused_other", lang, context="server", code=code)
        return tr("refused_no_code", lang, context="server", status=self.params["status"] or 0)

    def __str__(self) -> str:
        return f"{self.code or self.params['status']}: {self.params['detail']}"

    def __repr__(self) -> str:
        return f"Refusal({self.code!r})"


# the refusals a server answers (`sync.protocol.Problem`, docs/sync-protocol.md), as the till
# says them within its own sentences ("the server refuses it (…)")
_REFUSALS = {
    "token_missing": lambda lang: tr("refused_token_missing", lang, context="server"),
    "token_unknown": lambda lang: tr("refused_token_unknown", lang, context="server"),
    "device_revoked": lambda lang: tr("refused_device_revoked", lang, context="server"),
    "forbidden": lambda lang: tr("refused_forbidden", lang, context="server"),
    "code_unusable": lambda lang: tr("refused_code_unusable", lang, context="server"),
    "not_found": lambda lang: tr("refused_not_found", lang, context="server"),
    "body_too_slow": lambda lang: tr("refused_body_too_slow", lang, context="server"),
    "conflict": lambda lang: tr("refused_conflict", lang, context="server"),
    "device_code_taken": lambda lang: tr("refused_device_code_taken", lang, context="server"),
    "device_codes_used_up": lambda lang: tr("refused_device_codes_used_up", lang,
                                            context="server"),
    "too_large": lambda lang: tr("refused_too_large", lang, context="server"),
    "too_many_attempts": lambda lang: tr("refused_too_many_attempts", lang, context="server"),
    "push_in_progress": lambda lang: tr("refused_push_in_progress", lang, context="server"),
    "not_json": lambda lang: tr("refused_not_json", lang, context="server"),
    "unsupported_media_type": lambda lang: tr("refused_not_json", lang, context="server"),
    "protocol": lambda lang: tr("refused_protocol", lang, context="server"),
    "batch": lambda lang: tr("refused_batch", lang, context="server"),
    "event": lambda lang: tr("refused_event", lang, context="server"),
    "invalid": lambda lang: tr("refused_invalid", lang, context="server"),
    "unstorable": lambda lang: tr("refused_unstorable", lang, context="server"),
}


def _refused_event(response: httpx.Response) -> tuple[int | None, int | None]:
    """Which event of the batch the server refused, when its answer says: (its index in the
    batch, from the `loc` of a validation error: body → events → i; its `seq`)."""
    body = _body(response)
    if not isinstance(body, dict):
        return None, None
    seq = body.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool):
        return None, seq
    detail = body.get("detail")
    for item in detail if isinstance(detail, list) else ():
        loc = item.get("loc", []) if isinstance(item, dict) else []
        if len(loc) >= 3 and list(loc[:2]) == ["body", "events"] and isinstance(loc[2], int):
            return loc[2], None
    return None, None


def enroll(store: Store, *, url: str, code: str, transport=None, timeout: float = 10) -> dict:
    """Trade a one-time code for this device's identity, token and device code at the
    organizer's server. The till says who it is (`local_id`: enrolled again, it is known and
    keeps its device code) and from which seq it will send (1 when never enrolled: what it
    sold before goes too; else one past what its former server held); it takes the device
    code the server gives, unique within the stall."""
    with store.unit_of_work(write=False) as uow:
        device = store.device
        before = settings(uow)
    next_seq = int(before.get("acked_seq", 0)) + 1 if before.get("device_id") else 1
    try:
        body = p.EnrollRequest(code=code.strip(), device_code=device["code"],
                               device_name=device.get("name") or "",
                               local_id=device["id"][:64], next_seq=next_seq).model_dump()
    except ValidationError:
        raise SyncError("sync_code_invalid", code=code.strip()[:40]) from None
    if not url.strip().lower().startswith(("http://", "https://")):
        raise SyncError("sync_url_invalid", url=url.strip()[:200])
    try:
        with _http(url.strip(), transport, timeout) as http:
            response = http.post("/api/v1/enroll", json=body)
    except (httpx.HTTPError, httpx.InvalidURL):
        # not "offline, sent later": nothing is sent before the till is enrolled
        raise SyncError("enroll_unreachable", url=url.strip()[:200]) from None
    if response.status_code == 404 or response.status_code >= 500:
        raise SyncError("enroll_not_answered", url=url.strip()[:200],
                        status=response.status_code)
    if response.status_code == 429:
        raise SyncError("enroll_wait", seconds=_retry_after(response), detail=_detail(response))
    _raise_for(response)
    try:
        answer = p.EnrollResponse.model_validate_json(response.content)
        given = answer.device_code or device["code"]  # a server before device codes: its own
        if not DEVICE_CODE.match(given) or not 0 <= answer.acked_seq <= p.MAX_SEQ:
            raise ValueError(given)
    except (ValidationError, ValueError):
        raise SyncError("sync_garbage") from None
    save_token(store, answer.token)
    with store.unit_of_work() as uow:
        svc.set_setting(uow, "sync", {"url": url.strip().rstrip("/"), "device_id": answer.device_id,
                                      "stall": answer.stall_name, "event": answer.event_name,
                                      "acked_seq": 0})
        uow.commit()
    store.take_device_code(given)
    if answer.acked_seq:  # what the server holds already: known again, or sent to a former one
        _record_ack(store, p.PushResponse(acked_seq=answer.acked_seq, applied=0, already_there=0))
    return {"device_id": answer.device_id, "stall": answer.stall_name, "event": answer.event_name,
            "device_code": given,
            # the same till enrolled again has its products in the stall already
            "join": None if before.get("device_id") == answer.device_id else
            _join_after_enroll(store, url.strip(), answer.token, transport, timeout)}


def _join_after_enroll(store: Store, url: str, token: str, transport, timeout: float) -> dict | None:
    """The stall's catalog, taken at once; this till's own products matched to it. When all of
    them are the stall's, they are merged without asking; when some are the till's alone, the
    vendor chooses (`join_catalog`: take the stall's, or merge) and nothing is sent meanwhile.
    Offline right after enrolling: made before the first push (`_join_due`)."""
    try:
        with _http(url, transport, timeout) as http:
            seen = _pull_all_seen(store, http, token)
    except (SyncError, httpx.HTTPError):
        # offline right after enrolling: the join is made before the first push
        with store.unit_of_work() as uow:
            svc.set_setting(uow, "sync", {**settings(uow), "catalog_join_due": True})
            uow.commit()
        return None
    return _join(store, seen)


def _join(store: Store, seen: dict[str, p.Product]) -> dict | None:
    with store.unit_of_work(write=False) as uow:
        plan = join_plan(uow, seen)
    if plan is None:
        return None
    summary = {"stall_products": plan["stall_products"], "matched": len(plan["matched"]),
               "own": len(plan["own"]), "conflicts": plan["conflicts"],
               "pending": bool(plan["own"])}
    join_catalog(store, None, plan)  # the same either way: done at once
    return summary


def _join_due(store: Store, http: httpx.Client, token: str, conf: dict) -> dict:
    """The join a till could not make when it enrolled (offline then): made before it sends
    anything, so its own products wait for the vendor's choice as they would have."""
    if not conf.get("catalog_join_due"):
        return conf
    _join(store, _pull_all_seen(store, http, token))
    with store.unit_of_work() as uow:
        conf = {k: v for k, v in settings(uow).items() if k != "catalog_join_due"}
        svc.set_setting(uow, "sync", conf)
        uow.commit()
    return conf


_SALE = ("id", "kind", "receipt_no", "business_day", "created_at", "change", "original_id",
         "total", "taxable_total", "supply_value", "vat", "exempt_total", "shift_id")
_LINE = ("line_no", "name", "unit_price", "qty", "line_discount", "receipt_discount", "amount",
         "enterprise_id", "enterprise_name", "tax_class", "tax_status", "product_id", "sku",
         "barcode", "original_line_no")
_PAYMENT = ("n", "method", "kind", "amount", "tendered", "change", "approval_no", "reference")


def _json_object(columns: tuple[str, ...]) -> str:
    return "json_object(" + ", ".join(f"'{c}', {c}" for c in columns) + ")"


# a return of another till's sale names it by other_sale_id (original_id names only the till's
# own sales); one whose lines were typed in says so, and only then carries `original_typed`;
# `staff_name` only when someone was signed in
_READ_SALES = ("SELECT id, json_patch(json_patch(" + _json_object(_SALE).replace(
    "'original_id', original_id", "'original_id', COALESCE(original_id, other_sale_id)") +
    ", COALESCE((SELECT json_object('original_typed', json('true'), 'original_receipt_no', "
    "x.receipt_no) FROM other_sales x WHERE x.id = sales.other_sale_id "
    "AND x.source = 'typed'), '{{}}')), CASE WHEN staff_name IS NULL THEN '{{}}' "
    "ELSE json_object('staff_name', staff_name) END) FROM sales WHERE id IN ({marks})")
# the enterprises that took cards on their own terminal, only when there are any
_READ_OWN = ("SELECT sale_id, json_group_array(enterprise_id) FROM sale_taxes "
             "WHERE sale_id IN ({marks}) AND own_terminal GROUP BY sale_id")
_READ_LINES = (f"SELECT sale_id, {_json_object(_LINE)} FROM sale_lines "
               "WHERE sale_id IN ({marks}) ORDER BY sale_id, line_no")
# a voucher's notes only when they were noted: an event sent before has its bytes unchanged
# and whose own terminal took a card only when one did
_READ_PAYMENTS = (f"SELECT sale_id, json_patch(json_patch({_json_object(_PAYMENT)}, CASE WHEN "
                  "face_value IS NULL THEN '{{}}' ELSE json_object('face_value', face_value, "
                  "'count', count) END), CASE WHEN enterprise_id IS NULL THEN '{{}}' ELSE "
                  "json_object('enterprise_id', enterprise_id) END) FROM payments "
                  "WHERE sale_id IN ({marks}) ORDER BY sale_id, n")


def _documents(uow: UnitOfWork, ids: list[str]) -> dict[str, str]:
    """Documents as protocol JSON, read back from their tables three queries a batch. SQLite
    writes each row as JSON itself: this runs for every event sent, and a batch is thousands
    of rows."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    cursor = uow.conn.connection.dbapi_connection.cursor()
    try:
        heads = dict(cursor.execute(_READ_SALES.format(marks=marks), ids).fetchall())
        parts: dict[str, tuple[list[str], list[str]]] = {sid: ([], []) for sid in heads}
        for sid, line in cursor.execute(_READ_LINES.format(marks=marks), ids):
            parts[sid][0].append(line)
        for sid, payment in cursor.execute(_READ_PAYMENTS.format(marks=marks), ids):
            parts[sid][1].append(payment)
        own = dict(cursor.execute(_READ_OWN.format(marks=marks), ids).fetchall())
    finally:
        cursor.close()
    return {sid: f'{head[:-1]},"lines":[{",".join(parts[sid][0])}],'
                 f'"payments":[{",".join(parts[sid][1])}]'
                 + (f',"own_terminals":{own[sid]}' if sid in own else '') + '}'
            for sid, head in heads.items()}


@dataclass(frozen=True)
class Batch:
    """Outbox events `first`..`last` as the body of one push request."""

    first: int
    last: int
    body: bytes

    def events(self) -> list[dict]:
        return orjson.loads(self.body)["events"]


def pending_batch(uow: UnitOfWork, *, after: int, limit: int = BATCH) -> Batch | None:
    """The outbox from `after + 1` (at most `limit` events) as a push body, or None."""
    rows = uow.conn.execute(
        select(t.outbox.c.event_id, t.outbox.c.seq, t.outbox.c.event_type, t.outbox.c.hlc,
               t.outbox.c.created_at, t.outbox.c.document_id, t.outbox.c.payload)
        .where(t.outbox.c.device_id == uow.store.device["id"], t.outbox.c.seq > after)
        .order_by(t.outbox.c.seq).limit(limit)).all()
    if not rows:
        return None
    for k in range(1, len(rows)):  # a batch is consecutive: it ends before a run the server
        if rows[k].seq != rows[k - 1].seq + 1:  # holds and this store lost
            rows = rows[:k]
            break
    docs = _documents(uow, [r.document_id for r in rows if r.payload is None])
    events = []
    for r in rows:
        ev = {"event_id": r.event_id, "seq": r.seq, "type": r.event_type, "hlc": r.hlc,
              "created_at": r.created_at}
        if r.payload is None:
            ev["document"] = orjson.Fragment(docs[r.document_id])
        else:
            ev["payload"] = orjson.Fragment(r.payload)
        events.append(ev)
    body = orjson.dumps({"protocol": p.PROTOCOL_VERSION, "events": events})
    return Batch(rows[0].seq, rows[-1].seq, body)


def pending_events(uow: UnitOfWork, *, after: int, limit: int = BATCH) -> list[dict]:
    """The outbox from `after + 1`, as protocol events (decoded from `pending_batch`)."""
    batch = pending_batch(uow, after=after, limit=limit)
    return batch.events() if batch else []


@dataclass(frozen=True)
class SyncState:
    configured: bool
    waiting: int
    acked_seq: int
    last_seq: int
    error: str | None = None
    error_params: dict | None = None
    syncing: bool = False
    catalog_after: int = 0
    notice: Phrase | None = None  # the last time the server held events this till had lost
    notice_at: str | None = None  # when the till found out (ISO time)
    blocked: dict | None = None  # the event the server refuses, and why (`_block`)


def lost_events_notice(found: dict | None) -> Phrase | None:
    """The sentence for what the till did when the server held events it had lost."""
    if not found:
        return None
    if found.get("moved"):
        return Phrase("sync_renumbered", count=int(found["count"]), moved=int(found["moved"]))
    return Phrase("sync_lost_events", count=int(found["count"]))


def sync_state(store: Store, *, error: SyncError | None = None, syncing: bool = False) -> SyncState:
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
        acked = int(conf.get("acked_seq", 0))
        last = max(outbox.newest_seq(uow), outbox.server_top(uow))
        waiting = uow.conn.execute(select(func.count()).select_from(t.outbox).where(
            t.outbox.c.device_id == store.device["id"], t.outbox.c.seq > acked)).scalar()
    found = conf.get("lost_events")
    return SyncState(bool(conf.get("url")), waiting, acked, last,
                     error.code if error else None, error.params if error else None, syncing,
                     int(conf.get("catalog_after", 0)), lost_events_notice(found),
                     found.get("at") if found else None, conf.get("blocked"))


def _configured(store: Store) -> tuple[dict, str]:
    with store.unit_of_work(write=False) as uow:
        conf = settings(uow)
    token = load_token(store)
    if not conf.get("url") or not token:
        raise SyncError("sync_not_enrolled")
    return conf, token


def _read(store: Store, after: int, limit: int) -> Batch | None:
    with store.unit_of_work(write=False) as uow:
        return pending_batch(uow, after=after, limit=limit)


def _call(http: httpx.Client, token: str, method: str, path: str, model, **kw):
    """One request answered by a protocol message; offline, refused and garbage answers
    become `SyncError`."""
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    try:
        response = http.request(method, path, headers=headers, **kw)
    except httpx.HTTPError as e:
        raise SyncError("sync_offline", detail=type(e).__name__) from None
    _raise_for(response)
    try:
        return model.model_validate_json(response.content)
    except ValueError:
        raise SyncError("sync_garbage") from None


def _post(http: httpx.Client, token: str, body: bytes) -> p.PushResponse:
    """POST one batch and return the server's answer (nothing is recorded locally)."""
    return _call(http, token, "POST", "/api/v1/push", p.PushResponse, content=body,
                 headers={"Content-Type": "application/json"})


def _status(http: httpx.Client, token: str) -> p.Status:
    return _call(http, token, "GET", "/api/v1/status", p.Status)


def server_status(store: Store, *, transport=None, timeout: float = 10) -> p.Status:
    """What the server says it has of this device (for `jangteo sync status`)."""
    conf, token = _configured(store)
    with _http(conf["url"], transport, timeout) as http:
        return _status(http, token)


def push_once(store: Store, *, transport=None, timeout: float = 10, batch: int = BATCH) -> int:
    """Send one batch of what the server does not have yet; returns how many events it newly
    acked."""
    conf, token = _configured(store)
    pending = _read(store, int(conf.get("acked_seq", 0)), batch)
    if pending is None:
        return 0
    with _http(conf["url"], transport, timeout) as http:
        answer = _post(http, token, pending.body)
    return _record_ack(store, answer, pending).count


def push_all(store: Store, *, transport=None, timeout: float = 10, batch: int = BATCH) -> int:
    """Push until the server has everything; returns how many events it newly acked."""
    conf, token = _configured(store)
    with _http(conf["url"], transport, timeout) as http:
        return _push_all(store, http, token, conf, batch)


def _push_all(store: Store, http: httpx.Client, token: str, conf: dict, batch: int) -> int:
    """The next batch is read while the server works on the current one (a read only: it is
    set aside if the answer says the server is elsewhere, or lists mismatches)."""
    conf = _join_due(store, http, token, conf)
    if conf.get("catalog_join"):  # joined a stall with a catalog: the vendor chooses first
        raise SyncError("sync_catalog_choice", count=len(conf["catalog_join"].get("own", [])))
    total = 0
    server_acked = -1
    with ThreadPoolExecutor(1, thread_name_prefix="sync-send") as sender:
        acked = int(conf.get("acked_seq", 0))
        pending = _read(store, acked, batch)
        if pending is None and acked:  # "up to date" only if the server agrees it has it all
            status = _status(http, token)
            if status.acked_seq != acked:  # it lost events, or holds some this store lost
                ack = _record_ack(store, p.PushResponse(acked_seq=status.acked_seq, applied=0,
                                                        already_there=0))
                pending = _read(store, ack.acked_seq, batch)
        sending = sender.submit(_post, http, token, pending.body) if pending else None
        while sending is not None:
            upcoming = _read(store, pending.last, batch)
            try:
                answer = sending.result()
            except SyncError as e:
                if e.code != "sync_rejected":
                    raise
                _narrow(store, http, token, pending, e)  # raises sync_blocked
            sending = None
            answered = pending
            if answer.mismatches:
                # written down before anything else is sent: the outbox may be renumbered
                # after the server's events (else this raises, and the round ends)
                ack = _record_ack(store, answer, answered)
                total += ack.count
                server_acked = answer.acked_seq
                pending = _read(store, ack.acked_seq, batch)
                if pending:
                    sending = sender.submit(_post, http, token, pending.body)
                continue
            if answer.acked_seq >= pending.last:
                pending = upcoming
            elif answer.acked_seq > server_acked:  # the server is behind us: resend from there
                pending = _read(store, answer.acked_seq, batch)
            else:
                pending = None  # no progress: the worker's next round tries again
            server_acked = answer.acked_seq
            if pending:  # on its way before the ack is written down: the two overlap
                sending = sender.submit(_post, http, token, pending.body)
            total += _record_ack(store, answer, answered).count
    return total


def _narrow(store: Store, http: httpx.Client, token: str, refused: Batch,
            error: SyncError) -> None:
    """A batch the server refused (it takes a batch whole or not at all): the events before the
    one it refuses are sent in smaller batches and acked as usual, the first it refuses is
    written down as where sync is blocked, and `sync_blocked` is raised. Nothing is dropped:
    that event and all after it stay queued, and selling goes on."""
    lo, hi = refused.first, refused.last
    seq = error.params.get("event_seq")
    if seq is None and error.params.get("event_index") is not None:
        seq = lo + error.params["event_index"]
    if seq is not None and lo <= seq <= hi:  # the server said which: send the ones before it
        hi = seq
        if seq > lo:
            part = _read(store, lo - 1, seq - lo)
            try:
                _record_ack(store, _post(http, token, part.body), part)
                lo = seq
            except SyncError as e:
                if e.code != "sync_rejected":
                    raise
                error, hi = e, part.last  # it was not that one after all: look for it
    while lo < hi:  # halve what is refused until one event is left
        part = _read(store, lo - 1, (hi - lo + 1) // 2)
        try:
            _record_ack(store, _post(http, token, part.body), part)
            lo = part.last + 1
        except SyncError as e:
            if e.code != "sync_rejected":
                raise
            error, hi = e, part.last
    raise blocked_error(_block(store, lo, error))


def _block(store: Store, seq: int, error: SyncError) -> dict:
    """Write down the event the server refuses, with its receipt number and the reason."""
    with store.unit_of_work() as uow:
        row = uow.conn.execute(select(t.outbox.c.event_type, t.outbox.c.document_id).where(
            t.outbox.c.device_id == store.device["id"], t.outbox.c.seq == seq)).first()
        receipt = None
        if row is not None and row.document_id:
            receipt = uow.conn.execute(select(t.sales.c.receipt_no).where(
                t.sales.c.id == row.document_id)).scalar()
        said = error.params.get("detail", "")
        blocked = {"seq": seq, "receipt_no": receipt, "event_type": row.event_type if row else None,
                   "code": said.code or None if isinstance(said, Refusal) else None,
                   "reason": (said.params["detail"] if isinstance(said, Refusal)
                              else str(said))[:300],  # the server's words, for the log
                   "status": error.params.get("status"), "at": store.clock.now().isoformat()}
        conf = settings(uow)
        old = conf.get("blocked") or {}
        if {k: v for k, v in old.items() if k != "at"} != \
                {k: v for k, v in blocked.items() if k != "at"}:
            log.warning("the server refuses event %s (%s): %s", seq, receipt or blocked["event_type"],
                        blocked["reason"])
            svc.set_setting(uow, "sync", {**conf, "blocked": blocked})
            uow.commit()
        else:
            blocked = old
    return blocked


def blocked_error(blocked: dict) -> SyncError:
    """The sentence for where sync is blocked (`blocked` as `_block` wrote it down)."""
    # said from the server's code in the till's language (a refusal kept by a till before it
    # kept the code: said as one without a code)
    reason = Refusal(blocked.get("code"), status=blocked.get("status"),
                     detail=blocked.get("reason", ""))
    if blocked.get("receipt_no"):
        return SyncError("sync_blocked", receipt=blocked["receipt_no"], seq=blocked["seq"],
                         reason=reason)
    kind = blocked.get("event_type") or ""
    return SyncError("sync_blocked_event", seq=blocked["seq"], kind=_KINDS.get(kind, kind),
                     reason=reason)


# what a record that is not a receipt is, in the vendor's words (`sync_blocked_event`)
_KINDS = {"shift.opened": Phrase("sync_kind_shift_opened"),
          "shift.closed": Phrase("sync_kind_shift_closed"),
          "cash.moved": Phrase("sync_kind_cash_moved"),
          "product.changed": Phrase("sync_kind_product_changed"),
          "stock.moved": Phrase("sync_kind_stock_moved")}


@dataclass(frozen=True)
class _Ack:
    count: int  # this device's events the answer newly confirmed
    acked_seq: int  # the local ack now
    moved: int = 0  # events renumbered after the server's


# how the till says the server's reasons (`sync.protocol`); any other reason as it came
_REASONS = {p.DIFFERS: Phrase("sync_mismatch_differs"), p.ID_USED: Phrase("sync_mismatch_id_used")}


def _lost_run(differ: list[int], sent: Batch, server_had: int, before: int) -> bool:
    """Whether the events the server found different are this store's newest ones from the
    first of them on, up to what it held: the server holds events this store lost, and this
    store numbered new ones in their place."""
    first = differ[0]
    return (before < first and sent.first <= first
            and differ == list(range(first, min(sent.last, server_had) + 1)))


def _record_ack(store: Store, answer: p.PushResponse, sent: Batch | None = None) -> _Ack:
    """Write down what the server says it holds, for the batch `sent` (None: its status).

    The local ack moves to the server's `acked_seq`, but never past this device's own newest
    event, past the batch (the server compared nothing after it), nor to an event it listed
    as a mismatch; it moves back if the server lost events (e.g. restored from a backup), so
    they are sent again. If the server holds events past all this store has, or different
    events at this store's newest numbers, this store lost them: the run is recorded as the
    server's and, in the second case, this store's events are renumbered after the server's
    (`pos.outbox.renumber_after_server`), all in one transaction. Any other mismatch raises
    `sync_mismatch` once the ack is written. An answer that cannot be one to this batch
    (more applied or already there than was sent, applied events outside the batch,
    mismatches of events not sent) is `sync_garbage`: nothing is marked."""
    server_had = answer.acked_seq - answer.applied  # its last seq before this push
    if sent is not None:
        size = sent.last - sent.first + 1
        if (min(answer.applied, answer.already_there, answer.acked_seq) < 0
                or answer.applied + answer.already_there > size
                or (answer.applied and not sent.first <= server_had + 1 <= answer.acked_seq
                    <= sent.last)
                or any(not sent.first <= m.seq <= sent.last for m in answer.mismatches)):
            log.warning("a push answer that does not fit the batch %s..%s: %s", sent.first,
                        sent.last, answer)
            raise SyncError("sync_garbage")
    differ = sorted(m.seq for m in answer.mismatches if m.seq <= server_had)
    refused = [m for m in answer.mismatches if m.seq > server_had]
    mine = t.outbox.c.device_id == store.device["id"]
    with store.unit_of_work() as uow:
        conf = settings(uow)
        before = int(conf.get("acked_seq", 0))
        newest = outbox.newest_seq(uow)
        top = max(newest, outbox.server_top(uow))
        lost = None
        moved = 0
        if differ and not refused and sent is not None and \
                _lost_run(differ, sent, server_had, before):
            first = differ[0]
            moved = outbox.renumber_after_server(uow, first=first, last=server_had,
                                                 server_last=answer.acked_seq)
            lost = {"count": server_had - first + 1, "moved": moved, "first": first,
                    "last": server_had}
            acked = answer.acked_seq
            differ = []
        else:
            acked = min(answer.acked_seq, top)  # never past what this device ever numbered
            if sent is not None:
                acked = min(acked, sent.last)  # the server compared nothing after the batch
            if answer.mismatches:
                acked = min(acked, min(m.seq for m in answer.mismatches) - 1)
            elif answer.acked_seq > top and acked >= newest:
                # the server holds events past all this store has: it lost them
                outbox.held_by_server(uow, top + 1, answer.acked_seq)
                lost = {"count": answer.acked_seq - top, "moved": 0, "first": top + 1,
                        "last": answer.acked_seq}
                acked = answer.acked_seq
        count = 0
        if acked > before:
            uow.conn.execute(t.outbox.update().where(
                mine, t.outbox.c.seq > before, t.outbox.c.seq <= acked,
                t.outbox.c.acked_at.is_(None)).values(acked_at=store.clock.now().isoformat()))
            count = uow.conn.execute(select(func.count()).select_from(t.outbox).where(
                mine, t.outbox.c.seq > before, t.outbox.c.seq <= acked)).scalar()
        elif acked < before:
            uow.conn.execute(t.outbox.update().where(mine, t.outbox.c.seq > acked)
                             .values(acked_at=None))
        unblock = bool(conf.get("blocked")) and acked >= conf["blocked"].get("seq", 0)
        if unblock:  # the server took the event it had refused (fixed on either side)
            conf = {k: v for k, v in conf.items() if k != "blocked"}
        if acked != before or lost or unblock:
            changes = {"acked_seq": acked}
            if lost:
                changes["lost_events"] = {**lost, "at": store.clock.now().isoformat()}
                log.warning("the server holds %s events (seq %s..%s) this till had lost; %s of "
                            "its own were renumbered after them", lost["count"], lost["first"],
                            lost["last"], moved)
            svc.set_setting(uow, "sync", {**conf, **changes})
        uow.commit()
    still = set(differ)
    unresolved = sorted([m for m in answer.mismatches if m.seq in still] + refused,
                        key=lambda m: m.seq)
    if unresolved:
        raise SyncError("sync_mismatch", count=len(unresolved),
                        detail=_REASONS.get(unresolved[0].reason, unresolved[0].reason))
    return _Ack(count, acked, moved)


def sync_now(store: Store, *, transport=None, timeout: float = 10) -> int:
    """Push until the server has everything, then pull the catalog, the stall's stock and the
    organizer's settings, over one connection. Returns the events acked."""
    conf, token = _configured(store)
    with _http(conf["url"], transport, timeout) as http:
        total = _push_all(store, http, token, conf, BATCH)
        while _pull_page(store, http, token, 500):
            pass
        _pull_stock(store, http, token)
        _pull_settings(store, http, token)
    return total


def _pull_stock(store: Store, http: httpx.Client, token: str) -> int:
    """The stall's stock of every tracked product, with this till's events since the server
    counted them added (`pos.services.stock.apply_stall_stock`): what every till sold shows
    here, "sold out" too. Returns how many products changed."""
    from pos.services.stock import apply_stall_stock

    page = _call(http, token, "GET", "/api/v1/stock", p.StockPage)
    with store.unit_of_work(write=False) as uow:
        acked = int(settings(uow).get("acked_seq", 0))
        top = max(outbox.newest_seq(uow), outbox.server_top(uow))
    ids = [x.id for x in page.products]
    # it counts this till's events up to one it has acked at least, never past its newest
    if not acked <= page.counted_seq <= top or len(set(ids)) != len(ids):
        raise SyncError("sync_garbage")
    with store.unit_of_work() as uow:
        changed = apply_stall_stock(uow, {x.id: x.qty for x in page.products}, page.counted_seq)
        if page.hlc:
            _seen(uow, page.hlc)
        uow.commit()
    return changed


def _seen(uow: UnitOfWork, stamp: str) -> None:
    """The till's hybrid clock moves past a stamp the server showed it."""
    from pos.clock import Hlc, receive

    device = uow.store.device
    last = uow.conn.execute(select(t.device.c.last_hlc).where(t.device.c.id == device["id"])).scalar()
    seen = receive(Hlc.parse(last) if last else None, Hlc.parse(stamp), uow.clock.now(),
                   device["code"])
    uow.conn.execute(t.device.update().where(t.device.c.id == device["id"])
                     .values(last_hlc=str(seen)))
    uow.on_commit(uow.store.numbering.forget)


def pull_once(store: Store, *, transport=None, timeout: float = 10, limit: int = 500) -> bool:
    """Fetch one page of catalog changes after the local cursor and apply it with the cursor in
    one transaction. Returns whether more pages wait."""
    conf, token = _configured(store)
    with _http(conf["url"], transport, timeout) as http:
        return _pull_page(store, http, token, limit)


def _pull_page(store: Store, http: httpx.Client, token: str, limit: int,
               seen: dict[str, p.Product] | None = None) -> bool:
    """One page of the catalog after the cursor, applied with its cursor; `seen` collects the
    products as the server sent them."""
    with store.unit_of_work(write=False) as uow:
        after = int(settings(uow).get("catalog_after", 0))
    page = _call(http, token, "GET", "/api/v1/catalog", p.CatalogPage,
                 params={"after": after, "limit": limit})
    with store.unit_of_work() as uow:
        apply_remote_page(uow, list(page.products))
        svc.set_setting(uow, "sync", {**settings(uow), "catalog_after": page.next_after})
        uow.commit()
    if seen is not None:
        seen.update((x.id, x) for x in page.products)
    return page.more


def pull_settings(store: Store, *, transport=None, timeout: float = 10) -> bool:
    """Take the organizer's till settings if they changed since the last pull (receipt texts,
    payment methods), with their version, in one transaction. Returns whether any came."""
    conf, token = _configured(store)
    with _http(conf["url"], transport, timeout) as http:
        return _pull_settings(store, http, token)


def _pull_settings(store: Store, http: httpx.Client, token: str) -> bool:
    with store.unit_of_work(write=False) as uow:
        after = int(settings(uow).get("settings_after", 0))
    page = _call(http, token, "GET", "/api/v1/settings", p.SettingsPage,
                 params={"after": after})
    if page.settings is None:
        if page.version < after:  # the server has fewer versions (restored): follow it
            with store.unit_of_work() as uow:
                svc.set_setting(uow, "sync", {**settings(uow), "settings_after": page.version})
                uow.commit()
        return False
    with store.unit_of_work() as uow:
        apply_settings(uow, page.settings)
        svc.set_setting(uow, "sync", {**settings(uow), "settings_after": page.version})
        uow.commit()
    return True


def apply_settings(uow: UnitOfWork, remote: p.TillSettings) -> None:
    """The organizer's settings over the till's own. A payment method the till has and the
    organizer's list lacks stays, switched off: past sales keep their method's name."""
    from pos.domain import ChangePolicy, MethodKind, PaymentMethod

    changes = {key: getattr(remote, key) for key in ("receipt_footer", "receipt_qr")
               if getattr(remote, key) is not None}
    if changes:
        svc.save_settings(uow, **changes)
    if remote.payment_methods is not None:
        methods = [PaymentMethod(m.code, MethodKind(m.kind), m.label_ko, m.label_en,
                                 ChangePolicy(m.change_policy), m.active)
                   for m in remote.payment_methods]
        listed = {m.code for m in methods}
        methods += [PaymentMethod(m.code, m.kind, m.label_ko, m.label_en, m.change_policy, False)
                    for m in svc.payment_methods(uow).values() if m.code not in listed]
        svc.set_payment_methods(uow, methods)


def apply_remote_page(uow: UnitOfWork, products: list[p.Product]) -> int:
    """Take the products whose stamp is newer than the local one (the newest edit wins,
    wherever it was made), a page at a time with one lookup per table. They go in without
    outbox events: they came from the server. The device's clock moves past every stamp seen,
    so a later local edit wins. Returns how many were taken."""
    from pos.clock import Hlc

    if not products:
        return 0
    ids = [x.id for x in products]
    rows = uow.conn.execute(select(t.products.c.id, t.products.c.hlc, t.products.c.merged_into,
                                   t.products.c.removed).where(t.products.c.id.in_(ids))).all()
    local = {r.id: r.hlc for r in rows}
    live_here = {r.id for r in rows if r.merged_into is None and not r.removed}
    _seen(uow, str(max(Hlc.parse(x.hlc) for x in products)))
    # what the server sends goes onto this till's paper: cleaned as the till's own catalog
    # edits are (a control character or a 10 KB name from elsewhere never stops a pull)
    products = [_cleaned(x) for x in products]
    enterprises = _Enterprises(uow)
    for x in sorted(products, key=lambda x: x.enterprise.hlc or ""):
        enterprises.take_if_newer(x.enterprise)  # from every product, taken or not
    # a merge or removal the server made wins over an edit here it has not seen (that edit,
    # sent, is applied to the product it was merged into)
    # (at the same stamp: the server's version of an edit this till has, its SKU or barcodes
    # given up for another product's, or a merged product's barcodes given to this one)
    newer = [x for x in products if local.get(x.id) is None or local[x.id] <= x.hlc
             or ((x.merged_into or x.removed) and x.id in live_here)]
    if not newer:
        return 0
    uow.note(events.CATALOG)
    # hidden first (merged into another product, or removed): their SKUs and barcodes are
    # free for the products that take them; one this till never had is not made here
    gone = [x for x in newer if x.merged_into or x.removed]
    newer = [x for x in newer if not (x.merged_into or x.removed)]
    # (the product merged into gets its barcodes from the server, sent again after the merge)
    for x in gone:
        if x.id not in local:
            continue
        uow.conn.execute(t.barcodes.delete().where(t.barcodes.c.product_id == x.id))
        uow.conn.execute(t.products.update().where(t.products.c.id == x.id).values(
            active=False, sku=None, merged_into=x.merged_into, removed=x.removed, hlc=x.hlc,
            updated_at=uow.clock.now().isoformat()))
    categories: dict[str, str] = {}
    for x in newer:
        if x.category and x.category not in categories:
            categories[x.category] = svc.add_category(uow, name=x.category)
    # SKUs held by products the page does not change (those it changes give theirs up)
    paged = {x.id for x in newer}
    skus = {r.sku: r.id for r in uow.conn.execute(
        select(t.products.c.sku, t.products.c.id)
        .where(t.products.c.sku.in_([x.sku for x in newer if x.sku]))) if r.id not in paged}
    now = uow.clock.now().isoformat()
    inserts, updates = [], []
    for x in newer:
        values = {"name": x.name, "price": x.price, "tax_class": x.tax_class,
                  "enterprise_id": enterprises.id_for(x.enterprise),
                  "category_id": categories.get(x.category) if x.category else None,
                  "active": x.active, "sku": x.sku, "hlc": x.hlc, "updated_at": now,
                  "merged_into": None, "removed": False}
        if x.sku and skus.get(x.sku) not in (None, x.id):
            values["sku"] = None  # another product here (or of this page) holds the SKU
        elif x.sku:
            skus[x.sku] = x.id
        if x.id in local:
            updates.append({"b_id": x.id, **values})
        else:
            inserts.append({"id": x.id, "version": 1, "stock": None, **values})
    if updates:  # their SKUs cleared first: one may pass to another product of the page
        uow.conn.execute(t.products.update().where(t.products.c.id == bindparam("b_id"))
                         .values(sku=None), [{"b_id": u["b_id"]} for u in updates])
    if inserts:
        uow.conn.execute(t.products.insert(), inserts)
    if updates:
        cols = [c for c in updates[0] if c != "b_id"]
        uow.conn.execute(t.products.update().where(t.products.c.id == bindparam("b_id"))
                         .values({c: bindparam(c) for c in cols}), updates)
    taken = [x.id for x in newer]
    for k in range(0, len(taken), 500):
        uow.conn.execute(t.barcodes.delete().where(t.barcodes.c.product_id.in_(taken[k:k + 500])))
    wanted = [(b, x.id) for x in newer for b in x.barcodes]
    owners = {}
    codes = [b for b, _ in wanted]
    for k in range(0, len(codes), 500):
        owners.update(dict(uow.conn.execute(select(t.barcodes.c.barcode, t.barcodes.c.product_id)
                                            .where(t.barcodes.c.barcode.in_(codes[k:k + 500])))
                           .all()))
    free = []
    count = dict(uow.conn.execute(select(t.barcodes.c.product_id, func.count()).where(
        t.barcodes.c.product_id.in_(list({pid for _b, pid in wanted})))
        .group_by(t.barcodes.c.product_id)).all()) if wanted else {}
    for b, pid in wanted:
        if b not in owners and count.get(pid, 0) < p.MAX_BARCODES:
            owners[b] = pid
            count[pid] = count.get(pid, 0) + 1
            free.append({"barcode": b, "product_id": pid})
    if free:
        uow.conn.execute(t.barcodes.insert(), free)
    return len(newer) + len(gone)


# -- joining a stall that has a catalog ---------------------------------------------------------

JOIN_CHOICES = ("take", "merge")


def _pull_all_seen(store: Store, http: httpx.Client, token: str) -> dict[str, p.Product]:
    """Every catalog page after the cursor, applied; returns the products as the server holds
    them (with the barcodes and SKUs this till may have dropped because one of its own
    products held them)."""
    seen: dict[str, p.Product] = {}
    while _pull_page(store, http, token, 500, seen):
        pass
    return seen


def join_plan(uow: UnitOfWork, stall: dict[str, p.Product]) -> dict | None:
    """What joining the stall's catalog does to this till's own products (those the stall does
    not have): each is matched to one of the stall's (`pos.catalog_match`), or is the till's
    alone (a conflict says why a rule could not decide). None when there is nothing to join:
    the stall has no products yet (the till's become the stall's) or the till has none."""
    from pos import catalog_match as cm

    live = [x for x in stall.values() if not (x.merged_into or x.removed)]
    own = [x for x in svc.list_products(uow) if x["id"] not in stall]
    if not live or not own:
        return None
    skus: dict[str, cm.Known] = {}
    codes: dict[str, cm.Known] = {}
    keys: dict[str, list[cm.Known]] = {}
    for x in live:
        known = cm.Known(x.id, x.sku)
        if x.sku:
            skus.setdefault(x.sku, known)
        for code in x.barcodes:
            codes.setdefault(code, known)
        keys.setdefault(cm.name_key(x.enterprise.name, x.name), []).append(known)
    plan = {"stall_products": len(live), "matched": [], "own": [], "conflicts": []}
    for mine in own:
        found = cm.match(sku=mine["sku"], barcodes=mine["barcodes"],
                         key=cm.name_key(mine["enterprise_name"], mine["name"]),
                         by_sku=skus.get,
                         by_barcodes=lambda cs: {c: codes[c] for c in cs if c in codes},
                         by_key=lambda k: keys.get(k, []))
        if found.id is not None:
            theirs = stall[found.id]
            plan["matched"].append({"id": mine["id"], "name": mine["name"], "into": found.id,
                                    "into_name": theirs.name, "by": found.by,
                                    "sku": theirs.sku, "barcodes": list(theirs.barcodes)})
        else:
            plan["own"].append({"id": mine["id"], "name": mine["name"]})
            if found.conflict:
                plan["conflicts"].append({"name": mine["name"], "why": found.conflict,
                                          "params": found.params or {}})
    plan["merged_count"] = len(plan["matched"])
    return plan


def pending_join(store: Store) -> dict | None:
    """The catalog choice this till waits for since it enrolled, if any."""
    with store.unit_of_work(write=False) as uow:
        return settings(uow).get("catalog_join")


def join_catalog(store: Store, choice: str | None, plan: dict | None = None) -> dict:
    """Carry out the join: this till's products matched to the stall's are merged into them
    (hidden here, their barcodes given to the stall's product; the sales that name them stay);
    with `take`, its other products leave the stall's catalog (removed, or kept inactive where
    a sale names them); with `merge` they join it; with None they wait for the vendor's choice
    (`pending_join`). Each change goes to the server as a
    `product.changed`, so every till hides the same products. Returns what was done."""
    if choice not in (*JOIN_CHOICES, None):
        raise ValueError(choice)
    with store.unit_of_work() as uow:
        conf = settings(uow)
        plan = plan or conf.get("catalog_join")
        done = {"merged": 0, "removed": 0, "kept_inactive": 0, "joined": 0}
        if plan is None:
            return done
        messages = []
        for m in plan["matched"]:
            product = svc.get_product(uow, product_id=m["id"])
            if product is None or product["merged_into"] or product["removed"]:
                continue
            messages.append(_hidden_message(uow, product, merged_into=m["into"]))
            _hide(uow, m["id"], merged_into=m["into"], give_to=m)
            done["merged"] += 1
        for o in plan["own"] if choice is not None else ():
            product = svc.get_product(uow, product_id=o["id"])
            if product is None or product["merged_into"] or product["removed"]:
                continue
            if choice == "merge":
                done["joined"] += 1
                continue
            sold = uow.conn.execute(select(t.sale_lines.c.sale_id).where(
                t.sale_lines.c.product_id == o["id"]).limit(1)).first() is not None
            if sold:  # the sales name it: kept, no longer sold
                if product["active"]:
                    svc.update_product(uow, product_id=o["id"], active=False)
                done["kept_inactive"] += 1
            else:
                messages.append(_hidden_message(uow, product, removed=True))
                _hide(uow, o["id"], removed=True)
                done["removed"] += 1
        if messages:
            catalog_service.product_changed(uow, messages=messages)
        rest = {k: v for k, v in settings(uow).items() if k != "catalog_join"}
        if choice is None and plan["own"]:  # the till's own products wait for the vendor
            rest["catalog_join"] = {**plan, "matched": []}
        svc.set_setting(uow, "sync", rest)
        uow.commit()
    return done


def _hidden_message(uow: UnitOfWork, product: dict, *, merged_into: str | None = None,
                    removed: bool = False) -> dict:
    message = catalog_service.product_message(product, svc.find_enterprise(uow, ref=product["enterprise_id"]))
    return {**message, "barcodes": [], "sku": None, "active": False,
            "merged_into": merged_into, "removed": removed}


def _hide(uow: UnitOfWork, product_id: str, *, merged_into: str | None = None,
          removed: bool = False, give_to: dict | None = None) -> None:
    """Hide a product of this till; its SKU and barcodes go to the stall's product it is
    (`give_to`: the plan's match, with the stall's SKU and barcodes for it)."""
    mine = [b for b, in uow.conn.execute(select(t.barcodes.c.barcode)
                                         .where(t.barcodes.c.product_id == product_id))]
    sku = uow.conn.execute(select(t.products.c.sku).where(t.products.c.id == product_id)).scalar()
    uow.conn.execute(t.barcodes.delete().where(t.barcodes.c.product_id == product_id))
    uow.conn.execute(t.products.update().where(t.products.c.id == product_id).values(
        active=False, sku=None, merged_into=merged_into, removed=removed,
        updated_at=uow.clock.now().isoformat()))
    uow.note(events.CATALOG)
    if give_to is None:
        return
    target = give_to["into"]
    if uow.conn.execute(select(t.products.c.id).where(t.products.c.id == target)).first() is None:
        return
    want_sku = give_to.get("sku") or sku
    if want_sku and uow.conn.execute(select(t.products.c.id).where(
            t.products.c.sku == want_sku)).first() is None:
        uow.conn.execute(t.products.update().where(t.products.c.id == target,
                                                   t.products.c.sku.is_(None))
                         .values(sku=want_sku))
    has = uow.conn.execute(select(func.count()).select_from(t.barcodes)
                           .where(t.barcodes.c.product_id == target)).scalar()
    for code in list(dict.fromkeys(list(give_to.get("barcodes") or []) + mine)):
        if has >= p.MAX_BARCODES:  # as the server: the stall's product keeps its first 20
            break
        if uow.conn.execute(select(t.barcodes.c.barcode).where(
                t.barcodes.c.barcode == code)).first() is None:
            uow.conn.execute(t.barcodes.insert().values(barcode=code, product_id=target))
            has += 1


def _cleaned(x):
    from pos.domain import clean_text

    enterprise = x.enterprise.model_copy(update={"name": clean_text(
        x.enterprise.name, lenient=True) or "?"})
    return x.model_copy(update={
        "name": clean_text(x.name, lenient=True) or "?", "enterprise": enterprise,
        "category": clean_text(x.category, limit=60, lenient=True) or None if x.category
        else x.category,
        "sku": clean_text(x.sku, limit=64, lenient=True) or None if x.sku else x.sku})


class _Enterprises:
    """The till's enterprises as products from the server name them: by registration number
    where both sides have one, else by name. Their attributes are a register of their own,
    taken from whichever product carries the newest enterprise stamp."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow
        self.rows = {r.id: dict(r._mapping) for r in uow.conn.execute(
            select(t.enterprises.c.id, t.enterprises.c.name, t.enterprises.c.bizno,
                   t.enterprises.c.hlc))}

    def find(self, e: p.ProductEnterprise) -> dict | None:
        if e.bizno:
            for row in self.rows.values():
                if row["bizno"] == e.bizno:
                    return row
        return next((row for row in self.rows.values() if row["name"] == e.name), None)

    def take_if_newer(self, e: p.ProductEnterprise) -> None:
        row = self.find(e)
        if row is None or not e.hlc or (row["hlc"] and row["hlc"] >= e.hlc):
            return
        values = {"tax_status": e.tax_status, "commission_bp": e.commission_bp, "hlc": e.hlc,
                  "cash_receipt_mandatory": e.cash_receipt_mandatory,
                  "card_terminal": e.card_terminal}
        if e.bizno:
            values["bizno"] = e.bizno
        if e.name != row["name"] and not any(r["name"] == e.name for r in self.rows.values()):
            values["name"] = e.name  # renamed where it was edited
        self.uow.note(events.CATALOG)
        self.uow.conn.execute(t.enterprises.update().where(t.enterprises.c.id == row["id"])
                              .values(**values))
        row.update(values)

    def id_for(self, e: p.ProductEnterprise) -> str:
        row = self.find(e)
        if row is None:
            eid = svc.add_enterprise(self.uow, name=e.name, tax_status=e.tax_status,
                                     commission_bp=e.commission_bp,
                                     cash_receipt_mandatory=e.cash_receipt_mandatory,
                                     card_terminal=e.card_terminal)
            if e.bizno or e.hlc:
                self.uow.conn.execute(t.enterprises.update().where(t.enterprises.c.id == eid)
                                      .values(bizno=e.bizno, hlc=e.hlc))
            row = self.rows[eid] = {"id": eid, "name": e.name, "bizno": e.bizno, "hlc": e.hlc}
        return row["id"]


class SyncWorker(BackgroundLoop):
    """Pushes and pulls in the background; `listener(SyncState)` is called from the worker
    thread. While the server cannot be reached it tries again every few seconds (a refused
    connection costs nothing), so a till that sold offline all day is synced within seconds of
    the network or the server coming back; a server that answers with errors is given an
    exponentially longer rest, with jitter so that tills do not retry in step."""

    def __init__(self, store: Store, *, listener: Callable[[SyncState], None] | None = None,
                 transport=None, interval: float = 10.0, max_backoff: float = 300.0,
                 offline_retry: float = 5.0):
        self.store = store
        self.listener = listener
        self.transport = transport
        self.interval = interval
        self.max_backoff = max_backoff
        self.offline_retry = offline_retry
        self.failures = 0
        super().__init__()

    name = "sync-worker"
    wake_topics = frozenset({events.OUTBOX})  # a sale, a shift, a catalog edit: push it now

    def _notify(self, **kw) -> None:
        if self.listener is not None:
            try:
                self.listener(sync_state(self.store, **kw))
            except Exception:  # noqa: BLE001 - a listener must never stop syncing, nor hide
                log.exception("sync state listener failed")

    def step(self) -> float:
        error = None
        try:
            with self.store.unit_of_work(write=False) as uow:
                configured = bool(settings(uow).get("url"))
            if configured:
                self._notify(syncing=True)
                sync_now(self.store, transport=self.transport)
                self.failures = 0
        except SyncError as e:
            error = e
            self.failures += 1
        except StoreError as e:  # the till's own disk (full, read-only): try again later
            error = SyncError("sync_local_store", detail=error_text(e, detect_lang()))
            self.failures += 1
        except Exception as e:  # noqa: BLE001 - a fault of ours: logged and shown as one
            log.exception("sync failed unexpectedly")
            error = SyncError("sync_fault", detail=f"{type(e).__name__}: {e}"[:300])
            self.failures += 1
        self._notify(error=error)
        if not self.failures:
            return self.interval
        if error is not None and error.code == "sync_offline":
            return min(self.interval, self.offline_retry) * random.uniform(0.5, 1.0)
        if error is not None and error.code == "sync_busy":  # as long as the server asked
            return float(error.params.get("seconds", self.interval)) * random.uniform(1.0, 1.5)
        wait = min(self.max_backoff, self.interval * 2 ** min(self.failures, 8))
        return wait * random.uniform(0.5, 1.0)  # jitter: tills do not retry in step
