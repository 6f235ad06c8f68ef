"""Committing a paid sale (5 lines, 2 payments, durable) with 100,000 sales already stored.

Target on the reference machine (2 cores): p50 ≤ 2 ms, p99 ≤ 5 ms. Also reports the database
size per sale. The 100,000 earlier sales are made by recording 2,000 real sales through the
services and copying them to earlier business days with SQL, which gives the same table and
index sizes in seconds instead of minutes.

    uv run python bench/bench_sale_commit.py [--existing 100000] [--samples 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile, report  # noqa: E402
from sqlalchemy import text  # noqa: E402

from pos.clock import SteppingClock  # noqa: E402
from pos.demo import run_demo  # noqa: E402
from pos.domain import Tender  # noqa: E402
from pos.services import SaleItem, list_products, quote_sale, record_sale  # noqa: E402
from pos.store import Store  # noqa: E402

_COPY = [
    """INSERT INTO sales SELECT substr(id, 1, 31) || printf('-%04d', :k), kind, device_id,
        seq + :k * :n, substr(receipt_no, 1, 4) || strftime('%Y%m%d', business_day, :shift)
        || substr(receipt_no, 13), date(business_day, :shift), created_at, hlc,
        CASE WHEN original_id IS NULL THEN NULL
             ELSE substr(original_id, 1, 31) || printf('-%04d', :k) END,
        subtotal, line_discount, receipt_discount, receipt_discount_kind,
        receipt_discount_value, total, taxable_total, supply_value, vat, exempt_total, change,
        receipt_requested, reason FROM sales WHERE seq <= :n""",
    """INSERT INTO sale_lines SELECT substr(l.sale_id, 1, 31) || printf('-%04d', :k), l.line_no,
        l.product_id, l.sku, l.barcode, l.name, l.enterprise_id, l.enterprise_name, l.tax_class,
        l.tax_status, l.unit_price, l.qty, l.line_discount, l.receipt_discount, l.amount,
        l.original_line_no FROM sale_lines l JOIN sales s ON s.id = l.sale_id WHERE s.seq <= :n""",
    """INSERT INTO payments SELECT substr(p.sale_id, 1, 31) || printf('-%04d', :k), p.n, p.method,
        p.kind, p.amount, p.tendered, p.change, p.approval_no, p.reference
        FROM payments p JOIN sales s ON s.id = p.sale_id WHERE s.seq <= :n""",
    """INSERT INTO sale_taxes SELECT substr(x.sale_id, 1, 31) || printf('-%04d', :k),
        x.enterprise_id, x.enterprise_name, x.tax_status, x.taxable_total, x.supply_value, x.vat,
        x.exempt_total FROM sale_taxes x JOIN sales s ON s.id = x.sale_id WHERE s.seq <= :n""",
    """INSERT INTO outbox SELECT device_id, seq + :k * :n,
        substr(event_id, 1, 31) || printf('-%04d', :k), event_type,
        substr(document_id, 1, 31) || printf('-%04d', :k), hlc, created_at, payload, acked_at
        FROM outbox WHERE seq <= :n""",
]


def seed(store: Store, existing: int, day: datetime) -> None:
    base = 2000 if existing >= 2000 else existing
    run_demo(store, sales=base, seed=7, day=day.date())
    with store.unit_of_work() as uow:
        n = uow.conn.exec_driver_sql("SELECT MAX(seq) FROM outbox").scalar()
        copies = existing // base - 1
        for k in range(1, copies + 1):
            params = {"k": k, "n": n, "shift": f"-{k} days"}
            for sql in _COPY:
                uow.conn.execute(text(sql), params)
        uow.commit()
    store.numbering.forget()  # the copies went around the services


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args()
    tz = timezone(timedelta(hours=9))
    market_day = datetime(2026, 11, 21, 10, tzinfo=tz)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data", clock=SteppingClock(market_day))
        try:
            t0 = time.perf_counter()
            seed(store, args.existing, market_day)
            with store.unit_of_work(write=False) as uow:
                count = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
            print(f"seeded {count} documents in {time.perf_counter() - t0:.1f} s")
            store.clock = SteppingClock(market_day + timedelta(days=1), timedelta(seconds=2))
            with store.unit_of_work(write=False) as uow:
                products = list_products(uow, active_only=True)[:5]
                items = [SaleItem(p["id"], 1 + i % 2) for i, p in enumerate(products)]
                total = quote_sale(uow, items=items).totals.total
            tenders = [Tender("local_voucher", 10000), Tender("cash", total - 10000 + 4000)]
            timings = []
            for _ in range(args.samples):
                t = time.perf_counter()
                with store.unit_of_work() as uow:
                    record_sale(uow, items=items, tenders=tenders)
                    uow.commit()
                timings.append((time.perf_counter() - t) * 1000)
            size = store.path.stat().st_size + Path(str(store.path) + "-wal").stat().st_size
            with store.unit_of_work(write=False) as uow:
                final = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
        finally:
            store.close()
    print(f"committed {args.samples} sales of 5 lines and 2 payments, synchronous=FULL")
    ok = report("sale commit p50", percentile(timings, 50), "ms", 2.0)
    ok &= report("sale commit p99", percentile(timings, 99), "ms", 5.0)
    report("database size per document", size / final / 1024, "KiB", None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
