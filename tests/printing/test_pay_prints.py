"""What a payment sets off reaches the printer by itself: the worker wakes on the sale's commit,
the drawer opens before anything else, and no single job can stop the queue."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from pos import services as svc
from printing import queue as pq
from printing.decode import decode
from tests.conftest import ROOT, in_shift
from tests.printing.conftest import sell, wait_for


def _use_printer(store, url, profile="epson-tm-t20-kr", overrides=None):
    with store.unit_of_work() as uow:
        pq.save_printer_setup(uow, url=url, profile_key=profile, overrides=overrides)
        if svc.current_shift(uow) is None:
            svc.open_shift(uow, float_amount=50000)
        uow.commit()


def _sell_with_receipt(store):
    from pos.domain import Tender

    with store.unit_of_work() as uow:
        product = svc.list_products(uow)[0]
        in_shift(uow)
        doc = svc.record_sale(uow, items=[svc.SaleItem(product["id"], 1)],
                              tenders=[Tender("cash", product["price"] + 1000)],
                              receipt_requested=True)
        uow.commit()
    return doc


def test_the_worker_wakes_on_the_sales_commit_and_the_drawer_opens_first(demo_store,
                                                                         printer_factory):
    printer = printer_factory()
    _use_printer(demo_store, printer.url)
    worker = pq.PrintWorker(demo_store, idle_wait=600)  # it would sleep ten minutes unwoken
    worker.start()
    try:
        wait_for(lambda: worker._thread.is_alive())
        doc = _sell_with_receipt(demo_store)  # nobody calls wake(): the commit does
        wait_for(lambda: len(printer.jobs) == 2, 30)
    finally:
        worker.stop()
    kick, receipt = (decode(b) for b in printer.jobs)
    assert [type(i).__name__ for i in kick.items] == ["Drawer"]
    assert any(doc.receipt_no in line for line in receipt.text_lines())


def test_a_drawer_kick_goes_before_receipts_queued_earlier(demo_store, printer_factory):
    printer = printer_factory()
    _use_printer(demo_store, printer.url)
    first = _sell_with_receipt(demo_store)
    with demo_store.unit_of_work() as uow:  # the first sale's kick went out already
        (kick, _receipt) = pq.jobs_for(uow, first.id)
        pq.jobs.set_status(uow, kick["id"], status=pq.DONE)
        uow.commit()
    second = _sell_with_receipt(demo_store)
    worker = pq.PrintWorker(demo_store)
    order = []
    for _ in range(3):
        with demo_store.unit_of_work(write=False) as uow:
            order.append(pq.jobs.head(uow)["kind"])
        worker.run_once()
    assert order == ["drawer", "receipt", "receipt"]
    wait_for(lambda: len(printer.jobs) == 3)
    texts = [" ".join(decode(b).text_lines()) for b in printer.jobs]
    assert first.receipt_no in texts[1] and second.receipt_no in texts[2]


def test_a_drawer_kick_that_waited_too_long_is_dropped_not_sent(demo_store, printer_factory,
                                                                clock):
    printer = printer_factory()
    _use_printer(demo_store, printer.url)
    doc = sell(demo_store)
    clock.advance(timedelta(minutes=3))  # the printer was off; it is back three minutes later
    worker = pq.PrintWorker(demo_store)
    assert not worker.run_once()
    with demo_store.unit_of_work(write=False) as uow:
        (kick,) = pq.jobs_for(uow, doc.id)
    assert (kick["kind"], kick["status"], kick["last_error"]) == ("drawer", pq.DROPPED,
                                                                  "drawer_too_late")
    assert printer.jobs == []


def test_a_receipt_that_cannot_be_drawn_fails_alone_and_the_queue_goes_on(demo_store,
                                                                          printer_factory):
    printer = printer_factory()
    _use_printer(demo_store, printer.url)
    setup = pq.PrinterSetup(printer.url, pq.make_profile("epson-tm-t20-kr"))
    with demo_store.unit_of_work() as uow:
        broken = pq.enqueue_receipt(uow, setup, document_id="no-such-sale", receipt_no="X")
        uow.commit()
    doc = _sell_with_receipt(demo_store)
    states = []
    worker = pq.PrintWorker(demo_store, listener=states.append)
    while worker.run_once():
        pass
    with demo_store.unit_of_work(write=False) as uow:
        row = pq.job(uow, broken)
        mine = pq.jobs_for(uow, doc.id)
    assert (row["status"], row["last_error"]) == (pq.FAILED, "render_failed")
    assert [j["status"] for j in mine] == [pq.DONE, pq.DONE]
    assert any(s.last_error == "render_failed" for s in states)
    wait_for(lambda: len(printer.jobs) == 2)


def _jangteo(data, *args, lang="ko"):
    return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(data),
                           "--lang", lang, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_jangteo_sell_records_through_the_same_use_case_and_prints(demo_store, printer_factory):
    printer = printer_factory()
    _use_printer(demo_store, printer.url)
    with demo_store.unit_of_work(write=False) as uow:
        soap, other = svc.list_products(uow, active_only=True)[:2]
    code = soap["sku"] or soap["barcodes"][0]
    data = demo_store.data_dir
    demo_store.close()  # one process per data folder: the command line takes it
    out = _jangteo(data, "sell", "--item", f"{code}:2", "--item", other["barcodes"][0]
                   if other["barcodes"] else other["sku"], "--pay", "cash:100000")
    assert out.returncode == 0, out.stderr
    receipt_no, total = out.stdout.split()[:2]
    assert total == f"{2 * soap['price'] + other['price']:,}원"
    assert "영수증: 인쇄했습니다" in out.stdout and "돈통: 인쇄했습니다" in out.stdout
    wait_for(lambda: len(printer.jobs) == 2)
    assert any(receipt_no in line for line in decode(printer.jobs[1]).text_lines())

    refused = _jangteo(data, "sell", "--item", code, "--pay", "cash:10", lang="en")
    assert refused.returncode == 1 and "still due" in refused.stderr
    unknown = _jangteo(data, "sell", "--item", "NO-SUCH\x01", "--pay", "cash")
    assert unknown.returncode == 1 and "상품" in unknown.stderr
    check = _jangteo(data, "check")
    assert check.returncode == 0 and "1건" in check.stdout  # only the one good sale


def test_jangteo_sell_with_the_printer_off_keeps_the_sale_and_the_job(demo_store):
    from tests.printing.conftest import free_port

    _use_printer(demo_store, f"tcp://127.0.0.1:{free_port()}")
    with demo_store.unit_of_work(write=False) as uow:
        product = svc.list_products(uow, active_only=True)[0]
    data = demo_store.data_dir
    demo_store.close()
    out = _jangteo(data, "sell", "--item", product["sku"] or product["barcodes"][0],
                   "--pay", "card", "--approval", "30001234", lang="en")
    assert out.returncode == 0, out.stderr
    assert "off or not connected" in out.stderr and "wait in the queue" in out.stderr
    from pos.store import Store

    with Store(data) as store, store.unit_of_work(write=False) as uow:
        (job,) = pq.jobs_for(uow, svc.list_documents(uow)[-1]["id"])
    assert (job["kind"], job["status"]) == ("receipt", pq.RETRY)  # printed at the next start


def test_jangteo_sell_without_a_shift_asks_for_one_and_records_nothing(store, tmp_path):
    from pos.demo import load_demo_catalog

    load_demo_catalog(store)
    with store.unit_of_work(write=False) as uow:
        product = svc.list_products(uow, active_only=True)[0]
    data = store.data_dir
    store.close()
    code = product["sku"] or product["barcodes"][0]
    out = _jangteo(data, "sell", "--item", code, "--pay", "cash", lang="en")
    assert out.returncode == 1 and "No shift is open" in out.stderr
    assert "--without-shift" not in out.stderr  # no path records a sale outside a shift
    out = _jangteo(data, "sell", "--item", code, "--pay", "cash", "--without-shift", lang="en")
    assert out.returncode != 0
    assert "0 documents" in _jangteo(data, "check", lang="en").stdout
    assert _jangteo(data, "shift", "open", "--float", "0", lang="en").returncode == 0
    out = _jangteo(data, "sell", "--item", code, "--pay", "cash", lang="en")
    assert out.returncode == 0, out.stderr
    assert "1 document" in _jangteo(data, "check", lang="en").stdout


def test_jangteo_sell_refuses_absurd_input_with_a_sentence(demo_store):
    _use_printer(demo_store, "tcp://127.0.0.1:9")
    with demo_store.unit_of_work(write=False) as uow:
        code = svc.list_products(uow, active_only=True)[0]["sku"]
    data = demo_store.data_dir
    demo_store.close()
    for args in (["--item", code, "--pay", "cash:9223372036854775807"],
                 ["--item", code, "--pay", "cash:9223372036854775808"],
                 ["--item", code, "--pay", "cash:" + "9" * 5000],
                 ["--item", f"{code}:²", "--pay", "cash"],
                 ["--item", f"{code}:" + "1" * 5000, "--pay", "cash"],
                 ["--item", f"{code}:99999", "--pay", "cash"],
                 ["--item", code, "--pay", "card", "--approval", "12\n34"],
                 ["--item", code, "--pay", "card", "--approval", "12\x1d34"]):
        args = [a.encode().decode("unicode_escape") if "\\" in a else a for a in args]
        out = _jangteo(data, "sell", *args, lang="en")
        assert out.returncode == 1, (args, out.stdout)
        assert "Traceback" not in out.stderr and out.stderr.strip(), (args, out.stderr)
    check = _jangteo(data, "check", lang="en")
    assert check.returncode == 0 and "0 documents" in check.stdout


def test_waiting_receipts_go_to_the_printer_as_it_is_set_up_now(demo_store, printer_factory):
    from tests.printing.conftest import free_port

    _use_printer(demo_store, f"tcp://127.0.0.1:{free_port()}")  # a typo in the address
    doc = _sell_with_receipt(demo_store)
    worker = pq.PrintWorker(demo_store, backoff=(0.01, 0.01))
    worker.run_once()  # the printer is not there: the jobs wait
    printer = printer_factory()
    # the vendor corrects the address and asks for the raster mode (no Korean font)
    _use_printer(demo_store, printer.url, "epson-tm-t20-kr", {"renderer": "raster"})
    with demo_store.unit_of_work() as uow:
        for j in pq.jobs_for(uow, doc.id):
            if j["status"] in (pq.RETRY, pq.FAILED):
                pq.retry(uow, j["id"])
        uow.commit()
    while worker.run_once():
        pass
    wait_for(lambda: len(printer.jobs) == 2)
    receipt = decode(printer.jobs[1])
    assert any(type(i).__name__ == "Raster" for i in receipt.items)  # the mode set now
    with demo_store.unit_of_work(write=False) as uow:
        assert {j["printer_url"] for j in pq.jobs_for(uow, doc.id)} == {printer.url}


def test_jangteo_sell_sends_only_its_own_jobs_and_stops_at_the_first_refusal(demo_store):
    from tests.printing.conftest import free_port

    _use_printer(demo_store, f"tcp://127.0.0.1:{free_port()}")
    for _ in range(4):
        _sell_with_receipt(demo_store)  # earlier receipts wait in the queue
    with demo_store.unit_of_work(write=False) as uow:
        code = svc.list_products(uow, active_only=True)[0]["sku"]
    data = demo_store.data_dir
    demo_store.close()
    out = _jangteo(data, "sell", "--item", code, "--pay", "cash", lang="en")
    assert out.returncode == 0
    from pos.store import Store

    with Store(data) as store, store.unit_of_work(write=False) as uow:
        tried = [j for j in pq.recent_jobs(uow, 100) if j["attempts"]]
    # the drawer kick was tried once and refused; nothing else was tried (not even its receipt)
    assert [(j["kind"], j["attempts"]) for j in tried] == [("drawer", 1)]


def test_a_damaged_logo_is_left_out_and_the_receipt_prints(demo_store, printer_factory):
    printer = printer_factory()
    _use_printer(demo_store, printer.url)
    (demo_store.data_dir / "receipt-logo.png").write_bytes(b"\x89PNG not really")
    with demo_store.unit_of_work() as uow:
        svc.save_settings(uow, receipt_logo="receipt-logo.png")
        uow.commit()
    doc = _sell_with_receipt(demo_store)
    worker = pq.PrintWorker(demo_store)
    while worker.run_once():
        pass
    with demo_store.unit_of_work(write=False) as uow:
        assert [j["status"] for j in pq.jobs_for(uow, doc.id)] == [pq.DONE, pq.DONE]
