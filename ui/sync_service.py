"""The sync worker for the GUI: its state in the status bar. It wakes by itself after every
commit that put an event in the outbox (`pos.events`)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from pos.i18n import error_text
from pos.store import Store
from sync import client
from ui.bridge import ThreadBridge, WorkerService
from ui.texts import language, t


class SyncService(WorkerService):
    def __init__(self, store: Store, parent=None, *, transport=None, interval: float = 15.0):
        super().__init__(store, parent)
        self.transport = transport
        self.interval = interval
        self.restart()

    def make_worker(self, listener):
        return client.SyncWorker(self.store, listener=listener, transport=self.transport,
                                 interval=self.interval)

    def status_text(self) -> str:
        s = self.state or client.sync_state(self.store)
        if not s.configured:
            return t("status_sync_none")
        if s.blocked and s.error in (None, "sync_blocked", "sync_blocked_event") and \
                not s.syncing:  # refused by the server: not "offline", and it stays until fixed
            if s.blocked.get("receipt_no"):
                return t("status_sync_blocked", receipt=s.blocked["receipt_no"])
            return t("status_sync_blocked_event", seq=s.blocked["seq"])
        if s.error:
            key = {"sync_offline": "status_sync_offline",
                   "sync_server_error": "status_sync_offline",
                   "sync_busy": "status_sync_busy", "sync_revoked": "status_sync_revoked",
                   "sync_catalog_choice": "status_sync_catalog_choice"}
            return t(key.get(s.error, "status_sync_error"), count=s.waiting)
        if s.syncing:
            return t("status_sync_sending", count=s.waiting)
        if s.waiting:
            return t("status_sync_waiting", count=s.waiting)
        if self._fresh_notice(s):
            return t("status_sync_renumbered")
        return t("status_sync_done")

    def error_text(self) -> str:
        """The status's tooltip: what went wrong, else what the till did about events it had
        lost (on the day it found out)."""
        s = self.state
        if s is None:
            return ""
        if s.blocked and s.error in (None, "sync_blocked", "sync_blocked_event"):
            return error_text(client.blocked_error(s.blocked), language())
        if s.error:
            return error_text(client.SyncError(s.error, **(s.error_params or {})), language())
        if self._fresh_notice(s):
            return s.notice.text(language())
        return ""

    def _fresh_notice(self, s: client.SyncState) -> bool:
        """Whether the till found events it had lost on the server today."""
        if s.notice is None or not s.notice_at:
            return False
        try:
            at = datetime.fromisoformat(s.notice_at)
        except ValueError:
            return False
        return at.date() == self.store.clock.now().date()

    def enroll(self, url: str, code: str, done) -> None:
        """Enrol off the GUI thread (the server may take seconds to answer); `done(info, error)`
        is called on the GUI thread with the server's answer or the `SyncError`."""
        self._in_thread("sync-enroll", lambda: client.enroll(
            self.store, url=url, code=code, transport=self.transport), done)

    def _in_thread(self, name: str, work, done) -> None:
        """`work()` off the GUI thread; `done(result, None)` or `done(None, SyncError)` on the
        GUI thread (any other failure is logged and said as offline)."""
        bridge = ThreadBridge(self)
        bridges = self.__dict__.setdefault("_bridges", set())
        bridges.add(bridge)  # kept alive until it answers

        def answered(result):
            bridges.discard(bridge)
            done(*result)

        bridge.received.connect(answered)

        def run():
            try:
                result = (work(), None)
            except client.SyncError as e:
                result = (None, e)
            except Exception as e:  # noqa: BLE001 - shown to the vendor, logged as a fault
                logging.getLogger("jangteo.sync").exception("%s failed", name)
                result = (None, client.SyncError("sync_offline", detail=str(e)))
            bridge.send(result)

        threading.Thread(target=run, name=name, daemon=True).start()

    def pending_join(self) -> dict | None:
        """The stall's catalog choice the till waits for since it enrolled (`sync.client`)."""
        return client.pending_join(self.store)

    def join_catalog(self, choice: str) -> dict:
        """Take the stall's catalog or merge this till's into it; sending goes on at once."""
        done = client.join_catalog(self.store, choice)
        self.wake()
        return done

    # -- the stall's other tills -----------------------------------------------------------------
    def look_up(self, receipt_no: str):
        """A receipt by its number: this till's, or another till's of the stall read from the
        server (`sync.returns.look_up`; waits a few seconds at most)."""
        from sync import returns

        return returns.look_up(self.store, receipt_no, transport=self.transport)

    def give_back(self, **kw):
        """A void or refund, held on the server first when enrolled (`sync.returns`); the
        worker then pushes it, which ends the hold."""
        from sync import returns

        return returns.give_back(self.store, transport=self.transport, **kw)

    def stall_settlement(self, day: str, done) -> None:
        """The stall's settlement of `day` (every till, `sync.stall`), made off the GUI thread;
        `done(made, error)` on the GUI thread."""
        from sync.stall import stall_settlement

        self._in_thread("stall-settlement", lambda: stall_settlement(
            self.store, day=day, transport=self.transport, sync_first=False), done)
