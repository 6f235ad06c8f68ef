"""What every screen of the till is given when it is built: one `TillContext`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pos.store import Store
from ui.bridge import CommitBridge
from ui.printer import PrinterService
from ui.sync_service import SyncService


@dataclass
class TillContext:
    store: Store
    printer: PrinterService  # the print queue's worker and the jobs a screen may ask for
    sync: SyncService  # the sync worker and its state
    committed: CommitBridge  # after-commit news from the store, on the GUI thread
    parked_carts: Callable[[], int] = lambda: 0  # carts parked on the Sell screen
