"""After-commit hub: who hears that a transaction changed something.

A unit of work notes what it wrote (`uow.note(topic)`); once its transaction has committed and
the write lock is free, the store's hub tells every listener in one `Committed` record. The
print worker wakes for new jobs, the sync worker for new outbox events, the GUI refreshes what
it shows. Nothing is published for a transaction that rolled back.

Listeners run on the committing thread and must not block (wake a thread, emit a Qt signal);
one that raises is logged and the others still hear: a committed sale is never undone by a
listener's fault.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("jangteo.events")

DOCUMENT = "document"  # a sale, void or refund was written (its Document is in `documents`)
OUTBOX = "outbox"  # an event for the server is waiting
PRINT = "print"  # a print job is waiting
SHIFT = "shift"  # a shift was opened or closed, or cash moved
CATALOG = "catalog"  # products, enterprises or categories changed (locally or from the server)
SETTINGS = "settings"  # a till setting changed
STAFF = "staff"  # a person signed in or out, or the staff list changed
CASH_RECEIPTS = "cash_receipts"  # a cash receipt request was made, issued or cancelled


@dataclass(frozen=True)
class Committed:
    topics: frozenset[str]
    documents: tuple[Any, ...] = field(default=())

    def __contains__(self, topic: str) -> bool:
        return topic in self.topics


Listener = Callable[[Committed], None]


class CommitHub:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it again."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, committed: Committed) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(committed)
            except Exception:  # noqa: BLE001 - the transaction is committed whatever a listener does
                log.exception("a listener of committed changes failed")
