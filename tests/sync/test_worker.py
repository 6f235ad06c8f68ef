"""The background worker and the till's status bar: a day sold offline reaches the server
within seconds of it coming up, without the vendor doing anything."""

from __future__ import annotations

import time

import httpx

from pos import services as svc
from pos.demo import run_demo
from sync import client
from sync.server import service, tables as t
from tests.sync.conftest import RunningServer, _free_port, setup_stall


def _net(store) -> int:
    with store.unit_of_work(write=False) as uow:
        return svc.day_settlement(uow, day=svc.list_documents(uow)[0]["business_day"]).net


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_day_sold_offline_arrives_within_seconds_of_the_server_coming_up(store, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    port = _free_port()
    server = RunningServer(db_url, port)
    event, _stall, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    server.stop()  # the venue's network is down all day
    states = []
    # Offline, it retries every half second instead of waiting out the two-minute interval.
    worker = client.SyncWorker(store, listener=states.append, interval=120, offline_retry=0.5)
    worker.start()
    try:
        run_demo(store, sales=300, seed=12)
        last = client.sync_state(store).last_seq
        assert _wait(lambda: states and states[-1].error == "sync_offline"
                     and states[-1].waiting == last, 10)  # it kept trying; nothing went
        server = RunningServer(db_url, port)  # the server comes up; nobody touches the till
        # within half the interval: it did not sit out the outage
        assert _wait(lambda: states[-1].waiting == 0 and states[-1].error is None, 60)
        totals = server.admin(lambda c: service.totals(c, event_id=event))
        assert totals["net"] == _net(store)
    finally:
        worker.stop()
        server.stop()


class _Broken(httpx.BaseTransport):
    """A fault of our own making below the client (not the network): it must not pass for
    'offline'."""

    def handle_request(self, request):
        raise KeyError("a bug, not a network")


def test_a_fault_of_ours_is_logged_and_shown_as_one_not_as_offline(store, tmp_path, caplog):
    server = RunningServer(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        _event, _stall, code = setup_stall(server)
        client.enroll(store, url=server.url, code=code)
    finally:
        server.stop()
    run_demo(store, sales=3, seed=2)
    states = []
    worker = client.SyncWorker(store, listener=states.append, transport=_Broken())
    assert worker.step() > 0
    assert states[-1].error == "sync_fault" and "KeyError" in states[-1].error_params["detail"]
    assert any("sync failed unexpectedly" in r.getMessage() for r in caplog.records)
