"""Staff accounts in Settings (a manager's): who may sign in, what a cashier may do, when the
till locks itself; and the audit log to read, with whether its chain is whole."""

from __future__ import annotations

from pos import audit
from pos.domain import DomainError
from pos.services import list_enterprises, save_settings, till_settings
from pos.services import staff as staff_svc
from pos.store import StoreError
from ui import prompts
from ui.qt import (QCheckBox, QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout,
                   QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox, QTableWidget,
                   QTableWidgetItem, QVBoxLayout)
from ui.texts import explain, language, t

RIGHT_KEYS = staff_svc.RIGHTS


def _commit(parent, store, action) -> bool:
    """`action(uow)` committed, a manager asked for what the person may not do; a refusal is
    said. True when it was done."""
    from ui.staff_pin import NOT_DONE, committed

    return committed(parent, store, action) is not NOT_DONE


class PersonDialog(QDialog):
    """A new person: name, role, enterprise, PIN typed twice."""

    def __init__(self, parent, store):
        super().__init__(parent)
        self.setWindowTitle(t("staff_add"))
        self.store = store
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setMaxLength(staff_svc.NAME_LIMIT)
        self.role = QComboBox()
        for role in staff_svc.ROLES[::-1]:  # cashier first: what most people are
            self.role.addItem(t(f"role_{role}"), role)
        self.enterprise = QComboBox()
        self.enterprise.addItem(t("staff_no_enterprise"), None)
        with store.unit_of_work(write=False) as uow:
            for e in list_enterprises(uow, active_only=True):
                self.enterprise.addItem(e["name"], e["id"])
        self.pin, self.again = QLineEdit(), QLineEdit()
        for edit in (self.pin, self.again):
            edit.setEchoMode(QLineEdit.Password)
            edit.setMaxLength(6)
        form.addRow(t("staff_name"), self.name)
        form.addRow(t("staff_role"), self.role)
        form.addRow(t("staff_enterprise"), self.enterprise)
        form.addRow(t("staff_pin"), self.pin)
        form.addRow(t("staff_pin_again"), self.again)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        close, ok = QPushButton(t("btn_close")), QPushButton(t("btn_save"))
        close.clicked.connect(self.reject)
        ok.clicked.connect(self.save)
        row.addWidget(close)
        row.addWidget(ok)
        form.addRow(row)
        self.made = None

    def save(self) -> None:
        if self.pin.text() != self.again.text():
            self.error.setText(explain(DomainError("pin_mismatch")))
            return
        made = []

        def add(uow):
            made.append(staff_svc.add_staff(
                uow, name=self.name.text(), role=self.role.currentData(), pin=self.pin.text(),
                enterprise_id=self.enterprise.currentData()))

        try:
            with self.store.unit_of_work() as uow:  # said here, in the dialog, when it is wrong
                add(uow)
        except DomainError as e:
            if e.code != "needs_approval":
                self.error.setText(explain(e))
                return
        made.clear()
        if _commit(self, self.store, add):
            self.made = made[-1]
            self.accept()


class StaffDialog(QDialog):
    def __init__(self, parent, store):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(t("staff_title"))
        self.resize(760, 620)
        layout = QVBoxLayout(self)
        self.accounts = QCheckBox(t("staff_accounts_on"))
        self.accounts.setToolTip(t("staff_accounts_tip"))
        self.accounts.clicked.connect(self.toggle_accounts)
        layout.addWidget(self.accounts)
        lock_row = QHBoxLayout()
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(0, 240)
        self.lock_minutes.setSuffix(t("staff_minutes_suffix"))
        self.lock_minutes.setSpecialValueText(t("staff_lock_never"))
        lock_row.addWidget(QLabel(t("staff_lock_after")))
        lock_row.addWidget(self.lock_minutes)
        lock_row.addStretch(1)
        layout.addLayout(lock_row)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([t("staff_name"), t("staff_role"),
                                              t("staff_enterprise"), t("staff_state")])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_btn = QPushButton(t("staff_add"))
        self.pin_btn = QPushButton(t("staff_reset_pin"))
        self.role_btn = QPushButton(t("staff_switch_role"))
        self.active_btn = QPushButton(t("staff_toggle_active"))
        for b, slot in ((self.add_btn, self.add), (self.pin_btn, self.reset_pin),
                        (self.role_btn, self.switch_role), (self.active_btn, self.toggle)):
            b.setMinimumHeight(44)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        layout.addLayout(buttons)

        rights = QGroupBox(t("staff_cashier_may"))
        rv = QVBoxLayout(rights)
        grid = QHBoxLayout()
        self.right_boxes: dict[str, QCheckBox] = {}
        columns = [QVBoxLayout(), QVBoxLayout()]
        for k, right in enumerate(RIGHT_KEYS):
            box = QCheckBox(t(f"right_{right}"))
            self.right_boxes[right] = box
            columns[k % 2].addWidget(box)
        for c in columns:
            grid.addLayout(c)
        rv.addLayout(grid)
        limits = QFormLayout()
        self.discount_won, self.discount_percent, self.difference_won = (
            QSpinBox(), QSpinBox(), QSpinBox())
        for spin, top, suffix in ((self.discount_won, 10_000_000, "원"),
                                  (self.discount_percent, 100, "%"),
                                  (self.difference_won, 10_000_000, "원")):
            spin.setRange(0, top)
            spin.setSuffix(suffix)
            spin.setSingleStep(100 if top > 100 else 1)
        limits.addRow(t("staff_discount_limit"), self.discount_won)
        limits.addRow(t("staff_discount_percent_limit"), self.discount_percent)
        limits.addRow(t("staff_difference_limit"), self.difference_won)
        rv.addLayout(limits)
        layout.addWidget(rights)
        bottom = QHBoxLayout()
        self.message = QLabel("")
        bottom.addWidget(self.message, 1)
        close, save = QPushButton(t("btn_close")), QPushButton(t("btn_save"))
        close.clicked.connect(self.accept)
        save.clicked.connect(self.save)
        for b in (close, save):
            b.setMinimumHeight(44)
            bottom.addWidget(b)
        layout.addLayout(bottom)
        self.load()

    def load(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            self.people = staff_svc.list_staff(uow)
            on = staff_svc.accounts_on(uow)
            rights = staff_svc.cashier_rights(uow)
            minutes = till_settings(uow).lock_minutes
            names = {e["id"]: e["name"] for e in list_enterprises(uow)}
        self.accounts.setChecked(on)
        self.lock_minutes.setValue(minutes)
        self.table.setRowCount(len(self.people))
        for r, p in enumerate(self.people):
            for c, text in enumerate((p.name, t(f"role_{p.role}"),
                                      names.get(p.enterprise_id, ""),
                                      t("staff_active") if p.active else t("staff_disabled"))):
                self.table.setItem(r, c, QTableWidgetItem(text))
        for right, box in self.right_boxes.items():
            box.setChecked(right in rights.allowed)
        self.discount_won.setValue(rights.discount_won)
        self.discount_percent.setValue(rights.discount_percent)
        self.difference_won.setValue(rights.difference_won)

    def selected(self) -> staff_svc.Staff | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.people):
            return self.people[row]
        prompts.info(self, t("staff_pick_first"))
        return None

    def add(self) -> None:
        dialog = PersonDialog(self, self.store)
        dialog.exec()
        if dialog.made is not None:
            self.message.setText(t("staff_added_msg", name=dialog.made.name))
        dialog.deleteLater()
        self.load()

    def reset_pin(self) -> None:
        person = self.selected()
        if person is None:
            return
        pin = prompts.ask_text(self, t("staff_new_pin_for", name=person.name))
        if pin is None:
            return
        if _commit(self, self.store, lambda uow: staff_svc.reset_pin(
                uow, staff_id=person.id, pin=pin.strip())):
            self.message.setText(t("staff_pin_done", name=person.name))

    def switch_role(self) -> None:
        person = self.selected()
        if person is None:
            return
        role = "cashier" if person.manager else "manager"
        if _commit(self, self.store, lambda uow: staff_svc.update_staff(
                uow, staff_id=person.id, role=role)):
            self.load()

    def toggle(self) -> None:
        person = self.selected()
        if person is None:
            return
        if _commit(self, self.store, lambda uow: staff_svc.update_staff(
                uow, staff_id=person.id, active=not person.active)):
            self.load()

    def toggle_accounts(self, on: bool) -> None:
        if not _commit(self, self.store, lambda uow: staff_svc.set_accounts(uow, on)):
            self.accounts.setChecked(not on)
            return
        if on and self.store.actor is None:  # whoever turned it on signs in now
            from ui.staff_pin import PinDialog

            PinDialog(self, self.store).run()
        self.message.setText(t("staff_accounts_now_on") if on else t("staff_accounts_now_off"))

    def save(self) -> None:
        rights = staff_svc.CashierRights(
            frozenset(r for r, box in self.right_boxes.items() if box.isChecked()),
            self.discount_won.value(), self.discount_percent.value(), self.difference_won.value())

        def store(uow):
            staff_svc.set_cashier_rights(uow, rights)
            save_settings(uow, lock_minutes=self.lock_minutes.value())

        if _commit(self, self.store, store):
            self.message.setText(t("saved"))


class AuditDialog(QDialog):
    """The audit log, newest first, with a filter by person and whether the chain holds."""

    def __init__(self, parent, store):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(t("audit_title"))
        self.resize(980, 620)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.who = QComboBox()
        self.who.addItem(t("audit_everyone"), None)
        with store.unit_of_work(write=False) as uow:
            for p in staff_svc.list_staff(uow):
                self.who.addItem(p.name, p.name)
            problems = audit.verify(uow)
        self.who.currentIndexChanged.connect(lambda _i: self.load())
        row.addWidget(QLabel(t("audit_who")))
        row.addWidget(self.who)
        row.addStretch(1)
        self.chain = QLabel(t("audit_chain_ok") if not problems
                            else t("audit_chain_broken", count=len(problems)))
        self.chain.setStyleSheet("color: #2f7d32; font-weight: bold;" if not problems
                                 else "color: white; background: #b3261e; font-weight: bold;"
                                 " padding: 4px;")
        row.addWidget(self.chain)
        layout.addLayout(row)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels([t("audit_col_at"), t("audit_col_staff"),
                                              t("audit_col_action"), t("audit_col_subject"),
                                              t("audit_col_details")])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        layout.addWidget(self.table, 1)
        close = QPushButton(t("btn_close"))
        close.setMinimumHeight(44)
        close.clicked.connect(self.accept)
        layout.addWidget(close)
        self.load()

    def load(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            found = audit.entries(uow, staff=self.who.currentData())
        found.reverse()
        self.table.setRowCount(len(found))
        for r, e in enumerate(found):
            details = audit.describe(e, language())
            for c, text in enumerate((e.at[:19].replace("T", " "), e.staff_name or "—",
                                      t(f"audit_{e.action}"), e.subject, details)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # a long one is elided in its cell
                self.table.setItem(r, c, item)
