"""A till used all season: one shift's reports, its close and `jangteo check` in a small store
and in a big one, each against the raw engine reading the same rows in the same store.

Two stores are made of the same real market day (2,000 demo sales recorded through the
services, then copied by big_store.py into later days, each with its closed shift; the newest
day's shift is open): a small one of 8 business days (~16,000 documents) and a big one of 97
(~198,000 documents, the season of the issue). In each store, for the open shift (the same
~2,043 documents in both):

- X figures: `shift_settlement` of the open shift. Anchor: bench_reports' RAW_AGGREGATE, one
  stdlib sqlite3 statement on the same file with the store's pragmas that reads and sums
  every sale, line, payment and VAT part of that shift.
- close: `close_shift` (the Z figures, the JSON kept with the shift, its update and outbox
  event) in a unit of work that is rolled back, so it can be repeated and writes no backup
  (the backup after a close is measured by the backups' own work). Anchor: the same raw
  aggregate and the shift row's update with the same JSON, in a transaction rolled back.
- check: `jangteo check`'s default, the rules over the documents of the newest 7 business
  days (`check(days=7, structure=False)`). Anchor: one raw statement reading every row those
  rules look at once (the days' sales through the business_day index, their lines, payments,
  VAT parts and outbox entries). SQLite's quick_check of the whole file, which the default
  adds, reads the whole file by design: reported beside the raw `PRAGMA quick_check`.

Targets: the big store's figure ≤ 1.5 × the small store's — the time follows the size of the
shift (or of the checked days), not the size of the store — and each figure within a ratio of
its anchor that only reading outside the shift would break: ≤ 5 × for X and close (the figures
read the shift's sales six times, its lines three and its payments four, one SQL sum per
family of figures, where the anchor reads each row once; bench_reports.py holds the summing
itself to ≤ 2 ×; before the fix the X figures of the big store took 25 × the anchor) and ≤ 8 ×
for check (ten rules, each reading the rows the anchor reads once). Best of 5, figure and
anchor alternating. `check --all` in the big store is reported (it reads everything).

    uv run python bench/bench_big_store.py [--sales 2000] [--days 97] [--quick]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from big_store import build, market_day  # noqa: E402
from bench_reports import RAW_AGGREGATE  # noqa: E402
from common import bytecode_note, finish, note, parser, raw_sqlite, report, store_pragmas  # noqa: E402

SMALL_DAYS = 8  # the 7 days the default check reads, and one before them

# Every row the default check's rules read, once: the documents of the days from :since, their
# lines, payments, VAT parts and outbox entries.
RAW_CHECK = """
SELECT 'sale', COUNT(*), SUM(s.total), SUM(s.seq), 0
  FROM sales s WHERE s.business_day >= :since
UNION ALL
SELECT 'line', COUNT(*), SUM(l.amount), SUM(l.qty), SUM(l.unit_price * l.qty - l.line_discount
       - l.receipt_discount)
  FROM sales s CROSS JOIN sale_lines l ON l.sale_id = s.id WHERE s.business_day >= :since
UNION ALL
SELECT 'pay', COUNT(*), SUM(p.amount), SUM(p.change), 0
  FROM sales s CROSS JOIN payments p ON p.sale_id = s.id WHERE s.business_day >= :since
UNION ALL
SELECT 'tax', COUNT(*), SUM(x.taxable_total), SUM(x.vat), SUM(x.exempt_total)
  FROM sales s CROSS JOIN sale_taxes x ON x.sale_id = s.id WHERE s.business_day >= :since
UNION ALL
SELECT 'event', COUNT(*), SUM(o.seq), 0, 0
  FROM sales s CROSS JOIN outbox o ON o.device_id = s.device_id AND o.seq = s.seq
 WHERE s.business_day >= :since
"""


def best(pairs: list[tuple]) -> tuple[float, float]:
    return min(p[0] for p in pairs), min(p[1] for p in pairs)


def measure(data: Path, shift_id: str, runs: int, check_days: int) -> dict:
    """Best figure and anchor of each piece in one store (seconds)."""
    from pos import services as svc
    from pos.services.check import check
    from pos.store import Store

    out: dict[str, tuple[float, float]] = {}
    with Store(data) as store:
        raw = raw_sqlite(store.path, store_pragmas(store))
        try:
            x, close, rules, whole = [], [], [], []
            for _ in range(runs):
                with store.unit_of_work(write=False) as uow:
                    t = time.perf_counter()
                    figures = svc.shift_settlement(uow, shift_id=shift_id)
                    fig = time.perf_counter() - t
                t = time.perf_counter()
                rows = raw.execute(RAW_AGGREGATE, {"shift": shift_id}).fetchall()
                x.append((fig, time.perf_counter() - t))

                with store.unit_of_work() as uow:  # left without commit: rolled back
                    t = time.perf_counter()
                    closed, _z = svc.close_shift(uow, counted=figures.cash.expected)
                    fig = time.perf_counter() - t
                kept = closed["report"]
                t = time.perf_counter()
                raw.execute("BEGIN IMMEDIATE")
                raw.execute(RAW_AGGREGATE, {"shift": shift_id}).fetchall()
                raw.execute("UPDATE shifts SET status = 'closed', report = ? WHERE id = ?",
                            (kept, shift_id))
                raw.execute("ROLLBACK")
                close.append((fig, time.perf_counter() - t))

                with store.unit_of_work(write=False) as uow:
                    t = time.perf_counter()
                    result = check(uow, days=check_days, structure=False)
                    fig = time.perf_counter() - t
                t = time.perf_counter()
                read = raw.execute(RAW_CHECK, {"since": result.first_day}).fetchall()
                rules.append((fig, time.perf_counter() - t))

                with store.unit_of_work(write=False) as uow:
                    t = time.perf_counter()
                    check(uow, days=check_days)
                    fig = time.perf_counter() - t
                t = time.perf_counter()
                raw.execute("PRAGMA quick_check").fetchall()
                raw.execute(RAW_CHECK, {"since": result.first_day}).fetchall()
                whole.append((fig, time.perf_counter() - t))
            sold = sum(r[2] for r in rows if r[0] == "sale" and r[1] == "sale")
            assert sold == figures.receipt_count, (sold, figures.receipt_count)
            assert not result.everything and not result.problems, result
            assert read[0][1] == result.documents, (read[0], result.documents)
            assert json.loads(kept)["net"] == figures.net
            out = {"x": best(x), "close": best(close), "rules": best(rules),
                   "whole": best(whole)}
            with store.unit_of_work(write=False) as uow:
                out["documents"] = uow.conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM sales").scalar()
            out["shift_documents"] = sum(r[2] for r in rows if r[0] == "sale")
            out["checked"] = result.documents
            out["net"] = figures.net
        finally:
            raw.close()
    out["size_mb"] = (data / "jangteo.db").stat().st_size / 2**20
    return out


def check_all(data: Path) -> tuple[float, float]:
    from pos.services.check import check
    from pos.store import Store

    with Store(data) as store:
        raw = raw_sqlite(store.path, store_pragmas(store))
        try:
            with store.unit_of_work(write=False) as uow:
                t = time.perf_counter()
                result = check(uow)
                fig = time.perf_counter() - t
            t = time.perf_counter()
            raw.execute("PRAGMA integrity_check").fetchall()
            anchor = time.perf_counter() - t
        finally:
            raw.close()
    assert result.everything and not result.problems, result.problems[:5]
    return fig, anchor


def main() -> int:
    from pos.cli import CHECK_DAYS

    ap = parser(__doc__)
    ap.add_argument("--sales", type=int, default=2000)
    ap.add_argument("--days", type=int, default=97, help="business days of the big store")
    args = ap.parse_args()
    runs = 5
    if args.quick:
        args.sales, args.days, runs = 100, 24, 2
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        market_day(tmp / "day", sales=args.sales)
        small = build(tmp / "small", days=SMALL_DAYS, template=tmp / "day")
        big = build(tmp / "big", days=args.days, template=tmp / "day")
        note(f"made the stores in {time.perf_counter() - t0:.1f} s: one real day of "
             f"{args.sales} sales, copied to {SMALL_DAYS} and {args.days} business days")
        s = measure(tmp / "small", small["shift_id"], runs, CHECK_DAYS)
        b = measure(tmp / "big", big["shift_id"], runs, CHECK_DAYS)
        assert s["net"] == b["net"] and s["shift_documents"] == b["shift_documents"]
        assert s["checked"] == b["checked"]
        note(f"small store: {s['documents']:,} documents ({s['size_mb']:.0f} MB); big store: "
             f"{b['documents']:,} documents ({b['size_mb']:.0f} MB); the open shift: "
             f"{s['shift_documents']:,} documents in both; the default check: the last "
             f"{CHECK_DAYS} business days, {s['checked']:,} documents in both")
        for key, label, limit in (("x", "X figures", 5.0), ("close", "close without backup", 5.0),
                                  ("rules", f"check (last {CHECK_DAYS} days), rules", 8.0)):
            for name, m in (("small", s), ("big", b)):
                fig, anchor = m[key]
                ok &= report(f"{label}, {name} store", fig * 1000, "ms", anchor * 1000,
                             ratio=limit)
            ok &= report(f"{label}, big / small store", b[key][0] * 1000, "ms",
                         s[key][0] * 1000, ratio=1.5)
            note(f"raw anchor big / small: {b[key][1] / s[key][1]:.2f}×")
        for name, m in (("small", s), ("big", b)):
            fig, anchor = m["whole"]
            report(f"check (last {CHECK_DAYS} days) + quick_check, {name}", fig * 1000, "ms",
                   anchor * 1000)
        note("quick_check reads the whole file: that part grows with the store by design")
        fig, anchor = check_all(tmp / "big")
        report("check --all, big store (vs integrity_check)", fig, "s", anchor)
        note(bytecode_note())
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
