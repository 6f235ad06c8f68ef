"""Paying with no shift open: open one right here, in one step, and go on to the payment.

Every sale belongs to a shift (a sale outside one is in no cash count and no Z report; the
till had offered "go on without a shift", and the Z then said 133,700 where the organizer's
server said 136,700). The float may be 0; counting the drawer by denomination is one button
away on the Shift screen."""

from __future__ import annotations

from pos import services as svc
from pos.domain import DomainError
from pos.money import AmountError
from pos.store import Store, StoreError
from ui.qt import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout
from ui.texts import explain, t
from ui.won_edit import WonEdit

OPENED, COUNT = "opened", "count"


class OpenShiftDialog(QDialog):
    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.outcome: str | None = None
        self.setWindowTitle(t("shift_quick_title"))
        self.setModal(True)
        layout = QVBoxLayout(self)
        text = QLabel(t("shift_quick_text"))
        text.setWordWrap(True)
        layout.addWidget(text)
        self.float_amount = WonEdit(maximum=10_000_000)
        self.float_amount.setPlaceholderText(t("shift_quick_float"))
        self.float_amount.setMinimumHeight(48)
        self.float_amount.returnPressed.connect(self.open_and_pay)
        layout.addWidget(self.float_amount)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.error.setWordWrap(True)
        self.float_amount.problem_changed.connect(self.error.setText)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.count_btn = QPushButton(t("shift_quick_count"))
        self.count_btn.clicked.connect(self.count_first)
        self.close_btn = QPushButton(t("btn_close"))
        self.close_btn.clicked.connect(self.reject)
        self.open_btn = QPushButton(t("shift_quick_open"))
        self.open_btn.setDefault(True)
        self.open_btn.setMinimumHeight(48)
        self.open_btn.clicked.connect(self.open_and_pay)
        for b in (self.count_btn, self.close_btn, self.open_btn):
            b.setMinimumHeight(48)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.float_amount.setFocus()

    def open_and_pay(self) -> None:
        try:
            amount = self.float_amount.value() or 0
            with self.store.unit_of_work() as uow:
                svc.open_shift(uow, float_amount=amount)
                uow.commit()
        except (AmountError, DomainError, StoreError) as e:
            self.error.setText(explain(e))
            return
        self.outcome = OPENED
        self.accept()

    def count_first(self) -> None:
        self.outcome = COUNT
        self.accept()

    def run(self) -> str | None:
        """OPENED (a shift is open now), COUNT (the vendor counts the drawer on the Shift
        screen first) or None (closed)."""
        self.exec()
        return self.outcome
