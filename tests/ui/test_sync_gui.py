"""Enrolling from Settings; the status bar follows the sync worker."""

from __future__ import annotations

from sync import protocol as p
from sync.server import service
from tests.sync.conftest import RunningServer, another_code, setup_stall
from tests.ui.conftest import when_modal
from ui.pay_dialog import PayDialog
from ui.qt import Qt


def test_enroll_in_settings_and_sales_flow_to_the_server(qtbot, window, demo_store, tmp_path):
    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        _event, stall, _code = setup_stall(server)
        # another till of the stall enrolled first: it is A01, so this one becomes A02
        first = server.admin(lambda c: service.enroll(c, p.EnrollRequest(
            code=_code, device_code="A01", local_id="other-laptop")))
        assert first.device_code == "A01"
        code = another_code(server, stall)
        assert "A01-" in window.status_receipts.text()
        assert "설정 안 됨" in window.status_sync.text()
        settings = window.screen("settings")
        settings.sync_url.setText(server.url)
        settings.sync_code.setText(code)
        settings.enroll()  # off the GUI thread: the window stays responsive meanwhile
        assert not settings.enroll_button.isEnabled()
        qtbot.waitUntil(lambda: settings.enrolled is not None, timeout=15000)
        assert settings.enrolled and settings.enroll_button.isEnabled()
        assert "성수 공동판매장" in settings.sync_info.text()
        assert "단말 A02" in settings.sync_info.text()
        qtbot.waitUntil(lambda: "A02-" in window.status_receipts.text(), timeout=5000)
        sell = window.sell
        sell.add_product(sell.products[0])
        state = when_modal(qtbot, PayDialog, lambda d: qtbot.keyClick(d.amount, Qt.Key_Return))
        qtbot.mouseClick(sell.pay_btn, Qt.LeftButton)
        assert state["done"]
        qtbot.waitUntil(lambda: "최신" in window.status_sync.text(), timeout=15000)
        from sqlalchemy import func, select

        from sync.server import tables as t

        docs = server.admin(lambda c: c.execute(select(func.count()).select_from(t.documents))
                            .scalar())
        assert docs == 1
        numbers = server.admin(lambda c: [n for n, in c.execute(select(t.documents.c.receipt_no))])
        assert numbers[0].startswith("A02-")
    finally:
        window.sync.stop()
        server.stop()
