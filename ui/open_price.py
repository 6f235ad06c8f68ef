"""The open-price key: an amount sold for an enterprise without picking a product (a thing
the catalog lacks, a price agreed at the booth). The amount is typed on the pad; the line is
recorded as the enterprise's open-price product (`pos.services.open_price_product`)."""

from __future__ import annotations

from pos.money import AmountError
from ui.numpad import Keypad, apply_key
from ui.qt import (QCheckBox, QComboBox, QDialog, QFont, QHBoxLayout, QLabel, QPushButton, Qt,
                   QVBoxLayout)
from ui.texts import explain, t
from ui.won_edit import WonEdit


class OpenPriceDialog(QDialog):
    def __init__(self, enterprises: list[dict], parent=None, *, chosen: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(t("open_price_title"))
        self.setModal(True)
        self.answer = None
        layout = QVBoxLayout(self)
        self.enterprise = QComboBox()
        self.enterprise.setMinimumHeight(44)
        for e in enterprises:
            self.enterprise.addItem(e["name"], e["id"])
        if chosen is not None and self.enterprise.findData(chosen) >= 0:
            self.enterprise.setCurrentIndex(self.enterprise.findData(chosen))
        self.statuses = {e["id"]: e.get("tax_status", "general") for e in enterprises}
        layout.addWidget(QLabel(t("open_price_enterprise")))
        layout.addWidget(self.enterprise)
        self.exempt = QCheckBox(t("open_price_exempt"))
        layout.addWidget(self.exempt)
        row = QHBoxLayout()
        self.amount = WonEdit(maximum=10_000_000)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.8)
        big.setBold(True)
        self.amount.setFont(big)
        self.amount.setMinimumHeight(56)
        self.amount.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.amount.setPlaceholderText(t("open_price_amount"))
        self.amount.returnPressed.connect(self.accept_value)
        row.addWidget(self.amount, 1)
        won_label = QLabel("원")
        won_label.setFont(big)
        row.addWidget(won_label)
        layout.addLayout(row)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.amount.problem_changed.connect(self.error.setText)
        layout.addWidget(self.error)
        self.keypad = Keypad(self)
        self.keypad.pressed.connect(lambda key: apply_key(self.amount, key))
        layout.addWidget(self.keypad)
        bottom = QHBoxLayout()
        self.close_btn = QPushButton(t("btn_close"))
        self.ok_btn = QPushButton(t("open_price_add"))
        for b in (self.close_btn, self.ok_btn):
            b.setMinimumHeight(52)
            b.setFocusPolicy(Qt.NoFocus)
        self.close_btn.clicked.connect(self.reject)
        self.ok_btn.clicked.connect(self.accept_value)
        bottom.addStretch(1)
        bottom.addWidget(self.close_btn)
        bottom.addWidget(self.ok_btn)
        layout.addLayout(bottom)
        self.enterprise.currentIndexChanged.connect(self._status)
        self._status()
        self.amount.setFocus()

    def _status(self) -> None:
        """An exempt enterprise's sales are all exempt; only a general or simplified
        taxpayer's line can be marked exempt (farm produce beside taxable goods)."""
        exempt_business = self.statuses.get(self.enterprise.currentData()) == "exempt"
        self.exempt.setEnabled(not exempt_business)
        if exempt_business:
            self.exempt.setChecked(True)

    def accept_value(self) -> None:
        try:
            amount = self.amount.value()
        except AmountError as e:
            self.error.setText(explain(e))
            return
        if not amount:
            self.error.setText(t("open_price_no_amount"))
            return
        if self.enterprise.currentData() is None:
            self.error.setText(t("open_price_no_enterprise"))
            return
        self.answer = (self.enterprise.currentData(),
                       "exempt" if self.exempt.isChecked() else "taxable", amount)
        self.accept()

    def run(self):
        """(enterprise id, tax class, amount), or None when closed."""
        self.exec()
        self.deleteLater()
        return self.answer
