"""The print queue against a loopback network printer: the till never waits, nothing is lost,
nothing is silently printed twice."""

from __future__ import annotations

import time

import pytest

from pos.i18n import error_text
from printing import queue as pq
from printing.decode import decode
from printing.profiles import profile
from printing.transport import PrinterError, parse_url, send
from tests.printing.conftest import free_port, sell, wait_for


def setup_for(url: str, key: str = "epson-tm-t20-kr") -> pq.PrinterSetup:
    return pq.PrinterSetup(url, profile(key))


def queue_receipt(store, setup, doc, **kw) -> int:
    with store.unit_of_work() as uow:
        job_id = pq.enqueue_receipt(uow, setup, document_id=doc.id, **kw)
        uow.commit()
    return job_id


def job(store, job_id):
    with store.unit_of_work(write=False) as uow:
        return pq.job(uow, job_id)


def test_a_receipt_arrives_whole(demo_store, printer_factory):
    printer = printer_factory()
    doc = sell(demo_store)
    job_id = queue_receipt(demo_store, setup_for(printer.url), doc, drawer=True)
    worker = pq.PrintWorker(demo_store, timeout=5)
    assert worker.run_once()
    row = job(demo_store, job_id)
    assert row["status"] == pq.DONE and row["attempts"] == 0
    wait_for(lambda: printer.jobs)
    assert printer.jobs == [row["data"]]
    lines = decode(printer.jobs[0]).text_lines()
    assert any(doc.receipt_no in line for line in lines)
    assert not worker.run_once()  # printed once, not again


def test_printer_off_the_till_keeps_selling_and_the_job_waits(demo_store, printer_factory):
    port = free_port()
    setup = setup_for(f"tcp://127.0.0.1:{port}")
    states = []
    worker = pq.PrintWorker(demo_store, timeout=1, backoff=(0.05, 0.1), listener=states.append)
    doc = sell(demo_store)
    job_id = queue_receipt(demo_store, setup, doc)
    assert worker.run_once()
    row = job(demo_store, job_id)
    assert (row["status"], row["attempts"], row["last_error"]) == (pq.RETRY, 1, "printer_off")
    assert states[-1].waiting == 1 and states[-1].last_error == "printer_off"
    later = sell(demo_store)  # a job waiting for its printer holds nothing a sale needs
    assert later.seq == doc.seq + 1
    for _ in range(4):  # it goes on trying by itself, past the end of the back-off list
        wait_for(lambda: job(demo_store, job_id)["next_try_at"] <= time.time())
        assert worker.run_once()
    row = job(demo_store, job_id)
    assert (row["status"], row["attempts"]) == (pq.RETRY, 5)
    assert "꺼져" in error_text(PrinterError(row["last_error"], target="x"), "ko")
    printer = printer_factory()  # switched on (at a new address in this test)
    with demo_store.unit_of_work() as uow:
        uow.conn.execute(pq.t.print_jobs.update().values(printer_url=printer.url))
        uow.commit()
    wait_for(lambda: job(demo_store, job_id)["next_try_at"] <= time.time())
    assert worker.run_once()  # no Retry pressed: it printed on its own next try
    wait_for(lambda: printer.jobs)
    row = job(demo_store, job_id)
    assert len(printer.jobs) == 1 and row["status"] == pq.DONE and not row["copy"]


def test_paper_out_or_cover_open_holds_every_receipt_as_an_original(demo_store, printer_factory):
    printer = printer_factory(state="paper_out")
    setup = setup_for(printer.url)
    states = []
    worker = pq.PrintWorker(demo_store, timeout=2, hold_poll=0.05, listener=states.append)
    first, second = sell(demo_store), sell(demo_store)
    a, b = queue_receipt(demo_store, setup, first), queue_receipt(demo_store, setup, second)
    assert worker.run_once()
    row = job(demo_store, a)
    assert (row["status"], row["last_error"]) == (pq.RETRY, "printer_paper_out")
    assert states[-1].last_error == "printer_paper_out" and states[-1].waiting == 2
    printer.state = "cover_open"
    wait_for(lambda: job(demo_store, a)["next_try_at"] <= time.time())
    assert worker.run_once()
    assert job(demo_store, a)["last_error"] == "printer_cover_open"
    # the receipt behind it was never tried: nothing is sent to a printer that said it cannot
    assert job(demo_store, b)["status"] == pq.QUEUED and job(demo_store, b)["attempts"] == 0
    assert printer.jobs == [] and printer.asked >= 6
    printer.state = "ready"  # the vendor loaded paper and closed the cover
    wait_for(lambda: job(demo_store, a)["next_try_at"] <= time.time())
    assert worker.run_once() and worker.run_once()
    wait_for(lambda: len(printer.jobs) == 2)
    assert [job(demo_store, j)["status"] for j in (a, b)] == [pq.DONE, pq.DONE]
    texts = ["\n".join(decode(data).text_lines()) for data in printer.jobs]
    assert first.receipt_no in texts[0] and second.receipt_no in texts[1]  # in the order paid
    assert not any("사본" in text for text in texts)  # originals, not copies
    assert "용지" in error_text(PrinterError("printer_paper_out", target="x"), "ko")


def test_a_drawer_kick_opens_the_drawer_even_with_the_paper_out(demo_store, printer_factory):
    from printing.decode import Drawer
    from printing.render import render_drawer_pulse

    printer = printer_factory(state="paper_out")
    doc = sell(demo_store)
    with demo_store.unit_of_work() as uow:
        pq.save_printer_setup(uow, url=printer.url, profile_key="epson-tm-t20-kr")
        made = pq.jobs.for_document(uow, doc)
        uow.commit()
    worker = pq.PrintWorker(demo_store, timeout=2)
    assert worker.run_once()
    kick = job(demo_store, made[0])
    assert kick["kind"] == pq.jobs.DRAWER and kick["status"] == pq.DONE
    wait_for(lambda: printer.jobs)
    # ESC p would wait in a stopped printer and open the drawer when paper is loaded, minutes
    # later: the real-time pulse opens it now
    assert printer.jobs == [render_drawer_pulse(profile("epson-tm-t20-kr"))]
    assert [type(i) for i in decode(printer.jobs[0]).items] == [Drawer]


def test_a_printer_that_answered_and_then_does_not_gets_nothing(demo_store, printer_factory):
    printer = printer_factory(state="paper_low")
    setup = setup_for(printer.url)
    states = []
    worker = pq.PrintWorker(demo_store, timeout=1, hold_poll=0.05, listener=states.append)
    first, second = sell(demo_store), sell(demo_store)
    a = queue_receipt(demo_store, setup, first)
    assert worker.run_once() and job(demo_store, a)["status"] == pq.DONE
    assert states[-1].last_error == "printer_paper_low"  # printed, and the vendor is told
    wait_for(lambda: printer.jobs)
    assert printer.jobs == [job(demo_store, a)["data"]]
    printer.mode = "stall"  # busy or stopped: it does not read, so it does not answer
    b = queue_receipt(demo_store, setup, second)
    assert worker.run_once()
    row = job(demo_store, b)
    assert (row["status"], row["last_error"]) == (pq.RETRY, "printer_not_answering")
    printer.mode, printer.state = "ok", "ready"
    wait_for(lambda: job(demo_store, b)["next_try_at"] <= time.time())
    assert worker.run_once()
    wait_for(lambda: len(printer.jobs) == 2)
    assert job(demo_store, b)["status"] == pq.DONE and printer.jobs[1] == job(demo_store, b)["data"]


def test_a_dropped_connection_is_not_resent_as_the_original(demo_store, printer_factory):
    printer = printer_factory("drop", drop_after=300)
    setup = setup_for(printer.url)
    doc = sell(demo_store)
    job_id = queue_receipt(demo_store, setup, doc)
    worker = pq.PrintWorker(demo_store, timeout=2)
    worker.run_once()
    row = job(demo_store, job_id)
    assert row["status"] == pq.INTERRUPTED and row["last_error"] == "printer_dropped"
    assert not worker.run_once()  # nothing is resent on its own
    printer.mode = "ok"
    with demo_store.unit_of_work() as uow:
        copy_id = pq.retry(uow, job_id)
        uow.commit()
    assert copy_id != job_id and job(demo_store, job_id)["status"] == pq.REPLACED
    copy = job(demo_store, copy_id)
    assert copy["copy"] and copy["replaces"] == job_id
    worker.run_once()
    wait_for(lambda: len(printer.jobs) == 2)
    lines = decode(printer.jobs[-1]).text_lines()
    assert any("사본" in line for line in lines)
    assert any(doc.receipt_no in line for line in lines)


def test_a_printer_stopped_mid_receipt_is_waited_for_and_the_original_finishes(
        demo_store, printer_factory):
    printer = printer_factory("stall")  # the paper ran out: it takes nothing more
    setup = pq.PrinterSetup(printer.url, profile("generic-80"))  # raster: bigger than buffers
    states = []
    worker = pq.PrintWorker(demo_store, timeout=0.5, listener=states.append)
    worker.start()
    try:
        doc = sell(demo_store)
        job_id = queue_receipt(demo_store, setup, doc)
        wait_for(lambda: job(demo_store, job_id)["status"] == pq.SENDING)  # connected: bytes go
        sold = [sell(demo_store) for _ in range(10)]  # while the worker is stuck on the printer
        assert len(sold) == 10 and job(demo_store, job_id)["status"] == pq.SENDING
        wait_for(lambda: states[-1].sending and states[-1].last_error == "printer_paused", 15)
        behind = queue_receipt(demo_store, setup, sold[0])
        time.sleep(1.5)  # well past the time-out: it goes on waiting, it does not give up
        assert job(demo_store, job_id)["status"] == pq.SENDING
        assert job(demo_store, behind)["status"] == pq.QUEUED
        printer.mode = "ok"  # paper loaded: the rest of the receipt follows
        wait_for(lambda: job(demo_store, behind)["status"] == pq.DONE, 30)
        row = job(demo_store, job_id)
        assert row["status"] == pq.DONE and not row["copy"]
        wait_for(lambda: len(printer.jobs) == 2)
        assert printer.jobs[0] == row["data"]  # the whole original, once
        assert not states[-1].sending and states[-1].last_error is None
    finally:
        worker.stop()


def test_a_till_closed_while_the_printer_is_stopped_marks_only_that_receipt_cut_off(
        demo_store, printer_factory):
    printer = printer_factory("stall")
    setup = pq.PrinterSetup(printer.url, profile("generic-80"))
    states = []
    worker = pq.PrintWorker(demo_store, timeout=0.3, listener=states.append)
    worker.start()
    stopped = False
    try:
        cut = queue_receipt(demo_store, setup, sell(demo_store))
        waiting = queue_receipt(demo_store, setup, sell(demo_store))
        wait_for(lambda: states and states[-1].last_error == "printer_paused", 15)
        worker.stop()
        stopped = True
    finally:
        if not stopped:
            worker.stop()
    row = job(demo_store, cut)
    assert (row["status"], row["last_error"]) == (pq.INTERRUPTED, "printer_stalled")
    assert job(demo_store, waiting)["status"] == pq.QUEUED  # still the original, still waiting


def test_jobs_cut_off_by_a_crash_are_marked_interrupted(demo_store, printer_factory):
    printer = printer_factory()
    doc = sell(demo_store)
    job_id = queue_receipt(demo_store, setup_for(printer.url), doc)
    with demo_store.unit_of_work() as uow:
        pq.jobs.set_status(uow, job_id, status=pq.SENDING)
        uow.commit()
    worker = pq.PrintWorker(demo_store)
    worker.start()
    worker.stop()
    assert job(demo_store, job_id)["status"] == pq.INTERRUPTED
    assert printer.jobs == []


def test_drop_a_failed_job(demo_store):
    doc = sell(demo_store)
    job_id = queue_receipt(demo_store, setup_for(f"tcp://127.0.0.1:{free_port()}"), doc)
    with demo_store.unit_of_work() as uow:
        pq.jobs.set_status(uow, job_id, status=pq.FAILED)
        pq.drop(uow, job_id)
        uow.commit()
        with pytest.raises(ValueError):
            pq.retry(uow, job_id)
    assert job(demo_store, job_id)["status"] == pq.DROPPED


def test_file_transport_and_url_errors(tmp_path):
    target = tmp_path / "lp0"
    send(f"file://{target}", b"\x1b@hello\n")
    assert target.read_bytes() == b"\x1b@hello\n"
    with pytest.raises(PrinterError) as e:
        send(f"file://{tmp_path}/missing/lp0", b"x")
    assert e.value.code == "printer_not_found"
    for bad in ("", "lp0", "ftp://x", "tcp://"):
        with pytest.raises(PrinterError) as e:
            parse_url(bad)
        assert e.value.code == "printer_url_invalid"
    assert parse_url("serial:///dev/ttyUSB0?baud=115200").options == {"baud": "115200"}
    assert parse_url("win32://EPSON TM-T20").target == "EPSON TM-T20"
    with pytest.raises(PrinterError) as e:
        send("serial:///dev/does-not-exist", b"x")
    assert e.value.code in ("printer_not_found", "printer_error")
    with pytest.raises(PrinterError) as e:
        send("usb://04b8:0e15", b"x")
    assert e.value.code in ("libusb_missing", "printer_not_found", "usb_permission")
    assert "Zadig" in error_text(PrinterError("libusb_missing"), "en")
    assert "lp 그룹" in error_text(PrinterError("usb_permission", target="x"), "ko")


@pytest.mark.parametrize("url", ["tcp://[::1", "serial:///dev/null?baud=abc",
                                 "serial:///dev/null?baud=0", "serial:///dev/null?baud=-5",
                                 "tcp://" + "a" * 300 + ":9100", "tcp://127.0.0.1:99999",
                                 "tcp://127.0.0.1:9100\n", "x" * 10_000, "tcp://"])
def test_an_address_that_cannot_be_a_printer_is_refused_with_a_sentence(url):
    with pytest.raises(PrinterError) as e:
        parse_url(url)
    assert e.value.code == "printer_url_invalid"
    assert "프린터 주소가 올바르지 않습니다" in error_text(e.value, "ko")


def test_finished_jobs_lose_their_bytes_after_a_week_but_keep_their_record(demo_store,
                                                                          printer_factory):
    from datetime import timedelta

    printer = printer_factory()
    setup = setup_for(printer.url)
    old, recent = sell(demo_store), sell(demo_store)
    old_job = queue_receipt(demo_store, setup, old)
    worker = pq.PrintWorker(demo_store, timeout=5)
    assert worker.run_once()
    demo_store.clock.advance(timedelta(days=8))
    recent_job = queue_receipt(demo_store, setup, recent)
    assert worker.run_once()
    starting = pq.PrintWorker(demo_store, timeout=0.2, backoff=(60,))
    starting.start()  # the worker prunes as it starts
    starting.stop()
    assert job(demo_store, old_job)["data"] is None and job(demo_store, old_job)["status"] == pq.DONE
    assert job(demo_store, recent_job)["data"] is not None
    assert len(printer.jobs) == 2  # nothing was printed again


def test_a_sale_never_waits_while_the_worker_draws_a_receipt(demo_store, printer_factory,
                                                              monkeypatch):
    import threading

    printer = printer_factory()
    queue_receipt(demo_store, setup_for(printer.url, "generic-80"), sell(demo_store))
    drawing, sold, gave_up = threading.Event(), threading.Event(), threading.Event()
    real = pq.render_job

    def slow_render(uow, row, prof=None):  # a long backlog being drawn
        drawing.set()
        if not sold.wait(10):  # until the sale below is written, if it can be
            gave_up.set()
        return real(uow, row, prof)

    monkeypatch.setattr(pq, "render_job", slow_render)
    worker = pq.PrintWorker(demo_store, timeout=5)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    try:
        assert drawing.wait(10)
        done_while_drawing = sell(demo_store)  # would wait for the drawing if it held the store
        assert not gave_up.is_set()  # the sale was written while the receipt was being drawn
        sold.set()
    finally:
        sold.set()
        thread.join(15)
    assert done_while_drawing.receipt_no
    wait_for(lambda: printer.jobs)


def test_a_printer_that_answered_and_then_reset_mid_receipt_gets_a_copy_not_the_original(
        demo_store, printer_factory):
    printer = printer_factory("drop", drop_after=600, state="ready")
    setup = setup_for(printer.url)
    job_id = queue_receipt(demo_store, setup, sell(demo_store))
    worker = pq.PrintWorker(demo_store, timeout=2, backoff=(0.05,))
    assert worker.run_once()
    row = job(demo_store, job_id)
    # some of it may be on paper: never resent as the original by itself
    assert (row["status"], row["last_error"]) == (pq.INTERRUPTED, "printer_dropped")
    assert not worker.run_once()


def test_padded_status_answers_are_read(demo_store, printer_factory):
    printer = printer_factory(state="paper_out", pad=b"\x00")
    job_id = queue_receipt(demo_store, setup_for(printer.url), sell(demo_store))
    assert pq.PrintWorker(demo_store, timeout=2).run_once()
    assert job(demo_store, job_id)["last_error"] == "printer_paper_out" and printer.jobs == []


def test_a_clock_put_back_neither_strands_waiting_jobs_nor_fires_an_old_drawer_kick(
        demo_store, printer_factory):
    from datetime import timedelta

    port = free_port()
    doc = sell(demo_store)
    with demo_store.unit_of_work() as uow:
        pq.save_printer_setup(uow, url=f"tcp://127.0.0.1:{port}", profile_key="epson-tm-t20-kr")
        kick, receipt = pq.jobs.for_document(uow, doc)[0], pq.enqueue_receipt(
            uow, setup_for(f"tcp://127.0.0.1:{port}"), document_id=doc.id)
        uow.commit()
    worker = pq.PrintWorker(demo_store, timeout=2, backoff=(30,))
    assert worker.run_once() and job(demo_store, kick)["status"] == pq.RETRY
    demo_store.clock.advance(timedelta(hours=-1))  # put back an hour
    printer = printer_factory()
    with demo_store.unit_of_work() as uow:
        pq.save_printer_setup(uow, url=printer.url, profile_key="epson-tm-t20-kr")
        uow.commit()
    assert worker.run_once()  # due now, not in an hour
    assert job(demo_store, kick)["status"] == pq.DROPPED  # made "an hour from now": too late
    wait_for(lambda: printer.jobs)
    assert job(demo_store, receipt)["status"] == pq.DONE
    assert not any(type(i).__name__ == "Drawer" for data in printer.jobs
                   for i in decode(data).items)


def test_a_test_page_drawn_for_another_printer_model_is_not_sent_to_this_one(
        demo_store, printer_factory):
    from printing.cli import test_page

    printer = printer_factory()
    with demo_store.unit_of_work() as uow:
        pq.save_printer_setup(uow, url=printer.url, profile_key="generic-80")
        job_id = pq.enqueue_bytes(uow, pq.printer_setup(uow), kind="test",
                                  data=test_page(profile("generic-80")))
        pq.save_printer_setup(uow, url=printer.url, profile_key="generic-58")  # another model
        uow.commit()
    worker = pq.PrintWorker(demo_store, timeout=2)
    assert not worker.run_once()  # nothing to send: 576 dots would run off 58 mm paper
    row = job(demo_store, job_id)
    assert (row["status"], row["last_error"]) == (pq.FAILED, "printed_for_other_printer")
    assert printer.jobs == []


def test_the_drawer_opens_while_a_receipt_waits_for_paper_mid_way(demo_store, printer_factory):
    from printing.render import render_drawer_pulse

    printer = printer_factory(state="ready", stall_after=3000)  # the paper runs out mid-receipt
    with demo_store.unit_of_work() as uow:
        pq.save_printer_setup(uow, url=printer.url, profile_key="generic-80")
        uow.commit()
    states = []
    worker = pq.PrintWorker(demo_store, timeout=0.5, listener=states.append)
    worker.start()
    try:
        stuck = queue_receipt(demo_store, setup_for(printer.url, "generic-80"), sell(demo_store))
        wait_for(lambda: states and states[-1].last_error == "printer_paused", 15)
        doc = sell(demo_store)  # the next customer pays cash
        with demo_store.unit_of_work() as uow:
            (kick,) = pq.jobs.for_document(uow, doc)
            uow.commit()
        wait_for(lambda: job(demo_store, kick)["status"] == pq.DONE, 15)
        assert render_drawer_pulse(profile("generic-80")) in printer.jobs
        assert job(demo_store, stuck)["status"] == pq.SENDING  # still waiting for paper
    finally:
        worker.stop()
