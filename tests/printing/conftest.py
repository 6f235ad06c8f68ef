"""A loopback network printer on 127.0.0.1 that records what it is sent, and can misbehave
like real ones: off, dropping the connection mid-job, or stalled (paper out)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pos import services as svc
from pos.demo import load_demo_catalog
from pos.domain import Tender


class LoopbackPrinter:
    def __init__(self, mode: str = "ok", drop_after: int = 2000):
        self.mode = mode
        self.drop_after = drop_after
        self.jobs: list[bytes] = []
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if mode == "stall":
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(5)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            if self.mode == "stall":
                self._held.append(conn)  # never reads: the printer's buffer is full
                continue
            data = bytearray()
            conn.settimeout(5)
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if self.mode == "drop" and len(data) >= self.drop_after:
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        b"\x01\x00\x00\x00\x00\x00\x00\x00")
                        break  # closing with linger 0 resets the connection mid-job
            except OSError:
                pass
            finally:
                conn.close()
            self.jobs.append(bytes(data))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._held:
            conn.close()
        self._server.close()


@pytest.fixture
def printer_factory():
    made = []

    def make(mode="ok", **kw) -> LoopbackPrinter:
        p = LoopbackPrinter(mode, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout: float = 10.0):
    """Poll `predicate` until true (the worker runs on its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def demo_store(store):
    load_demo_catalog(store)
    return store


def sell(store, *, names: list[str] | None = None, method: str = "cash", extra: int = 1000):
    with store.unit_of_work() as uow:
        products = svc.list_products(uow)
        chosen = ([next(p for p in products if p["name"] == n) for n in names] if names
                  else products[:3])
        items = [svc.SaleItem(p["id"], 1 + k % 2) for k, p in enumerate(chosen)]
        total = svc.quote_sale(uow, items=items).totals.total
        tender = Tender(method, total + (extra if method == "cash" else 0),
                        approval_no="12345678" if method == "card" else None)
        doc = svc.record_sale(uow, items=items, tenders=[tender])
        uow.commit()
    return doc
