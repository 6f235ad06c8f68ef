"""The one bridge from other threads to the GUI thread.

`ThreadBridge.send(value)` may be called from any thread; `received` is emitted on the GUI
thread. The print worker's and the sync worker's states and the store's after-commit hub all
reach the screens through it. `WorkerService` owns one background loop (start, restart, wake,
stop) and publishes its state; the printer and sync services are its two kinds.
"""

from __future__ import annotations

from typing import Any, Callable

from pos.events import Committed
from pos.store import Store
from ui.qt import QObject, Qt, QThread, Signal


class ThreadBridge(QObject):
    received = Signal(object)
    _carry = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        # From another thread: queued, so the receivers run on the GUI thread. From the GUI
        # thread itself: at once, so what the vendor just did shows before the next event.
        self._carry.connect(self.received.emit, Qt.QueuedConnection)

    def send(self, value: Any) -> None:
        if QThread.currentThread() is self.thread():
            self.received.emit(value)
        else:
            self._carry.emit(value)


class CommitBridge(ThreadBridge):
    """The store's after-commit hub as a Qt signal: `received(Committed)`."""

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = store.hub.subscribe(self.send)
        self.destroyed.connect(lambda *_: self.close())

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on(self, topics: set[str] | frozenset[str], action: Callable[[Committed], None]) -> None:
        """Call `action(committed)` on the GUI thread after each commit touching `topics`."""
        wanted = frozenset(topics)
        self.received.connect(lambda c: action(c) if not wanted.isdisjoint(c.topics) else None)


class WorkerService(QObject):
    """One background loop and its latest state; `state_changed` is emitted on the GUI thread."""

    state_changed = Signal(object)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.state = None
        self.worker = None
        self._bridge = ThreadBridge(self)
        self._bridge.received.connect(self._on_state)

    def make_worker(self, listener: Callable[[Any], None]):
        raise NotImplementedError

    def restart(self) -> None:
        self.stop()
        self.worker = self.make_worker(self._bridge.send)
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def wake(self, *_args) -> None:
        if self.worker is not None:
            self.worker.wake()

    def _on_state(self, state) -> None:
        self.state = state
        self.state_changed.emit(state)
