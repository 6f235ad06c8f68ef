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
    worker = pq.PrintWorker(demo_store, timeout=1, backoff=(0.05, 0.05, 0.05), listener=states.append)
    doc = sell(demo_store)
    job_id = queue_receipt(demo_store, setup, doc)
    assert worker.run_once()
    row = job(demo_store, job_id)
    assert (row["status"], row["attempts"], row["last_error"]) == (pq.RETRY, 1, "printer_off")
    assert states[-1].waiting == 1 and states[-1].last_error == "printer_off"
    later = sell(demo_store)  # a job waiting for its printer holds nothing a sale needs
    assert later.seq == doc.seq + 1
    for _ in range(2):
        wait_for(lambda: job(demo_store, job_id)["next_try_at"] <= time.time())
        worker.run_once()
    row = job(demo_store, job_id)
    assert row["status"] == pq.FAILED and row["attempts"] == 3 and row["data"]
    assert "꺼져" in error_text(PrinterError(row["last_error"], target="x"), "ko")
    printer = printer_factory()  # switched on (at a new address in this test)
    with demo_store.unit_of_work() as uow:
        uow.conn.execute(pq.t.print_jobs.update().values(printer_url=printer.url))
        assert pq.retry(uow, job_id) == job_id
        uow.commit()
    assert worker.run_once()
    wait_for(lambda: printer.jobs)
    assert len(printer.jobs) == 1 and job(demo_store, job_id)["status"] == pq.DONE


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


def test_a_stalled_printer_never_blocks_selling(demo_store, printer_factory):
    printer = printer_factory("stall")
    setup = pq.PrinterSetup(printer.url, profile("generic-80"))  # raster: big enough to stall
    states = []
    worker = pq.PrintWorker(demo_store, timeout=5, listener=states.append)
    worker.start()
    try:
        doc = sell(demo_store)
        job_id = queue_receipt(demo_store, setup, doc)
        worker.wake()
        wait_for(lambda: any(s.sending for s in states))
        sold = [sell(demo_store) for _ in range(10)]  # while the worker is stuck on the printer
        # All ten were committed while the job was still being sent: selling never waited for
        # the printer (no clock decides this; the worker only gives up after 5 s of silence).
        assert len(sold) == 10 and job(demo_store, job_id)["status"] == pq.SENDING
        wait_for(lambda: job(demo_store, job_id)["status"] in (pq.INTERRUPTED, pq.RETRY), 30)
        row = job(demo_store, job_id)
        assert row["last_error"] == "printer_stalled"
    finally:
        worker.stop()


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
