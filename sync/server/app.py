"""The HTTP API (FastAPI). Thin: authenticate, validate, call `service` in one transaction.

The routes are two routers with shared dependencies (`deps.py`): what tills ask
(`device_routes.py`) and what the organizer does (`organizer_routes.py`, typed answers in
`answers.py`). This module puts them together with the body-size limit and the refusals.
"""

import asyncio
import gc
import logging
import os

from pydantic import BaseModel
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync import protocol as p
from sync.server import console_routes, device_routes, organizer_routes, service
from sync.server.db import make_engine, migrate
from sync.server.limits import FailureLimit

log = logging.getLogger("jangteo.server")


PUSH_SLOTS = 4
READ_SLOTS = 64
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


HTTP_CODES = {400: "bad_request", 401: "token_missing", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 408: "body_too_slow", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "invalid", 429: "too_many_attempts"}


def problem(status: int, code: str, detail: str, headers: dict | None = None,
            **more) -> JSONResponse:
    """A refusal in the one shape every 4xx has (`protocol.Problem`); a 401 says which scheme
    it wants."""
    body = p.Problem(code=code, detail=detail, **more).model_dump(exclude_none=True)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def _unreadable(cause: BaseException) -> str:
    if isinstance(cause, RecursionError):
        return "the body is not JSON the server can read: nested too deep"
    if isinstance(cause, UnicodeError):
        return "the body is not JSON: it is not UTF-8"
    return f"the body is not JSON ({type(cause).__name__})"


class BodyGuard:
    """Every request's body: at most MAX_BODY_BYTES (413), with or without a Content-Length,
    counted as it arrives; a body that says it is not JSON is 415; and a body that comes too
    slowly — a pause longer than `idle` seconds, or not all there `seconds` after the request
    began — is 408 `body_too_slow`, so a trickling client cannot hold what it was given."""

    def __init__(self, app, seconds: float = p.BODY_SECONDS,
                 idle: float = p.BODY_IDLE_SECONDS):
        self.app = app
        self.seconds = seconds
        self.idle = idle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > p.MAX_BODY_BYTES):
            return await problem(413, "too_large", f"request too large (over "
                                 f"{p.MAX_BODY_BYTES} bytes)")(scope, receive, send)
        kind = headers.get("content-type")
        if scope["method"] in ("POST", "PUT", "PATCH") and kind is not None:
            media = kind.split(";")[0].strip().lower()
            form = media == "application/x-www-form-urlencoded" and \
                console_routes.is_console(scope.get("path", ""))  # the console's forms
            if media != "application/json" and not media.endswith("+json") and not form:
                return await problem(415, "unsupported_media_type",
                                     f"the body must be JSON (Content-Type: application/json), "
                                     f"not {media[:60]!r}")(scope, receive, send)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        size = 0
        whole = False  # once the body is in, receive() only waits for a disconnect: untimed

        async def counted():
            nonlocal size, whole
            if whole:
                return await receive()
            wait = min(self.idle, deadline - loop.time())
            try:
                if wait <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:  # raised in the route, answered by its handler
                raise StarletteHTTPException(408, (
                    f"the body came too slowly (a pause over {self.idle:g} s, or not all "
                    f"there within {self.seconds:g} s): nothing was kept; send it again")
                ) from None
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > p.MAX_BODY_BYTES:
                    raise StarletteHTTPException(413, f"request too large (over "
                                                      f"{p.MAX_BODY_BYTES} bytes)")
                whole = not message.get("more_body", False)
            else:
                whole = True
            return message

        await self.app(scope, counted, send)


def create_app(db_url: str, *, run_migrations: bool = True,
               body_seconds: float = p.BODY_SECONDS,
               body_idle: float = p.BODY_IDLE_SECONDS) -> FastAPI:
    engine: Engine = make_engine(db_url)
    if run_migrations:
        migrate(engine)
    app = FastAPI(title="Jangteo server", version=str(p.PROTOCOL_VERSION),
                  description="Devices push their sales; organizers see every stall's totals.")
    app.state.engine = engine
    # A batch being applied holds its parsed events (some 20 MB for 500 sales); more pushes at
    # once than this wait their turn. Several processes may serve one PostgreSQL.
    app.state.push_slots = asyncio.Semaphore(PUSH_SLOTS)
    # Bodies being received at once (raw bytes, a twentieth of what they become parsed): one
    # per device at most, and each for at most `body_seconds`, so slow senders hold no slot
    # to apply.
    app.state.read_slots = asyncio.Semaphore(READ_SLOTS)
    app.state.pushing = set()  # ids of the devices whose push this process is handling
    app.state.enroll_failures = FailureLimit()  # wrong enrollment codes, per address and in all
    app.include_router(device_routes.router)
    app.include_router(organizer_routes.router)
    app.include_router(console_routes.router)

    app.add_middleware(BodyGuard, seconds=body_seconds, idle=body_idle)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [e for e in exc.errors()]
        code = "not_json" if any(e["type"] == "json_invalid" for e in errors) else "invalid"
        detail = "the body is not JSON" if code == "not_json" else p.describe(errors[0])
        return problem(422, code, detail, errors=[
            p.FieldError(loc=[x if isinstance(x, int) else str(x) for x in e["loc"]],
                         msg=str(e["msg"]), type=str(e["type"])) for e in errors[:20]])

    @app.exception_handler(StarletteHTTPException)
    async def http_refusal(request: Request, exc: StarletteHTTPException):
        if console_routes.is_console(request.url.path) and exc.status_code in (404, 405, 413):
            from starlette.concurrency import run_in_threadpool

            key = {404: "page_unknown", 405: "method_unknown", 413: "form_too_large"}
            answer = await run_in_threadpool(
                lambda: console_routes.refused(request, console_routes.current(request),
                                               key[exc.status_code], exc.status_code))
            answer.headers.update(exc.headers or {})  # a 405 says which methods (Allow)
            return answer
        if exc.status_code == 400 and exc.__cause__ is not None:  # FastAPI could not read it
            return problem(422, "not_json", _unreadable(exc.__cause__))
        return problem(exc.status_code, HTTP_CODES.get(exc.status_code, "refused"),
                       str(exc.detail), headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError):
        # two requests at once creating the same name: the database's unique rule decides
        log.info("conflict %s %s: %s", request.method, request.url.path, exc.orig)
        return problem(409, "conflict", "this conflicts with something already there (a name "
                                        "or number that must be unique)")

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError):
        # the last guard: a value the checks let through and the database cannot store is the
        # request's fault and would fail again; a till must hear why, not retry for ever
        log.warning("unstorable %s %s: %s", request.method, request.url.path, exc.orig)
        return problem(422, "unstorable", "a value of the request cannot be stored "
                                          f"({type(exc.orig).__name__})")

    @app.exception_handler(service.Refused)
    async def refused(request: Request, exc: service.Refused):
        log.info("refused %s %s: %s %s", request.method, request.url.path, exc.status, exc.reason)
        return problem(exc.status, exc.code, exc.reason, exc.headers)

    push_schema = p.PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    push_defs = push_schema.pop("$defs", {})

    def openapi() -> dict:  # the push body's models, which FastAPI does not see, published too
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            models = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in {**push_defs, "PushRequest": push_schema}.items():
                # a model also in an answer (a sale's `Document`) is the same class, which
                # FastAPI writes in its own way: the protocol's own schema of it is kept
                if models.setdefault(name, model) != model and not _same_class(name, model):
                    raise RuntimeError(f"the OpenAPI has two models named {name}")
                models[name] = model
            # FastAPI lists its own 422 body on routes whose only parameters are paths (which
            # take any text); every refusal here is a `Problem`, listed where it can happen
            for methods in schema["paths"].values():
                for operation in methods.values():
                    if "HTTPValidationError" in str(operation["responses"].get("422")):
                        del operation["responses"]["422"]
            if "HTTPValidationError" not in str(schema["paths"]):
                models.pop("HTTPValidationError", None)
                models.pop("ValidationError", None)
        return app.openapi_schema

    app.openapi = openapi
    return app


def _same_class(name: str, schema: dict) -> bool:
    """Whether `schema` is the protocol's own schema of its model `name`."""
    model = getattr(p, name, None)
    return isinstance(model, type) and issubclass(model, BaseModel) and \
        model.model_json_schema(ref_template="#/components/schemas/{model}").get(
            "properties") == schema.get("properties")
