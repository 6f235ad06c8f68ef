"""The sync worker's thread bridged to the GUI: state in the status bar, a push after each sale."""

from __future__ import annotations

from pos.i18n import error_text
from pos.store import Store
from sync import client
from ui.qt import QObject, Qt, Signal
from ui.texts import language, t


class SyncService(QObject):
    state_changed = Signal(object)  # client.SyncState
    _from_worker = Signal(object)

    def __init__(self, store: Store, parent=None, *, transport=None, interval: float = 15.0):
        super().__init__(parent)
        self.store = store
        self.transport = transport
        self.interval = interval
        self.state: client.SyncState | None = None
        self.worker: client.SyncWorker | None = None
        self._from_worker.connect(self._on_state, Qt.QueuedConnection)
        self.restart()

    def restart(self) -> None:
        self.stop()
        self.worker = client.SyncWorker(self.store, listener=self._from_worker.emit,
                                        transport=self.transport, interval=self.interval)
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def wake(self, *_args) -> None:
        if self.worker is not None:
            self.worker.wake()

    def _on_state(self, state: client.SyncState) -> None:
        self.state = state
        self.state_changed.emit(state)

    def status_text(self) -> str:
        s = self.state or client.sync_state(self.store)
        if not s.configured:
            return t("status_sync_none")
        if s.error:
            return t("status_sync_error" if s.error not in ("sync_offline", "sync_server_error")
                     else "status_sync_offline", count=s.waiting)
        if s.syncing:
            return t("status_sync_sending", count=s.waiting)
        if s.waiting:
            return t("status_sync_waiting", count=s.waiting)
        return t("status_sync_done")

    def error_text(self) -> str:
        s = self.state
        if s is None or not s.error:
            return ""
        return error_text(client.SyncError(s.error, **(s.error_params or {})), language())
