"""The HTTP API (FastAPI). Thin: authenticate, validate, call `service` in one transaction.

The routes are two routers with shared dependencies (`deps.py`): what tills ask
(`device_routes.py`) and what the organizer does (`organizer_routes.py`, typed answers in
`answers.py`). This module puts them together with the body-size limit and the refusals.
"""

import asyncio
import gc
import logging
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from sync import protocol as p
from sync.server import device_routes, organizer_routes, service
from sync.server.db import make_engine, migrate

log = logging.getLogger("jangteo.server")


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
    # A batch being applied holds its parsed events (some 20 MB for 500 sales); more pushes at
    # once than this wait their turn. Several processes may serve one PostgreSQL.
    app.state.push_slots = asyncio.Semaphore(PUSH_SLOTS)
    app.include_router(device_routes.router)
    app.include_router(organizer_routes.router)

    @app.middleware("http")
    async def limit_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > p.MAX_BODY_BYTES):
            return JSONResponse({"detail": "request too large"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError):
        # two requests at once creating the same name: the database's unique rule decides
        log.info("conflict %s %s: %s", request.method, request.url.path, exc.orig)
        return JSONResponse({"detail": "this conflicts with something already there (a name "
                                       "or number that must be unique)"}, status_code=409)

    @app.exception_handler(service.Refused)
    async def refused(request: Request, exc: service.Refused):
        log.info("refused %s %s: %s %s", request.method, request.url.path, exc.status, exc.reason)
        return JSONResponse({"detail": exc.reason}, status_code=exc.status)

    push_schema = p.PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    push_defs = push_schema.pop("$defs", {})

    def openapi() -> dict:  # the push body's models, which FastAPI does not see, published too
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                {**push_defs, "PushRequest": push_schema})
        return app.openapi_schema

    app.openapi = openapi
    return app
