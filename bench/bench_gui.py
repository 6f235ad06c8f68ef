"""The till's responsiveness with a 10,000-product catalog (offscreen Qt).

- Cold start: process start to the first painted frame of the Sell screen, against a bare
  PySide6 window (QApplication, QMainWindow) with as many plain widgets as the real window has,
  counted in the same run, started the same way in a fresh process and timed to its first
  painted frame. Best of 3 each, alternating. Target: ≤ 3 × the bare window. Printed beside it:
  whether Python may write its bytecode cache (PYTHONDONTWRITEBYTECODE) and how many of the
  modules each start imported had a cached .pyc: without one every start compiles them again.
  Where the cache is off, the till's start with it on (in a temporary folder) is reported too.
- Search per keystroke, add to cart, Pay confirmation to an empty cart: reported, each beside
  the same work without Qt (the product index's search, the cart's own add and pricing, the
  sale's commit through the services): what the screen adds.
- Memory after a 1,000-sale session: ≤ 300 MB (RSS), beside the bare window's.

    uv run python bench/bench_gui.py [--products 10000] [--quick]
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, bytecode_note, finish, note, parser, percentile, report,  # noqa: E402
                    rss_mb)

WORDS = ["천연", "수제", "유기농", "무농약", "향긋한", "전통", "한지", "자개", "누비", "도자기",
         "비누", "향초", "잼", "누룽지", "참기름", "쌀", "머그컵", "파우치", "팔찌", "귀걸이",
         "칫솔", "행주", "노트", "쿠키", "커피", "차", "떡", "김치", "된장", "고추장"]

# Both children end the same way: at the first paint of the top-level window, a zero timer
# (it runs once that paint pass, which paints every child too, is over) prints the seconds
# since the parent started the process, the widget count, RSS and the bytecode cache.
_FIRST_PAINT = """
import importlib.util
def _pyc_share():
    files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    files = [f for f in files if f and f.endswith(".py")]
    cached = sum(1 for f in files if os.path.exists(importlib.util.cache_from_source(f)))
    return cached, len(files)
class _FirstPaint(QObject):
    seen = False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint and not self.seen:
            self.seen = True
            QTimer.singleShot(0, _done)
        return False
def _done():
    painted = time.time() - T0
    cached, files = _pyc_share()
    print(json.dumps({"seconds": painted, "widgets": len(window.findChildren(QWidget)),
                      "size": [window.width(), window.height()], "rss": _rss(),
                      "pyc": cached, "modules": files}), flush=True)
    _after()
    app.quit()
def _rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
_filter = _FirstPaint()
window.installEventFilter(_filter)
QTimer.singleShot(60000, lambda: (print("no paint within 60 s", file=sys.stderr), app.exit(1)))
window.show()
"""

REAL = """
import json, os, sys, time
T0 = float(sys.argv[1])
from ui.app import application, open_window
from pos.store import Store
from ui.qt import QEvent, QObject, QTimer, QWidget
app = application()
store = Store(sys.argv[2])
window = open_window(store, "ko")
def _after():
    window.sell.cart.clear()
""" + _FIRST_PAINT + """
code = app.exec()
store.close()
sys.exit(code)
"""

BARE = """
import json, os, sys, time
T0 = float(sys.argv[1])
widgets, width, height = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QGridLayout, QMainWindow, QWidget
app = QApplication(sys.argv[:1])
window = QMainWindow()
central = QWidget()
grid = QGridLayout(central)
window.setCentralWidget(central)
k = 0
while len(window.findChildren(QWidget)) < widgets:
    grid.addWidget(QWidget(), k // 40, k % 40)
    k += 1
window.resize(width, height)
def _after():
    pass
""" + _FIRST_PAINT + """
sys.exit(app.exec())
"""


def make_catalog(data_dir: Path, n: int) -> None:
    from pos import services as svc
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
            svc.open_shift(uow, float_amount=0)  # every sale belongs to a shift
            result = import_catalog(uow, csv_path)
            assert result.applied, result.summary("en")
            uow.commit()


def start(code: str, *args: str, env: dict | None = None) -> dict:
    """Run `code` in a fresh Python process (its argv: the wall time it was started at, then
    `args`); what it printed at its first painted frame."""
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code, str(t0), *args], cwd=ROOT,
                         capture_output=True, text=True, env=env or {**os.environ})
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise RuntimeError(f"a cold start exited with {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_starts(data: Path, runs: int, cached: Path | None) -> tuple[bool, float]:
    """Real and bare starts, alternating; whether the target is met, and the bare RSS. With
    `cached` (a folder) and the bytecode cache off, the till is also started with it on, its
    .pyc files in that folder (PYTHONPYCACHEPREFIX), once to fill it and `runs` times more."""
    real, bare = [], []
    for _ in range(runs):
        real.append(start(REAL, str(data)))
        counted = real[0]
        bare.append(start(BARE, str(counted["widgets"]), *map(str, counted["size"])))
    best, anchor = min(real, key=lambda r: r["seconds"]), min(bare, key=lambda r: r["seconds"])
    ok = report(f"cold start to the Sell screen (best of {runs})", best["seconds"], "s",
                anchor["seconds"], ratio=3.0)
    note(f"{bytecode_note()}; a cached .pyc for {best['pyc']} of the {best['modules']} modules "
         f"the till imported, {anchor['pyc']} of {anchor['modules']} for the bare window")
    note(f"the Sell screen's window: {best['widgets']} widgets, {best['size'][0]}×"
         f"{best['size'][1]}; the bare window: {anchor['widgets']} plain widgets, same size")
    if cached is not None and sys.dont_write_bytecode:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(cached)
        start(REAL, str(data), env=env)  # compiles once, writes the cache
        warm = min((start(REAL, str(data), env=env) for _ in range(runs)),
                   key=lambda r: r["seconds"])
        report("  same, bytecode cache on (for comparison)", warm["seconds"], "s",
               anchor["seconds"])
        note(f"PYTHONDONTWRITEBYTECODE unset, PYTHONPYCACHEPREFIX in a temporary folder: "
             f"a cached .pyc for {warm['pyc']} of {warm['modules']} modules")
    return ok, min(b["rss"] for b in bare)


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--sales", type=int, default=1000)
    args = ap.parse_args()
    runs = 3
    if args.quick:
        args.products, args.sales, runs = 1000, 50, 1
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make_catalog(data, args.products)
        pycache = None if args.quick else Path(tmp) / "pycache"
        ok, bare_rss = cold_starts(data, runs, pycache)

        from pos import services as svc
        from pos.cart import Cart
        from pos.domain import Tender
        from pos.store import Store
        from ui.app import application, open_window
        from ui.qt import QApplication
        from ui.sell import SEARCH_LIMIT

        app = application()
        store = Store(data)
        window = open_window(store, "ko")
        window.show()
        app.processEvents()
        sell = window.sell
        assert len(sell.products) > args.products

        per_key, per_key_raw = [], []
        for query in ("천연 수제", "ㅊㅇㅅㅈ", "2000000012", "무농약쌀", "커피 차"):
            for k in range(1, len(query) + 1):
                t = time.perf_counter()
                sell.search.setText(query[:k])
                app.processEvents()
                per_key.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                sell.index.search(query[:k], SEARCH_LIMIT)
                per_key_raw.append((time.perf_counter() - t) * 1000)
            sell.search.clear()
            app.processEvents()
        report("search per keystroke, p50", percentile(per_key, 50), "ms",
               percentile(per_key_raw, 50))
        report("search per keystroke, max", max(per_key), "ms", max(per_key_raw))
        note("anchor: the same queries on the product index alone (no Qt)")

        for _ in range(3):  # let the grid finish the layout the last search asked for
            app.processEvents()
        adds, adds_raw = [], []
        bare_cart = Cart()
        for i in range(20):
            t = time.perf_counter()
            sell.add_product(sell.products[i * 37])
            app.processEvents()
            adds.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            bare_cart.add(sell.products[i * 37])
            bare_cart.priced()
            adds_raw.append((time.perf_counter() - t) * 1000)
        report("add to cart (cart of 1-20 lines), max", max(adds), "ms", max(adds_raw))
        note("anchor: the cart's own add and pricing (no Qt)")

        pays, commits = [], []
        rss_before = rss_mb()
        for i in range(args.sales):
            if sell.cart.is_empty:
                for k in range(3):
                    sell.add_product(sell.products[(i * 7 + k * 131) % len(sell.products)])
            items = sell.cart.sale_items()
            total = sell.cart.priced().totals.total
            tenders = [Tender("cash", total + 1000)]
            t = time.perf_counter()
            doc = sell.record(tenders)
            app.processEvents()
            pays.append((time.perf_counter() - t) * 1000)
            assert doc is not None and sell.cart.is_empty
            t = time.perf_counter()
            with store.unit_of_work() as uow:
                svc.record_sale(uow, items=items, tenders=tenders)
                uow.commit()
            commits.append((time.perf_counter() - t) * 1000)
        report("Pay confirmation to an empty cart, p50", percentile(pays, 50), "ms",
               percentile(commits, 50))
        report("Pay confirmation to an empty cart, max", max(pays), "ms", max(commits))
        note("anchor: the same sale committed through the services (no Qt)")
        rss = rss_mb()
        ok &= report(f"memory after {args.sales:,} sales (RSS)", rss, "MB",
                     bare_rss, limit=300)
        note(f"anchor: the bare window's RSS at its first frame; RSS before the sales "
             f"{rss_before:.0f} MB (+{rss - rss_before:.0f} MB)")
        window.close()
        store.close()
        QApplication.processEvents()
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
