"""`jangteo selftest`: proves a build works on the machine it runs on. On a temporary data
folder it opens the real main window (offscreen unless told otherwise), sells through it, prints
the receipt through the print queue to a file printer and reads the bytes back, renders the
same receipt in Korean text mode, closes the shift and writes its Z report PDF, and builds a
sync batch. Exit 0 when every step passed."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()

class Failed(Exception):
    pass


def check(condition: bool, detail: str) -> None:
    if not condition:
        raise Failed(detail)


def _peak_memory() -> str:
    try:
        import resource
    except ImportError:  # Windows
        return "n/a"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f"{peak / (1024 * 1024) if sys.platform == 'darwin' else peak / 1024:.0f} MB"


def add_commands(sub, h) -> None:
    """`h(key)` is a help text from the message catalogue (context "cli")."""
    st = sub.add_parser("selftest", help=h("selftest_help"))
    st.add_argument("--show", action="store_true", help=h("selftest_show_help"))
    st.add_argument("--keep", action="store_true", help=h("selftest_keep_help"))
    st.add_argument("--startup-only", action="store_true", help=h("selftest_startup_only_help"))


def handlers(_open_store) -> dict:
    return {"selftest": lambda args, lang: run(lang, show=args.show, keep=args.keep,
                                               startup_only=args.startup_only)}


def run(lang: str = "ko", *, show: bool = False, keep: bool = False,
        startup_only: bool = False) -> int:
    from pos.cli import say
    from pos.money import format_amount

    if not show:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    tmp = Path(tempfile.mkdtemp(prefix="jangteo-selftest-"))
    os.environ["JANGTEO_STATE_DIR"] = str(tmp / "state")  # its receipt marks go with it
    results: list[tuple[str, bool, str]] = []
    store = window = None

    def step(key: str, action) -> bool:
        """One step, named by its message in the catalogue (context "cli")."""
        t0 = time.perf_counter()
        try:
            detail = action() or ""
        except Exception as e:  # noqa: BLE001 - every failure is reported, then exit 1
            detail = f"{type(e).__name__}: {e}"
            results.append((key, False, detail))
            print(f"  FAIL  {say(key, lang)}: {detail}", flush=True)
            return False
        ms = (time.perf_counter() - t0) * 1000
        results.append((key, True, detail))
        print(f"  ok    {say(key, lang)} ({ms:.0f} ms) {detail}".rstrip(), flush=True)
        return True

    state: dict = {}
    try:
        def data():
            nonlocal store
            from pos import services as svc
            from pos.demo import DEMO_FLOAT, load_demo_catalog
            from pos.store import Store
            from printing.queue import save_printer_setup

            store = Store(tmp / "data")
            load_demo_catalog(store)
            with store.unit_of_work() as uow:
                svc.open_shift(uow, counts=DEMO_FLOAT)
                save_printer_setup(uow, url=(tmp / "receipt.bin").as_uri(),
                                   profile_key="generic-80")
                uow.commit()
            return str(tmp)

        def open_main_window():
            nonlocal window
            from ui.app import application, open_window

            app = application()
            window = open_window(store, lang)
            window.resize(1280, 800)
            window.show()
            app.processEvents()
            check(window.isVisible() and len(window.sell.products) == 40,
                  "the window or its products did not show")
            state["ready"] = time.perf_counter() - STARTED
            return f"{state['ready']:.2f} s"

        def sale():
            from pos.domain import Tender
            from ui.pay_dialog import quick_cash

            sell = window.sell
            for product in sell.products[:3]:
                sell.add_product(product)
            total = sell.cart.priced().totals.total
            doc = sell.record([Tender("cash", quick_cash(total)[0])], receipt_requested=True)
            check(doc is not None and doc.totals.total == total, "the sale was not recorded")
            state["doc"] = doc
            return f"{doc.receipt_no} {format_amount(total)}"

        def receipt():
            from printing.decode import Cut, decode
            from ui.qt import QApplication

            path = tmp / "receipt.bin"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                QApplication.processEvents()
                if path.exists() and path.stat().st_size and window.printer.state and \
                        not window.printer.state.waiting:
                    break
                time.sleep(0.05)
            check(path.exists() and path.stat().st_size > 0, "nothing reached the file printer")
            decoded = decode(path.read_bytes())
            image = decoded.raster()
            check(image is not None and image.height > 300, "no receipt image in the bytes")
            check(any(isinstance(i, Cut) for i in decoded.items), "the paper is not cut")
            return f"{path.stat().st_size // 1024} KiB, {image.width}×{image.height}"

        def text_mode():
            from printing.decode import decode
            from printing.profiles import profile
            from printing.queue import render_receipt

            with store.unit_of_work(write=False) as uow:
                data = render_receipt(uow, profile("epson-tm-t20-kr"),
                                      document_id=state["doc"].id)
            lines = decode(data).text_lines()
            number = state["doc"].receipt_no
            check(any(number in line for line in lines), f"{number} not in the text")
            check(any(name in " ".join(lines) for name in (ln.name for ln in state["doc"].lines)),
                  "the product names did not come back")
            return f"{len(lines)} lines"

        def z_report():
            from pos import services as svc
            from printing.pdf import shift_report_pdf

            with store.unit_of_work() as uow:
                shift = svc.current_shift(uow)
                expected = svc.expected_cash(uow, shift_id=shift["id"])
                closed, figures = svc.close_shift(uow, counted=expected)
                uow.commit()
            path = tmp / "z-report.pdf"
            shift_report_pdf(path, figures, kind="z", lang=lang, shift=closed)
            head = path.read_bytes()[:5]
            check(head == b"%PDF-" and path.stat().st_size > 2000, "the PDF was not written")
            check(figures.net == state["doc"].totals.total, "the Z report's net differs")
            return f"{path.stat().st_size // 1024} KiB"

        def sync_batch():
            from sync import client, protocol as p

            with store.unit_of_work(write=False) as uow:
                batch = client.pending_batch(uow, after=0)
            incoming = p.parse_push(batch.body)
            events = [x.event() for x in incoming]
            check(any(e.document and e.document.receipt_no == state["doc"].receipt_no
                      for e in events), "the sale is not in the batch")
            return f"{len(events)} events"

        ok = step("selftest_data", data) and step("selftest_window", open_main_window)
        if ok and not startup_only:
            ok = (step("selftest_sale", sale) and step("selftest_receipt", receipt)
                  and step("selftest_text", text_mode) and step("selftest_z", z_report)
                  and step("selftest_sync", sync_batch))
    finally:
        if window is not None:
            window.close()
        if store is not None:
            store.close()
        if keep:
            print(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    passed = all(r[1] for r in results)
    ready = state.get("ready")
    # the figures stay in English in every language: the build reads them (packaging/build.py)
    summary = (f"window ready {ready:.2f} s, " if ready else "") + \
        f"peak memory {_peak_memory()}"
    if passed:
        print(say("selftest_passed", lang, summary=summary), flush=True)
        return 0
    print(say("selftest_failed", lang, summary=summary), flush=True)
    return 1
