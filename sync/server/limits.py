"""How many wrong enrollment codes the server hears: per client address and in all, over a
sliding window, in this process. Past either, enrollment answers 429 with Retry-After before
it looks at the code, so codes cannot be guessed at the rate a client can send them."""

from __future__ import annotations

import threading
import time
from collections import deque


class FailureLimit:
    def __init__(self, *, per_client: int = 10, overall: int = 60, window: float = 60.0,
                 clock=time.monotonic):
        self.per_client = per_client
        self.overall = overall
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._all: deque[float] = deque()
        self._by_client: dict[str, deque[float]] = {}

    def _trim(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window:
            times.popleft()

    def wait(self, client: str) -> tuple[float, str] | None:
        """None if `client` may try now, else the seconds until it may and which limit."""
        with self._lock:
            now = self.clock()
            self._trim(self._all, now)
            mine = self._by_client.get(client)
            if mine is not None:
                self._trim(mine, now)
                if not mine:
                    del self._by_client[client]
                elif len(mine) >= self.per_client:
                    return mine[0] + self.window - now, "from this address"
            if len(self._all) >= self.overall:
                return self._all[0] + self.window - now, "in all"
            return None

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            self._all.append(now)
            self._by_client.setdefault(client, deque()).append(now)
            if len(self._by_client) > 10_000:  # addresses that went quiet, dropped
                for key in [k for k, v in self._by_client.items()
                            if not v or v[-1] <= now - self.window]:
                    del self._by_client[key]
