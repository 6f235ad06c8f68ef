"""The one clock of Jangteo, and the hybrid logical clock that orders documents across devices.

Wall time comes from a `Clock` so tests and the demo can run a market day in a second. Devices'
clocks are often wrong (a laptop never synced since last spring), so documents also carry a
hybrid logical clock stamp: it never goes backwards on a device, even when the wall clock does,
and it moves past any stamp the device has seen from the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in the device's local zone."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc).astimezone()


class SteppingClock:
    """A clock for the demo and tests: starts at `start` and moves `step` at every reading."""

    def __init__(self, start: datetime, step: timedelta = timedelta(0)):
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start
        self.step = step

    def now(self) -> datetime:
        current = self._now
        self._now = current + self.step
        return current

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    """A hybrid logical clock stamp: physical milliseconds, a counter, and the device.

    `str(stamp)` sorts the same way the stamps compare, so it can be stored as TEXT and ordered
    by the database.
    """

    millis: int
    counter: int
    device: str = ""

    def __str__(self) -> str:
        return f"{self.millis:013d}-{self.counter:05d}-{self.device}"

    @classmethod
    def parse(cls, text: str) -> "Hlc":
        millis, counter, device = text.split("-", 2)
        return cls(int(millis), int(counter), device)


def tick(last: Hlc | None, wall: datetime, device: str) -> Hlc:
    """The next stamp for a local event: never below `last`, never below the wall clock."""
    physical = int(wall.timestamp() * 1000)
    if last is None or physical > last.millis:
        return Hlc(physical, 0, device)
    return Hlc(last.millis, last.counter + 1, device)


def receive(last: Hlc | None, remote: Hlc, wall: datetime, device: str) -> Hlc:
    """The stamp after seeing a remote stamp (e.g. from the server): past both."""
    physical = int(wall.timestamp() * 1000)
    candidates = [physical, remote.millis] + ([last.millis] if last else [])
    top = max(candidates)
    counter = 0
    if last is not None and top == last.millis:
        counter = max(counter, last.counter + 1)
    if top == remote.millis:
        counter = max(counter, remote.counter + 1)
    return Hlc(top, counter, device)
