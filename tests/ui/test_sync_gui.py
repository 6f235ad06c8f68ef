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


def test_joining_a_stall_that_has_a_catalog_the_vendor_chooses_in_settings(qtbot, window,
                                                                            demo_store, tmp_path):
    from sqlalchemy import select

    from pos import services as svc
    from pos.demo import load_demo_catalog
    from pos.store import Store
    from sync import client
    from sync.server import tables as t
    from tests.ui.conftest import shot

    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        _event, stall, code = setup_stall(server)
        with Store(tmp_path / "first") as first:  # the stall's first till sent the demo
            load_demo_catalog(first)
            client.enroll(first, url=server.url, code=code)
            client.sync_now(first)
        with demo_store.unit_of_work() as uow:  # and this one has a product of its own
            maker = svc.list_enterprises(uow)[0]
            svc.add_product(uow, name="이 계산대만의 접시", price=15000, enterprise_id=maker["id"])
            uow.commit()
        settings = window.screen("settings")
        window.show_screen("settings")
        settings.sync_url.setText(server.url)
        settings.sync_code.setText(another_code(server, stall))
        settings.enroll()
        qtbot.waitUntil(lambda: settings.enrolled is not None, timeout=15000)
        assert settings.enrolled
        assert not settings.join_group.isHidden()
        text = settings.join_info.text()
        assert "40개" in text and "1개" in text, text
        # the stall's forty (this till's copies merged into them at once), and its own one
        qtbot.waitUntil(lambda: len(window.sell.products) == 41, timeout=5000)
        qtbot.waitUntil(lambda: settings.join_group.visibleRegion().boundingRect().height()
                        == settings.join_group.height(), timeout=3000)  # scrolled into view
        shot(window, "settings-join-stall-catalog")
        qtbot.waitUntil(lambda: "상품 목록" in window.status_sync.text(), timeout=15000)
        qtbot.mouseClick(settings.join_take, Qt.LeftButton)
        assert settings.join_group.isHidden()
        assert "뺌 1개" in settings.sync_info.text()
        qtbot.waitUntil(lambda: len(window.sell.products) == 40, timeout=5000)
        qtbot.waitUntil(lambda: "최신" in window.status_sync.text(), timeout=20000)
        bodies = server.admin(lambda c: [b for b, in c.execute(
            select(t.catalog.c.body).where(t.catalog.c.stall_id == stall))])
        live = [b for b in bodies if '"merged_into":null' in b and '"removed":false' in b]
        assert len(live) == 40
    finally:
        window.sync.stop()
        server.stop()
