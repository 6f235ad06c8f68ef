"""The main window is a shell: navigation, the screens, the status bar and the shortcuts."""

from __future__ import annotations

import time

from pos import events, services as svc
from pos.domain import DomainError
from pos.services import staff
from ui import prompts
from ui.bridge import CommitBridge
from ui.catalog_screen import CatalogScreen
from ui.help_overlay import HelpOverlay
from ui.history import HistoryScreen
from ui.printer import PrinterService
from ui.qt import (QApplication, QEvent, QHBoxLayout, QKeySequence, QLabel, QMainWindow, QPushButton,
                   QShortcut, QStackedWidget, Qt, QTimer, QVBoxLayout, QWidget)
from ui.scanner import BarcodeScanner
from ui.sell import SellScreen
from ui.settings_screen import SettingsScreen
from ui.context import TillContext
from ui.shift_screen import ShiftScreen
from ui.sync_service import SyncService
from ui.texts import explain, t, won

_INPUT_EVENTS = frozenset((QEvent.KeyPress, QEvent.MouseButtonPress, QEvent.TouchBegin))

SCREENS = (("sell", "nav_sell", "F2", SellScreen), ("history", "nav_history", "F3", HistoryScreen),
           ("shift", "nav_shift", "F4", ShiftScreen), ("catalog", "nav_catalog", "F5", CatalogScreen),
           ("settings", "nav_settings", "F6", SettingsScreen))


class MainWindow(QMainWindow):
    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(f"{t('app_title')} — {store.data_dir}")
        self.screens: dict[str, QWidget] = {}
        self.nav: dict[str, QPushButton] = {}
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 6, 6, 0)
        self.stack = QStackedWidget()
        for name, key, fkey, _cls in SCREENS:
            b = QPushButton(f"{t(key)}  {fkey}")
            b.setCheckable(True)
            b.setMinimumHeight(44)
            b.setFocusPolicy(Qt.NoFocus)
            b.clicked.connect(lambda _=False, n=name: self.show_screen(n))
            bar.addWidget(b)
            self.nav[name] = b
            QShortcut(QKeySequence(fkey), self, activated=lambda n=name: self.show_screen(n))
        help_btn = QPushButton("?  F1")
        help_btn.setMinimumHeight(44)
        help_btn.setFocusPolicy(Qt.NoFocus)
        help_btn.clicked.connect(self.show_help)
        bar.addStretch(1)
        bar.addWidget(help_btn)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        # who sells (staff accounts on): a tap locks the till for the next person
        self.staff_btn = QPushButton()
        self.staff_btn.setFlat(True)
        self.staff_btn.setFocusPolicy(Qt.NoFocus)
        self.staff_btn.clicked.connect(self.lock)
        self.statusBar().addPermanentWidget(self.staff_btn)
        self.status_shift = QLabel(t("status_shift_none"))
        self.status_receipts = QLabel()
        self.status_printer = QLabel(t("status_printer_none"))
        self.status_sync = QLabel(t("status_sync_none"))
        for w in (self.status_shift, self.status_receipts, self.status_printer, self.status_sync):
            w.setContentsMargins(10, 0, 10, 0)
            self.statusBar().addPermanentWidget(w)

        self.sync = SyncService(store, self)
        self.sync.state_changed.connect(lambda _state: self.update_sync_status())
        self.printer = PrinterService(store, self)
        self.printer.state_changed.connect(lambda _state: self.update_printer_status())
        self.committed = CommitBridge(store, self)
        self.till = TillContext(store, self.printer, self.sync, self.committed,
                                parked_carts=lambda: len(self.sell.parked))
        # What a commit sets off reaches the window here, whoever committed (a sale on this
        # screen, a refund in history, a shift close, products pulled from the server).
        self.committed.on({events.DOCUMENT, events.SHIFT, events.SETTINGS},
                          lambda _c: self.update_status())
        self.committed.on({events.CATALOG, events.SETTINGS}, lambda _c: self._catalog_changed())
        self.committed.on({events.STAFF, events.SETTINGS}, lambda _c: self.update_staff())
        self.sell: SellScreen = self.screen("sell")
        self.sell.shift_needed.connect(lambda: self.show_screen("shift"))
        self._shortcuts()
        self.scanner = BarcodeScanner(self, self._scanner_active)
        self.scanner.scanned.connect(self.on_scan)
        self.help: HelpOverlay | None = None
        self.show_screen("sell")
        self.update_status()
        self._last_input = time.monotonic()
        QApplication.instance().installEventFilter(self)
        self._idle = QTimer(self)
        self._idle.setInterval(5000)
        self._idle.timeout.connect(self._lock_when_idle)
        self._idle.start()
        QTimer.singleShot(0, self._lock_if_needed)  # accounts on: someone signs in first
        self.resize(1280, 680)  # un-maximised; it starts maximised (`ui.app.show_fitting`)

    # -- screens --------------------------------------------------------------------------------
    def screen(self, name: str) -> QWidget:
        """The screen called `name`, built the first time it is needed."""
        if name not in self.screens:
            cls = next(c for n, _k, _f, c in SCREENS if n == name)
            widget = cls(self.till, self)
            self.screens[name] = widget
            self.stack.addWidget(widget)
        return self.screens[name]

    def current(self) -> str:
        widget = self.stack.currentWidget()
        return next((n for n, w in self.screens.items() if w is widget), "sell")

    def show_screen(self, name: str) -> None:
        # the catalog is open to read; each edit asks for its permission (`ui.catalog_screen`)
        right = {"settings": "settings"}.get(name)
        if right is not None and not self._allowed(right):
            return
        widget = self.screen(name)
        if name in ("history", "shift"):
            widget.reload()
        self.stack.setCurrentWidget(widget)
        for n, b in self.nav.items():
            b.setChecked(n == name)
        if name == "sell":
            self.sell.search.setFocus()

    def show_help(self) -> None:
        if self.help is not None and self.help.isVisible():
            self.help.close()
            return
        self.help = HelpOverlay(self)
        self.help.show()

    # -- staff ----------------------------------------------------------------------------------
    def accounts_on(self) -> bool:
        with self.store.unit_of_work(write=False) as uow:
            return staff.accounts_on(uow)

    def _allowed(self, right: str) -> bool:
        """Whether the person signed in may open a screen of `right`; a cashier asks a
        manager, whose approval is recorded."""
        from ui.staff_pin import NOT_DONE, committed

        return committed(self, self.store, lambda uow: staff.need(uow, right)) is not NOT_DONE

    def update_staff(self) -> None:
        on = self.accounts_on()
        person = self.store.actor
        self.staff_btn.setVisible(on)
        if on:
            self.staff_btn.setText(t("status_staff", name=person.name,
                                     role=t(f"role_{person.role}")) if person
                                   else t("status_staff_none"))

    def lock(self) -> None:
        """Sign the person out and show the lock screen until someone signs in (the open
        shift, the cart and what is parked stay as they are)."""
        from ui.staff_pin import PinDialog

        if not self.accounts_on() or getattr(self, "_locked", False):
            return
        self._locked = True
        try:
            with self.store.unit_of_work() as uow:
                staff.sign_out(uow)
                uow.commit()
            # the next person starts on Sell: never on a screen a manager had opened
            self.show_screen("sell")
            self.update_staff()
            PinDialog(self, self.store).run()
        finally:
            self._locked = False
        self.update_staff()
        self._last_input = time.monotonic()
        if self.current() == "sell":
            self.sell.search.setFocus()

    def _lock_if_needed(self) -> None:
        if self.accounts_on() and self.store.actor is None:
            self.lock()
        self.update_staff()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() in _INPUT_EVENTS:
            self._last_input = time.monotonic()
        return False

    def _lock_when_idle(self) -> None:
        """Lock after the minutes of the setting without a key or a tap (never in the middle
        of a dialog: a payment being typed is not cut off)."""
        if self.store.actor is None:
            return
        with self.store.unit_of_work(write=False) as uow:
            minutes = svc.till_settings(uow).lock_minutes
        if (minutes and self.store.actor is not None and QApplication.activeModalWidget() is None
                and time.monotonic() - self._last_input >= minutes * 60):
            self.lock()

    # -- scanner and shortcuts ------------------------------------------------------------------
    def _scanner_active(self) -> bool:
        return QApplication.activeModalWidget() is None

    def on_scan(self, code: str) -> None:
        target = self.stack.currentWidget()
        if hasattr(target, "on_scan"):
            target.on_scan(code)

    def _shortcuts(self) -> None:
        def on_sell(action):
            def run():
                if self.current() == "sell":
                    action()
            return run

        s = self.sell
        keys = {
            "F1": self.show_help,
            "Ctrl+Return": on_sell(s.pay), "Ctrl+Enter": on_sell(s.pay), "F12": on_sell(s.pay),
            "Ctrl+F": on_sell(s.search.setFocus), "Escape": on_sell(s.search.clear),
            "Ctrl+Up": on_sell(lambda: s.move_selection(-1)),
            "Ctrl+Down": on_sell(lambda: s.move_selection(1)),
            "Ctrl+=": on_sell(lambda: s.change_selected_qty(1)),
            "Ctrl++": on_sell(lambda: s.change_selected_qty(1)),
            "Ctrl+-": on_sell(lambda: s.change_selected_qty(-1)),
            "Ctrl+Q": on_sell(s.ask_selected_qty), "Ctrl+L": on_sell(s.ask_line_discount),
            "Ctrl+D": on_sell(s.ask_receipt_discount), "Ctrl+Del": on_sell(s.remove_selected),
            "F8": on_sell(s.park_cart), "F9": on_sell(s.resume_cart),
        }
        self.shortcuts = {k: QShortcut(QKeySequence(k), self, activated=fn) for k, fn in keys.items()}

    # -- status ---------------------------------------------------------------------------------
    def _catalog_changed(self) -> None:
        """Products changed (here, on another till, by the organizer): reload the tiles once,
        however many commits brought them (a catalog pull commits page by page)."""
        if not getattr(self, "_catalog_reload_due", False):
            self._catalog_reload_due = True
            QTimer.singleShot(0, self._reload_catalog)

    def _reload_catalog(self) -> None:
        self._catalog_reload_due = False
        self.sell.reload_catalog()

    def update_sync_status(self) -> None:
        self.status_sync.setText(self.sync.status_text())
        self.status_sync.setToolTip(self.sync.error_text())

    def update_printer_status(self) -> None:
        self.status_printer.setText(self.printer.status_text())
        self.status_printer.setToolTip(self.printer.last_error_text())

    def update_status(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            _day, count, next_no = svc.receipt_outlook(uow)
            shift = svc.current_shift(uow)
            cash = svc.expected_cash(uow, shift_id=shift["id"]) if shift else 0
        self.status_shift.setText(t("status_shift_open", number=shift["number"], cash=won(cash))
                                  if shift else t("status_shift_none"))
        self.status_receipts.setText(t("status_receipts", count=count, next=next_no))
        self.update_printer_status()
        self.update_sync_status()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.sell.cart.is_empty and not prompts.confirm(self, t("close_with_cart")):
            event.ignore()
            return
        from ui.app import keep_geometry

        keep_geometry(self)
        self.scanner.stop()
        self.committed.close()
        self.printer.stop()
        self.sync.stop()
        event.accept()
