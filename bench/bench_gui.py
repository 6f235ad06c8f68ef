"""The till's responsiveness with a 10,000-product catalog (offscreen Qt).

Targets on the reference machine (2 cores):
- cold start to a usable Sell screen ≤ 1.5 s (process start to the first painted window)
- search results per keystroke ≤ 30 ms
- add to cart ≤ 16 ms
- Pay confirmation to an empty cart ready for the next customer ≤ 100 ms
- memory after a 1,000-sale session ≤ 300 MB

    uv run python bench/bench_gui.py
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile, report  # noqa: E402

WORDS = ["천연", "수제", "유기농", "무농약", "향긋한", "전통", "한지", "자개", "누비", "도자기",
         "비누", "향초", "잼", "누룽지", "참기름", "쌀", "머그컵", "파우치", "팔찌", "귀걸이",
         "칫솔", "행주", "노트", "쿠키", "커피", "차", "떡", "김치", "된장", "고추장"]

CHILD = """
import sys, time
t0 = float(sys.argv[2])
from ui.app import application, open_window
from pos.store import Store
app = application()
store = Store(sys.argv[1])
window = open_window(store, "ko")
window.show()
from ui.qt import QTimer
def done():
    print(f"{time.time() - t0:.4f}", flush=True)
    window.sell.cart.clear()
    app.quit()
QTimer.singleShot(0, done)
app.exec()
store.close()
"""


def make_catalog(data_dir: Path, n: int) -> None:
    from pos.catalog_io import import_catalog
    from pos.demo import ENTERPRISES, load_demo_catalog
    from pos.store import Store

    csv_path = data_dir.parent / "big.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "barcode", "name", "price", "tax", "enterprise", "category"])
        for i in range(n):
            name = f"{WORDS[i % 30]} {WORDS[(i // 30) % 30]} {WORDS[(i // 900) % 30]} {i}"
            w.writerow([f"B{i:06d}", f"2{i:012d}", name, 1000 + (i % 90) * 500,
                        "면세" if i % 7 == 0 else "과세", ENTERPRISES[i % 6][0], f"분류{i % 12}"])
    with Store(data_dir) as store:
        load_demo_catalog(store)
        with store.unit_of_work() as uow:
            result = import_catalog(uow, csv_path)
            assert result.applied, result.summary("en")
            uow.commit()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make_catalog(data, 10_000)
        ok = True
        starts = []
        for _ in range(3):
            t0 = time.time()
            out = subprocess.run([sys.executable, "-c", CHILD, str(data), str(t0)], cwd=ROOT,
                                 capture_output=True, text=True, env={**os.environ})
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return 1
            starts.append(float(out.stdout.strip().splitlines()[-1]))
        ok &= report("cold start to the Sell screen (best of 3)", min(starts), "s", limit=1.5)

        from pos.domain import Tender
        from pos.store import Store
        from ui.app import application, open_window
        from ui.qt import QApplication

        app = application()
        store = Store(data)
        window = open_window(store, "ko")
        window.show()
        app.processEvents()
        sell = window.sell
        assert len(sell.products) > 10_000

        per_key = []
        for query in ("천연 수제", "ㅊㅇㅅㅈ", "2000000012", "무농약쌀", "커피 차"):
            for k in range(1, len(query) + 1):
                t = time.perf_counter()
                sell.search.setText(query[:k])
                app.processEvents()
                per_key.append((time.perf_counter() - t) * 1000)
            sell.search.clear()
            app.processEvents()
        ok &= report("search per keystroke, p50", percentile(per_key, 50), "ms", limit=30)
        ok &= report("search per keystroke, max", max(per_key), "ms", limit=30)

        for _ in range(3):  # let the grid finish the layout the last search asked for
            app.processEvents()
        adds = []
        for i in range(20):
            t = time.perf_counter()
            sell.add_product(sell.products[i * 37])
            app.processEvents()
            adds.append((time.perf_counter() - t) * 1000)
        ok &= report("add to cart (cart of 1-20 lines), max", max(adds), "ms", limit=16)

        pays = []
        rss_before = _rss_mb()
        for i in range(1000):
            if sell.cart.is_empty:
                for k in range(3):
                    sell.add_product(sell.products[(i * 7 + k * 131) % len(sell.products)])
            total = sell.cart.priced().totals.total
            t = time.perf_counter()
            doc = sell.record([Tender("cash", total + 1000)])
            app.processEvents()
            pays.append((time.perf_counter() - t) * 1000)
            assert doc is not None and sell.cart.is_empty
        ok &= report("Pay confirmation to an empty cart, p50", percentile(pays, 50), "ms",
                     limit=100)
        ok &= report("Pay confirmation to an empty cart, max", max(pays), "ms", limit=100)
        rss = _rss_mb()
        ok &= report("memory after 1,000 sales (RSS)", rss, "MB", limit=300)
        print(f"(RSS before the 1,000 sales: {rss_before:.0f} MB)")
        window.close()
        store.close()
        QApplication.processEvents()
    return 0 if ok else 1


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    sys.exit(main())
