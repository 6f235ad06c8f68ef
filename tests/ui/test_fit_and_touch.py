"""The till on the laptops it runs on: every screen fits 1366×768 and 1280×720 with a title
bar and a taskbar, the window starts maximised and comes back as it was left, and the mouse
wheel never changes a field the vendor is not in."""

from __future__ import annotations

import pytest

from tests.ui.conftest import shot
from ui.qt import QApplication, QPoint, QPointF, Qt, QWheelEvent

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
