"""A loopback network printer on 127.0.0.1 that records what it is sent, and can misbehave
like real ones: off, dropping the connection mid-job, stalled (it stops taking data, as when the
paper runs out mid-receipt), and, when it has a `state`, answering ESC/POS real-time status
requests as a printer that is ready, out of paper or has its cover open would."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from pos import services as svc
from pos.demo import load_demo_catalog
from pos.domain import Tender
from tests.conftest import in_shift

STATUS = re.compile(rb"\x10\x04[\x01-\x04]")


class LoopbackPrinter:
    """`mode`: "ok", "drop" (resets the connection after `drop_after` bytes) or "stall" (takes
    nothing more until `mode` is set back to "ok"; its small buffer fills at once).
    `state`: None for a printer that never answers status requests, else "ready",
    "paper_out", "cover_open" or "paper_low". Status requests are answered as they arrive and
    are not part of the recorded job (a printer does not print them)."""

    def __init__(self, mode: str = "ok", drop_after: int = 2000, state: str | None = None,
                 pad: bytes = b"", stall_after: int | None = None):
        self.mode = mode
        self.state = state
        self.pad = pad  # sent after every status byte (some printers pad their answers)
        self.stall_after = stall_after  # a connection stops being read after this many bytes
        self.drop_after = drop_after
        self.jobs: list[bytes] = []
        self.asked = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(5)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def status_byte(self, n: int) -> int:
        out, paper = self.state in ("paper_out",), self.state == "paper_low"
        cover = self.state == "cover_open"
        if n == 1:
            return 0x12 | (0x08 if out or cover else 0)
        if n == 2:
            return 0x12 | (0x04 if cover else 0) | (0x20 if out else 0)
        if n == 4:
            return 0x12 | (0x60 if out else 0) | (0x0C if paper else 0)
        return 0x12

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            thread = threading.Thread(target=self._take, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _take(self, conn: socket.socket) -> None:
        data = bytearray()
        scanned = 0
        conn.settimeout(0.05)
        try:
            while not self._stop.is_set():
                if self.mode == "stall" or (self.stall_after is not None
                                            and len(data) >= self.stall_after):
                    time.sleep(0.02)
                    continue
                try:
                    chunk = conn.recv(256 if self.mode == "drop" else 65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                data += chunk
                if self.mode == "drop" and len(data) >= self.drop_after:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    break  # closing with linger 0 resets the connection mid-job
                while True:  # real-time status requests are answered as they arrive
                    k = data.find(b"\x10\x04", scanned)
                    if k < 0:
                        scanned = max(scanned, len(data) - 1)
                        break
                    if k + 2 >= len(data):
                        scanned = k
                        break
                    if self.state is not None and 1 <= data[k + 2] <= 4:
                        self.asked += 1
                        conn.sendall(bytes([self.status_byte(data[k + 2])]) + self.pad)
                    scanned = k + 3
        except OSError:
            pass
        finally:
            conn.close()
        job = STATUS.sub(b"", bytes(data))
        if job:
            self.jobs.append(job)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for thread in self._threads:
            thread.join(2)
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
        in_shift(uow)
        doc = svc.record_sale(uow, items=items, tenders=[tender])
        uow.commit()
    return doc
