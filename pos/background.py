"""A loop on its own thread that a caller can wake and stop: the print queue and sync run on it."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Subclasses give `name` and `step()`, which does one round of work and returns how long
    to wait before the next (`wake()` cuts the wait short)."""

    name = "background"

    def __init__(self):
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> float:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.step()
            if wait:
                self._wake.wait(wait)
                self._wake.clear()
