"""Committing a paid sale (5 lines, 2 payments, durable) with 100,000 sales already stored,
against the raw engine writing the same rows.

Figure: `record_sale` in a unit of work, committed (p50 and p99 over the samples).
Anchor: stdlib `sqlite3` on a copy of the same seeded file, with the pragmas read from the
store's own connection (WAL, synchronous=FULL, foreign keys...), inserting the very rows one
`record_sale` wrote — captured from every table it touched, whatever they are — with fresh
ids, seq and receipt numbers, in one `BEGIN IMMEDIATE … COMMIT` per sale. The rows are made
before the clock starts: the anchor is the engine's cost alone. Samples of the two alternate,
so a busy neighbour slows both alike.
Target: p50 ≤ 3 × the raw p50. Also reports p99 and the database size per document.

The 100,000 earlier sales are made by recording 2,000 real sales through the services and
copying them to earlier business days with SQL built from the file's own columns (a new column
is copied as it is), which gives the same table and index sizes in seconds instead of minutes.

    uv run python bench/bench_sale_commit.py [--existing 100000] [--samples 2000] [--quick]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (columns, finish, insert_sql, max_rowids, new_rows, note, parser,  # noqa: E402
                    percentile, raw_sqlite, report, rowid_alias, store_pragmas, unique_sets,
                    user_tables)

from pos.clock import SteppingClock  # noqa: E402
from pos.demo import run_demo  # noqa: E402
from pos.domain import Tender  # noqa: E402
from pos.ids import parse_receipt_no, receipt_no  # noqa: E402
from pos.services import SaleItem, list_products, quote_sale, record_sale  # noqa: E402
from pos.store import Store  # noqa: E402

# Columns holding a document's or an event's UUID, wherever they appear ("id" only in the
# tables that are the documents' own).
_UUID_COLUMNS = {"sale_id", "document_id", "original_id", "event_id", "return_id", "cancels"}
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
            # a row's own id where it is a document's, an event's or a row of a document's
            # (a cash receipt request)
            if name in _UUID_COLUMNS or (name == "id" and ("seq" in names or "sale_id" in names)):
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


def seed(store: Store, existing: int, base: int, day: datetime) -> None:
    base = min(base, existing)
    run_demo(store, sales=base, seed=7, day=day.date())
    from pos.services import current_shift, open_shift

    with store.unit_of_work() as uow:  # the next day's sales belong to a shift of their own
        if current_shift(uow) is None:
            open_shift(uow, float_amount=0)
            uow.commit()
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


class RawSale:
    """The rows one `record_sale` wrote, inserted again by sqlite3 with fresh identities."""

    def __init__(self, con: sqlite3.Connection, rows: dict[str, tuple[list[str], list]]):
        self.con = con
        self.tables = []
        for table, (names, table_rows) in rows.items():
            numbered = rowid_alias(con, table)
            kinds = [self._kind(name, numbered) for name in names]
            moved = {n for n, k in zip(names, kinds) if k}
            for unique in unique_sets(con, table):
                if not moved.intersection(unique):
                    raise RuntimeError(f"cannot repeat the sale's {table} rows: "
                                       f"unique {unique} would collide")
            self.tables.append((insert_sql(table, names), kinds, table_rows))

    @staticmethod
    def _kind(name: str, numbered: str | None) -> str | None:
        if name == numbered:
            return "rowid"
        if name in _UUID_COLUMNS or name == "id":
            return "uuid"
        if name in ("seq", "receipt_no"):
            return name
        return None

    @staticmethod
    def _fresh(kind: str | None, value, i: int):
        if kind is None or value is None:
            return value
        if kind == "rowid":
            return None
        if kind == "uuid":
            return f"{value[:23]}-{i:012d}"
        if kind == "seq":
            return value + 1 + i
        device, day, n = parse_receipt_no(value)
        return receipt_no(device, day, n + 1 + i)

    def rows(self, i: int) -> list[tuple[str, list[tuple]]]:
        return [(sql, [tuple(self._fresh(k, v, i) for k, v in zip(kinds, row)) for row in rows])
                for sql, kinds, rows in self.tables]

    def commit(self, prepared: list[tuple[str, list[tuple]]]) -> float:
        """One durable transaction of the prepared rows; its milliseconds."""
        con = self.con
        t = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        for sql, rows in prepared:
            con.executemany(sql, rows)
        con.execute("COMMIT")
        return (time.perf_counter() - t) * 1000


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--base", type=int, default=2000,
                    help="real sales recorded before they are copied to make --existing")
    args = ap.parse_args()
    if args.quick:
        args.existing, args.samples, args.base = 1000, 100, 200
    tz = timezone(timedelta(hours=9))
    market_day = datetime(2026, 11, 21, 10, tzinfo=tz)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data", clock=SteppingClock(market_day))
        raw = None
        try:
            t0 = time.perf_counter()
            seed(store, args.existing, args.base, market_day)
            with store.unit_of_work(write=False) as uow:
                count = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
            note(f"seeded {count} documents in {time.perf_counter() - t0:.1f} s")
            store.clock = SteppingClock(market_day + timedelta(days=1), timedelta(seconds=2))
            with store.unit_of_work(write=False) as uow:
                products = list_products(uow, active_only=True)[:5]
                items = [SaleItem(p["id"], 1 + i % 2) for i, p in enumerate(products)]
                total = quote_sale(uow, items=items).totals.total
            tenders = [Tender("local_voucher", 10000), Tender("cash", total - 10000 + 4000)]

            # one sale, and every row it wrote, from whatever tables
            with store.unit_of_work() as uow:
                con = uow.conn.connection.dbapi_connection
                before, changes = max_rowids(con), con.total_changes
                record_sale(uow, items=items, tenders=tenders)
                changed = con.total_changes - changes
                written = new_rows(con, before)
                uow.commit()
            inserted = sum(len(rows) for _names, rows in written.values())
            note("one sale writes " + ", ".join(f"{len(rows)} {table}"
                                                for table, (_n, rows) in written.items()))
            if changed != inserted:
                note(f"and changes {changed - inserted} existing rows, which the anchor "
                     "does not repeat")
            pragmas = store_pragmas(store)
            copy = Path(tmp) / "raw.db"
            src = sqlite3.connect(store.path)
            try:
                with sqlite3.connect(copy) as dest:
                    src.backup(dest)
                dest.close()
            finally:
                src.close()
            raw = raw_sqlite(copy, pragmas)
            anchor = RawSale(raw, written)
            note("anchor pragmas: " + ", ".join(f"{k}={v}" for k, v in pragmas.items()))

            timings, raw_timings = [], []
            for i in range(args.samples):
                t = time.perf_counter()
                with store.unit_of_work() as uow:
                    record_sale(uow, items=items, tenders=tenders)
                    uow.commit()
                timings.append((time.perf_counter() - t) * 1000)
                raw_timings.append(anchor.commit(anchor.rows(i)))
            size = store.path.stat().st_size + Path(str(store.path) + "-wal").stat().st_size
            with store.unit_of_work(write=False) as uow:
                final = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
            raw_count = raw.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
            assert raw_count == final, (raw_count, final)
        finally:
            if raw is not None:
                raw.close()
            store.close()
    note(f"committed {args.samples} sales of 5 lines and 2 payments, and as many raw ones")
    ok = report("sale commit p50", percentile(timings, 50), "ms", percentile(raw_timings, 50),
                ratio=3.0)
    report("sale commit p99", percentile(timings, 99), "ms", percentile(raw_timings, 99))
    report("database size per document", size / final / 1024, "KiB")
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
