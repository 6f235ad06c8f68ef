"""A real server on 127.0.0.1 (uvicorn in a thread) on SQLite or on a real PostgreSQL, and a
fault injector between the till and it."""

from __future__ import annotations

import socket
import threading
import time
import uuid

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
    def __init__(self, db_url: str):
        import uvicorn

        from sync.server.app import create_app

        self.db_url = db_url
        self.app = create_app(db_url)
        self.port = _free_port()
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


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    if request.param == "sqlite":
        srv = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
        yield srv
        srv.stop()
    else:
        name, url = _postgres_url()
        srv = RunningServer(url)
        yield srv
        srv.stop()
        _drop_postgres(name)


def setup_stall(server: RunningServer, stall_name: str = "성수 공동판매장") -> tuple[str, str, str]:
    from sync.server import service

    def make(conn):
        event = service.create_event(conn, name="2026 가을 장터")
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
    """Sits between the till and the server: drops, loses answers, duplicates, fails."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.plan: list[str] = []
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.pop(0) if self.plan else "ok"
        self.seen.append(fault)
        if fault == "drop_request":
            raise httpx.ConnectError("dropped", request=request)
        if fault == "server_error":
            return httpx.Response(503, json={"detail": "overloaded"}, request=request)
        if fault == "garbage":
            return httpx.Response(200, text="<html>captive portal</html>", request=request)
        response = self.inner.handle_request(request)
        response.read()
        if fault == "drop_response":  # the server committed; the till never hears it
            raise httpx.ReadTimeout("answer lost", request=request)
        if fault == "duplicate":
            again = self.inner.handle_request(request)
            again.read()
        return response
