"""The till's status bar follows the background sync: offline with the reason, then up to
date once the server is back, without the vendor doing anything."""

from __future__ import annotations

from sqlalchemy import func, select

from sync import client
from sync.server import tables as t
from tests.ui.conftest import ARTIFACTS
from tests.sync.conftest import RunningServer, _free_port, setup_stall


def test_the_status_bar_follows_the_sync(qtbot, tmp_path, answers):
    from pos.demo import load_demo_catalog
    from pos.store import Store
    from ui.app import application, open_window

    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    port = _free_port()
    server = RunningServer(db_url, port)
    _event, _stall, code = setup_stall(server)
    store = Store(tmp_path / "till")
    load_demo_catalog(store)
    application()
    client.enroll(store, url=server.url, code=code)
    server.stop()
    window = open_window(store, "ko")
    qtbot.addWidget(window)
    try:
        window.sync.worker.offline_retry = 0.3
        window.sync.wake()
        qtbot.waitUntil(lambda: "오프라인" in window.status_sync.text(), timeout=10000)
        assert "서버에 연결할 수 없습니다" in window.status_sync.toolTip()
        window.resize(1280, 800)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(ARTIFACTS / "sync-offline-ko.png"))
        server = RunningServer(db_url, port)
        qtbot.waitUntil(lambda: window.status_sync.text() == "동기화: 최신", timeout=10000)
        assert window.status_sync.toolTip() == ""
        assert server.admin(lambda c: c.execute(select(func.count()).select_from(
            t.device_events)).scalar()) == client.sync_state(store).last_seq
    finally:
        window.close()
        store.close()
        server.stop()


def test_the_status_bar_says_the_till_renumbered_after_lost_events_on_that_day(qtbot, store):
    from dataclasses import replace
    from datetime import timedelta

    from pos.i18n import Phrase
    from ui.app import application
    from ui.sync_service import SyncService

    application()
    service = SyncService(store, interval=3600)  # not enrolled: the worker sends nothing
    try:
        today = store.clock.now()
        service.state = client.SyncState(
            configured=True, waiting=0, acked_seq=50, last_seq=50,
            notice=Phrase("sync_renumbered", count=3, moved=3), notice_at=today.isoformat())
        assert service.status_text() == "동기화: 최신 (이벤트 번호 조정됨)"
        assert service.error_text().startswith("이 단말기는 서버에 이미 있는 이벤트 3건을 잃었습니다")
        service.state = replace(service.state, notice_at=(today - timedelta(days=1)).isoformat())
        assert service.status_text() == "동기화: 최신" and service.error_text() == ""
        service.state = replace(service.state, waiting=2)
        assert service.status_text() == "동기화: 대기 2건"
    finally:
        service.stop()


def test_a_refused_receipt_shows_as_blocked_there_not_offline(qtbot, tmp_path):
    from pos import tables as lt
    from pos.demo import load_demo_catalog
    from pos.store import Store
    from tests.printing.conftest import sell
    from ui.app import application, open_window

    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    _event, _stall, code = setup_stall(server)
    store = Store(tmp_path / "till")
    load_demo_catalog(store)
    application()
    client.enroll(store, url=server.url, code=code)
    sell(store)
    bad = sell(store)
    with store.unit_of_work() as uow:  # a receipt the server will not take
        uow.conn.execute(lt.sale_lines.update().where(lt.sale_lines.c.sale_id == bad.id)
                         .values(name="x" * 300))
        uow.commit()
    window = open_window(store, "ko")
    qtbot.addWidget(window)
    try:
        window.sync.wake()
        qtbot.waitUntil(lambda: f"{bad.receipt_no}에서 막힘" in window.status_sync.text(),
                        timeout=10000)
        assert "판매는 계속되고" in window.status_sync.toolTip()
        assert "오프라인" not in window.status_sync.text()
        window.resize(1280, 800)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(ARTIFACTS / "sync-blocked-ko.png"))
    finally:
        window.close()
        store.close()
        server.stop()
