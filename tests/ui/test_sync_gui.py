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
        from sqlalchemy import func, select

        from sync.server import tables as t

        def docs() -> int:
            return server.admin(lambda c: c.execute(select(func.count())
                                                    .select_from(t.documents)).scalar())

        # the sale reached the server (the status said 최신 already before it was sent: under
        # load the worker had not pushed yet when the count was taken)
        qtbot.waitUntil(lambda: docs() == 1, timeout=15000)
        qtbot.waitUntil(lambda: "최신" in window.status_sync.text(), timeout=15000)
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


def test_a_receipt_of_another_till_is_found_on_the_server_and_refunded(qtbot, window,
                                                                        demo_store, tmp_path):
    from sqlalchemy import select

    from pos import services as svc
    from pos.demo import load_demo_catalog
    from pos.store import Store
    from sync import client
    from sync.server import tables as t
    from tests.conftest import in_shift
    from tests.sync.test_stock import sell
    from tests.ui.conftest import shot

    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    other = Store(tmp_path / "other")
    try:
        _event, stall, code = setup_stall(server)
        load_demo_catalog(other)
        client.enroll(other, url=server.url, code=code)
        client.sync_now(other)
        with other.unit_of_work() as uow:
            in_shift(uow)
            uow.commit()
            pid = svc.list_products(uow)[0]["id"]
        sold = sell(other, pid, 2)
        client.sync_now(other)
        with other.unit_of_work(write=False) as uow:
            number = svc.get_document(uow, sale_id=sold).receipt_no
        client.enroll(demo_store, url=server.url, code=another_code(server, stall))
        if client.pending_join(demo_store):
            client.join_catalog(demo_store, "take")
        history = window.screen("history")
        window.show_screen("history")
        history.find(number)
        assert "다른 단말 A01" in history.detail.toPlainText()
        assert history.refund_btn.isEnabled() and history.void_btn.isEnabled()
        shot(window, "history-other-till-receipt")
        history.refund_dialog = lambda doc, refundable, methods: (
            {1: 1}, "cash", "고객 변심") if [r.remaining for r in refundable] == [2] else None
        qtbot.mouseClick(history.refund_btn, Qt.LeftButton)
        assert "환불" in history.message.text()
        with demo_store.unit_of_work(write=False) as uow:
            refunds = [r for r in svc.list_documents(uow) if r["kind"] == "refund"]
            back = svc.get_document(uow, sale_id=refunds[0]["id"])
        assert back.original_receipt_no == number and back.totals.total < 0
        # pushed by the worker: the server has it against a's sale, and its hold is gone
        qtbot.waitUntil(lambda: server.admin(lambda c: c.execute(
            select(t.documents.c.original_id).where(t.documents.c.id == back.id)).scalar())
            == sold, timeout=20000)
        assert server.admin(lambda c: c.execute(select(t.return_holds)).all()) == []
        # the other till's whole sale cannot be voided now, nor more than 1 refunded
        history.find(number)
        assert not history.void_btn.isEnabled() and history.refund_btn.isEnabled()
    finally:
        window.sync.stop()
        other.close()
        server.stop()


def test_offline_another_tills_receipt_is_refunded_as_typed_in(qtbot, window, demo_store,
                                                               answers):
    from pos import services as svc
    from tests.ui.conftest import shot
    from ui.history import TypedRefundDialog

    history = window.screen("history")
    window.show_screen("history")
    with demo_store.unit_of_work(write=False) as uow:
        product = svc.list_products(uow)[1]

    def type_in(dialog):
        dialog.rows[0][0].setCurrentIndex(1)
        dialog.rows[0][1].setValue(2)
        for bad in ("-5000", "1.5", "abc", "99999999999999", ""):  # said, never a crash
            dialog.rows[0][2].setText(bad)
            dialog.rows[0][2]._check()
            assert not dialog.ok_button.isEnabled(), bad
            assert "단가" in dialog.total.text(), (bad, dialog.total.text())
        dialog.rows[0][2].set_value(product["price"])
        assert dialog.ok_button.isEnabled()
        shot(dialog, "history-typed-refund")
        assert str(2 * product["price"])[:2] in dialog.total.text().replace(",", "")
        dialog._accept()

    state = when_modal(qtbot, TypedRefundDialog, type_in)
    history.find("B07-20261121-0003")
    assert state["done"] and state["error"] is None
    assert "B07-20261121-0003" in answers.confirms[0] and "B07" in answers.confirms[0]
    with demo_store.unit_of_work(write=False) as uow:
        refunds = [r for r in svc.list_documents(uow) if r["kind"] == "refund"]
        back = svc.get_document(uow, sale_id=refunds[0]["id"])
    assert back.original_receipt_no == "B07-20261121-0003"
    assert back.totals.total == -2 * product["price"]
    assert [ln.name for ln in back.lines] == [product["name"]]
    # the list says which receipt it gave back; looked up again, it is said to be typed in
    assert "B07-20261121-0003" in history.table.item(0, 6).text()  # the note column
    history.find("b07 20261121 0003")
    assert "직접 입력한" in history.detail.toPlainText()
    assert not history.refund_btn.isEnabled() and not history.void_btn.isEnabled()
    history.find("x" * 10000 + "\x00")
    assert len(history.message.text()) < 100


def test_the_stall_settlement_from_the_shift_screen(qtbot, window, demo_store, answers,
                                                     tmp_path):
    from pypdf import PdfReader

    from pos import services as svc
    from pos.demo import load_demo_catalog
    from pos.store import Store
    from sync import client
    from tests.conftest import in_shift
    from tests.sync.test_stock import sell
    from tests.ui.conftest import shot

    shift = window.screen("shift")
    window.show_screen("shift")
    # not enrolled: said, nothing written
    shift.save_stall_settlement(str(tmp_path / "none.pdf"))
    qtbot.waitUntil(lambda: bool(answers.errors), timeout=10000)
    assert "등록" in answers.errors[0] and not (tmp_path / "none.pdf").exists()
    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    other = Store(tmp_path / "other", clock=demo_store.clock)  # one market day
    try:
        _event, stall, code = setup_stall(server)
        load_demo_catalog(other)
        client.enroll(other, url=server.url, code=code)
        with other.unit_of_work() as uow:
            in_shift(uow)
            uow.commit()
            pid = svc.list_products(uow)[0]["id"]
        sell(other, pid, 2)
        client.sync_now(other)
        client.enroll(demo_store, url=server.url, code=another_code(server, stall))
        if client.pending_join(demo_store):
            client.join_catalog(demo_store, "take")
        with demo_store.unit_of_work(write=False) as uow:
            mine = svc.list_products(uow)[1]
        sell(demo_store, mine["id"], 1)  # not sent yet: in the figures all the same
        path = tmp_path / "stall.pdf"
        shift.save_stall_settlement(str(path))
        qtbot.waitUntil(lambda: "단말 A01" in shift.message.text(), timeout=15000)
        shot(window, "shift-stall-settlement")
        text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
        assert "단말 A01, A02 (매대 전체)" in text and "A02 (이 단말)" in text
        with other.unit_of_work(write=False) as uow:
            sold = svc.get_product(uow, product_id=pid)
        assert sold["name"] in text and mine["name"] in text
        assert path.with_suffix(".csv").exists()
    finally:
        window.sync.stop()
        other.close()
        server.stop()
