"""What the server's routes share: the transaction, who is asking, bounded bodies, and the
refusals each route can answer (documented with one error model, `protocol.Problem`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection

from sync import protocol as p
from sync.server import service


def transaction(request: Request):
    """One transaction per request, committed when the route returns without raising, and
    before its answer is sent (scope "function"): a client that was told "created" finds it on
    its very next request. With FastAPI's default scope the commit came after the answer, and a
    stall created right after its event was sometimes refused with "no event"."""
    with request.app.state.engine.begin() as conn:
        yield conn


Tx = Annotated[Connection, Depends(transaction, scope="function")]

# the security scheme the OpenAPI declares; the token is checked by `device` and `organizer`
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer", description=(
    "A device token (from enrollment) for the till routes, an organizer token "
    "(`jangteo-server organizer-token`) for the organizer routes."))


def bearer(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                  Depends(bearer_scheme)] = None) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise service.Refused(401, "a bearer token is required (Authorization: Bearer …)",
                              "token_missing")
    return credentials.credentials.strip()


Token = Annotated[str, Depends(bearer)]


def device(conn: Tx, token: Token) -> dict:
    """The enrolled device the token belongs to."""
    return service.device_for(conn, token)


Device = Annotated[dict, Depends(device)]


def organizer(conn: Tx, token: Token) -> None:
    """An organizer token: a till's token is known but has no right here (403), any other is
    not a token of this server (401)."""
    if service.is_organizer(conn, token):
        return
    if service.is_device(conn, token):
        raise service.Refused(403, "organizer access only: this is a till's token")
    raise service.Refused(401, "unknown token")


Organizer = Depends(organizer)


async def read_limited(request: Request) -> bytes:
    """The body, refused past the limit even when it comes without a length."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > p.MAX_BODY_BYTES:
            raise HTTPException(413, "request too large")
        chunks.append(chunk)
    return b"".join(chunks)


# -- the refusals, as the OpenAPI lists them per route -------------------------------------------

_SAID = {
    401: "No token, or not a token of this server (`token_missing`, `token_unknown`), or "
         "the token of a till the organizer revoked (`device_revoked`).",
    403: "A token without the right to this call (`forbidden`), or an enrollment code that is "
         "unknown, used, cancelled or expired (`code_unusable`).",
    404: "No such event or stall (`not_found`).",
    409: "A name or number that must be unique is taken (`conflict`; at enrollment "
         "`device_code_taken`: an active till of the stall has the device code the enrollment "
         "code names, or the till enrolling again has another), or a stall "
         "name more than one event uses (`ambiguous`: give its id).",
    408: f"The body came too slowly (`body_too_slow`): a pause over {p.BODY_IDLE_SECONDS:g} s, or "
         f"not all there {p.BODY_SECONDS:g} s after the request began. Nothing was kept: send "
         "it again.",
    413: f"The body is over {p.MAX_BODY_BYTES // (1024 * 1024)} MiB (`too_large`).",
    415: "The body is not sent as JSON (`unsupported_media_type`).",
    429: "Too many wrong enrollment codes from this address or in all "
         "(`too_many_attempts`), or, for a push, another push of this till is still being "
         "received or applied (`push_in_progress`): try again after `Retry-After` seconds.",
    422: "The request is not one the server can take, and nothing of it was kept: "
         "`not_json`, `invalid` (a field, named in `errors`), `protocol`, `batch` or, "
         "for a push, `event` with the refused event's `seq`, `event_id` and `field`.",
}


def problems(*statuses: int) -> dict:
    said = {status: {"model": p.Problem, "description": _SAID[status]} for status in statuses}
    if 429 in said:
        said[429]["headers"] = {"Retry-After": {
            "description": "seconds until the next attempt is heard", "schema": {"type": "integer"}}}
    return said


WITH_BODY = (408, 413, 415, 422)
DEVICE = problems(401, 403)
ORGANIZER = problems(401, 403)
