"""A loop on its own thread that a caller can wake and stop: the print queue and sync run on it."""

from __future__ import annotations

import threading
from typing import Callable

from pos.events import Committed, CommitHub


class BackgroundLoop:
    """Subclasses give `name` and `step()`, which does one round of work and returns how long
    to wait before the next (`wake()` cuts the wait short). A loop with `wake_topics` and a
    `store` wakes by itself whenever a committed transaction wrote one of those topics."""

    name = "background"
    wake_topics: frozenset[str] = frozenset()

    def __init__(self):
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def step(self) -> float:
        raise NotImplementedError

    def start(self) -> None:
        hub: CommitHub | None = getattr(getattr(self, "store", None), "hub", None)
        if hub is not None and self.wake_topics:
            self._unsubscribe = hub.subscribe(self._heard)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _heard(self, committed: Committed) -> None:
        if not self.wake_topics.isdisjoint(committed.topics):
            self.wake()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
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
