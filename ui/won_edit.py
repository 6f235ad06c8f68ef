"""A field for an amount of won: thousands separators appear as it is typed, and what is not
a whole number of won is said, never reinterpreted.

A stock `QIntValidator` had silently dropped the decimal point: `5000.5` became ₩50,005
tendered. Here every keystroke stays as typed; the field reformats only text made of digits
(and separators), keeping the cursor after the same digit, and `value()` raises `AmountError`
for anything else, which the dialog shows in words.
"""

from __future__ import annotations

import re

from pos.money import AmountError, format_won, parse_won
from ui.qt import QLineEdit, Signal

_DIGITS = re.compile(r"^[\d,]*$")


class WonEdit(QLineEdit):
    """`problem_changed(str)` says, in the UI's language, why the text is not an amount
    (empty text when it is one, or empty)."""

    problem_changed = Signal(str)

    def __init__(self, parent=None, *, maximum: int = 100_000_000):
        super().__init__(parent)
        self.maximum = maximum
        self.setMaxLength(20)
        self.textEdited.connect(self._typed)
        self._problem = ""

    def value(self) -> int | None:
        """The amount typed, None when nothing is; `AmountError` when it is not one."""
        text = self.text().strip()
        if not text:
            return None
        if "." in text:  # a tendered amount has no decimals, not even ".0"
            raise AmountError("decimal", text)
        amount = parse_won(text)
        if amount > self.maximum:
            raise AmountError("over_limit", format_won(self.maximum))
        return amount

    def set_value(self, amount: int | None) -> None:
        self.setText("" if amount is None else f"{amount:,}")
        self._check()

    def _typed(self, text: str) -> None:
        if _DIGITS.match(text):
            digits_before = len(re.sub(r"\D", "", text[:self.cursorPosition()]))
            digits = text.replace(",", "").lstrip("0") or ("0" if text.replace(",", "") else "")
            shown = f"{int(digits):,}" if digits else ""
            if shown != text:
                self.setText(shown)
                pos, seen = 0, 0
                while pos < len(shown) and seen < digits_before:
                    seen += shown[pos].isdigit()
                    pos += 1
                self.setCursorPosition(pos)
        self._check()

    def _check(self) -> None:
        from ui.texts import explain

        try:
            self.value()
            problem = ""
        except AmountError as e:
            problem = explain(e)
        if problem != self._problem:
            self._problem = problem
            self.problem_changed.emit(problem)

    def problem(self) -> str:
        return self._problem
