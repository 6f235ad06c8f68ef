"""The cash receipt (현금영수증) a customer asks for: the number typed (a mobile number, a business
registration number or a cash receipt card), what it is for, and the dialog the history uses
to add one after the sale."""

from __future__ import annotations

from pos.domain import DomainError
from ui.qt import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, Qt,
                   QVBoxLayout, QWidget)
from ui.texts import explain, t


class CashReceiptField(QWidget):
    """"현금영수증 해드릴까요?" with the number and its purpose; a business registration number
    picks the expense proof (지출증빙), anything else the income deduction (소득공제), until the
    vendor picks otherwise."""

    def __init__(self, parent=None, *, ask_label: bool = True):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(t("pay_cash_receipt_ask"))
        self.label.setStyleSheet("font-weight: bold;")
        self.number = QLineEdit()
        self.number.setPlaceholderText(t("pay_cash_receipt_number"))
        self.number.setMaxLength(40)
        self.number.setMinimumHeight(40)
        self.number.textChanged.connect(self._typed)
        self.purpose = QComboBox()
        self.purpose.addItem(t("pay_purpose_deduction"), "deduction")
        self.purpose.addItem(t("pay_purpose_proof"), "proof")
        self.purpose.setFocusPolicy(Qt.NoFocus)
        if ask_label:
            row.addWidget(self.label)
        row.addWidget(self.number, 1)
        row.addWidget(self.purpose)

    def _typed(self, text: str) -> None:
        from pos.korea_rules import parse_identity

        try:
            kind = parse_identity(text).kind
        except DomainError:
            return
        self.purpose.setCurrentIndex(1 if kind == "bizno" else 0)

    def ask(self):
        """What was asked for (`cash_receipts.Ask`, the number checked), or None when nothing
        was typed; `DomainError` when the number cannot be one."""
        from pos.services.cash_receipts import Ask

        number = self.number.text().strip()
        if not number:
            return None
        ask = Ask(number, self.purpose.currentData())
        ask.purpose_for(ask.identity())
        return ask


class CashReceiptDialog(QDialog):
    """A cash receipt request for a sale already made (the customer came back with a number,
    within the deadline)."""

    def __init__(self, receipt_no: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(t("cash_receipt_later_title", receipt=receipt_no))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(t("cash_receipt_later_text", receipt=receipt_no)))
        self.field = CashReceiptField(self, ask_label=False)
        layout.addWidget(self.field)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.value = None
        self.field.number.setFocus()
        self.resize(560, 160)

    def _accept(self) -> None:
        try:
            ask = self.field.ask()
        except DomainError as e:
            self.error.setText(explain(e))
            return
        if ask is None:
            self.error.setText(explain(DomainError("cash_receipt_number_needed")))
            return
        self.value = ask
        self.accept()

    def run(self):
        self.exec()
        self.deleteLater()
        return self.value
