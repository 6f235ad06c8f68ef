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


class CashReceiptsDialog(QDialog):
    """The cash receipts waiting to be issued (or all of them), by enterprise: the vendor
    enters the approval number of one the enterprise issued, or exports the lot, one CSV file
    per enterprise, to issue them in one go."""

    def __init__(self, parent, store):
        from ui.qt import QHeaderView, QPushButton, QTableWidget

        super().__init__(parent)
        self.store = store
        self.setWindowTitle(t("cash_receipts_title"))
        self.resize(1100, 620)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.enterprise = QComboBox()
        self.enterprise.addItem(t("cash_receipts_every_enterprise"), None)
        from pos import services as svc

        with store.unit_of_work(write=False) as uow:
            for e in svc.list_enterprises(uow):
                self.enterprise.addItem(e["name"], e["id"])
        self.state = QComboBox()
        for key, value in (("cash_receipts_waiting_only", "to_issue"),
                           ("cash_receipts_all_states", None)):
            self.state.addItem(t(key), value)
        for box in (self.enterprise, self.state):
            box.currentIndexChanged.connect(lambda _i: self.load())
            row.addWidget(box)
        row.addStretch(1)
        self.summary = QLabel("")
        self.summary.setStyleSheet("font-weight: bold;")
        row.addWidget(self.summary)
        layout.addLayout(row)
        self.table = QTableWidget(0, 8)
        self.table.setHorizontalHeaderLabels([t(k) for k in (
            "cr_col_day", "cr_col_receipt", "cr_col_enterprise", "cr_col_amount",
            "cr_col_number", "cr_col_purpose", "cr_col_due", "cr_col_state")])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.itemSelectionChanged.connect(self._buttons)
        layout.addWidget(self.table, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.issued_btn = QPushButton(t("cash_receipts_mark"))
        self.export_btn = QPushButton(t("cash_receipts_export"))
        close = QPushButton(t("btn_close"))
        for b, slot in ((self.issued_btn, self.mark_issued), (self.export_btn, self.export),
                        (close, self.accept)):
            b.setMinimumHeight(44)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.rows = []
        self.load()

    def load(self) -> None:
        from datetime import timedelta

        from pos.domain import DomainError as Refused
        from pos.services import cash_receipts as cr
        from ui.qt import QColor, QTableWidgetItem
        from ui.texts import won

        with self.store.unit_of_work(write=False) as uow:
            try:
                found = cr.list_requests(uow, enterprise=self.enterprise.currentData(),
                                         state=self.state.currentData())
            except Refused as e:
                self.message.setText(explain(e))
                found = []
            today = self.store.clock.now().date()
        self.rows = found
        self.table.setRowCount(len(found))
        soon = (today + timedelta(days=1)).isoformat()
        for r, c in enumerate(found):
            state = {"to_issue": t("cash_receipt_state_to_issue", due=c.due_day),
                     "issued": t("cash_receipt_state_issued", approval=c.approval_no or ""),
                     "cancelled": t("cash_receipt_state_cancelled")}[c.state]
            number = c.masked + (f" ({t('cash_receipt_self')})" if c.voluntary else "")
            amount = won(-c.amount if c.kind == "cancel" else c.amount)
            purpose = t("pay_purpose_proof") if c.purpose == "proof" \
                else t("pay_purpose_deduction")
            for col, text in enumerate((c.business_day, c.receipt_no, c.enterprise_name, amount,
                                        number, purpose, c.due_day, state)):
                item = QTableWidgetItem(text)
                if c.state == "to_issue" and c.due_day <= soon:  # due tomorrow or overdue
                    item.setForeground(QColor("#b3261e"))
                self.table.setItem(r, col, item)
        waiting = [c for c in found if c.state == "to_issue"]
        self.summary.setText(t("cash_receipts_summary", count=len(waiting),
                               amount=won(sum(c.amount if c.kind == "issue" else -c.amount
                                              for c in waiting))))
        self._buttons()

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def _buttons(self) -> None:
        chosen = self.selected()
        self.issued_btn.setEnabled(chosen is not None and chosen.state != "cancelled")
        self.export_btn.setEnabled(bool(self.rows))

    def mark_issued(self) -> None:
        from pos.services import cash_receipts as cr
        from pos.store import StoreError
        from ui import prompts

        chosen = self.selected()
        if chosen is None:
            return
        approval = self.ask_approval(chosen)
        if approval is None:
            return
        try:
            with self.store.unit_of_work() as uow:
                done = cr.mark_issued(uow, ref=chosen.id, approval_no=approval)
                uow.commit()
        except (DomainError, StoreError) as e:
            prompts.error(self, explain(e))
            return
        self.message.setText(t("cash_receipts_marked", receipt=done.receipt_no,
                               approval=done.approval_no))
        self.load()

    def ask_approval(self, chosen):
        from ui import prompts

        return prompts.ask_text(self, t("cash_receipts_approval", receipt=chosen.receipt_no,
                                        number=chosen.masked))

    def export(self) -> None:
        from pos.services import cash_receipts as cr
        from pos.store import StoreError
        from ui import prompts

        folder = self.ask_folder()
        if not folder:
            return
        try:
            with self.store.unit_of_work(write=False) as uow:
                written = cr.export(uow, folder, state=self.state.currentData())
        except (DomainError, StoreError) as e:
            prompts.error(self, explain(e))
            return
        except OSError as e:
            prompts.error(self, t("cash_receipts_export_failed", path=str(folder),
                                  reason=e.strerror or str(e)))
            return
        self.message.setText(t("cash_receipts_exported", count=sum(n for _p, n in written),
                               files=len(written), folder=str(folder)))

    def ask_folder(self):
        from ui.files import last_folder
        from ui.qt import QFileDialog

        return QFileDialog.getExistingDirectory(self, t("cash_receipts_export"), last_folder())
