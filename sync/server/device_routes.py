"""What tills ask: enrol, push their events, their status, the catalog and settings pages, the
stall's sales they give back."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

import math

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from sync import protocol as p
from sync.server import returns, service
from sync.server.deps import WITH_BODY, Device, Token, Tx, problems, read_limited

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["tills"])

Cursor = Annotated[int, Query(ge=0, le=p.MAX_SEQ, description="the version last taken")]


@router.get("/health")
def health() -> dict:
    return {"ok": True, "protocol": p.PROTOCOL_VERSION}


@router.post("/enroll", response_model=p.EnrollResponse,
             responses=problems(403, 409, 429, *WITH_BODY))
def enroll(req: p.EnrollRequest, request: Request) -> p.EnrollResponse:
    """A wrong code counts against the address it came from and against all: past the limits
    (`app.state.enroll_failures`) the answer is 429 before the code is looked at."""
    limit = request.app.state.enroll_failures
    client = request.client.host if request.client else "?"
    wait = limit.wait(client)
    if wait is not None:
        seconds = max(1, math.ceil(wait[0]))
        raise service.Refused(429, f"too many wrong enrollment codes {wait[1]}: try again in "
                                   f"{seconds} s", headers={"Retry-After": str(seconds)})
    try:  # its own transaction, so a refused code is counted after its rollback
        with request.app.state.engine.begin() as conn:
            return service.enroll(conn, req)
    except service.Refused as e:
        if e.code == "code_unusable":
            limit.failed(client)
        raise


def _push_now(engine, body: bytes, token: str) -> Response:
    device = None
    try:
        with engine.begin() as conn:
            # asked again, in the push's transaction: a till revoked while its body was
            # arriving is refused (one indexed lookup beside a batch of hundreds of rows)
            device = service.device_for(conn, token)
            answer = service.push(conn, device, p.parse_push(body))
    except p.ProtocolError as e:
        if device is not None:  # the organizer sees it; the refused batch itself stores nothing
            try:
                with engine.begin() as conn:
                    service.refused_push(conn, device, e)
            except SQLAlchemyError:  # the refusal is still the answer
                log.exception("the alert for a refused push was not stored")
        return JSONResponse(e.problem().model_dump(exclude_none=True), status_code=422)
    return Response(orjson.dumps(answer.model_dump()), media_type="application/json")


def _who(engine, token: str) -> dict:
    with engine.begin() as conn:
        return service.device_for(conn, token)


@router.post("/push", response_model=p.PushResponse,
             responses=problems(401, 403, 429, *WITH_BODY),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/PushRequest"}}}}})
async def push(request: Request, token: Token) -> Response:
    """Read as bytes and checked by `protocol.parse_push`: an event the server already has is
    compared by its canonical bytes instead of being parsed again.

    Who asks is known before the body is read (401/403 cost no upload), and a device has one
    push at a time here: another while one is being received or applied is 429
    `push_in_progress`. Bodies are received outside the slots that apply them (`read_slots`,
    bounded in time by `BodyGuard`), so slow senders never hold up the others; at most a few
    pushes are applied at once per process (`push_slots`), the others waiting with their
    bodies as bytes, which keeps memory flat when a hundred tills come online together."""
    state = request.app.state
    device = await run_in_threadpool(_who, state.engine, token)
    if device["id"] in state.pushing:
        raise service.Refused(
            429, "a push from this till is still being received or applied: one at a time; "
                 f"send it again in {p.PUSH_RETRY_AFTER} s", "push_in_progress",
            headers={"Retry-After": str(p.PUSH_RETRY_AFTER)})
    state.pushing.add(device["id"])
    try:
        async with state.read_slots:
            body = await read_limited(request)
        async with state.push_slots:
            return await run_in_threadpool(_push_now, state.engine, body, token)
    finally:
        state.pushing.discard(device["id"])


@router.get("/status", response_model=p.Status, responses=problems(401, 403))
def status(conn: Tx, device: Device) -> p.Status:
    return service.status(conn, device)


@router.get("/stock", response_model=p.StockPage, responses=problems(401, 403))
def stock(conn: Tx, device: Device) -> p.StockPage:
    """The stall's stock of every tracked product, from every till's movements and sales."""
    return service.stock_page(conn, device)


@router.get("/catalog", response_model=p.CatalogPage, responses=problems(401, 403, 422))
def catalog(conn: Tx, device: Device, after: Cursor = 0,
            limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Response:
    body = service.catalog_page_json(conn, stall_id=device["stall_id"], after=after,
                                     limit=limit)
    return Response(content=body, media_type="application/json")


@router.get("/settings", response_model=p.SettingsPage, responses=problems(401, 403, 422))
def settings(conn: Tx, device: Device, after: Cursor = 0) -> p.SettingsPage:
    return service.settings_page(conn, device=device, after=after)


@router.get("/sales", response_model=p.SaleLookup, responses=problems(401, 403, 404, 422))
def sales(conn: Tx, device: Device,
          receipt_no: Annotated[str, Query(min_length=1, max_length=40, pattern=p.PLAIN,
                                           description="as printed or scanned")]) -> p.SaleLookup:
    """The till's stall's sales with this receipt number, each with what any till gave back."""
    return returns.lookup(conn, device, receipt_no)


@router.get("/sales/{sale_id}", response_model=p.SaleCopy, responses=problems(401, 403, 404, 422))
def sale(conn: Tx, device: Device, sale_id: UUID) -> p.SaleCopy:
    return returns.sale_copy(conn, device, str(sale_id))


@router.post("/sales/{sale_id}/returns", response_model=p.SaleCopy,
             responses=problems(401, 403, 404, 409, 422, *WITH_BODY))
def hold_return(conn: Tx, device: Device, sale_id: UUID, req: p.ReturnHold) -> p.SaleCopy:
    """Hold quantities of the sale for a void or refund about to be recorded (409
    `over_returned` when they are not left); answers the sale as it was before this hold."""
    return returns.hold(conn, device, str(sale_id), req)


@router.get("/stall/documents", response_model=p.StallDayPage,
            responses=problems(401, 403, 422))
def stall_documents(conn: Tx, device: Device,
                    day: Annotated[str, Query(pattern=p.DAY, description="YYYY-MM-DD")],
                    after_device: Annotated[str, Query(max_length=36, pattern=p.PLAIN)] = "",
                    after_seq: Annotated[int, Query(ge=0, le=p.MAX_SEQ)] = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> p.StallDayPage:
    """Every till's documents of the stall for one business day, and how far each till is
    synced: what a till makes the stall's settlement from."""
    from datetime import date

    try:
        date.fromisoformat(day)
    except ValueError:
        raise service.Refused(422, f"{day!r} is not a date (2026-11-22)", "invalid") from None
    return returns.stall_day(conn, device, day=day, after_device=after_device,
                             after_seq=after_seq, limit=limit)
