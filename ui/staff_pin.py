"""Signing in, switching the person selling, and a manager's approval: one PIN pad.

The lock screen lists the people who may sign in as large buttons; a tap on a name and the
PIN on the pad (or the keyboard) signs them in: switching cashier is two taps and a PIN, and
the shift stays open. The same pad, with the managers only, approves what a cashier may not do
(`with_approval`). Wrong PINs are said with the wait before that person's next try
(`pos.services.staff.check_pin`); anyone else can sign in meanwhile.
"""

from __future__ import annotations

from pos.domain import DomainError
from pos.services import staff as staff_svc
from pos.store import StoreError
from ui.numpad import Keypad
from ui.qt import (QDialog, QFont, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                   Qt, QTimer, QVBoxLayout, QWidget)
from ui.texts import explain, t

PIN_MAX = 6


class PinDialog(QDialog):
    """`mode` "sign_in": anyone active, cannot be closed without signing in (the lock
    screen); "approve": managers only, `why` says what needs approving, Close cancels.
    `person` is who was signed in or approved (None: cancelled)."""

    def __init__(self, parent, store, *, mode: str = "sign_in", why: str = ""):
        super().__init__(parent)
        self.store, self.mode = store, mode
        self.person: staff_svc.Staff | None = None
        self.chosen: staff_svc.Staff | None = None
        self.setModal(True)
        self.setWindowTitle(t("lock_title") if mode == "sign_in" else t("approve_title"))
        outer = QHBoxLayout(self)
        column = QWidget()
        column.setMaximumWidth(640)
        column.setMinimumWidth(480)
        if mode == "sign_in":
            outer.addStretch(1)
        outer.addWidget(column, 4)
        if mode == "sign_in":
            outer.addStretch(1)
        layout = QVBoxLayout(column)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.4)
        big.setBold(True)
        heading = QLabel(t("lock_heading") if mode == "sign_in" else why)
        heading.setWordWrap(True)
        heading.setFont(big)
        layout.addWidget(heading)
        with store.unit_of_work(write=False) as uow:
            people = [p for p in staff_svc.list_staff(uow, active_only=True)
                      if mode == "sign_in" or p.manager]
        names = QWidget()
        grid = QGridLayout(names)
        grid.setContentsMargins(0, 0, 0, 0)
        self.name_buttons: dict[str, QPushButton] = {}
        for k, person in enumerate(people):
            b = QPushButton(f"{person.name}\n{t(f'role_{person.role}')}")
            b.setCheckable(True)
            b.setMinimumSize(150, 64)
            b.setFont(big)
            b.setFocusPolicy(Qt.StrongFocus)  # the keyboard works too: Tab to a name, Space
            b.clicked.connect(lambda _=False, p=person: self.choose(p))
            grid.addWidget(b, k // 4, k % 4)
            self.name_buttons[person.id] = b
        layout.addWidget(names)
        row = QHBoxLayout()
        self.who = QLabel(t("lock_choose_name"))
        self.who.setFont(big)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.Password)
        self.pin.setMaxLength(PIN_MAX)
        self.pin.setFont(big)
        self.pin.setMinimumHeight(52)
        self.pin.setAlignment(Qt.AlignCenter)
        self.pin.setEnabled(False)
        self.pin.returnPressed.connect(self.submit)
        self.pin.textEdited.connect(self._digits_only)
        row.addWidget(self.who, 1)
        row.addWidget(self.pin, 1)
        layout.addLayout(row)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        layout.addWidget(self.error)
        self.keypad = Keypad(self, size=64)
        self.keypad.pressed.connect(self.key)
        self.keypad.setEnabled(False)
        layout.addWidget(self.keypad)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        if mode != "sign_in":
            close = QPushButton(t("btn_close"))
            close.setMinimumHeight(52)
            close.setFocusPolicy(Qt.NoFocus)
            close.clicked.connect(self.reject)
            bottom.addWidget(close)
        self.ok_btn = QPushButton(t("lock_ok") if mode == "sign_in" else t("approve_ok"))
        self.ok_btn.setMinimumSize(160, 52)
        self.ok_btn.setFocusPolicy(Qt.NoFocus)
        self.ok_btn.setEnabled(False)
        self.ok_btn.setStyleSheet("QPushButton { background: #2f7d32; color: white; "
                                  "border-radius: 6px; font-weight: bold; } "
                                  "QPushButton:disabled { background: #9bb59c; }")
        self.ok_btn.clicked.connect(self.submit)
        bottom.addWidget(self.ok_btn)
        layout.addLayout(bottom)
        if mode == "sign_in" and parent is not None:  # the lock covers the till's window
            window = parent.window()
            self.setGeometry(window.geometry())
            self.setStyleSheet("PinDialog { background: #eef1f4; }")
        if len(people) == 1:
            self.choose(people[0])
        elif not people:
            self.error.setText(t("lock_nobody"))
        else:
            next(iter(self.name_buttons.values())).setFocus()

    # the lock screen is left only by signing in
    def reject(self) -> None:
        if self.mode != "sign_in":
            super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.mode == "sign_in" and self.person is None:
            event.ignore()
            return
        super().closeEvent(event)

    def choose(self, person: staff_svc.Staff) -> None:
        self.chosen = person
        for pid, b in self.name_buttons.items():
            b.setChecked(pid == person.id)
        self.who.setText(t("lock_pin_of", name=person.name))
        self.pin.clear()
        self.error.setText("")
        for w in (self.pin, self.keypad, self.ok_btn):
            w.setEnabled(True)
        self.pin.setFocus()

    def _digits_only(self, text: str) -> None:
        clean = "".join(c for c in text if "0" <= c <= "9")[:PIN_MAX]
        if clean != text:
            self.pin.setText(clean)

    def key(self, key: str) -> None:
        text = self.pin.text()
        if key == "C":
            text = ""
        elif key == "⌫":
            text = text[:-1]
        else:
            text = (text + key)[:PIN_MAX]
        self.pin.setText(text)
        self.pin.setFocus()

    def submit(self) -> None:
        if self.chosen is None:
            return
        pin = self.pin.text()
        self.pin.clear()
        try:
            with self.store.unit_of_work() as uow:
                result = staff_svc.check_pin(uow, staff_id=self.chosen.id, pin=pin)
                if result.staff is not None and self.mode == "sign_in":
                    staff_svc.sign_in(uow, result.staff)
                uow.commit()
        except (DomainError, StoreError) as e:
            self.error.setText(explain(e))
            return
        if result.staff is None:
            key = "pin_wait" if result.wait else "pin_wrong"
            self.error.setText(explain(DomainError(key, name=self.chosen.name,
                                                   seconds=result.wait)))
            if result.wait:  # the pad rests while the wait runs
                for w in (self.keypad, self.ok_btn):
                    w.setEnabled(False)
                QTimer.singleShot(result.wait * 1000, self._wait_over)
            return
        self.person = result.staff
        self.accept()

    def _wait_over(self) -> None:
        if self.chosen is not None:
            for w in (self.keypad, self.ok_btn):
                w.setEnabled(True)
            self.error.setText("")

    def run(self) -> staff_svc.Staff | None:
        self.exec()
        self.deleteLater()
        return self.person


def with_approval(parent, store, action):
    """`action()`, and when it needs a manager (`needs_approval`), a manager's PIN and
    `action()` once more with them approving (`Store.approver`, recorded by the service with
    both names). Returns what `action` returns; raises its error, or `Declined` when no manager
    approved."""
    try:
        return action()
    except DomainError as e:
        if e.code != "needs_approval":
            raise
        why = explain(e)
    manager = PinDialog(parent, store, mode="approve", why=why).run()
    if manager is None:
        raise Declined()
    store.approver = manager
    try:
        return action()
    finally:
        store.approver = None


class Declined(Exception):
    """No manager approved: nothing was done, nothing needs saying."""


NOT_DONE = object()  # what `committed` returns when nothing was done


def committed(parent, store, action, *, say=None):
    """`action(uow)` in one unit of work, committed; what the person may not do asks a
    manager's PIN first (`with_approval`). Returns what `action` returned, or `NOT_DONE` when
    no manager approved or it was refused, which `say(text)` tells (an error dialog unless
    given)."""
    from ui import prompts

    def run():
        with store.unit_of_work() as uow:
            done = action(uow)
            uow.commit()
        return done

    try:
        return with_approval(parent, store, run)
    except Declined:
        return NOT_DONE
    except (DomainError, StoreError) as e:
        (say or (lambda text: prompts.error(parent, text)))(explain(e))
        return NOT_DONE
