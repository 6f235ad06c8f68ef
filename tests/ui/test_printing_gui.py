"""Paying prints: the receipt job is queued at once, the worker sends it, the preview shows it."""

from __future__ import annotations

from pos import services as svc
from printing import queue as pq
from printing.decode import decode
from tests.printing.conftest import LoopbackPrinter, wait_for
from tests.ui.conftest import when_modal
from ui.pay_dialog import PayDialog
from ui.qt import Qt


def configure(window, url: str, profile_key: str = "epson-tm-t20-kr", mode: str = "always"):
    settings = window.screen("settings")
    settings.printer_url.setText(url)
    settings.printer_profile.setCurrentIndex(settings.printer_profile.findData(profile_key))
    settings.receipt_mode.setCurrentIndex(settings.receipt_mode.findData(mode))
    settings.save()


def test_pay_queues_the_receipt_and_the_printer_gets_it(qtbot, window, demo_store):
    printer = LoopbackPrinter()
    try:
        configure(window, printer.url)
        assert window.printer.setup().url == printer.url
        sell = window.sell
        sell.add_product(sell.products[0])
        sell.add_product(sell.products[1])
        seen = {}

        def pay(dialog: PayDialog):
            seen["receipt"] = dialog.receipt.isChecked()
            qtbot.keyClick(dialog.amount, Qt.Key_Return)  # exact cash

        state = when_modal(qtbot, PayDialog, pay)
        qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
        assert state["done"] and seen["receipt"] is True
        with demo_store.unit_of_work(write=False) as uow:
            doc = svc.get_document(uow, sale_id=svc.list_documents(uow)[-1]["id"])
            jobs = pq.jobs_for(uow, doc.id)
        assert doc.receipt_requested
        # written with the sale: cash opens the drawer by a job of its own, before the receipt
        assert [j["kind"] for j in jobs] == ["drawer", "receipt"]
        wait_for(lambda: len(printer.jobs) == 2)
        kick, receipt = decode(printer.jobs[0]), decode(printer.jobs[1])
        assert [type(i).__name__ for i in kick.items] == ["Drawer"]  # no paper moved, no cut
        assert any(doc.receipt_no in line for line in receipt.text_lines())
        assert not any(type(i).__name__ == "Drawer" for i in receipt.items)
        qtbot.waitUntil(lambda: "준비됨" in window.status_printer.text())

        qtbot.keyClick(window, Qt.Key_F3)
        history = window.screen("history")
        assert history.current.id == doc.id
        history.show_preview = lambda dialog: dialog
        dialog = history.preview()
        qtbot.addWidget(dialog)
        pixmap = dialog.label.pixmap()
        assert pixmap.width() == 576 and pixmap.height() > 600
        history.reprint()
        wait_for(lambda: len(printer.jobs) == 3)
        assert any("사본" in line for line in decode(printer.jobs[2]).text_lines())
    finally:
        printer.close()


def test_printer_off_shows_in_the_status_bar_and_the_receipt_prints_once_fixed(
        qtbot, window, demo_store):
    from tests.printing.conftest import free_port

    from pos.clock import SystemClock

    # back-off and the drawer's two minutes are wall time here: the test clock, which moves a
    # second at every reading, would have dropped the drawer kick within moments
    demo_store.clock = SystemClock()
    configure(window, f"tcp://127.0.0.1:{free_port()}", "generic-58")
    window.printer.worker.backoff = (0.3,)
    sell = window.sell
    sell.add_product(sell.products[0])
    state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
    qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
    assert state["done"] and sell.cart.is_empty  # the sale is done whatever the printer does
    qtbot.waitUntil(lambda: "연결 안 됨 · 대기 2건" in window.status_printer.text(), timeout=10000)
    assert "꺼져" in window.status_printer.toolTip()
    settings = window.screen("settings")
    settings.load_jobs()
    # the first is tried again and again by itself, the one behind it waits its turn
    receipt, kick = settings.jobs  # newest first
    assert receipt["status"] == pq.QUEUED and kick["status"] in (pq.RETRY, pq.SENDING)
    printer = LoopbackPrinter()
    try:
        configure(window, printer.url, "generic-58")  # the vendor fixes the printer's address
        wait_for(lambda: len(printer.jobs) == 2)  # the drawer kick and the receipt, by themselves
        qtbot.waitUntil(lambda: "준비됨" in window.status_printer.text(), timeout=10000)
        settings.load_jobs()
        assert [j["status"] for j in settings.jobs[:2]] == [pq.DONE, pq.DONE]
        assert not any("사본" in line for line in decode(printer.jobs[1]).text_lines())
    finally:
        printer.close()


def test_paper_out_shows_in_the_status_bar_and_the_receipt_waits_for_paper(
        qtbot, window, demo_store):
    printer = LoopbackPrinter(state="paper_out")
    try:
        configure(window, printer.url, "epson-tm-t20-kr")
        window.printer.worker.hold_poll = 0.05
        sell = window.sell
        sell.add_product(sell.products[0])
        state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
        qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
        assert state["done"]
        qtbot.waitUntil(lambda: "용지 없음 · 대기 1건" in window.status_printer.text(),
                        timeout=10000)
        assert "용지를 넣으면" in window.status_printer.toolTip()
        (receipt,) = [j for j in window.printer.recent_jobs() if j["kind"] == "receipt"]
        assert receipt["status"] in (pq.RETRY, pq.SENDING)  # asking the printer again and again
        # the drawer opened by its real-time pulse; no receipt went to a printer without paper
        assert [[type(i).__name__ for i in decode(job).items] for job in printer.jobs] == \
            [["Drawer"]]
        printer.state = "ready"  # paper loaded
        wait_for(lambda: len(printer.jobs) == 2)
        qtbot.waitUntil(lambda: "준비됨" in window.status_printer.text(), timeout=10000)
        lines = decode(printer.jobs[1]).text_lines()
        assert any(receipt["receipt_no"] in line for line in lines)
        assert not any("사본" in line for line in lines)  # the original
    finally:
        printer.close()



def test_the_status_question_can_be_turned_off_and_stays_off(qtbot, window):
    settings = window.screen("settings")
    configure(window, "tcp://127.0.0.1:9", "bixolon-srp-350")
    assert window.printer.setup().profile.status is True and settings.printer_status.isChecked()
    settings.printer_status.setChecked(False)
    settings.save()
    assert window.printer.setup().profile.status is False
    settings.printer_status.setChecked(True)
    settings.load()  # what the screen shows comes back from the store
    assert not settings.printer_status.isChecked()


def test_saving_settings_does_not_cut_off_a_receipt_but_a_new_address_restarts(qtbot, window):
    configure(window, "tcp://127.0.0.1:9", "generic-58")
    worker = window.printer.worker
    settings = window.screen("settings")
    settings.footer.setText("감사합니다 또 오세요")
    settings.save()
    assert window.printer.worker is worker  # the footer does not touch the printer
    configure(window, "tcp://127.0.0.1:10", "generic-58")
    assert window.printer.worker is not worker


def test_paper_low_with_receipts_waiting_is_not_called_not_connected(window):
    from pos.print_jobs import QueueState

    configure(window, "tcp://127.0.0.1:9", "generic-58")
    window.printer.state = QueueState(2, 0, 0, False, "printer_paper_low")
    assert window.printer.status_text() == "프린터: 대기 2건"
    window.printer.state = QueueState(0, 0, 0, False, "printer_paper_low")
    assert window.printer.status_text() == "프린터: 준비됨 · 용지 부족"
