"""Cash receipts (현금영수증) at the till: asked at payment once the customer pays in cash, the
number checked and said back masked, the mandatory-issue trade's self-issue after one more
confirm, and a request added from the history. Real widgets, offscreen."""

from __future__ import annotations

from pos import services as svc
from pos.domain import Tender
from pos.services import cash_receipts as cr
from tests.conftest import in_shift
from tests.ui.conftest import shot, when_modal
from ui.cash_receipt import CashReceiptDialog
from ui.pay_dialog import PayDialog
from ui.qt import Qt


def add_to_cart(window, names: list[tuple[str, int]]) -> None:
    sell = window.sell
    with window.sell.store.unit_of_work(write=False) as uow:
        products = {p["name"]: p for p in svc.list_products(uow)}
    for name, qty in names:
        for _ in range(qty):
            sell.add_product(products[name])


def first_products(store, n=2) -> list[dict]:
    with store.unit_of_work(write=False) as uow:
        return svc.list_products(uow)[:n]


def test_paying_cash_asks_for_a_cash_receipt_and_says_it_back_masked(qtbot, window, demo_store):
    sell = window.sell
    for p in first_products(demo_store):
        sell.add_product(p)
    total = sell.cart.priced().totals.total
    seen = {}

    def pay(dialog: PayDialog):
        seen["hidden_before"] = not dialog.cash_receipt_row.isVisible()
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)
        seen["hidden_for_card"] = not dialog.cash_receipt_row.isVisible()
        qtbot.mouseClick(dialog.remove_btn, Qt.LeftButton)
        qtbot.keyClicks(dialog.amount, str(total + 1000))
        qtbot.mouseClick(dialog.method_buttons["cash"], Qt.LeftButton)
        seen["shown_for_cash"] = dialog.cash_receipt_row.isVisible()
        qtbot.keyClicks(dialog.cash_receipt, "010-123")  # a digit short
        qtbot.mouseClick(dialog.confirm_btn, Qt.LeftButton)
        seen["refused"] = dialog.error.text()
        seen["open"] = dialog.isVisible()
        dialog.cash_receipt.clear()
        qtbot.keyClicks(dialog.cash_receipt, "220-81-62517")
        seen["purpose"] = dialog.cash_receipt_row.purpose.currentData()
        shot(dialog, "pay-cash-receipt-ko")
        qtbot.mouseClick(dialog.confirm_btn, Qt.LeftButton)

    state = when_modal(qtbot, PayDialog, pay)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["hidden_before"] and seen["hidden_for_card"] and seen["shown_for_cash"]
    assert "현금영수증 번호로 쓸 수 없습니다: 010-123" in seen["refused"] and seen["open"]
    assert seen["purpose"] == "proof"  # a business number: an expense proof
    with demo_store.unit_of_work(write=False) as uow:
        doc = svc.get_document(uow, sale_id=svc.list_documents(uow)[-1]["id"])
    assert sum(r.amount for r in doc.cash_receipts) == total
    assert {(r.identity_kind, r.purpose) for r in doc.cash_receipts} == {("bizno", "proof")}
    assert "220-**-*2517" in sell.message.text() and "62517" not in sell.message.text()


def test_a_mandatory_trade_asks_once_then_self_issues(qtbot, window, demo_store):
    with demo_store.unit_of_work() as uow:
        for e in svc.list_enterprises(uow):
            svc.update_enterprise(uow, enterprise_id=e["id"], cash_receipt_mandatory=True)
        uow.commit()
    sell = window.sell
    product = max(first_products(demo_store, 50), key=lambda p: p["price"])
    qty = 100_000 // product["price"] + 1
    for _ in range(qty):
        sell.add_product(product)
    total = sell.cart.priced().totals.total
    assert total >= 100_000
    seen = {}

    def pay(dialog: PayDialog):
        qtbot.keyClick(dialog.amount, Qt.Key_Return)  # exact cash
        seen["said"] = dialog.error.text()
        seen["open"] = dialog.isVisible()
        qtbot.keyClick(dialog.cash_receipt, Qt.Key_Return)  # no number: once more
        
    state = when_modal(qtbot, PayDialog, pay)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert "의무발행업종" in seen["said"] and "100,000원" in seen["said"] and seen["open"]
    with demo_store.unit_of_work(write=False) as uow:
        doc = svc.get_document(uow, sale_id=svc.list_documents(uow)[-1]["id"])
    assert doc.cash_receipts and all(r.voluntary and r.masked == "010-000-1234"
                                     for r in doc.cash_receipts)
    assert sum(r.amount for r in doc.cash_receipts) == total
    assert "자진발급" in sell.message.text()


def test_a_number_brought_back_later_is_added_from_the_history(qtbot, window, demo_store):
    p = first_products(demo_store, 1)[0]
    with demo_store.unit_of_work() as uow:
        in_shift(uow)
        doc = svc.record_sale(uow, items=[svc.SaleItem(p["id"], 2)],
                              tenders=[Tender("cash", p["price"] * 2)])
        uow.commit()
    qtbot.keyClick(window, Qt.Key_F3)
    history = window.screen("history")
    history.find(doc.receipt_no)
    assert history.cash_receipt_btn.isEnabled()

    def fill(dialog: CashReceiptDialog):
        qtbot.keyClicks(dialog.field.number, "01098765432")
        shot(dialog, "history-cash-receipt-ko")
        dialog._accept()

    state = when_modal(qtbot, CashReceiptDialog, fill)
    qtbot.mouseClick(history.cash_receipt_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert "010-****-5432" in history.message.text()
    assert "010-****-5432" in history.detail.toPlainText()
    assert "98765432" not in history.detail.toPlainText()
    assert not history.cash_receipt_btn.isEnabled()  # one request a sale
    with demo_store.unit_of_work(write=False) as uow:
        (r,) = cr.of_sale(uow, sale_id=doc.id)
    assert (r.amount, r.identity_kind, r.state) == (p["price"] * 2, "phone", "to_issue")
    shot(history, "history-with-cash-receipt-ko")


def test_the_queue_marks_one_issued_and_exports_the_rest(qtbot, window, demo_store, tmp_path,
                                                         monkeypatch):
    from ui.cash_receipt import CashReceiptsDialog

    p = first_products(demo_store, 1)[0]
    with demo_store.unit_of_work() as uow:
        in_shift(uow)
        for number in ("010-1111-2222", "220-81-62517"):
            svc.record_sale(uow, items=[svc.SaleItem(p["id"])],
                            tenders=[Tender("cash", p["price"])], cash_receipt=cr.Ask(number))
        uow.commit()
    qtbot.keyClick(window, Qt.Key_F3)
    history = window.screen("history")
    monkeypatch.setattr(CashReceiptsDialog, "ask_approval", lambda self, chosen: "A-7")
    monkeypatch.setattr(CashReceiptsDialog, "ask_folder", lambda self: str(tmp_path / "out"))
    seen = {}

    def work(dialog: CashReceiptsDialog):
        seen["rows"] = dialog.table.rowCount()
        seen["numbers"] = {dialog.table.item(r, 4).text() for r in range(dialog.table.rowCount())}
        seen["summary"] = dialog.summary.text()
        shot(dialog, "cash-receipts-queue-ko")
        dialog.table.selectRow(0)
        qtbot.mouseClick(dialog.issued_btn, Qt.LeftButton)
        seen["after"] = dialog.table.rowCount()  # to issue only: the issued one left the list
        qtbot.mouseClick(dialog.export_btn, Qt.LeftButton)
        seen["exported"] = dialog.message.text()
        dialog.accept()

    state = when_modal(qtbot, CashReceiptsDialog, work)
    qtbot.mouseClick(history.cash_receipts_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["rows"] == 2 and seen["after"] == 1
    assert seen["numbers"] == {"010-****-2222", "220-**-*2517"}
    assert f"발급 대기 2건 · {p['price'] * 2:,}원" == seen["summary"]
    assert "1건" in seen["exported"]
    (written,) = (tmp_path / "out").iterdir()
    assert written.read_text(encoding="utf-8-sig").count("\n") == 2  # header and one request
    with demo_store.unit_of_work(write=False) as uow:
        states = sorted((r.state, r.approval_no or "") for r in cr.list_requests(uow))
    assert states == [("issued", "A-7"), ("to_issue", "")]


def test_a_card_is_taken_on_the_enterprises_own_terminal_then_the_stalls(qtbot, window,
                                                                        demo_store):
    """The demo's coffee cooperative takes cards on its own terminal: the pay dialog offers
    its terminal first, charging its part; the rest goes on the stall's; more than its part on
    its terminal is said and not taken."""
    from pos.demo import OWN_TERMINAL

    sell = window.sell
    with demo_store.unit_of_work(write=False) as uow:
        products = svc.list_products(uow)
        enterprises = {e["id"]: e["name"] for e in svc.list_enterprises(uow)}
    coffee = next(p for p in products if enterprises[p["enterprise_id"]] == OWN_TERMINAL)
    other = next(p for p in products if enterprises[p["enterprise_id"]] != OWN_TERMINAL)
    sell.add_product(coffee)
    sell.add_product(other)
    seen = {}

    def pay(dialog: PayDialog):
        seen["shown"] = dialog.terminal.isVisible()
        seen["first"] = dialog.terminal.currentText()
        qtbot.keyClicks(dialog.amount, str(coffee["price"] + 1))
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)
        seen["over"] = dialog.error.text()
        seen["none_taken"] = not dialog.tenders
        dialog.amount.clear()
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)  # its part by default
        seen["then"] = dialog.terminal.currentText()
        seen["row"] = dialog.table.item(0, 2).text()
        shot(dialog, "pay-own-terminal-ko")
        dialog.terminal.setCurrentIndex(1)  # its terminal again: its part is taken
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)
        seen["taken"] = (dialog.error.text(), len(dialog.tenders))
        dialog.terminal.setCurrentIndex(0)
        qtbot.keyClicks(dialog.amount, str(other["price"] + 1))  # more than the others' part
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)
        seen["stall_over"] = (dialog.error.text(), len(dialog.tenders))
        dialog.amount.clear()
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)  # the rest, the stall's
        qtbot.mouseClick(dialog.confirm_btn, Qt.LeftButton)

    state = when_modal(qtbot, PayDialog, pay)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["shown"] and seen["first"] == f"{OWN_TERMINAL} 단말기"
    assert "몫은" in seen["over"] and seen["none_taken"]
    assert seen["then"] == "매장 단말기" and seen["row"] == f"{OWN_TERMINAL} 단말기"
    assert "이미" in seen["taken"][0] and seen["taken"][1] == 1  # no ₩0 card added
    assert "매장 단말기를 쓰는 업체의 몫" in seen["stall_over"][0] and seen["stall_over"][1] == 1
    with demo_store.unit_of_work(write=False) as uow:
        doc = svc.get_document(uow, sale_id=svc.list_documents(uow)[-1]["id"])
    assert [(p.amount, p.enterprise_id) for p in doc.payments] == [
        (coffee["price"], coffee["enterprise_id"]), (other["price"], None)]
