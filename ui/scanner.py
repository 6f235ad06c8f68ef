"""A barcode scanner is a keyboard that types fast and ends with Enter.

`BarcodeScanner` watches key presses for the whole application: a burst of ASCII characters
each within `MAX_GAP_MS` of the last, ended by Enter, is a scan. The characters already typed
into a text field are taken back out, Enter is swallowed, and `scanned` is emitted, so a scan
adds the product wherever the focus is. People type slower than that; their keys pass through.
"""

from __future__ import annotations

import time
from typing import Callable

from ui.qt import QApplication, QEvent, QLineEdit, QObject, Qt, Signal

MAX_GAP_MS = 40
MIN_LENGTH = 4
_ALLOWED = set("-_./")


class BarcodeScanner(QObject):
    scanned = Signal(str)

    def __init__(self, parent: QObject, is_active: Callable[[], bool]):
        super().__init__(parent)
        self._is_active = is_active
        self._buffer = ""
        self._last = 0.0
        QApplication.instance().installEventFilter(self)

    def stop(self) -> None:
        """Stop listening (the window that owns the scanner is closing)."""
        QApplication.instance().removeEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.KeyPress:
            return False
        focus = QApplication.focusWidget()
        if obj is not (focus or QApplication.activeWindow()):
            return False  # the same key seen again while it travels up to the parents
        now = time.monotonic() * 1000
        fast = now - self._last <= MAX_GAP_MS
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            code = self._buffer if fast else ""
            self._buffer = ""
            if len(code) >= MIN_LENGTH and self._is_active():
                edit = focus if isinstance(focus, QLineEdit) else None
                if edit is None and hasattr(focus, "lineEdit"):
                    edit = focus.lineEdit()
                if edit is not None and edit.text().endswith(code):
                    edit.setText(edit.text()[:-len(code)])
                self.scanned.emit(code)
                return True
            return False
        text = event.text()
        if len(text) == 1 and text.isascii() and (text.isalnum() or text in _ALLOWED):
            self._buffer = (self._buffer if fast else "") + text
            self._last = now
        else:
            self._buffer = ""
        return False
