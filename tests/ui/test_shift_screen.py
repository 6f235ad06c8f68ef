"""Closing the day in the GUI: open, sell, cash out, count 1,000 won short, Z report."""

from __future__ import annotations

import json

from pos import services as svc
from pos.settlement import breakdown
from tests.ui.conftest import shot, when_modal
from ui.pay_dialog import PayDialog
from ui.shift_prompt import OpenShiftDialog
from ui.qt import Qt


def open_window(qtbot, store, answers):
    from ui.app import application, open_window as make

    application()
    window = make(store, "ko")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_open_sell_cash_out_close_one_thousand_short(qtbot, fresh_store, answers, tmp_path):
    window = open_window(qtbot, fresh_store, answers)
    sell = window.sell
    sell.add_product(sell.products[0])
    seen = {}

    def count_first(dialog):
        seen["text"] = " ".join(w.text() for w in dialog.findChildren(type(dialog.error)))
        qtbot.mouseClick(dialog.count_btn, Qt.LeftButton)

    asked = when_modal(qtbot, OpenShiftDialog, count_first)
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)  # no shift: it asks, then shows the Shift screen
    assert asked["done"] and asked["error"] is None, asked["error"]
    assert "열린 교대가 없습니다" in seen["text"]
    shift_screen = window.screen("shift")
    assert window.stack.currentWidget() is shift_screen and len(sell.cart.lines) == 1
    shift_screen.grid.spins[10000].setValue(5)
    shift_screen.grid.spins[1000].setValue(20)
    assert "70,000원" in shift_screen.grid.total_label.text()
    qtbot.mouseClick(shift_screen.open_btn, Qt.LeftButton)
    with fresh_store.unit_of_work(write=False) as uow:
        shift = svc.current_shift(uow)
    assert shift["float_amount"] == 70000 and "교대 #1" in window.status_shift.text()

    window.show_screen("sell")
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and sell.cart.is_empty
    window.show_screen("shift")
    answers.ints.append(3000)
    answers.texts.append("포장재 구입")
    qtbot.mouseClick(shift_screen.out_btn, Qt.LeftButton)
    expected = shift_screen.figures.cash.expected
    price = window.sell.products[0]["price"]
    assert expected == 70000 + price - 3000
    assert "3,000원" in shift_screen.message.text()

    shift_screen.grid.set_counts(breakdown(expected - 1000))
    assert shift_screen.difference.text() == "차액 -1,000원"
    assert "b3261e" in shift_screen.difference.styleSheet()  # red: short
    shift_screen.grid.set_counts(breakdown(expected))
    assert shift_screen.difference.text() == "차액 0원"
    shift_screen.grid.set_counts(breakdown(expected - 1000))
    sell.add_product(sell.products[1])
    sell.park_cart()
    answers.confirms.clear()
    answers.texts.append("   ")  # a difference needs its reason: blank is refused, still open
    qtbot.mouseClick(shift_screen.close_btn, Qt.LeftButton)
    assert answers.errors[-1].startswith("차액의 사유를 적어야")
    with fresh_store.unit_of_work(write=False) as uow:
        assert svc.current_shift(uow)["id"] == shift["id"]
    answers.confirms.clear()
    answers.texts.append("거스름돈을\n더 드림")  # one line as kept
    qtbot.mouseClick(shift_screen.close_btn, Qt.LeftButton)
    assert "보류 중인 장바구니가 1개" in answers.confirms[0]
    assert "차액 -1,000원" in answers.confirms[1]
    with fresh_store.unit_of_work(write=False) as uow:
        closed = svc.get_shift(uow, shift_id=shift["id"])
    assert closed["status"] == "closed" and closed["difference"] == -1000
    assert closed["difference_reason"] == "거스름돈을 더 드림"
    assert any(line.startswith("차액 사유: 거스름돈을 더 드림") for line in shift_screen.shown_lines)
    assert json.loads(closed["report"])["cash"]["difference"] == -1000
    assert any("차액" in line and "-1,000" in line for line in shift_screen.shown_lines)
    assert "Z 마감 보고서" in shift_screen.report_title.text()
    assert "-1,000원" in shift_screen.message.text()
    assert list((fresh_store.data_dir / "backups").glob("*shift-1.db.gz"))
    shot(window, "shift-ko")
    pdf = shift_screen.save_pdf(str(tmp_path / "z.pdf"))
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Z 마감 보고서 #1" in text and "-1,000원" in text
    assert "차액 사유: 거스름돈을 더 드림" in text
    settlement = shift_screen.save_settlement(str(tmp_path / "s.pdf"))
    assert (tmp_path / "s.csv").exists() and settlement
    assert shift_screen.open_btn.isEnabled() and not shift_screen.close_btn.isEnabled()
    sell.parked.resume(0)
    window.close()


def test_a_close_whose_backup_fails_says_the_close_was_recorded(qtbot, window, demo_store,
                                                                answers):
    """The backups folder is a real read-only filesystem: the close stands, the Z report shows,
    and the vendor reads that only the backup copy is missing."""
    from tests.mounts import tmpfs

    window.show_screen("shift")
    shift_screen = window.screen("shift")
    shift_id = shift_screen.shift["id"]
    folder = demo_store.data_dir / "backups"
    with tmpfs(folder, "1m", read_only=True):
        shift_screen.grid.set_counts(breakdown(shift_screen.figures.cash.expected))
        answers.confirm_answer = True
        qtbot.mouseClick(shift_screen.close_btn, Qt.LeftButton)
        assert list(folder.iterdir()) == []
    with demo_store.unit_of_work(write=False) as uow:
        assert svc.get_shift(uow, shift_id=shift_id)["status"] == "closed"
    sentence = ("교대는 마감되어 기록되었습니다. 백업 사본을 쓰지 못했습니다: 백업 폴더가 읽기 "
                f"전용이거나 쓸 수 없습니다({folder}).")
    assert answers.errors == [sentence]
    assert shift_screen.message.text().endswith(sentence)
    assert "교대 #1을 마감했습니다" in shift_screen.message.text()
    assert "백업도 저장했습니다" not in shift_screen.message.text()  # no claim of a backup
    assert "Z 마감 보고서" in shift_screen.report_title.text()
    assert shift_screen.open_btn.isEnabled() and not shift_screen.close_btn.isEnabled()


def test_paying_with_no_shift_opens_one_in_one_step_and_the_sale_is_in_it(qtbot, fresh_store,
                                                                         answers):
    window = open_window(qtbot, fresh_store, answers)
    sell = window.sell
    sell.add_product(sell.products[0])
    closed = when_modal(qtbot, OpenShiftDialog, lambda d: qtbot.mouseClick(d.close_btn,
                                                                           Qt.LeftButton))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert closed["done"] and len(sell.cart.lines) == 1  # closed: nothing recorded, cart kept
    with fresh_store.unit_of_work(write=False) as uow:
        assert svc.current_shift(uow) is None and svc.list_documents(uow) == []

    def typo_then_zero(dialog):
        qtbot.keyClicks(dialog.float_amount, "1.5")
        qtbot.keyClick(dialog.float_amount, Qt.Key_Return)
        assert dialog.isVisible() and "정수" in dialog.error.text()  # said, not opened
        dialog.float_amount.clear()
        qtbot.keyClick(dialog.float_amount, Qt.Key_Return)  # empty: a float of 0

    opened = when_modal(qtbot, OpenShiftDialog, typo_then_zero)
    paid = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert opened["done"] and opened["error"] is None, opened["error"]
    assert paid["done"] and paid["error"] is None and sell.cart.is_empty
    with fresh_store.unit_of_work(write=False) as uow:
        shift = svc.current_shift(uow)
        (doc,) = svc.list_documents(uow)
    assert shift["float_amount"] == 0 and doc["shift_id"] == shift["id"]
    assert "교대 #1" in window.status_shift.text()
