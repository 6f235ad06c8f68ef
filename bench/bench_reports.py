"""End-of-day reports for a big market day: 10,000 sales, 15 enterprises.

Z figures: `shift_settlement` (every figure of the Z report) against ONE raw SQL aggregate
over the same rows — a single statement, with stdlib sqlite3 on the same file and the store's
pragmas, that reads and sums every sale, line, payment and VAT part of the shift (by kind, by
enterprise, by method). Best of 5 each, alternating. Target: ≤ 2 × the raw aggregate.

PDFs (Z report with its chart, the settlement for 15 enterprises) are reported, beside a bare
reportlab document of the same pages drawing the same text (read back from the PDF) in the
same embedded Korean font: what the tables, layout and chart add.

    uv run python bench/bench_reports.py [--sales 10000] [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import finish, note, parser, raw_sqlite, report, store_pragmas  # noqa: E402

EXTRA = ["새싹공방", "바람마을기업", "한땀협동조합", "모아자활기업", "들꽃사회적기업", "솜씨공방",
         "다함께협동조합", "푸른숲영농조합", "이음사회적협동조합"]

# Every row the Z figures are made of, read and summed once, in one statement.
RAW_AGGREGATE = """
SELECT 'sale', s.kind, COUNT(*), SUM(s.subtotal), SUM(s.line_discount + s.receipt_discount),
       SUM(s.total), SUM(s.vat)
  FROM sales s WHERE s.shift_id = :shift GROUP BY s.kind
UNION ALL
SELECT 'line', l.enterprise_id, COUNT(*), SUM(l.qty), SUM(l.amount),
       SUM(CASE WHEN s.kind = 'sale' THEN l.amount ELSE 0 END), 0
  FROM sale_lines l JOIN sales s ON s.id = l.sale_id WHERE s.shift_id = :shift
 GROUP BY l.enterprise_id
UNION ALL
SELECT 'pay', p.method, COUNT(*), SUM(p.amount), SUM(p.tendered), SUM(p.change), 0
  FROM payments p JOIN sales s ON s.id = p.sale_id WHERE s.shift_id = :shift GROUP BY p.method
UNION ALL
SELECT 'tax', x.enterprise_id, COUNT(*), SUM(x.taxable_total), SUM(x.supply_value),
       SUM(x.vat), SUM(x.exempt_total)
  FROM sale_taxes x JOIN sales s ON s.id = x.sale_id WHERE s.shift_id = :shift
 GROUP BY x.enterprise_id
"""


def bare_pdf(path: Path, pages: list[list[str]]) -> None:
    """The same text on as many A4 pages, drawn line by line, in the same embedded font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        c.setFont("BenchKorean", 9)
        y = A4[1] - 40
        for line in lines:
            c.drawString(50, y, line)
            y -= 11
        c.showPage()
    c.save()


def text_of(path: Path) -> list[list[str]]:
    from pypdf import PdfReader

    return [page.extract_text().splitlines() for page in PdfReader(str(path)).pages]


def timed(fn, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from pos import services as svc
    from pos.demo import load_demo_catalog, run_demo
    from pos.store import Store
    from printing.fonts import receipt_fonts
    from printing.pdf import settlement_pdf, shift_report_pdf

    ap = parser(__doc__)
    ap.add_argument("--sales", type=int, default=10_000)
    args = ap.parse_args()
    runs = 5
    if args.quick:
        args.sales, runs = 500, 2
    ok = True
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
            note(f"made {args.sales} sales in {time.perf_counter() - t0:.1f} s")
            raw = raw_sqlite(store.path, store_pragmas(store))
            with store.unit_of_work(write=False) as uow:
                shift = svc.current_shift(uow)
                enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
                labels = {m.code: m.label("ko") for m in svc.payment_methods(uow).values()}
            times, raw_times = [], []
            for _ in range(runs):
                with store.unit_of_work(write=False) as uow:
                    t = time.perf_counter()
                    figures = svc.shift_settlement(uow, shift_id=shift["id"])
                    times.append(time.perf_counter() - t)
                t = time.perf_counter()
                rows = raw.execute(RAW_AGGREGATE, {"shift": shift["id"]}).fetchall()
                raw_times.append(time.perf_counter() - t)
            raw.close()
            sold = sum(r[2] for r in rows if r[0] == "sale" and r[1] == "sale")
            assert sold == figures.receipt_count, (sold, figures.receipt_count)
            ok &= report(f"Z figures, {figures.receipt_count} sales (best of {runs})",
                         min(times) * 1000, "ms", min(raw_times) * 1000, ratio=2.0)
            note(f"{len(figures.enterprises)} enterprises, {len(figures.products)} products; "
                 f"anchor: one SQL statement over the same rows ({len(rows)} groups)")

            regular, _bold = receipt_fonts(prefer_system=False)  # the font the PDFs embed
            pdfmetrics.registerFont(TTFont("BenchKorean", str(regular)))
            for label, make in (
                    ("Z report PDF with chart", lambda p: shift_report_pdf(
                        p, figures, kind="z", shift=shift, method_labels=labels)),
                    (f"settlement PDF, {len(figures.enterprises)} enterprises",
                     lambda p: settlement_pdf(p, figures, enterprises=enterprises, shift=shift,
                                              method_labels=labels))):
                path = Path(tmp) / "report.pdf"
                first = time.perf_counter()
                make(path)  # the first one also loads the font
                first = time.perf_counter() - first
                best = timed(lambda: make(path), runs - 1) if runs > 1 else first
                pages = text_of(path)
                bare = Path(tmp) / "bare.pdf"
                bare_pdf(bare, pages)
                anchor = timed(lambda: bare_pdf(bare, pages), max(1, runs - 1))
                report(label, best, "s", anchor)
                note(f"{len(pages)} pages, {sum(map(len, pages))} lines of text; "
                     f"first run {first:.2f} s")
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
