"""Selling with the mouse, with the keyboard alone, and when things go wrong."""

from __future__ import annotations

import pytest

from pos import services as svc
from tests.ui.conftest import when_modal
from ui.pay_dialog import PayDialog, quick_cash
from ui.qt import QApplication, Qt


def click_tile(qtbot, sell, row: int) -> dict:
    product = sell.model.product(row)
    rect = sell.grid.visualRect(sell.model.index(row))
    qtbot.mouseClick(sell.grid.viewport(), Qt.LeftButton, pos=rect.center())
    return product


def type_text(widget, text: str) -> None:
    """Type any text, Hangul included, as key events (QTest only types ASCII)."""
    from ui.qt import QEvent, QKeyEvent

    for ch in text:
        for kind in (QEvent.KeyPress, QEvent.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key_unknown, Qt.NoModifier, ch))


def scan(qtbot, widget, code: str) -> None:
    """A scanner: the whole code typed at once, then Enter."""
    qtbot.keyClicks(widget, code)
    qtbot.keyClick(widget, Qt.Key_Return)


def last_sale(store):
    with store.unit_of_work(write=False) as uow:
        rows = svc.list_documents(uow)
        return svc.get_document(uow, sale_id=rows[-1]["id"]) if rows else None


def barcoded(sell, skip=()) -> dict:
    return next(p for p in sell.products if p["barcodes"] and p["id"] not in skip)


def test_click_flow_with_voucher_and_cash(qtbot, window, demo_store):
    sell = window.sell
    tiles = [click_tile(qtbot, sell, row) for row in (0, 1, 2)]
    type_text(sell.search, "ㅅㅈㅂ")
    assert sell.shown_products()[0]["name"] == "천연 수제비누"
    searched = click_tile(qtbot, sell, 0)
    scanned = barcoded(sell, skip={p["id"] for p in tiles + [searched]})
    scan(qtbot, sell.search, scanned["barcodes"][0])
    assert sell.search.text() == "ㅅㅈㅂ"  # the scan took its digits back out of the box
    assert [ln.name for ln in sell.cart.lines] == [p["name"] for p in tiles + [searched, scanned]]
    sell.table.selectRow(0)
    qtbot.mouseClick(sell.plus_btn, Qt.LeftButton)
    assert sell.cart.lines[0].qty == 2
    total = sell.cart.priced().totals.total
    assert total > 10000
    seen = {}

    def pay(dialog: PayDialog):
        qtbot.keyClicks(dialog.amount, "10000")
        qtbot.mouseClick(dialog.method_buttons["local_voucher"], Qt.LeftButton)
        assert dialog.remaining() == total - 10000
        cash = quick_cash(total - 10000)[0]
        button = next(b for b in dialog.quick_buttons if b.text().endswith(f"{cash:,}원"))
        qtbot.mouseClick(button, Qt.LeftButton)
        seen["change"] = dialog.change_label.text()
        seen["cash"] = cash
        qtbot.mouseClick(dialog.confirm_btn, Qt.LeftButton)

    state = when_modal(qtbot, PayDialog, pay)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    change = seen["cash"] - (total - 10000)
    assert seen["change"] == f"{change:,}원"
    assert sell.cart.is_empty
    doc = last_sale(demo_store)
    assert doc.totals.total == total
    assert [(ln.name, ln.qty) for ln in doc.lines] == [
        (tiles[0]["name"], 2), (tiles[1]["name"], 1), (tiles[2]["name"], 1),
        (searched["name"], 1), (scanned["name"], 1)]
    assert [(p.method, p.amount, p.tendered, p.change) for p in doc.payments] == [
        ("local_voucher", 10000, 10000, 0), ("cash", total - 10000, seen["cash"], change)]
    assert doc.receipt_no in sell.message.text()
    assert doc.receipt_no in window.status_receipts.text() or "1" in window.status_receipts.text()


def test_keyboard_only_scan_scan_enter_enter(qtbot, window, demo_store):
    sell = window.sell
    first = barcoded(sell)
    second = barcoded(sell, skip={first["id"]})
    scan(qtbot, sell.search, first["barcodes"][0])
    scan(qtbot, sell.search, second["barcodes"][0])
    assert len(sell.cart.lines) == 2
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.keyClick(sell.search, Qt.Key_Return)
    assert state["done"] and state["error"] is None, state["error"]
    doc = last_sale(demo_store)
    assert [ln.product_id for ln in doc.lines] == [first["id"], second["id"]]
    assert [(p.method, p.amount, p.change) for p in doc.payments] == [
        ("cash", first["price"] + second["price"], 0)]
    assert sell.cart.is_empty
    qtbot.waitUntil(sell.search.hasFocus)  # ready for the next customer's first scan


def test_keyboard_shortcuts_change_the_cart(qtbot, window, answers):
    sell = window.sell
    p = barcoded(sell)
    scan(qtbot, sell.search, p["barcodes"][0])
    qtbot.keyClick(window, Qt.Key_Equal, Qt.ControlModifier)
    assert sell.cart.lines[0].qty == 2
    answers.ints.append(5)
    qtbot.keyClick(window, Qt.Key_Q, Qt.ControlModifier)
    assert sell.cart.lines[0].qty == 5
    answers.ints.append(1000)
    qtbot.keyClick(window, Qt.Key_L, Qt.ControlModifier)
    assert sell.cart.lines[0].line_discount == 1000
    answers.texts.append("10%")
    qtbot.keyClick(window, Qt.Key_D, Qt.ControlModifier)
    totals = sell.cart.priced().totals
    assert totals.receipt_discount == round((p["price"] * 5 - 1000) / 10)
    assert "할인" in sell.vat_label.text()
    qtbot.keyClick(window, Qt.Key_Delete, Qt.ControlModifier)
    assert sell.cart.is_empty


def test_park_and_resume_a_cart(qtbot, window, demo_store):
    sell = window.sell
    first = click_tile(qtbot, sell, 0)
    qtbot.keyClick(window, Qt.Key_F8)
    assert sell.cart.is_empty and len(sell.parked) == 1
    assert sell.resume_btn.isEnabled() and "(1)" in sell.resume_btn.text()
    other = click_tile(qtbot, sell, 3)
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"]
    assert [ln.product_id for ln in last_sale(demo_store).lines] == [other["id"]]
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key_F9)
    assert [ln.product_id for ln in sell.cart.lines] == [first["id"]]
    assert len(sell.parked) == 0


def test_unknown_barcode_says_so_and_keeps_the_cart(qtbot, window):
    sell = window.sell
    click_tile(qtbot, sell, 0)
    scan(qtbot, sell.search, "9999999999994")
    assert "등록되지 않은 바코드" in sell.message.text() and "9999999999994" in sell.message.text()
    assert len(sell.cart.lines) == 1 and sell.search.text() == ""


def test_tendered_less_than_total_cannot_be_confirmed(qtbot, window, demo_store):
    sell = window.sell
    click_tile(qtbot, sell, 0)
    seen = {}

    def short(dialog: PayDialog):
        qtbot.keyClicks(dialog.amount, "1000")
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)
        seen["enabled"] = dialog.confirm_btn.isEnabled()
        dialog.confirm()
        seen["error"] = dialog.error.text()
        dialog.reject()

    state = when_modal(qtbot, PayDialog, short)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["enabled"] is False
    assert "부족합니다" in seen["error"]
    assert last_sale(demo_store) is None and len(sell.cart.lines) == 1


def test_card_cannot_be_charged_more_than_due(qtbot, window):
    sell = window.sell
    click_tile(qtbot, sell, 0)
    price = sell.cart.priced().totals.total
    seen = {}

    def over(dialog: PayDialog):
        qtbot.keyClicks(dialog.amount, str(price + 1000))
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)
        seen["error"] = dialog.error.text()
        seen["tenders"] = list(dialog.tenders)
        dialog.reject()

    when_modal(qtbot, PayDialog, over)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert "넘을 수 없습니다" in seen["error"] and seen["tenders"] == []


def test_database_turned_read_only_mid_day_loses_nothing(qtbot, window, demo_store, answers):
    from sqlalchemy import create_engine, event

    sell = window.sell
    click_tile(qtbot, sell, 0)
    assert sell.record([__import__("pos.domain").domain.Tender("cash", 10**6)]) is not None
    before = last_sale(demo_store)
    live = demo_store.engine
    ro = create_engine(f"sqlite:///file:{demo_store.path}?mode=ro&uri=true")
    event.listen(ro, "connect", lambda c, _r: setattr(c, "isolation_level", None))
    event.listen(ro, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    demo_store.engine = ro
    try:
        click_tile(qtbot, sell, 1)
        click_tile(qtbot, sell, 2)
        lines = list(sell.cart.lines)
        state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
        qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
        assert state["done"]
        assert answers.errors and "읽기 전용" in answers.errors[-1]
        assert "읽기 전용" in sell.message.text()
        assert sell.cart.lines == lines
    finally:
        demo_store.engine = live
        ro.dispose()
    assert last_sale(demo_store).id == before.id  # the earlier sale is there, nothing half-done
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert [ln.product_id for ln in last_sale(demo_store).lines] == [ln.product_id for ln in lines]


@pytest.mark.qt_no_exception_capture
def test_an_unexpected_error_is_logged_shown_and_the_cart_kept(qtbot, window, demo_store,
                                                               answers, monkeypatch):
    import ui.sell

    sell = window.sell
    click_tile(qtbot, sell, 0)

    def broken(*a, **k):
        raise RuntimeError("printer driver exploded")

    monkeypatch.setattr(ui.sell.SellScreen, "pay", lambda self: broken())
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    log = demo_store.data_dir / "logs" / "jangteo.log"
    qtbot.waitUntil(lambda: bool(answers.errors))
    assert "printer driver exploded" in answers.errors[-1] and str(log) in answers.errors[-1]
    assert "RuntimeError: printer driver exploded" in log.read_text(encoding="utf-8")
    assert len(sell.cart.lines) == 1 and window.isVisible()


def test_closing_with_a_cart_asks_first(qtbot, window, answers):
    click_tile(qtbot, window.sell, 0)
    answers.confirm_answer = False
    window.close()
    assert window.isVisible() and answers.confirms
    answers.confirm_answer = True
    window.close()
    assert not window.isVisible()


def test_help_overlay_lists_the_shortcuts(qtbot, window):
    qtbot.keyClick(window, Qt.Key_F1)
    assert window.help is not None and window.help.isVisible()
    text = " ".join(w.text() for w in window.help.findChildren(type(window.status_shift)))
    for keys in ("F8", "Ctrl+Q", "Enter", "Ctrl+D"):
        assert keys in text


def test_fits_a_1366_by_768_screen(qtbot, window):
    window.resize(1366, 768)
    qtbot.wait(10)
    for widget in (window.sell.pay_btn, window.sell.search, window.sell.remove_btn):
        top_left = widget.mapTo(window, widget.rect().topLeft())
        bottom_right = widget.mapTo(window, widget.rect().bottomRight())
        assert window.rect().contains(top_left) and window.rect().contains(bottom_right)
        assert widget.height() >= 40  # touch-sized
    assert QApplication.activeModalWidget() is None


def test_a_decimal_point_is_refused_in_words_never_dropped(qtbot, window, demo_store):
    sell = window.sell
    click_tile(qtbot, sell, 0)
    seen = {}

    def typo(dialog: PayDialog):
        qtbot.keyClicks(dialog.amount, "5000.5")  # the stock validator had made this 50005
        seen["shown"] = dialog.amount.text()
        seen["live"] = dialog.error.text()
        qtbot.keyClick(dialog.amount, Qt.Key_Return)
        seen["tenders"] = list(dialog.tenders)
        seen["done"] = dialog.result_value
        dialog.amount.clear()
        qtbot.keyClicks(dialog.amount, "1234567")
        seen["separated"] = dialog.amount.text()
        dialog.amount.clear()
        qtbot.keyClicks(dialog.amount, "250000000")
        qtbot.mouseClick(dialog.method_buttons["cash"], Qt.LeftButton)
        seen["limit"] = dialog.error.text()
        seen["after_limit"] = list(dialog.tenders)
        dialog.reject()

    when_modal(qtbot, PayDialog, typo)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert seen["shown"] == "5,000.5"  # kept as typed (with its separator), not reinterpreted
    assert "정수" in seen["live"] and "5,000.5" in seen["live"]
    assert seen["tenders"] == [] and seen["done"] is None
    assert seen["separated"] == "1,234,567"
    assert "100,000,000원" in seen["limit"] and seen["after_limit"] == []
    assert last_sale(demo_store) is None


def test_enter_with_a_partial_tender_asks_for_the_next_method(qtbot, window, demo_store):
    sell = window.sell
    click_tile(qtbot, sell, 0)
    click_tile(qtbot, sell, 1)
    total = sell.cart.priced().totals.total
    assert total > 5000
    seen = {}

    def partial(dialog: PayDialog):
        qtbot.keyClicks(dialog.amount, "5000")
        qtbot.keyClick(dialog.amount, Qt.Key_Return)  # 5,000 cash: not all of it
        seen["after_first"] = (dialog.result_value, [(x.method, x.amount) for x in dialog.tenders])
        qtbot.keyClick(dialog.amount, Qt.Key_Return)  # nothing typed: it had filled the rest
        seen["after_second"] = (dialog.result_value, len(dialog.tenders))
        seen["asked"] = dialog.error.text()
        qtbot.mouseClick(dialog.method_buttons["card"], Qt.LeftButton)  # the rest by card
        qtbot.keyClick(dialog.amount, Qt.Key_Return)

    state = when_modal(qtbot, PayDialog, partial)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["after_first"] == (None, [("cash", 5000)])
    assert seen["after_second"] == (None, 1)
    assert f"{total - 5000:,}원" in seen["asked"] and "결제 수단" in seen["asked"]
    doc = last_sale(demo_store)
    assert [(p.method, p.amount) for p in doc.payments] == [("cash", 5000), ("card", total - 5000)]


def test_a_tracked_products_tile_shows_its_stock_and_sold_out(qtbot, window, demo_store):
    from pos.services.stock import record_stock
    from tests.ui.conftest import shot
    from ui.product_grid import PRODUCT_ROLE

    sell = window.sell
    product = barcoded(sell)
    with demo_store.unit_of_work() as uow:
        record_stock(uow, product_id=product["id"], kind="received", qty=1)
        uow.commit()

    def tile():
        row = next(i for i in range(sell.model.rowCount())
                   if sell.model.product(i)["id"] == product["id"])
        return sell.model.index(row)

    qtbot.waitUntil(lambda: tile().data(PRODUCT_ROLE)["stock"] == 1, timeout=3000)
    assert "1개 남음" in tile().data(Qt.ToolTipRole)  # few left: marked low
    scan(qtbot, sell.search, product["barcodes"][0])
    assert "재고" not in sell.message.text()  # one in stock, one in the cart
    scan(qtbot, sell.search, product["barcodes"][0])
    assert "재고가 1개뿐" in sell.message.text() and "b3261e" in sell.message.styleSheet()
    assert sell.cart.lines[0].qty == 2  # selling past zero is allowed
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.keyClick(sell.search, Qt.Key_Return)
    assert state["done"], state["error"]
    qtbot.waitUntil(lambda: tile().data(PRODUCT_ROLE)["stock"] == -1, timeout=3000)
    assert "품절" in tile().data(Qt.ToolTipRole)
    sell.grid.scrollTo(tile())
    shot(window, "sell-sold-out-tile")
