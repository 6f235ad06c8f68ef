"""Taking the payment: method buttons, quick cash, split payments, change shown large."""

from __future__ import annotations

from dataclasses import dataclass

from pos.domain import DomainError, MethodKind, PaymentMethod, Tender, settle
from pos.money import AmountError
from ui.qt import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QFont, QGridLayout, QHBoxLayout,
                   QHeaderView, QKeySequence, QLabel, QLineEdit, QPushButton,
                   QShortcut, QSpinBox, QTableWidget, QTableWidgetItem, Qt, QVBoxLayout)
from ui.texts import explain, language, t, won
from ui.numpad import Keypad, apply_key
from ui.won_edit import WonEdit


@dataclass(frozen=True)
class PayResult:
    tenders: list[Tender]
    receipt: bool
    cash_receipt: object = None  # pos.services.cash_receipts.Ask, when a number was given


def quick_cash(due: int) -> list[int]:
    """Notes a customer is likely to hand over for `due`: the next round amounts above it."""
    if due <= 0:
        return []
    options = {-(-due // step) * step for step in (1000, 5000, 10000, 50000)}
    options |= {10000, 50000}
    return sorted(a for a in options if a > due)[:5]


class PayDialog(QDialog):
    def __init__(self, total: int, methods: list[PaymentMethod], *, receipt: bool = False,
                 parent=None, cash_like: tuple[str, ...] = ("cash", "transfer"),
                 must_issue=None, mandatory_min: int = 100_000,
                 terminals: list[tuple[str, str, int]] = ()):
        """`cash_like`: the kinds of payment a cash receipt (현금영수증) is for; `must_issue`:
        called with the payments, true when a mandatory-issue trade must issue one (the
        dialog then asks for a number once before the sale goes to a self-issue);
        `terminals`: (id, name, part) of the sale's enterprises that take cards on their own
        terminal: a card is taken on one of them (at most its part) or on the stall's."""
        super().__init__(parent)
        self.setWindowTitle(t("pay_title"))
        self.setModal(True)
        self.total = total
        self.cash_like = tuple(cash_like)
        self.must_issue = must_issue
        self.mandatory_min = mandatory_min
        self._mandatory_said = False
        self.methods = {m.code: m for m in methods}
        self.terminals = [(str(i), str(n), int(a)) for i, n, a in terminals]
        self.tenders: list[Tender] = []
        self.result_value: PayResult | None = None
        self._build(receipt)
        self._refresh()

    def _big(self, scale: float) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * scale)
        f.setBold(True)
        return f

    def _build(self, receipt: bool) -> None:
        layout = QVBoxLayout(self)
        figures = QGridLayout()
        self.due_label = QLabel()
        self.remaining_label = QLabel()
        self.tendered_label = QLabel()
        self.change_label = QLabel()
        for i, (title, label, scale) in enumerate(((t("pay_due"), self.due_label, 2.2),
                                                   (t("pay_remaining"), self.remaining_label, 1.6),
                                                   (t("pay_tendered"), self.tendered_label, 1.3),
                                                   (t("pay_change"), self.change_label, 2.2))):
            figures.addWidget(QLabel(title), 0, i)
            label.setFont(self._big(scale))
            figures.addWidget(label, 1, i)
        layout.addLayout(figures)
        body = QHBoxLayout()  # the payment on the left, a number pad for the amount on the right
        layout.addLayout(body, 1)
        outer, layout = layout, QVBoxLayout()
        body.addLayout(layout, 1)
        self.keypad = Keypad(self, size=64)
        self.keypad.pressed.connect(lambda key: apply_key(self.amount, key))
        body.addWidget(self.keypad, 0, Qt.AlignTop)

        entry = QHBoxLayout()
        self.amount = WonEdit()
        self.amount.setPlaceholderText(t("pay_amount"))
        self.amount.setFont(self._big(1.4))
        self.amount.setMinimumHeight(48)
        self.approval = QLineEdit()
        self.approval.setPlaceholderText(t("pay_approval"))
        self.approval.setMinimumHeight(48)
        self.approval.setMaxLength(32)
        self.notes = QSpinBox()  # vouchers: how many notes the amount is (face value × count)
        self.notes.setRange(1, 1000)
        self.notes.setSuffix(t("pay_notes_suffix"))
        self.notes.setToolTip(t("pay_notes_tip"))
        self.notes.setMinimumHeight(48)
        # whose card terminal takes a card: the stall's, or an enterprise's own (joint stalls)
        self.terminal = QComboBox()
        self.terminal.setMinimumHeight(48)
        self.terminal.setToolTip(t("pay_terminal_tip"))
        self.terminal.addItem(t("pay_terminal_stall"), None)
        for eid, name, _part in self.terminals:
            self.terminal.addItem(t("pay_terminal_own", name=name), eid)
        self.terminal.setVisible(bool(self.terminals))
        self.terminal.setFocusPolicy(Qt.NoFocus)
        entry.addWidget(self.amount, 2)
        entry.addWidget(self.approval, 1)
        entry.addWidget(self.terminal, 1)
        entry.addWidget(self.notes)
        layout.addLayout(entry)

        grid = QGridLayout()
        self.method_buttons: dict[str, QPushButton] = {}
        for n, m in enumerate(self.methods.values(), start=1):
            b = QPushButton(f"{n}  {m.label(language())}")
            b.setMinimumHeight(56)
            b.setFont(self._big(1.1))
            b.setFocusPolicy(Qt.NoFocus)
            b.clicked.connect(lambda _=False, code=m.code: self.add_tender(code))
            grid.addWidget(b, (n - 1) // 4, (n - 1) % 4)
            self.method_buttons[m.code] = b
            if n <= 9:
                QShortcut(QKeySequence(f"Ctrl+{n}"), self, activated=b.click)
        layout.addLayout(grid)

        self.quick_row = QHBoxLayout()
        self.quick_buttons: list[QPushButton] = []
        layout.addLayout(self.quick_row)

        # "현금영수증 해드릴까요?": shown once a payment is cash or a transfer
        from ui.cash_receipt import CashReceiptField

        self.cash_receipt_row = CashReceiptField(self)
        self.cash_receipt = self.cash_receipt_row.number
        self.cash_receipt.textChanged.connect(lambda _text: self.error.setText(""))
        self.cash_receipt_row.setVisible(False)
        layout.addWidget(self.cash_receipt_row)

        self.table = QTableWidget(0, 3)
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setMaximumHeight(130)
        layout.addWidget(self.table)

        self.error = QLabel("")
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.amount.problem_changed.connect(self.error.setText)
        layout = outer

        bottom = QHBoxLayout()
        self.remove_btn = QPushButton(t("pay_remove"))
        self.remove_btn.setFocusPolicy(Qt.NoFocus)
        self.remove_btn.clicked.connect(self.remove_last)
        self.receipt = QCheckBox(t("pay_receipt"))
        self.receipt.setChecked(receipt)
        self.receipt.setFocusPolicy(Qt.NoFocus)
        QShortcut(QKeySequence("Ctrl+R"), self, activated=self.receipt.toggle)
        self.cancel_btn = QPushButton(t("pay_cancel"))
        self.cancel_btn.setMinimumHeight(56)
        self.cancel_btn.setFocusPolicy(Qt.NoFocus)
        self.cancel_btn.clicked.connect(self.reject)
        self.confirm_btn = QPushButton(t("pay_confirm"))
        self.confirm_btn.setMinimumHeight(56)
        self.confirm_btn.setMinimumWidth(220)
        self.confirm_btn.setFont(self._big(1.2))
        self.confirm_btn.setStyleSheet("QPushButton { background: #2f7d32; color: white; "
                                       "border-radius: 8px; } QPushButton:disabled { "
                                       "background: #9bb59c; }")
        self.confirm_btn.setFocusPolicy(Qt.NoFocus)
        self.confirm_btn.clicked.connect(self.confirm)
        bottom.addWidget(self.remove_btn)
        bottom.addWidget(self.receipt)
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_btn)
        bottom.addWidget(self.confirm_btn)
        layout.addLayout(bottom)
        self.amount.setFocus()
        self.resize(960, 560)

    # -- figures --------------------------------------------------------------------------------
    def paid(self) -> int:
        return sum(x.amount for x in self.tenders)

    def remaining(self) -> int:
        return max(0, self.total - self.paid())

    def settled(self):
        """The payments as they would be recorded, or None while not covered."""
        if self.paid() < self.total:
            return None
        return settle(self.total, self.tenders, self.methods)

    def _refresh(self) -> None:
        self.due_label.setText(won(self.total))
        self.remaining_label.setText(won(self.remaining()))
        self.tendered_label.setText(won(self.paid()))
        payments = None
        try:
            payments = self.settled()
        except DomainError as e:  # pragma: no cover - add_tender keeps tenders valid
            self.error.setText(explain(e))
        change = sum(p.change for p in payments) if payments else 0
        self.change_label.setText(won(change))
        self.change_label.setStyleSheet("color: #1b5e20;" if change else "")
        self.confirm_btn.setEnabled(payments is not None)
        self.table.setRowCount(len(self.tenders))
        for row, tender in enumerate(self.tenders):
            method = self.methods[tender.method]
            detail = tender.approval_no or ""
            if tender.terminal:
                detail = " ".join(x for x in (t("pay_terminal_own", name=self._name_of(
                    tender.terminal)), detail) if x)
            if tender.count:
                detail = t("pay_notes_detail", face=won(tender.face_value), count=tender.count)
            for col, text in enumerate((method.label(language()), won(tender.amount), detail)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        for b in self.quick_buttons:
            self.quick_row.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.quick_buttons.clear()
        due = self.remaining()
        if due and "cash" in self.methods:
            for label, amount in [(t("pay_exact"), due)] + [
                    (t("pay_cash_quick", amount=won(a)), a) for a in quick_cash(due)]:
                b = QPushButton(label)
                b.setMinimumHeight(48)
                b.setFocusPolicy(Qt.NoFocus)
                b.clicked.connect(lambda _=False, a=amount: self.add_tender("cash", a))
                self.quick_row.addWidget(b)
                self.quick_buttons.append(b)
        self.remove_btn.setEnabled(bool(self.tenders))
        for b in self.method_buttons.values():
            b.setEnabled(due > 0)
        cashlike = any(self.methods[x.method].kind in self.cash_like for x in self.tenders)
        self.cash_receipt_row.setVisible(cashlike)
        if self.terminals:
            self._next_terminal()

    def _name_of(self, eid: str) -> str:
        return next((n for i, n, _ in self.terminals if i == eid), eid)

    def _left_on(self, eid: str, tenders=None) -> int:
        """What is still to be taken on an enterprise's own terminal: its part less its cards."""
        part = next((a for i, _, a in self.terminals if i == eid), 0)
        return part - sum(x.amount for x in (self.tenders if tenders is None else tenders)
                          if x.terminal == eid)

    def _stall_left(self) -> int:
        """What the stall's terminal may still take: the part of the enterprises that use it
        less the cards it took."""
        part = self.total - sum(a for _, _, a in self.terminals)
        return part - sum(x.amount for x in self.tenders if x.terminal is None
                          and self.methods[x.method].kind == MethodKind.CARD)

    def _stall_over(self, amount: int) -> DomainError:
        part = self.total - sum(a for _, _, a in self.terminals)
        return DomainError("stall_card_over", amount=part - self._stall_left() + amount,
                           part=part, names=", ".join(n for _, n, _ in self.terminals))

    def _next_terminal(self) -> None:
        """The terminal the next card goes on: the first own terminal with something still to
        take, else the stall's."""
        for k, (eid, _name, _part) in enumerate(self.terminals, start=1):
            if self._left_on(eid) > 0:
                self.terminal.setCurrentIndex(k)
                return
        self.terminal.setCurrentIndex(0)

    def cash_receipt_ask(self):
        """The cash receipt the customer asked for (number checked), or None; DomainError
        when the number cannot be one."""
        if not self.cash_receipt_row.isVisible():
            return None
        return self.cash_receipt_row.ask()

    # -- actions --------------------------------------------------------------------------------
    def typed_amount(self) -> int | None:
        """What is typed; `AmountError` when it is not a whole number of won."""
        return self.amount.value()

    def add_tender(self, method: str, amount: int | None = None) -> bool:
        """Add a payment by `method` of `amount` (default: what was typed, else what is due)."""
        due = self.remaining()
        if due <= 0:
            return False
        m = self.methods[method]
        terminal = self.terminal.currentData() if (self.terminals and m.kind == MethodKind.CARD) \
            else None
        stall_card = bool(self.terminals) and m.kind == MethodKind.CARD and not terminal
        if terminal and self._left_on(terminal) <= 0:
            self.error.setText(explain(DomainError("terminal_part_taken",
                                                   name=self._name_of(terminal))))
            return False
        if stall_card and self._stall_left() <= 0:
            self.error.setText(explain(self._stall_over(0)))
            return False
        if amount is None:
            try:
                # on an enterprise's own terminal a card charges its part by default, on the
                # stall's what the enterprises that use it still have to pay
                amount = self.typed_amount() or (
                    min(due, self._left_on(terminal)) if terminal
                    else min(due, self._stall_left()) if stall_card else due)
            except AmountError as e:  # said, never reinterpreted
                self.error.setText(explain(e))
                return False
        if stall_card and amount > self._stall_left():
            self.error.setText(explain(self._stall_over(amount)))
            return False
        if terminal and amount > self._left_on(terminal):
            self.error.setText(explain(DomainError(
                "terminal_over_part", name=self._name_of(terminal),
                amount=amount + sum(x.amount for x in self.tenders if x.terminal == terminal),
                part=next(a for i, _, a in self.terminals if i == terminal))))
            return False
        approval = self.approval.text().strip() or None
        face = count = None
        if m.kind == MethodKind.VOUCHER:  # the notes taken: face value × count
            count = self.notes.value()
            if amount % count:
                self.error.setText(explain(DomainError("voucher_notes_invalid",
                                                       method=m.label(language()),
                                                       amount=amount)))
                return False
            face = amount // count
        tender = Tender(method, amount, approval if m.kind == MethodKind.CARD else None,
                        face_value=face, count=count, terminal=terminal)
        candidate = self.tenders + [tender]
        try:
            if sum(x.amount for x in candidate) >= self.total:
                settle(self.total, candidate, self.methods)
        except DomainError as e:
            self.error.setText(explain(e))
            return False
        self.error.setText("")
        self.tenders = candidate
        self.amount.clear()
        self.notes.setValue(1)
        if m.kind == MethodKind.CARD:
            self.approval.clear()
        self._refresh()
        return True

    def remove_last(self) -> None:
        if self.tenders:
            self.tenders.pop()
            self.error.setText("")
            self._refresh()

    def _enter(self) -> None:
        """Enter completes the sale only when the payments cover it: on a fresh dialog with
        nothing typed it is exact cash; with an amount typed, that much cash; with payments
        short of the total and nothing typed it asks for the next method (it had filled the
        rest as cash, and the drawer ended up short)."""
        try:
            covered = self.settled() is not None
        except DomainError as e:
            self.error.setText(explain(e))
            return
        if covered:
            self.confirm()
            return
        try:
            typed = self.typed_amount()
        except AmountError as e:
            self.error.setText(explain(e))
            return
        if "cash" not in self.methods or (typed is None and self.tenders):
            self.error.setText(t("pay_next_method", remaining=self.remaining()))
            return
        if self.add_tender("cash"):
            if self.settled() is not None:
                self.confirm()
            else:
                self.error.setText(t("pay_next_method", remaining=self.remaining()))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        # Enter in a field reaches here too (a line edit passes it on): handled once, here. It
        # had also been connected to each field's returnPressed, and one Enter was two: a
        # mandatory-issue sale went past its question to a self-issue.
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self._enter()
            return
        super().keyPressEvent(event)

    def confirm(self) -> None:
        try:
            if self.settled() is None:
                self.error.setText(explain(DomainError("payment_short", short=self.remaining(),
                                                       total=self.total)))
                return
        except DomainError as e:
            self.error.setText(explain(e))
            return
        try:
            ask = self.cash_receipt_ask()
        except DomainError as e:
            self.error.setText(explain(e))
            self.cash_receipt.setFocus()
            return
        if ask is None and self.must_issue is not None and not self._mandatory_said \
                and self.must_issue(self.settled()):
            # a mandatory-issue trade: ask once; confirmed again, it is a self-issue
            self._mandatory_said = True
            self.error.setText(t("pay_cash_receipt_mandatory", amount=won(self.mandatory_min)))
            self.cash_receipt.setFocus()
            return
        self.result_value = PayResult(list(self.tenders), self.receipt.isChecked(), ask)
        self.accept()

    def run(self) -> PayResult | None:
        """Show the dialog; the payments and receipt choice, or None when cancelled. The
        dialog is gone afterwards (its fields no longer hold the keyboard focus)."""
        self.exec()
        self.deleteLater()
        return self.result_value
