"""A store used all season, made in seconds: one real market day copied into later days.

`build(data_dir, sales=…, days=…)` records `sales` real sales through the services (the demo
day, in one shift) and copies every document of it — sales, lines, payments, VAT parts, outbox
events, print jobs — and its shift, with SQL built from the file's own columns, into each of
the `days - 1` business days after it. Every day has a shift of its own, closed, except the
newest, which is left open: the X report's worst case (no kept figures).

The copies are what a real season would have written: each id keeps its UUIDv7 form with its
time moved by the days (so ids, rowids, `seq`, stamps and business days all grow together, as
they do on a till, and a day's rows sit together in every index), new receipt numbers, business
days, wall times and shifts. Every invariant `jangteo check` holds stays true.

Used by bench_big_store.py; also runnable to make a store to try commands on:

    uv run python bench/big_store.py DIR [--sales 2000] [--days 97]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import columns, rowid_alias, unique_sets, user_tables  # noqa: E402

DAY_MS = 86_400_000
# Columns holding a document's, an event's or a shift's UUID wherever they appear ("id" only
# in the tables that are the documents' own).
_UUID_COLUMNS = {"sale_id", "document_id", "original_id", "event_id", "shift_id", "return_id",
                 "cancels"}
# an ISO wall time moved by :shift days, its time of day and offset kept
_WALL = "date(substr({c}, 1, 10), :shift) || substr({c}, 11)"
# what a close writes on a shift (its count and kept Z report): NULL on the open copy
_CLOSE_COLUMNS = {"closed_at", "counted_amount", "counts", "expected_amount", "difference",
                  "report"}


def later_uuid(text: str | None, ms: int) -> str | None:
    """The same UUIDv7 `ms` milliseconds later (its random bits kept: copies stay unique
    because each lands on another day)."""
    if text is None:
        return None
    return str(uuid.UUID(int=uuid.UUID(text).int + (ms << 80)))


def copy_statements(con: sqlite3.Connection) -> list[str]:
    """`INSERT … SELECT` statements that copy the real day (every row of seq ≤ :n, and the
    shift :shift_id) as copy :k, :shift days (:ms milliseconds) later."""
    out = []
    for table in user_tables(con):
        names = [c[0] for c in columns(con, table)]
        if table == "shifts":
            source, where = "shifts x", "x.id = :shift_id"
        elif "seq" in names:
            source, where = f"{table} x", "x.seq <= :n"
        elif "sale_id" in names or "document_id" in names:
            ref = "sale_id" if "sale_id" in names else "document_id"
            source, where = f"{table} x JOIN sales s ON s.id = x.{ref}", "s.seq <= :n"
        else:
            continue  # catalog, settings, device: not per document
        numbered = rowid_alias(con, table)
        cols, exprs, moved = [], [], set()
        for name in names:
            c = f"x.{name}"
            if name == numbered:
                moved.add(name)  # SQLite numbers the copy
                continue
            if name in _UUID_COLUMNS or (name == "id" and ("seq" in names or table == "shifts"
                                                       or "sale_id" in names)):
                expr = f"later_uuid({c}, :ms)"
            elif name == "seq":
                expr = f"{c} + :k * :n"
            elif name == "hlc":
                expr = (f"CASE WHEN {c} IS NULL THEN NULL ELSE printf('%013d', "
                        f"CAST(substr({c}, 1, 13) AS INTEGER) + :ms) || substr({c}, 14) END")
            elif name == "receipt_no":
                day = ("x.business_day" if "business_day" in names else  # from the number
                       f"substr({c}, 5, 4) || '-' || substr({c}, 9, 2) || '-' "
                       f"|| substr({c}, 11, 2)")
                expr = (f"CASE WHEN {c} IS NULL THEN NULL ELSE substr({c}, 1, 4) || "
                        f"strftime('%Y%m%d', {day}, :shift) || substr({c}, 13) END")
            elif name == "business_day":
                expr = f"date({c}, :shift)"
            elif table == "shifts" and name in _CLOSE_COLUMNS:  # the newest is still open
                expr = f"CASE WHEN :open THEN NULL ELSE {c} END"
                if name == "closed_at":
                    expr = f"CASE WHEN :open THEN NULL ELSE {_WALL.format(c=c)} END"
            elif name in ("created_at", "opened_at", "updated_at"):
                expr = f"CASE WHEN {c} IS NULL THEN NULL ELSE {_WALL.format(c=c)} END"
            elif table == "shifts" and name == "number":
                expr = f"{c} + :k"
            elif table == "shifts" and name == "status":
                expr = "CASE WHEN :open THEN 'open' ELSE 'closed' END"
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


FIRST_DAY = date(2026, 8, 17)  # a season of 97 market days ends on 2026-11-21


def market_day(data_dir: Path, *, sales: int = 2000, seed: int = 7,
               day: date = FIRST_DAY) -> None:
    """One real market day in a new store: the demo's `sales` sales recorded through the
    services, its shift closed as at a till (count and kept Z report)."""
    from pos.clock import SteppingClock
    from pos.demo import run_demo
    from pos.services import close_shift, current_shift, expected_cash
    from pos.store import Store

    tz = timezone(timedelta(hours=9))
    with Store(data_dir, clock=SteppingClock(datetime.combine(day, datetime.min.time(),
                                                              tzinfo=tz))) as store:
        run_demo(store, sales=sales, seed=seed, day=day)
        store.clock = SteppingClock(datetime.combine(day, datetime.min.time(), tzinfo=tz)
                                    + timedelta(hours=19))
        with store.unit_of_work() as uow:
            shift = current_shift(uow)
            close_shift(uow, counted=expected_cash(uow, shift_id=shift["id"]))
            uow.commit()


def build(data_dir: Path, *, days: int, template: Path | None = None, sales: int = 2000,
          seed: int = 7, day: date = FIRST_DAY, progress=None) -> dict:
    """A store of `days` business days from `day`, each the same market day (`template`'s
    store, copied, or a new `market_day`), the newest one's shift open.
    Returns {"documents", "shift_id" (the open one), "last_day", "seconds"}."""
    from pos.store import DB_NAME, Store

    if days < 2:
        raise ValueError("a season has at least two days: the real one and the open one")
    t0 = time.perf_counter()
    if template is None:
        market_day(data_dir, sales=sales, seed=seed, day=day)
    else:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(Path(template) / DB_NAME)
        try:
            dest = sqlite3.connect(Path(data_dir) / DB_NAME)
            try:
                src.backup(dest)
            finally:
                dest.close()
        finally:
            src.close()
    with Store(data_dir) as store:
        with store.unit_of_work() as uow:
            raw = uow.conn.connection.dbapi_connection  # inside the unit of work's transaction
            raw.create_function("later_uuid", 2, later_uuid, deterministic=True)
            n = raw.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
            (shift_id, first), = raw.execute("SELECT id, business_day FROM shifts").fetchall()
            statements = copy_statements(raw)
            for k in range(1, days):
                params = {"k": k, "n": n, "shift": f"+{k} days", "ms": k * DAY_MS,
                          "shift_id": shift_id, "open": k == days - 1}
                for sql in statements:
                    raw.execute(sql, params)
                if progress and k % 10 == 0:
                    progress(k, days - 1)
            uow.commit()
        store.numbering.forget()  # the copies went around the services
        store.cache.clear()
        with store.unit_of_work(write=False) as uow:
            documents = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
    last = date.fromisoformat(first) + timedelta(days=days - 1)
    return {"documents": documents, "shift_id": later_uuid(shift_id, (days - 1) * DAY_MS),
            "last_day": last.isoformat(), "seconds": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--sales", type=int, default=2000)
    ap.add_argument("--days", type=int, default=97)
    args = ap.parse_args()
    made = build(args.dir, sales=args.sales, days=args.days,
                 progress=lambda k, n: print(f"  {k}/{n} days copied", flush=True))
    print(f"{made['documents']} documents in {args.dir} ({made['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
