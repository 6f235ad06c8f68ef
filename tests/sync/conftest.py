"""A real server on 127.0.0.1 (uvicorn in a thread) on SQLite or on a real PostgreSQL, and a
fault injector between the till and it."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager

import httpx
import pytest

from pos.demo import run_demo


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RunningServer:
    def __init__(self, db_url: str, port: int | None = None, **options):
        import uvicorn

        from sync.server.app import create_app

        self.db_url = db_url
        self.app = create_app(db_url, **options)
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)

    @property
    def engine(self):
        return self.app.state.engine

    def admin(self, fn):
        with self.engine.begin() as conn:
            return fn(conn)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.engine.dispose()


def _postgres_url():
    import psycopg

    name = f"jt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres",
                         autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres",
                         autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(kind: str, folder):
    """A new server database's URL: a SQLite file in `folder`, or a PostgreSQL database of its
    own, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'server.db'}"
        return
    name, url = _postgres_url()
    try:
        yield url
    finally:
        _drop_postgres(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    with database(request.param, tmp_path) as url:
        srv = RunningServer(url)
        yield srv
        srv.stop()


def setup_stall(server: RunningServer, stall_name: str = "성수 공동판매장") -> tuple[str, str, str]:
    from sync.server import service

    def make(conn):
        # event names are unique: a second stall set up this way is another event's
        taken = {e["name"] for e in service.list_events(conn)}
        name, n = "2026 가을 장터", 1
        while name in taken:
            n += 1
            name = f"2026 가을 장터 ({n})"
        event = service.create_event(conn, name=name)
        stall = service.create_stall(conn, event_id=event, name=stall_name)
        return event, stall, service.device_code(conn, stall_id=stall)

    return server.admin(make)


def another_code(server: RunningServer, stall_id: str) -> str:
    from sync.server import service

    return server.admin(lambda conn: service.device_code(conn, stall_id=stall_id))


@pytest.fixture
def till(store):
    run_demo(store, sales=80, seed=9)
    return store


class Faults(httpx.BaseTransport):
    """Sits between the till and the server: drops, loses answers, duplicates, fails, delays,
    resets mid-upload and delivers a request late, after a newer one."""

    def __init__(self, delay: float = 0.3):
        self.inner = httpx.HTTPTransport()
        self.plan: list[str] = []
        self.seen: list[str] = []
        self.delay = delay
        self.held: httpx.Request | None = None  # a request still "in the network"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.pop(0) if self.plan else "ok"
        self.seen.append(fault)
        patience = request.extensions.get("timeout", {}).get("read") or 1e9  # the till's
        request.read()
        if fault == "drop_request":
            raise httpx.ConnectError("dropped", request=request)
        if fault == "server_error":
            return httpx.Response(503, json={"detail": "overloaded"}, request=request)
        if fault == "garbage":
            return httpx.Response(200, text="<html>captive portal</html>", request=request)
        if fault == "reset":  # half the body reaches the server, then the connection dies
            _send_half(request)
            raise httpx.ReadError("connection reset by peer", request=request)
        if fault == "reorder":  # arrives only after the next request: the till hears nothing
            self.held = request
            raise httpx.ReadTimeout("no answer yet", request=request)
        if fault == "slow":
            time.sleep(self.delay)
        response = self._forward(request)
        if self.held is not None:  # the late one arrives now, after the newer request
            late, self.held = self.held, None
            self._forward(late)
        if fault == "drop_response":  # the server committed; the till never hears it
            raise httpx.ReadTimeout("answer lost", request=request)
        if fault == "slow" and self.delay > patience:
            raise httpx.ReadTimeout("too slow", request=request)
        if fault == "duplicate":
            self._forward(request)
        return response

    def _forward(self, request: httpx.Request) -> httpx.Response:
        # The injector, not the till's read time-out, decides when an answer is "too late": the
        # request always reaches the server and its answer always comes back here first, so a
        # fault means the same thing on a starved CPU as on an idle one.
        request.extensions = {**request.extensions,
                              "timeout": {"connect": 30, "read": 60, "write": 30, "pool": 30}}
        response = self.inner.handle_request(request)
        response.read()
        return response


def _send_half(request: httpx.Request) -> None:
    body = request.content
    head = [f"{request.method} {request.url.raw_path.decode()} HTTP/1.1",
            f"Host: {request.url.host}:{request.url.port}",
            f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in request.headers.items()
             if k.lower() not in ("host", "content-length", "transfer-encoding")]
    with socket.create_connection((request.url.host, request.url.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:len(body) // 2])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
