"""End-of-day reports for a big market day: 10,000 sales, 15 enterprises.

Targets on the reference machine (2 cores): Z report figures ≤ 200 ms; Z report PDF with its
chart ≤ 2 s; settlement PDF for 15 enterprises ≤ 2 s.

    uv run python bench/bench_reports.py [--sales 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import report  # noqa: E402

EXTRA = ["새싹공방", "바람마을기업", "한땀협동조합", "모아자활기업", "들꽃사회적기업", "솜씨공방",
         "다함께협동조합", "푸른숲영농조합", "이음사회적협동조합"]


def main() -> int:
    from pos import services as svc
    from pos.demo import load_demo_catalog, run_demo
    from pos.store import Store
    from printing.pdf import settlement_pdf, shift_report_pdf

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "d") as store:
            load_demo_catalog(store)
            with store.unit_of_work() as uow:
                for k, name in enumerate(EXTRA):
                    eid = svc.add_enterprise(uow, name=name, commission_bp=500 + 100 * k)
                    for j in range(4):
                        svc.add_product(uow, name=f"{name} 상품 {j + 1}", price=3000 + 1000 * j,
                                        enterprise_id=eid)
                uow.commit()
            t0 = time.perf_counter()
            run_demo(store, sales=args.sales, seed=11)
            print(f"made {args.sales} sales in {time.perf_counter() - t0:.1f} s")
            with store.unit_of_work(write=False) as uow:
                shift = svc.current_shift(uow)
                enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
                labels = {m.code: m.label("ko") for m in svc.payment_methods(uow).values()}
                times = []
                for _ in range(5):
                    t = time.perf_counter()
                    figures = svc.shift_settlement(uow, shift_id=shift["id"])
                    times.append(time.perf_counter() - t)
            ok = report(f"Z figures, {figures.receipt_count} sales (best of 5)", min(times) * 1000,
                        "ms", limit=200)
            print(f"  {len(figures.enterprises)} enterprises, {len(figures.products)} products")
            t = time.perf_counter()
            shift_report_pdf(Path(tmp) / "z.pdf", figures, kind="z", shift=shift,
                             method_labels=labels)
            ok &= report("Z report PDF with chart", time.perf_counter() - t, "s", limit=2.0)
            t = time.perf_counter()
            settlement_pdf(Path(tmp) / "s.pdf", figures, enterprises=enterprises, shift=shift,
                           method_labels=labels)
            ok &= report(f"settlement PDF, {len(figures.enterprises)} enterprises",
                         time.perf_counter() - t, "s", limit=2.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
