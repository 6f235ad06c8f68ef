"""Staff at the till's window: the lock screen at start, switching the person selling in two
taps and a PIN, a manager approving on the spot, a refusal, the idle lock, and the Settings
dialogs for staff and the audit log."""

from __future__ import annotations

import pytest

from pos import audit, services as svc
from pos.domain import Tender
from pos.services import staff
from tests.conftest import manager_and_cashier
from tests.ui.conftest import shot, when_modal
from ui.qt import Qt
from ui.staff_pin import PinDialog


@pytest.fixture
def staffed(demo_store):
    """The demo stall with a manager and a cashier, accounts on, nobody signed in."""
    boss, clerk = manager_and_cashier(demo_store, signed_in=None)
    return demo_store, boss, clerk


def type_pin(dialog: PinDialog, name: str, pin: str) -> None:
    person = next(p for p in dialog.name_buttons if dialog.name_buttons[p].text()
                  .startswith(name + "\n"))
    dialog.name_buttons[person].click()
    for digit in pin:
        dialog.keypad.buttons[digit].click()
    dialog.ok_btn.click()


def open_staffed_window(qtbot, store, name: str, pin: str, *, first_pin: str | None = None):
    from ui.app import application, open_window

    application()
    seen = {}

    def sign_in(dialog: PinDialog):
        seen["names"] = [b.text() for b in dialog.name_buttons.values()]
        seen["closable"] = dialog.mode != "sign_in"
        if first_pin is not None:  # a wrong one first: said, the dialog stays
            type_pin(dialog, name, first_pin)
            seen["error"] = dialog.error.text()
            shot(dialog, "staff-lock-wrong-pin-ko")
        type_pin(dialog, name, pin)

    state = when_modal(qtbot, PinDialog, sign_in)
    w = open_window(store, "ko")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: state["done"], timeout=10000)
    assert state["error"] is None, state["error"]
    return w, seen


def test_the_till_opens_locked_and_a_wrong_pin_is_said_then_the_right_one_sells(
        qtbot, staffed, answers):
    store, boss, clerk = staffed
    w, seen = open_staffed_window(qtbot, store, "이계산", "1357", first_pin="0000")
    try:
        assert seen["names"] == ["김매니저\n매니저", "이계산\n계산원"]
        assert "이계산 님의 PIN이 맞지 않습니다" in seen["error"]
        assert store.actor == clerk
        assert w.staff_btn.isVisible() and w.staff_btn.text() == "판매: 이계산 (계산원) · 잠금"
        shot(w, "staff-signed-in-ko")
        with store.unit_of_work() as uow:
            product = svc.list_products(uow)[0]
            sale = svc.record_sale(uow, items=[svc.SaleItem(product["id"])],
                                   tenders=[Tender("cash", product["price"])])
            uow.commit()
        assert sale.staff_name == "이계산"

        # switching: a tap on the name in the status bar, a tap on the next person, the PIN
        state = when_modal(qtbot, PinDialog, lambda d: type_pin(d, "김매니저", "2468"))
        qtbot.mouseClick(w.staff_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        assert store.actor == boss and "김매니저" in w.staff_btn.text()
        with store.unit_of_work(write=False) as uow:
            actions = [e.action for e in audit.entries(uow)]
        assert actions[-4:] == ["pin_failed", "sign_in", "sign_out", "sign_in"]
    finally:
        w.close()


def test_a_cashiers_void_is_approved_by_a_managers_pin_and_refused_without(
        qtbot, staffed, answers):
    store, boss, clerk = staffed
    w, _ = open_staffed_window(qtbot, store, "이계산", "1357")
    try:
        with store.unit_of_work() as uow:
            product = svc.list_products(uow)[0]
            sale = svc.record_sale(uow, items=[svc.SaleItem(product["id"])],
                                   tenders=[Tender("cash", product["price"])])
            uow.commit()
        w.show_screen("history")
        history = w.screen("history")
        history.find(sale.receipt_no)
        seen = {}

        def decline(dialog: PinDialog):
            seen["managers"] = [b.text() for b in dialog.name_buttons.values()]
            seen["why"] = dialog.findChildren(type(dialog.who))[0].text()
            shot(dialog, "staff-approval-ko")
            dialog.reject()

        state = when_modal(qtbot, PinDialog, decline)
        qtbot.mouseClick(history.void_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        assert seen["managers"] == ["김매니저\n매니저"]  # only a manager approves
        assert "이계산 님은 '판매 취소' 권한이 없습니다" in seen["why"]
        with store.unit_of_work(write=False) as uow:
            assert svc.get_document(uow, sale_id=sale.id).refunds == []

        state = when_modal(qtbot, PinDialog, lambda d: type_pin(d, "김매니저", "2468"))
        qtbot.mouseClick(history.void_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        with store.unit_of_work(write=False) as uow:
            void_no, = svc.get_document(uow, sale_id=sale.id).refunds
            void = svc.get_document(uow, receipt_no=void_no)
            approval, = audit.entries(uow, action="approval")
        assert void.staff_name == "이계산"  # the cashier did it; the manager approved
        assert approval.details["approver"] == "김매니저" and approval.details["staff"] == "이계산"
        assert store.approver is None  # the approval was for that one void
        assert answers.errors == []
    finally:
        w.close()


def test_settings_need_a_manager_the_catalog_asks_at_each_edit_and_a_lock_goes_to_sell(
        qtbot, staffed, answers):
    """A stranger's attack: a manager left the Catalog screen open, locked, and the cashier who
    signed in next disabled products and imported a catalog with no approval. Now the lock
    goes back to Sell, Settings needs a manager to open, and every catalog edit asks for one."""
    store, boss, clerk = staffed
    w, _ = open_staffed_window(qtbot, store, "이계산", "1357")
    try:
        state = when_modal(qtbot, PinDialog, lambda d: d.reject())
        qtbot.mouseClick(w.nav["settings"], Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        assert w.current() == "sell"
        w.show_screen("catalog")  # to read: open to anyone
        catalog = w.screen("catalog")
        catalog.product_view.selectRow(0)
        state = when_modal(qtbot, PinDialog, lambda d: d.reject())
        catalog.toggle_product()
        qtbot.waitUntil(lambda: state["done"])
        with store.unit_of_work(write=False) as uow:
            assert all(p["active"] for p in svc.list_products(uow))  # declined: nothing
        state = when_modal(qtbot, PinDialog, lambda d: type_pin(d, "김매니저", "2468"))
        catalog.toggle_product()
        qtbot.waitUntil(lambda: state["done"])
        with store.unit_of_work(write=False) as uow:
            assert sum(not p["active"] for p in svc.list_products(uow)) == 1
            approval = audit.entries(uow, action="approval")[-1]
            edit = audit.entries(uow, action="catalog_edit")[-1]
        assert approval.details["right"] == "catalog" and edit.staff_name == "이계산"
        # a manager opens Settings, locks; the next person starts on Sell
        state = when_modal(qtbot, PinDialog, lambda d: type_pin(d, "김매니저", "2468"))
        qtbot.mouseClick(w.staff_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        w.show_screen("settings")
        assert w.current() == "settings"
        state = when_modal(qtbot, PinDialog, lambda d: type_pin(d, "이계산", "1357"))
        qtbot.mouseClick(w.staff_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        assert w.current() == "sell" and store.actor == clerk
        # counting stock from a tile is a cashier's (by default), and kept with their name
        with store.unit_of_work(write=False) as uow:
            product = svc.list_products(uow, active_only=True)[0]
        w.sell._count_tile(product, 0)
        with store.unit_of_work(write=False) as uow:
            moved = audit.entries(uow, action="stock_move")[-1]
        assert moved.staff_name == "이계산" and moved.details["stock"] == 0
    finally:
        w.close()


def test_the_till_locks_itself_after_the_idle_minutes_and_never_mid_dialog(
        qtbot, staffed, answers):
    store, boss, clerk = staffed
    with store.unit_of_work() as uow:
        svc.save_settings(uow, lock_minutes=2)
        uow.commit()
    w, _ = open_staffed_window(qtbot, store, "이계산", "1357")
    try:
        w._last_input -= 60  # one minute untouched: still signed in
        w._lock_when_idle()
        assert store.actor == clerk
        w._last_input -= 61
        state = when_modal(qtbot, PinDialog, lambda d: type_pin(d, "김매니저", "2468"))
        w._lock_when_idle()
        qtbot.waitUntil(lambda: state["done"])
        assert store.actor == boss
    finally:
        w.close()


def test_settings_show_the_staff_and_the_audit_log_whole(qtbot, staffed, answers):
    from ui.staff_screen import AuditDialog, StaffDialog

    store, boss, clerk = staffed
    w, _ = open_staffed_window(qtbot, store, "김매니저", "2468")
    try:
        w.show_screen("settings")
        settings = w.screen("settings")
        seen = {}

        def look(dialog: StaffDialog):
            seen["rows"] = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
            seen["accounts"] = dialog.accounts.isChecked()
            dialog.discount_won.setValue(3000)
            dialog.right_boxes["refund"].setChecked(True)
            shot(dialog, "staff-settings-ko")
            dialog.save()
            seen["message"] = dialog.message.text()
            dialog.accept()

        state = when_modal(qtbot, StaffDialog, look)
        qtbot.mouseClick(settings.staff_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        assert state["error"] is None, state["error"]
        assert seen["rows"] == ["김매니저", "이계산"] and seen["accounts"]
        with store.unit_of_work(write=False) as uow:
            rights = staff.cashier_rights(uow)
        assert rights.discount_won == 3000 and "refund" in rights.allowed

        def read(dialog: AuditDialog):
            seen["chain"] = dialog.chain.text()
            seen["actions"] = [dialog.table.item(r, 2).text()
                               for r in range(dialog.table.rowCount())]
            shot(dialog, "staff-audit-ko")
            dialog.accept()

        state = when_modal(qtbot, AuditDialog, read)
        qtbot.mouseClick(settings.audit_btn, Qt.LeftButton)
        qtbot.waitUntil(lambda: state["done"])
        assert "온전합니다" in seen["chain"]
        assert seen["actions"][0] == "권한 변경" and "로그인" in seen["actions"]
    finally:
        w.close()


def test_the_lock_screen_works_from_the_keyboard_alone(qtbot, staffed, answers):
    from ui.app import application

    store, boss, clerk = staffed
    application()
    dialog = PinDialog(None, store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    first = dialog.focusWidget()
    assert first is dialog.name_buttons[boss.id]  # names sort: 김매니저 first
    qtbot.keyClick(first, Qt.Key_Tab)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key_Space)
    assert dialog.chosen == clerk and dialog.focusWidget() is dialog.pin
    qtbot.keyClicks(dialog.pin, "13a57")  # a letter is not taken
    assert dialog.pin.text() == "1357"
    qtbot.keyClick(dialog.pin, Qt.Key_Return)
    assert dialog.person == clerk and store.actor == clerk
