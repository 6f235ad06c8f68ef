"""What the server's routes share: the transaction, who is asking, and bounded bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
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


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "a bearer token is required")
    return authorization.removeprefix("Bearer ").strip()


Token = Annotated[str, Depends(bearer)]


def device(conn: Tx, token: Token) -> dict:
    """The enrolled device the token belongs to."""
    return service.device_for(conn, token)


Device = Annotated[dict, Depends(device)]


def organizer(conn: Tx, token: Token) -> None:
    if not service.is_organizer(conn, token):
        raise HTTPException(403, "organizer access only")


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
