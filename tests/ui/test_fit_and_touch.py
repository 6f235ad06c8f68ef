"""The till on the laptops it runs on: every screen fits 1366×768 and 1280×720 with a title
bar and a taskbar, the window starts maximised and comes back as it was left, and the mouse
wheel never changes a field the vendor is not in."""

from __future__ import annotations

import pytest

from pos import services as svc
from tests.ui.conftest import shot, when_modal
from tests.ui.test_sell_flows import click_tile, last_sale
from ui.numpad import NumpadDialog
from ui.pay_dialog import PayDialog
from ui.prompts import ask_discount as real_ask_discount, ask_int as real_ask_int
from ui.qt import QApplication, QPoint, QPointF, Qt, QTimer, QWheelEvent

# a laptop's screen less a 40 px taskbar and a 30 px title bar
CLIENT_AREAS = {"1366x768": (1366, 768 - 40 - 30), "1280x720": (1280, 720 - 40 - 30)}


def inside(widget, window) -> bool:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    bottom_right = widget.mapTo(window, widget.rect().bottomRight())
    return window.rect().contains(top_left) and window.rect().contains(bottom_right)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("laptop", list(CLIENT_AREAS))
def test_every_screen_fits_the_laptop(qtbot, demo_store, answers, lang, laptop):
    from ui.app import application, open_window

    application()
    window = open_window(demo_store, lang)
    qtbot.addWidget(window)
    width, height = CLIENT_AREAS[laptop]
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    window.sell.add_product(window.sell.products[0])
    try:
        for name in ("sell", "history", "shift", "catalog", "settings"):
            window.show_screen(name)
            QApplication.processEvents()
            hint = window.minimumSizeHint()
            assert hint.width() <= width and hint.height() <= height, (name, hint)
            assert (window.width(), window.height()) == (width, height), name
            for nav in window.nav.values():
                assert inside(nav, window)
            bar = window.statusBar()
            assert bar.isVisible() and inside(bar, window), name
            for label in (window.status_shift, window.status_receipts, window.status_printer,
                          window.status_sync):
                assert inside(label, window), (name, label.text())
                assert label.width() >= label.sizeHint().width(), (name, label.text())  # not cut
            if name == "sell":
                sell = window.sell
                for widget in (sell.pay_btn, sell.search, sell.total_label, sell.remove_btn):
                    assert inside(widget, window) and widget.isVisible()
                shot(window, f"fit-{laptop}-sell-{lang}")
            if name == "shift":
                shift = window.screen("shift")
                for widget in (shift.open_btn, shift.close_btn, shift.grid.total_label):
                    assert inside(widget, window) and widget.isVisible()
                shot(window, f"fit-{laptop}-shift-{lang}")
    finally:
        window.sell.cart.clear()
        window.close()


def test_starts_maximised_then_as_the_vendor_left_it(qtbot, demo_store, answers):
    from ui.app import application, geometry_file, open_window, show_fitting

    application()
    first = open_window(demo_store, "ko")
    qtbot.addWidget(first)
    assert not geometry_file().exists()
    show_fitting(first)
    qtbot.waitExposed(first)
    assert first.isMaximized()
    first.showNormal()
    first.setGeometry(20, 30, 720, 520)  # (the offscreen screen is 800×600)
    QApplication.processEvents()
    first.close()
    assert geometry_file().exists()
    second = open_window(demo_store, "ko")
    qtbot.addWidget(second)
    show_fitting(second)
    qtbot.waitExposed(second)
    assert not second.isMaximized() and (second.width(), second.height()) == (720, 520)
    second.showMaximized()
    QApplication.processEvents()
    second.close()
    third = open_window(demo_store, "ko")
    qtbot.addWidget(third)
    show_fitting(third)
    assert third.isMaximized()
    third.close()


def wheel(widget, steps: int = -1) -> None:
    """A real wheel event over the middle of `widget` (a notch down for -1)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(widget.rect().center())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase,
                        False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_settings_and_leaves_the_printer_model_alone(qtbot, window):
    window.show_screen("settings")
    settings = window.screen("settings")
    combo = settings.printer_profile
    window.sell.search.setFocus()
    before = combo.currentIndex()
    for _ in range(3):
        wheel(combo)
    assert combo.currentIndex() == before and not combo.hasFocus()
    assert combo.focusPolicy() == Qt.StrongFocus  # the wheel does not give it the focus either
    window.show_screen("shift")
    spin = window.screen("shift").grid.spins[10000]
    window.sell.search.setFocus()
    wheel(spin, 1)
    assert spin.value() == 0
    # once the vendor is in the field, the wheel is theirs to use
    combo.setFocus()
    QApplication.processEvents()
    if combo.hasFocus():  # (an offscreen window may not take the focus)
        wheel(combo)
        assert combo.currentIndex() != before


def test_the_report_on_screen_is_drawn_at_screen_resolution_from_its_rows(qtbot, window):
    """Each row's right part ends at the right margin and its left part starts at the left
    one, in the till's font, at the screen's pixel ratio (never a printer bitmap scaled)."""
    from printing.layout import Row, Rule
    from ui.report_view import report_pixmap

    items = [Row("Z 마감 보고서 #1", align="center", double=True), Rule("="),
             Row("순매출", "165,000", bold=True), Rule(), Row("개시", "2026-11-21 10:02")]
    pixmap = report_pixmap(items, 42, width=440, ratio=2)
    assert pixmap.devicePixelRatio() == 2 and pixmap.width() == 880
    image = pixmap.toImage()

    def dark_columns(y0: int, y1: int) -> list[int]:
        return [x for x in range(image.width()) for y in range(y0, y1, 2)
                if image.pixelColor(x, y).lightness() < 100]

    xs = dark_columns(0, image.height())
    assert min(xs) >= 2 * 14 - 2 and max(xs) <= 880 - 2 * 14 + 2  # within the margins
    assert max(xs) >= 880 - 2 * 14 - 6  # the amounts flush right
    taller = report_pixmap(items + [Row("환불", "0")] * 10, 42, width=440, ratio=2)
    assert taller.height() > pixmap.height()  # every row is drawn, none dropped


@pytest.mark.parametrize("laptop", list(CLIENT_AREAS))
def test_tiles_share_the_grid_width_and_show_whole_enterprise_names(qtbot, window, laptop):
    from ui.product_grid import MIN_TILE

    window.resize(*CLIENT_AREAS[laptop])
    QApplication.processEvents()
    grid = window.sell.grid
    rects = [grid.visualRect(grid.model().index(i, 0)) for i in range(grid.model().rowCount())]
    first_row = [r for r in rects if r.top() == rects[0].top()]
    right = max(r.right() for r in first_row)
    assert grid.viewport().width() - right <= 2 * grid.spacing() + len(first_row)  # no strip
    assert all(r.width() >= MIN_TILE for r in rects)
    delegate = grid.itemDelegate()
    fonts = delegate._fonts(grid.font())
    text_width = rects[0].width() - 6 - 22  # as `TileDelegate.paint` insets it
    for i in range(grid.model().rowCount()):
        p = grid.model().product(i)
        shown = delegate._texts(p, text_width, fonts)[2].text()
        assert shown == p["enterprise_name"], (laptop, shown)


def press(qtbot, pad, keys: str) -> None:
    """Tap the pad's keys one by one ("⌫" and "C" too)."""
    for key in keys:
        qtbot.mouseClick(pad.buttons[key], Qt.LeftButton)


def test_pay_on_the_pad_then_the_change_stays_large_until_the_next_tap_or_scan(
        qtbot, window, demo_store, monkeypatch):
    from ui import sound

    beeps = []
    monkeypatch.setattr(sound, "error_beep", lambda: beeps.append(1))
    sell = window.sell
    product = click_tile(qtbot, sell, 0)
    seen = {}

    def tender(dialog: PayDialog):
        press(qtbot, dialog.keypad, "5000")
        press(qtbot, dialog.keypad, "0")
        press(qtbot, dialog.keypad, "1⌫")  # a slip taken back
        seen["typed"] = dialog.amount.text()
        qtbot.keyClick(dialog.amount, Qt.Key_Return)

    state = when_modal(qtbot, PayDialog, tender)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["typed"] == "50,000"
    doc = last_sale(demo_store)
    assert doc.change == 50000 - product["price"] and doc.change > 0
    assert sell.change_panel.isVisible()
    assert sell.change_panel.big.text() == f"거스름돈 {doc.change:,}원"
    assert doc.receipt_no in sell.change_panel.small.text()
    assert sell.change_panel.big.font().pointSizeF() >= 2 * sell.font().pointSizeF()
    shot(window, "sell-change-panel-ko")
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (None, sell.search), timeout=2000)

    window.on_scan("9999999999994")  # not a product: red, near the search box, a sound
    assert not sell.change_panel.isVisible()
    assert sell.message.isVisible() and sell.message.property("error")
    assert "b3261e" in sell.message.styleSheet() and "9999999999994" in sell.message.text()
    assert sell.message.geometry().bottom() < sell.grid.geometry().top()  # above the tiles
    assert beeps == [1]
    shot(window, "sell-scan-error-ko")
    click_tile(qtbot, sell, 1)  # the next action clears the error
    assert not sell.message.property("error")
    sell.search.setText("ㅋㅋㅋㅋㅋㅋㅋ")  # nothing found is not said in green
    assert sell.message.property("error") and "b3261e" in sell.message.styleSheet()
    sell.search.clear()
    with demo_store.unit_of_work() as uow:
        svc.save_settings(uow, scan_error_sound=False)
        uow.commit()
    window.on_scan("9999999999994")
    assert beeps == [1]  # the vendor turned the sound off


def test_quantity_on_the_pad_says_its_limit_and_never_caps(qtbot, window, monkeypatch):
    from ui import prompts

    monkeypatch.setattr(prompts, "ask_int", real_ask_int)
    sell = window.sell
    click_tile(qtbot, sell, 0)
    seen = {}

    def type_qty(dialog: NumpadDialog):
        press(qtbot, dialog.keypad, "C99999")
        seen["error"] = dialog.error.text()
        seen["ok"] = dialog.ok_btn.isEnabled()
        qtbot.keyClick(dialog.field, Qt.Key_Return)  # refused: the dialog stays
        seen["still"] = dialog.isVisible()
        press(qtbot, dialog.keypad, "⌫")
        seen["fixed"] = dialog.ok_btn.isEnabled()
        shot(dialog, "numpad-qty-ko")
        qtbot.mouseClick(dialog.ok_btn, Qt.LeftButton)

    state = when_modal(qtbot, NumpadDialog, type_qty)
    qtbot.mouseClick(sell.qty_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert "최대 9,999" in seen["error"] and not seen["ok"] and seen["still"] and seen["fixed"]
    assert sell.cart.lines[0].qty == 9999
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (None, sell.search),  # the scan box
                    timeout=2000)


def test_receipt_discount_on_the_pad_in_won_or_percent(qtbot, window, monkeypatch):
    from ui import prompts

    monkeypatch.setattr(prompts, "ask_discount", real_ask_discount)
    sell = window.sell
    product = click_tile(qtbot, sell, 0)
    seen = {}

    def percent(dialog: NumpadDialog):
        qtbot.mouseClick(dialog.percent_btn, Qt.LeftButton)
        press(qtbot, dialog.keypad, "150")
        seen["over"] = dialog.error.text()
        press(qtbot, dialog.keypad, "⌫⌫0")  # 150 → 1 → 10
        qtbot.mouseClick(dialog.ok_btn, Qt.LeftButton)

    state = when_modal(qtbot, NumpadDialog, percent)
    qtbot.mouseClick(sell.disc_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert "100 이하" in seen["over"]
    assert sell.cart.priced().totals.total == product["price"] * 9 // 10

    def too_much(dialog: NumpadDialog):
        press(qtbot, dialog.keypad, "9" * 9)
        seen["won"] = dialog.error.text()
        seen["ok"] = dialog.ok_btn.isEnabled()
        dialog.reject()

    state = when_modal(qtbot, NumpadDialog, too_much)
    qtbot.mouseClick(sell.disc_btn, Qt.LeftButton)
    assert state["done"] and "최대" in seen["won"] and not seen["ok"]
    assert sell.cart.priced().totals.total == product["price"] * 9 // 10  # closed: unchanged


def test_open_price_and_an_unknown_barcode_made_a_product_right_from_sell(
        qtbot, window, demo_store):
    """An amount sold for an enterprise without a product goes through the whole day (sale,
    settlement); an unknown barcode becomes a product in the catalog's own form and lands in
    the cart."""
    from ui.catalog_screen import ProductDialog
    from ui.open_price import OpenPriceDialog

    sell = window.sell
    with demo_store.unit_of_work(write=False) as uow:
        farm = next(e for e in svc.list_enterprises(uow) if e["tax_status"] == "general")

    def open_price(dialog: OpenPriceDialog):
        dialog.enterprise.setCurrentIndex(dialog.enterprise.findData(farm["id"]))
        dialog.exempt.setChecked(True)
        press(qtbot, dialog.keypad, "3500")
        qtbot.mouseClick(dialog.ok_btn, Qt.LeftButton)

    for _ in range(2):  # twice: two lines of their own prices, one hidden product
        state = when_modal(qtbot, OpenPriceDialog, open_price)
        qtbot.mouseClick(sell.open_price_btn, Qt.LeftButton)
        assert state["done"] and state["error"] is None, state["error"]
    assert [(ln.unit_price, ln.qty, ln.tax_class) for ln in sell.cart.lines] == [
        (3500, 2, "exempt")]
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    doc = last_sale(demo_store)
    assert doc.totals.total == 7000 and doc.lines[0].enterprise_id == farm["id"]
    assert doc.totals.exempt_total == 7000 and doc.lines[0].name == "기타 (금액 입력)"
    with demo_store.unit_of_work(write=False) as uow:
        shift = svc.current_shift(uow)
        figures = svc.shift_settlement(uow, shift_id=shift["id"])
    assert next(e for e in figures.enterprises if e.enterprise_id == farm["id"]).net == 7000
    assert all(p["name"] != "기타 (금액 입력)" for p in sell.shown_products())

    window.on_scan("8801234567893")
    assert sell.add_unknown_btn.isVisible()

    def new_product(dialog: ProductDialog):
        assert dialog.barcodes.text() == "8801234567893"
        dialog.name.setText("새 손수건")
        dialog.price.setText("4,000")
        dialog.save()

    state = when_modal(qtbot, ProductDialog, new_product)
    qtbot.mouseClick(sell.add_unknown_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert [(ln.name, ln.unit_price) for ln in sell.cart.lines] == [("새 손수건", 4000)]
    assert not sell.add_unknown_btn.isVisible()
    window.on_scan("8801234567893")  # known now
    assert sell.cart.lines[0].qty == 2


def test_a_tile_is_marked_sold_out_and_back_and_low_stock_shows(qtbot, window, demo_store,
                                                                 answers):
    from ui.product_grid import stock_text

    sell = window.sell
    product = sell.model.product(0)
    assert product["stock"] is None
    rect = sell.grid.visualRect(sell.model.index(0))
    seen, shown = [], []
    sell.grid.menu_requested.connect(lambda p, _pos: seen.append(p["id"]))

    def close_menu():
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, close_menu)
            return
        shown.extend(a.text() for a in menu.actions())
        menu.close()

    QTimer.singleShot(0, close_menu)
    qtbot.mousePress(sell.grid.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.wait(sell.grid.HOLD_MS + 300)  # a long press shows the tile's menu ...
    qtbot.mouseRelease(sell.grid.viewport(), Qt.LeftButton, pos=rect.center())
    assert seen and seen[0] == product["id"] and shown[0].startswith("품절로 표시")
    assert sell.cart.is_empty  # ... and sells nothing
    (label, action), = sell.tile_actions(product)
    assert label.startswith("품절로 표시")
    action()
    tile = next(p for p in sell.shown_products() if p["id"] == product["id"])
    assert tile["stock"] == 0 and stock_text(0) == "품절"
    assert "품절로 표시했습니다" in sell.message.text()
    with demo_store.unit_of_work(write=False) as uow:  # a stock movement: it syncs
        assert svc.get_product(uow, product_id=product["id"])["stock"] == 0
    shot(window, "sell-sold-out-ko")
    (label, action), = sell.tile_actions(tile)
    assert label.startswith("다시 판매")
    answers.ints.append(2)
    action()
    tile = next(p for p in sell.shown_products() if p["id"] == product["id"])
    assert tile["stock"] == 2 and stock_text(2) == "2개 남음" and stock_text(40) == "재고 40"


def test_the_printer_is_chosen_as_a_vendor_thinks_of_it(qtbot, window, monkeypatch):
    from printing import transport

    window.show_screen("settings")
    settings = window.screen("settings")
    labels = [settings.printer_profile.itemText(i) for i in range(settings.printer_profile.count())]
    assert all("mm 용지" in label and "도트" not in label for label in labels)
    choice = settings.printer_choice
    choice.mode.setCurrentIndex(choice.mode.findData("network"))
    qtbot.keyClicks(choice.host, "192.168.0.50")
    assert settings.printer_url.text() == "tcp://192.168.0.50:9100"
    monkeypatch.setattr(transport, "serial_ports", lambda: [
        ("serial:///dev/rfcomm0?baud=9600", "/dev/rfcomm0 Bluetooth printer"),
        ("serial://COM3?baud=9600", "COM3 USB-SERIAL CH340")])
    choice.mode.setCurrentIndex(choice.mode.findData("serial"))
    assert settings.printer_url.text() == "serial:///dev/rfcomm0?baud=9600"
    choice.serial_list.setCurrentIndex(1)
    choice.serial_list.activated.emit(1)
    choice.baud.setCurrentIndex(choice.baud.findData(19200))
    choice.baud.activated.emit(choice.baud.currentIndex())
    assert settings.printer_url.text() == "serial://COM3?baud=19200"
    monkeypatch.setattr(transport, "usb_printers", lambda: [("usb://04b8:0e15", "TM-T20III")])
    choice.mode.setCurrentIndex(choice.mode.findData("usb"))
    assert settings.printer_url.text() == "usb://04b8:0e15"
    assert "TM-T20III" in choice.usb_list.currentText()
    for url, mode in (("tcp://10.0.0.9:9101", "network"), ("serial://COM3?baud=38400", "serial"),
                      ("win32://영수증 프린터", "url"), ("usb://04b8:0e15", "usb")):
        choice.set_url(url)  # a stored address shows as the choice it is
        assert choice.mode.currentData() == mode and settings.printer_url.text() == url
    choice.set_url("tcp://10.0.0.9:9101")
    assert (choice.host.text(), choice.port.value()) == ("10.0.0.9", 9101)
    shot(window, "settings-printer-ko")


def test_file_dialogs_open_in_the_last_folder_with_types_in_words(qtbot, window, monkeypatch,
                                                                   tmp_path):
    from ui import files
    from ui.qt import QFileDialog

    asked = []
    answers = iter([str(tmp_path / "reports" / "z-report-1.pdf"), str(tmp_path / "x.pdf")])

    def fake_save(parent, title, start, filters):
        asked.append((start, filters))
        return next(answers), ""

    (tmp_path / "reports").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    first = files.save_file(window, "Z", "z-report-1.pdf", "pdf")
    second = files.save_file(window, "Z", "z-report-2.pdf", "pdf")
    assert first.endswith("z-report-1.pdf") and second.endswith("x.pdf")
    import os

    assert not asked[0][0].startswith(os.getcwd() + os.sep + "z-report")  # not where it started
    assert asked[1][0] == str(tmp_path / "reports" / "z-report-2.pdf")  # the folder last used
    assert asked[0][1].startswith("PDF 문서 (*.pdf)") and "모든 파일 (*)" in asked[0][1]


def test_the_cart_shows_the_vat_breakdown_in_the_receipts_words(qtbot, window, demo_store):
    """A simplified taxpayer's goods beside a general one's: the cart names each part as the
    receipt and reports do, and says why the simplified part has no VAT."""
    from pos.i18n import tr

    sell = window.sell
    with demo_store.unit_of_work(write=False) as uow:
        status = {e["id"]: e["tax_status"] for e in svc.list_enterprises(uow)}
    general = next(p for p in sell.products if status[p["enterprise_id"]] == "general"
                   and p["tax_class"] == "taxable")
    simple = next(p for p in sell.products if status[p["enterprise_id"]] == "simplified")
    sell.add_product(general)
    sell.add_product(simple)
    text = sell.vat_label.text()
    supply = (general["price"] * 20 + 11) // 22
    assert f"{tr('tax_supply', 'ko', context='tax')} {supply:,}원" in text
    assert f"{tr('tax_vat', 'ko', context='tax')} {general['price'] - supply:,}원" in text
    assert f"{tr('tax_simplified', 'ko', context='tax')} {simple['price']:,}원" in text
    assert sell.vat_note.isVisible()
    assert sell.vat_note.text() == tr("tax_simplified_note", "ko", context="tax")
    shot(window, "sell-vat-breakdown-ko")


def test_limits_and_nothing_to_pay_are_said_never_a_crash(qtbot, window, answers, monkeypatch):
    """From a stranger's attack: + past 9,999, a cart too large to price, a 100 % discount,
    and hostile text on the % pad are each said in words; nothing reaches the error log."""
    from pos.domain import Discount
    from ui import prompts

    sell = window.sell
    product = sell.products[0]
    sell.add_product(product, 9999)
    sell.change_selected_qty(1)
    assert sell.cart.lines[0].qty == 9999 and sell.message.property("error")
    assert "9,999" in sell.message.text() or "9999" in sell.message.text()
    sell.add_product({**product, "price": 100_000_000}, 9999)  # past what a sale may be
    sell.pay()
    assert QApplication.activeModalWidget() is None and sell.message.property("error")
    sell.clear_cart()
    sell.add_product(product)
    sell.cart.discount = Discount.percent("100")
    sell._refresh_cart()
    sell.pay()
    assert QApplication.activeModalWidget() is None
    assert "0원" in sell.message.text() and sell.message.property("error")
    assert answers.errors == []  # no "unexpected error" dialog

    monkeypatch.setattr(prompts, "ask_discount", real_ask_discount)
    sell.cart.discount = Discount.percent("60")
    sell._refresh_cart()
    seen = {}

    def hostile(dialog: NumpadDialog):
        seen["limit"] = dialog.maximum
        qtbot.mouseClick(dialog.percent_btn, Qt.LeftButton)
        for text in ("nan", "1e2", "sNaN", "12.345", "٣"):
            dialog.field.setText(text)
            seen[text] = (dialog.error.text(), dialog.ok_btn.isEnabled())
        dialog.field.clear()
        qtbot.mouseClick(dialog.ok_btn, Qt.LeftButton)  # empty with % on: no discount

    state = when_modal(qtbot, NumpadDialog, hostile)
    qtbot.mouseClick(sell.disc_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["limit"] == product["price"]  # the lines before this discount, not after it
    for text in ("nan", "1e2", "sNaN", "12.345", "٣"):
        assert seen[text][0] and not seen[text][1], text
    assert sell.cart.discount is None and sell.cart.priced().totals.total == product["price"]
