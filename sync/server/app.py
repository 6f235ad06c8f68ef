"""The HTTP API (FastAPI). Thin: authenticate, validate, call `service` in one transaction."""


import asyncio
import gc
import os
from typing import Annotated

import orjson
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from sync import protocol as p
from sync.server import service
from sync.server import tables as t
from sync.server.db import make_engine, migrate


PUSH_SLOTS = 4
DB_ENV = "JANGTEO_SERVER_DB"


def from_environment() -> FastAPI:
    """The app of `jangteo-server serve`, built in each server process from the database URL
    in $JANGTEO_SERVER_DB (migrated before the processes start)."""
    app = create_app(os.environ[DB_ENV], run_migrations=False)
    # A push batch makes some 100,000 short-lived objects; the default collector thresholds
    # would walk them every 700 allocations (15-40% of a push's time). Collect less often and
    # leave what was loaded at start out of it.
    gc.set_threshold(50_000, 20, 20)
    gc.freeze()
    return app


def create_app(db_url: str, *, run_migrations: bool = True) -> FastAPI:
    engine: Engine = make_engine(db_url)
    if run_migrations:
        migrate(engine)
    app = FastAPI(title="Jangteo server", version=str(p.PROTOCOL_VERSION),
                  description="Devices push their sales; organizers see every stall's totals.")
    app.state.engine = engine

    @app.middleware("http")
    async def limit_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > p.MAX_BODY_BYTES):
            return JSONResponse({"detail": "request too large"}, status_code=413)
        return await call_next(request)

    async def read_limited(request: Request) -> bytes:
        """The body, refused past the limit even when it comes without a length."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > p.MAX_BODY_BYTES:
                raise HTTPException(413, "request too large")
            chunks.append(chunk)
        return b"".join(chunks)

    push_schema = p.PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    push_defs = push_schema.pop("$defs", {})

    def openapi() -> dict:  # the push body's models, which FastAPI does not see, published too
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                {**push_defs, "PushRequest": push_schema})
        return app.openapi_schema

    app.openapi = openapi

    @app.exception_handler(service.Refused)
    async def refused(_request, exc: service.Refused):
        return JSONResponse({"detail": exc.reason}, status_code=exc.status)

    def transaction():
        with engine.begin() as conn:
            yield conn

    Tx = Annotated[Connection, Depends(transaction)]

    def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401, "a bearer token is required")
        return authorization.removeprefix("Bearer ").strip()

    Token = Annotated[str, Depends(bearer)]

    @app.get("/api/v1/health")
    def health() -> dict:
        return {"ok": True, "protocol": p.PROTOCOL_VERSION}

    @app.post("/api/v1/enroll", response_model=p.EnrollResponse)
    def enroll(req: p.EnrollRequest, conn: Tx) -> p.EnrollResponse:
        return service.enroll(conn, req)

    # A batch being applied holds its parsed events (some 20 MB for 500 sales); more pushes
    # at once than this wait their turn with their bodies unread, which keeps the memory of a
    # server that 100 tills reach at once flat. Several processes may serve one PostgreSQL.
    push_slots = asyncio.Semaphore(PUSH_SLOTS)

    def push_now(body: bytes, token: str) -> Response:
        try:
            with engine.begin() as conn:
                device = service.device_for(conn, token)  # who asks, before what they say
                answer = service.push(conn, device, p.parse_push(body))
        except p.ProtocolError as e:
            return JSONResponse({"detail": e.reason}, status_code=422)
        return Response(orjson.dumps(answer.model_dump()), media_type="application/json")

    @app.post("/api/v1/push", response_model=p.PushResponse, openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/PushRequest"}}}}})
    async def push(request: Request, token: Token) -> Response:
        """Read as bytes and checked by `protocol.parse_push`: an event the server already
        has is compared by its canonical bytes instead of being parsed again."""
        async with push_slots:
            body = await read_limited(request)
            return await run_in_threadpool(push_now, body, token)

    @app.get("/api/v1/status", response_model=p.Status)
    def status(conn: Tx, token: Token) -> p.Status:
        return service.status(conn, service.device_for(conn, token))

    @app.get("/api/v1/catalog", response_model=p.CatalogPage)
    def catalog(conn: Tx, token: Token, after: int = 0, limit: int = 500) -> Response:
        device = service.device_for(conn, token)
        body = service.catalog_page_json(conn, stall_id=device["stall_id"], after=after,
                                         limit=max(1, min(limit, 5000)))
        return Response(content=body, media_type="application/json")

    def organizer(conn: Tx, token: Token) -> None:
        if not service.is_organizer(conn, token):
            raise HTTPException(403, "organizer access only")

    Organizer = Depends(organizer)

    @app.get("/api/v1/events", dependencies=[Organizer])
    def events(conn: Tx) -> list[dict]:
        return service.list_events(conn)

    @app.post("/api/v1/events", status_code=201, dependencies=[Organizer])
    def create_event(new: p.NewEvent, conn: Tx) -> dict:
        return service.find_event(conn, service.create_event(conn, name=new.name))

    @app.get("/api/v1/events/{event}/stalls", dependencies=[Organizer])
    def stalls(event: str, conn: Tx) -> list[dict]:
        return service.list_stalls(conn, event_id=service.find_event(conn, event)["id"])

    @app.post("/api/v1/events/{event}/stalls", status_code=201, dependencies=[Organizer])
    def create_stall(event: str, new: p.NewStall, conn: Tx) -> dict:
        found = service.find_event(conn, event)
        return service.find_stall(conn, service.create_stall(conn, event_id=found["id"],
                                                             name=new.name))

    @app.post("/api/v1/events/{event}/enterprises", status_code=201, dependencies=[Organizer])
    def add_enterprise(event: str, new: p.NewEnterprise, conn: Tx) -> dict:
        found = service.find_event(conn, event)
        eid = service.add_enterprise(conn, event_id=found["id"], name=new.name, bizno=new.bizno)
        return dict(conn.execute(select(t.enterprises).where(t.enterprises.c.id == eid))
                    .mappings().one())

    @app.post("/api/v1/stalls/{stall}/device-codes", status_code=201, dependencies=[Organizer])
    def device_code(stall: str, new: p.NewDeviceCode, conn: Tx) -> dict:
        """A one-time enrollment code for a till of the stall (shown once; stored hashed)."""
        found = service.find_stall(conn, stall)
        return {"code": service.device_code(conn, stall_id=found["id"],
                                            valid_hours=new.valid_hours),
                "stall": found["name"], "valid_hours": new.valid_hours}

    @app.put("/api/v1/stalls/{stall}/products", dependencies=[Organizer])
    def put_product(stall: str, product: p.ProductEdit, conn: Tx) -> dict:
        found = service.find_stall(conn, stall)
        stamped = p.Product(**product.model_dump(), hlc=service.server_stamp(conn))
        return {"taken": service.put_product(conn, stall_id=found["id"], product=stamped),
                "hlc": stamped.hlc}

    @app.put("/api/v1/events/{event}/settings", dependencies=[Organizer])
    def put_settings(event: str, settings: p.TillSettings, conn: Tx) -> dict:
        """Receipt texts and payment methods for every till of the event (they pull them)."""
        found = service.find_event(conn, event)
        return {"version": service.put_settings(conn, event_id=found["id"], settings=settings)}

    @app.get("/api/v1/settings", response_model=p.SettingsPage)
    def settings(conn: Tx, token: Token, after: int = 0) -> p.SettingsPage:
        return service.settings_page(conn, device=service.device_for(conn, token), after=after)

    @app.get("/api/v1/events/{event}/totals", dependencies=[Organizer])
    def totals(event: str, conn: Tx) -> dict:
        return service.totals(conn, event_id=service.find_event(conn, event)["id"])

    @app.get("/api/v1/events/{event}/alerts", dependencies=[Organizer])
    def alerts(event: str, conn: Tx) -> list[dict]:
        """Events a device sent again with different content, kept for the organizer."""
        return service.alerts(conn, event_id=service.find_event(conn, event)["id"])

    return app
