"""Touch-sized number pads: a keypad widget for any amount field, and a dialog around it for
quantities, discounts (won or %) and amounts.

The stock dialogs were small and capped a value silently (99999 became 9999). Here a value out
of its bounds is said in red beside the field and OK stays off until it fits; nothing is ever
changed to fit. The keyboard works as well as the pad: the field keeps the focus, Enter is OK.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from pos.money import AmountError, format_won
from ui.qt import (QDialog, QFont, QGridLayout, QHBoxLayout, QLabel, QPushButton, Qt,
                   QVBoxLayout, QWidget, Signal)
from ui.texts import explain, t
from ui.won_edit import WonEdit

KEYS = (("7", "8", "9"), ("4", "5", "6"), ("1", "2", "3"), ("00", "0", "⌫"))
DIGITS_MAX = 12  # a pad never types more digits than any amount here can have


class Keypad(QWidget):
    """Digits, 00, ⌫ and C as large buttons; `pressed(key)`. The buttons never take the
    focus, so the field typed into keeps it (and the keyboard still works)."""

    pressed = Signal(str)

    def __init__(self, parent=None, *, size: int = 60):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        for r, row in enumerate(KEYS + (("C",),)):
            for c, key in enumerate(row):
                b = QPushButton(t("numpad_clear") if key == "C" else key)
                b.setFont(font)
                b.setMinimumSize(size, size - 8)
                b.setFocusPolicy(Qt.NoFocus)
                b.clicked.connect(lambda _=False, k=key: self.pressed.emit(k))
                if key == "C":
                    grid.addWidget(b, r, 0, 1, 3)
                else:
                    grid.addWidget(b, r, c)
                self.buttons[key] = b


def apply_key(edit: WonEdit, key: str) -> None:
    """What a pad key does to an amount field: a digit or 00 appends, ⌫ takes the last digit
    away, C empties it; the field reformats and checks itself as if typed."""
    digits = "".join(ch for ch in edit.text() if ch.isdigit())
    if key == "C":
        digits = ""
    elif key == "⌫":
        digits = digits[:-1]
    elif key.isdigit():
        digits = (digits + key)[:DIGITS_MAX]
    edit.setText(digits)
    edit._typed(edit.text())
    edit.setCursorPosition(len(edit.text()))


class NumpadDialog(QDialog):
    """Ask for a whole number between `minimum` and `maximum` (quantities: `unit` "개"; won:
    `won_amount`), or with `percent` a discount in won or in % of up to 100."""

    def __init__(self, parent, label: str, value: int | None = None, minimum: int = 0,
                 maximum: int = 100_000_000, *, won_amount: bool = False,
                 percent: bool = False):
        super().__init__(parent)
        self.setWindowTitle(t("app_title"))
        self.setModal(True)
        self.minimum, self.maximum = minimum, maximum
        self.won_amount = won_amount or percent
        self.allow_percent = percent
        self.in_percent = False
        self.answer = None
        layout = QVBoxLayout(self)
        question = QLabel(label)
        question.setWordWrap(True)
        layout.addWidget(question)
        row = QHBoxLayout()
        self.field = WonEdit(maximum=10 ** DIGITS_MAX)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.8)
        big.setBold(True)
        self.field.setFont(big)
        self.field.setMinimumHeight(56)
        self.field.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.field.returnPressed.connect(self.accept_value)
        self.field.textChanged.connect(lambda _text: self._check())
        self.unit = QLabel()
        self.unit.setFont(big)
        row.addWidget(self.field, 1)
        row.addWidget(self.unit)
        layout.addLayout(row)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        layout.addWidget(self.error)
        self.keypad = Keypad(self)
        self.keypad.pressed.connect(lambda key: apply_key(self.field, key))
        layout.addWidget(self.keypad)
        bottom = QHBoxLayout()
        self.percent_btn = None
        if percent:
            self.percent_btn = QPushButton(t("numpad_percent"))
            self.percent_btn.setCheckable(True)
            self.percent_btn.setMinimumHeight(52)
            self.percent_btn.setFocusPolicy(Qt.NoFocus)
            self.percent_btn.toggled.connect(self._percent_toggled)
            bottom.addWidget(self.percent_btn)
        self.close_btn = QPushButton(t("btn_close"))
        self.close_btn.setMinimumHeight(52)
        self.close_btn.setFocusPolicy(Qt.NoFocus)
        self.close_btn.clicked.connect(self.reject)
        self.ok_btn = QPushButton(t("numpad_ok"))
        self.ok_btn.setMinimumHeight(52)
        self.ok_btn.setMinimumWidth(140)
        self.ok_btn.setFocusPolicy(Qt.NoFocus)
        self.ok_btn.setStyleSheet("QPushButton { background: #2f7d32; color: white; "
                                  "border-radius: 6px; font-weight: bold; } "
                                  "QPushButton:disabled { background: #9bb59c; }")
        self.ok_btn.clicked.connect(self.accept_value)
        bottom.addStretch(1)
        bottom.addWidget(self.close_btn)
        bottom.addWidget(self.ok_btn)
        layout.addLayout(bottom)
        if value:
            self.field.set_value(value)
        self._show_unit()
        self._check()
        self.field.setFocus()
        self.field.selectAll()  # typing replaces the old value, the pad appends to it

    def _percent_toggled(self, on: bool) -> None:
        self.in_percent = on
        self._show_unit()
        self._check()
        self.field.setFocus()

    def _show_unit(self) -> None:
        self.unit.setText("%" if self.in_percent else "원" if self.won_amount
                          else t("numpad_unit_qty"))

    def value(self) -> int | None:
        """The number typed within its bounds; None when there is none. `AmountError` (said
        in words) for what is not a whole number or is out of bounds."""
        text = self.field.text().strip()
        if self.in_percent:
            raw = unicodedata.normalize("NFKC", text).replace(",", "").removesuffix("%")
            if not raw:
                return None
            if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", raw):  # 12.5, never 1e2 or nan
                raise AmountError("percent_range", text)
            number = Decimal(raw)
            if not 0 < number <= 100:
                raise AmountError("percent_range", text)
            return number
        amount = self.field.value()
        if amount is None:
            return None
        limit = self.maximum
        if amount > limit or amount < self.minimum:
            shown = format_won(limit) if self.won_amount else f"{limit:,}"
            raise AmountError("numpad_limit", shown)
        return amount

    def _check(self) -> bool:
        try:
            value = self.value()
        except AmountError as e:
            self.error.setText(explain(e))
            self.ok_btn.setEnabled(False)
            return False
        self.error.setText("")
        self.ok_btn.setEnabled(value is not None or self.minimum == 0)
        return True

    def accept_value(self) -> None:
        if not self._check():
            return
        value = self.value()
        if value is None and self.minimum > 0:
            return
        if self.in_percent and value is not None:
            self.answer = f"{value}%"
        elif self.in_percent:
            self.answer = "0"  # nothing typed: no discount
        else:
            self.answer = 0 if value is None else value
        self.accept()

    def run(self):
        """The number (an int; with `percent`, the text "10%" or "5000"), or None if closed."""
        self.exec()
        self.deleteLater()  # gone: its field no longer holds the keyboard focus
        if self.answer is None:
            return None
        if self.allow_percent and not isinstance(self.answer, str):
            return str(self.answer)
        return self.answer
