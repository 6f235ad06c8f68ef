"""Committing a paid sale (5 lines, 2 payments, durable) with 100,000 sales already stored.

Target on the reference machine (2 cores): p50 ≤ 2 ms, p99 ≤ 5 ms. Also reports the database
size per sale. The 100,000 earlier sales are made by recording 2,000 real sales through the
services and copying them to earlier business days with SQL built from the file's own columns
(a new column is copied as it is), which gives the same table and index sizes in seconds
instead of minutes.

    uv run python bench/bench_sale_commit.py [--existing 100000] [--samples 2000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import columns, percentile, report, rowid_alias, unique_sets, user_tables  # noqa: E402

from pos.clock import SteppingClock  # noqa: E402
from pos.demo import run_demo  # noqa: E402
from pos.domain import Tender  # noqa: E402
from pos.services import SaleItem, list_products, quote_sale, record_sale  # noqa: E402
from pos.store import Store  # noqa: E402

# Columns holding a document's or an event's UUID, wherever they appear ("id" only in the
# tables that are the documents' own).
_UUID_COLUMNS = {"sale_id", "document_id", "original_id", "event_id"}
_UUID = "substr({c}, 1, 31) || printf('-%04d', :k)"


def copy_statements(con: sqlite3.Connection) -> list[str]:
    """`INSERT … SELECT` statements that copy every document row (seq ≤ :n) as copy :k,
    :shift earlier: built from the columns the file has, so a new column can never break them.

    Rows are those of tables with a `seq` (sales, outbox) and of tables that point at a sale
    (`sale_id` or `document_id`). Ids become `…-000k`, seq + k·n, the receipt number and
    business day move by :shift; every other column is copied as it is."""
    out = []
    for table in user_tables(con):
        names = [c[0] for c in columns(con, table)]
        if "seq" in names:
            source, where = f"{table} x", "x.seq <= :n"
        elif "sale_id" in names or "document_id" in names:
            ref = "sale_id" if "sale_id" in names else "document_id"
            source, where = f"{table} x JOIN sales s ON s.id = x.{ref}", "s.seq <= :n"
        else:
            continue  # catalog, settings, shifts: not per document
        numbered = rowid_alias(con, table)
        cols, exprs, moved = [], [], set()
        for name in names:
            c = f"x.{name}"
            if name == numbered:
                moved.add(name)  # SQLite numbers the copy
                continue
            if name in _UUID_COLUMNS or (name == "id" and "seq" in names):
                expr = _UUID.format(c=c)
            elif name == "seq":
                expr = f"{c} + :k * :n"
            elif name == "receipt_no":
                day = ("x.business_day" if "business_day" in names else  # from the number
                       f"substr({c}, 5, 4) || '-' || substr({c}, 9, 2) || '-' "
                       f"|| substr({c}, 11, 2)")
                expr = f"substr({c}, 1, 4) || strftime('%Y%m%d', {day}, :shift) || substr({c}, 13)"
            elif name == "business_day":
                expr = f"date({c}, :shift)"
            else:
                expr = c
            if expr != c:
                moved.add(name)
            cols.append(name)
            exprs.append(expr)
        for unique in unique_sets(con, table):
            if not moved.intersection(unique):
                raise RuntimeError(f"cannot copy {table}: its unique {unique} would repeat")
        out.append(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
                   f"FROM {source} WHERE {where}")
    return out


def seed(store: Store, existing: int, day: datetime) -> None:
    base = 2000 if existing >= 2000 else existing
    run_demo(store, sales=base, seed=7, day=day.date())
    with store.unit_of_work() as uow:
        raw = uow.conn.connection.dbapi_connection  # inside the unit of work's transaction
        n = raw.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
        statements = copy_statements(raw)
        for k in range(1, existing // base):
            params = {"k": k, "n": n, "shift": f"-{k} days"}
            for sql in statements:
                raw.execute(sql, params)
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
    ok = report("sale commit p50", percentile(timings, 50), "ms", limit=2.0)
    ok &= report("sale commit p99", percentile(timings, 99), "ms", limit=5.0)
    report("database size per document", size / final / 1024, "KiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
