"""Rendering a 20-line 80 mm receipt, and what it costs on the wire.

Targets on the reference machine (2 cores): raster ≤ 50 ms, Korean text mode ≤ 10 ms.
Reports the bytes per receipt of each renderer and how long they take over 9,600-baud serial
(Bluetooth), 115,200-baud serial and a 10 Mbit/s LAN printer.

    uv run python bench/bench_render.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import percentile, report  # noqa: E402


def main() -> int:
    from pos import services as svc
    from pos.demo import load_demo_catalog
    from pos.domain import Tender
    from pos.store import Store
    from printing.profiles import profile
    from printing.receipt import layout_receipt, receipt_for
    from printing.render import render

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "d") as store:
            load_demo_catalog(store)
            with store.unit_of_work() as uow:
                products = svc.list_products(uow)[:20]
                items = [svc.SaleItem(p["id"], 1 + i % 3) for i, p in enumerate(products)]
                total = svc.quote_sale(uow, items=items).totals.total
                doc = svc.record_sale(uow, items=items,
                                      tenders=[Tender("local_voucher", 10000),
                                               Tender("cash", total - 10000 + 5000)])
                uow.commit()
            with store.unit_of_work(write=False) as uow:
                receipt = receipt_for(uow, sale_id=doc.id)
        print(f"receipt: {len(receipt.lines)} lines, {len(receipt.sellers)} enterprises")
        for key, target, label in (("generic-80", 50, "raster"), ("epson-tm-t20-kr", 10, "text")):
            prof = profile(key)
            layout = layout_receipt(receipt, prof.columns)
            render(layout, prof, drawer=True)  # warm the font cache
            times = []
            for _ in range(30):
                t = time.perf_counter()
                data = render(layout_receipt(receipt, prof.columns), prof, drawer=True)
                times.append((time.perf_counter() - t) * 1000)
            ok &= report(f"render 80 mm, {label} (p50)", percentile(times, 50), "ms",
                         limit=target)
            report(f"  bytes per receipt, {label}", len(data) / 1024, "KiB")
            for name, seconds in (("9,600 baud serial", len(data) * 10 / 9600),
                                  ("115,200 baud serial", len(data) * 10 / 115200),
                                  ("10 Mbit/s LAN", len(data) * 8 / 10_000_000)):
                report(f"  on the wire, {label}, {name}", seconds, "s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
