"""A till used all season: reports, close and check read only their own rows, through indexes.

No timings here (bench/bench_big_store.py measures them): these tests hold the structure that
makes the time independent of the store's size — every query a report, a close or the default
check runs is planned by SQLite as searches through indexes, never as a scan of a document
table — and what `jangteo check` and `jangteo check --all` look at.
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event

from pos import services as s
from pos.cli import CHECK_DAYS
from pos.domain import Tender
from pos.services.check import check
from tests.conftest import KST, in_shift
from tests.pos.test_cli import jangteo as cli

DOCUMENT_TABLES = ("sales", "sale_lines", "payments", "sale_taxes", "outbox")
FIRST_DAY = datetime(2026, 11, 1, 9, 0, tzinfo=KST)
DAYS = CHECK_DAYS + 3


def season(store, stall, days: int = DAYS) -> list[dict]:
    """`days` market days, one shift each (the last one left open), with single and split
    payments, two enterprises on one receipt, a refund and a void; returns the shifts."""
    shifts = []
    for k in range(days):
        store.clock.set(FIRST_DAY + timedelta(days=k))
        with store.unit_of_work() as uow:
            shift = s.open_shift(uow, float_amount=50000)
            s.move_cash(uow, kind="in", amount=10000, reason="잔돈")
            in_shift(uow, daily=True)
            one = s.record_sale(uow, items=[s.SaleItem(stall.soap, 2)],
                                tenders=[Tender("cash", 10000)])
            in_shift(uow, daily=True)
            s.record_sale(uow, items=[s.SaleItem(stall.candle), s.SaleItem(stall.brooch)],
                          tenders=[Tender("local_voucher", 10000), Tender("card", 15000)])
            in_shift(uow, daily=True)
            two = s.record_sale(uow, items=[s.SaleItem(stall.rice), s.SaleItem(stall.eggs)],
                                tenders=[Tender("card", 18000)])
            s.refund_sale(uow, sale_id=one.id, quantities={1: 1}, method="cash")
            s.void_sale(uow, sale_id=two.id)
            uow.commit()
        if k < days - 1:
            with store.unit_of_work() as uow:
                s.close_shift(uow, counted=70000)
                uow.commit()
        shifts.append(shift)
    return shifts


@contextmanager
def plans(store):
    """Every statement the store runs inside the block, with SQLite's plan for it (asked on
    the same connection just before it runs, so temporary tables are there)."""
    seen: list[tuple[str, list[str]]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().split(None, 1)[0].upper()
        if head not in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH") or executemany:
            return
        raw = conn.connection.dbapi_connection
        rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters or ()).fetchall()
        seen.append((statement, [r[3] for r in rows]))

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", before)


def _names(statement: str) -> set[str]:
    """The document tables a statement reads and the aliases it gives them."""
    names = set()
    for table, alias in re.findall(
            r"\b(" + "|".join(DOCUMENT_TABLES) + r")\b(?:\s+(?:AS\s+)?(\w+))?", statement):
        names.add(table)
        if alias and alias.upper() not in ("ON", "WHERE", "JOIN", "CROSS", "LEFT", "INNER",
                                           "GROUP", "ORDER", "LIMIT", "SET", "VALUES",
                                           "USING", "AS"):
            names.add(alias)
    return names


def scans_of_documents(seen) -> list[str]:
    """Plan lines that read a whole document table (a SCAN, with or without an index)."""
    bad = []
    for statement, lines in seen:
        names = _names(statement)
        for line in lines:
            m = re.match(r"SCAN (\w+)", line)
            if m and m.group(1) in names:
                bad.append(f"{line}  <-  {' '.join(statement.split())[:160]}")
    return bad


def test_shift_reports_and_close_search_only_their_shift(store, stall):
    from printing.cli import _pick_shift

    shifts = season(store, stall)
    with plans(store) as seen:
        with store.unit_of_work(write=False) as uow:
            x = s.shift_settlement(uow, shift_id=shifts[-1]["id"])  # X: the open shift
            s.expected_cash(uow, shift_id=shifts[-1]["id"])
            z = _pick_shift(uow, "z", None)  # report z: the last closed shift
            s.shift_settlement(uow, shift_id=z["id"])
            s.day_settlement(uow, day=z["business_day"])
        with store.unit_of_work() as uow:
            closed, figures = s.close_shift(uow, counted=70000)
            uow.commit()
    assert x.receipt_count == 3 and x.refund_count == 1 and x.void_count == 1
    assert z["number"] == DAYS - 1 and figures.net == x.net
    assert closed["number"] == DAYS
    reads = [st for st, _lines in seen if _names(st)]
    assert len(reads) >= 25  # the X, Z, day and close figures all went through here
    # the joins from the temporary settle_docs went through here and are index searches
    assert any("settle_docs" in st for st in reads)
    assert scans_of_documents(seen) == []


# What the default check may search besides equality lookups: the days' range of the
# business_day index, the newest day before another (a MAX from the index's end: one search),
# the outbox from the days' first seq on, and the outbox inside each run of seqs only the
# server holds (a few runs, each range empty in a sound store).
_RANGES = ("ix_sales_business_day (business_day>?)", "ix_sales_business_day (business_day<?)",
           "(device_id=? AND seq>?)", "(device_id=? AND seq>? AND seq<?)")


def test_the_default_check_searches_only_the_newest_days(store, stall):
    season(store, stall)
    with plans(store) as seen:
        with store.unit_of_work(write=False) as uow:
            result = check(uow, days=CHECK_DAYS)
    assert result.problems == [] and not result.everything
    assert result.documents == 5 * CHECK_DAYS
    assert scans_of_documents(seen) == []
    wide = []
    for statement, lines in seen:
        names = _names(statement)
        for line in lines:
            m = re.match(r"SEARCH (\w+) USING .*\((.*)\)", line)
            if not m or m.group(1) not in names:
                continue
            if any(r in line for r in _RANGES):
                continue
            if not re.fullmatch(r"\w+=\?( AND \w+=\?)*", m.group(2)):
                wide.append(line)
    assert wide == []


def test_check_finds_old_damage_only_with_all_and_recent_damage_always(store, stall):
    season(store, stall)
    with store.unit_of_work(write=False) as uow:
        days = [r[0] for r in uow.conn.exec_driver_sql(
            "SELECT DISTINCT business_day FROM sales ORDER BY 1")]
        first_sale = ("SELECT receipt_no FROM sales WHERE business_day = ? AND kind = 'sale' "
                      "ORDER BY seq LIMIT 1")
        oldest = uow.conn.exec_driver_sql(first_sale, (days[0],)).scalar()
        newest = uow.conn.exec_driver_sql(first_sale, (days[-1],)).scalar()
    store.close()  # the command line takes the data folder
    data = store.data_dir

    def jangteo(*args):  # with this test's state folder (the receipt marks), not the user's
        return cli(*args, env_extra={"JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]})

    assert len(days) == DAYS
    _break(data, oldest)

    quick = jangteo("--data-dir", str(data), "--lang", "en", "check")
    assert quick.returncode == 0, quick.stderr
    assert (f"Checked the documents of the last {CHECK_DAYS} business days "
            f"({days[-CHECK_DAYS]} to {days[-1]})") in quick.stdout
    assert "SQLite quick check" in quick.stdout
    assert f"All good: {5 * CHECK_DAYS} documents checked." in quick.stdout
    every = jangteo("--data-dir", str(data), "--lang", "en", "check", "--all")
    assert every.returncode == 1
    assert "Checked the documents of every business day" in every.stdout
    assert f"[payments_total] {oldest}:" in every.stderr

    _break(data, newest)
    quick = jangteo("--data-dir", str(data), "--lang", "ko", "check")
    assert quick.returncode == 1
    assert f"최근 영업일 {CHECK_DAYS}일({days[-CHECK_DAYS]}~{days[-1]})" in quick.stdout
    assert f"[payments_total] {newest}:" in quick.stderr and oldest not in quick.stderr
    every = jangteo("--data-dir", str(data), "--lang", "ko", "check", "--all")
    assert every.returncode == 1 and "모든 영업일의 문서와 데이터 파일 전체" in every.stdout
    assert f"[payments_total] {newest}:" in every.stderr
    assert f"[payments_total] {oldest}:" in every.stderr


def test_an_old_refund_beyond_what_was_sold_is_found_from_a_recent_one(store, stall):
    """A refund in the checked days is held against every return of its sale, however old."""
    store.clock.set(FIRST_DAY)
    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        sold = s.record_sale(uow, items=[s.SaleItem(stall.soap, 2)],
                             tenders=[Tender("cash", 6000)])
        old = s.refund_sale(uow, sale_id=sold.id, quantities={1: 1}, method="cash")
        uow.commit()
    for k in range(1, DAYS):
        store.clock.set(FIRST_DAY + timedelta(days=k))
        with store.unit_of_work() as uow:
            in_shift(uow, daily=True)
            s.record_sale(uow, items=[s.SaleItem(stall.candle)], tenders=[Tender("card", 12000)])
            uow.commit()
    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        recent = s.refund_sale(uow, sale_id=sold.id, quantities={1: 1}, method="cash")
        assert check(uow, days=CHECK_DAYS).problems == []
        # the old refund now says it gave back both soaps: with today's, three of two sold
        uow.conn.exec_driver_sql("UPDATE sale_lines SET qty = -2 WHERE sale_id = ?", (old.id,))
        result = check(uow, days=CHECK_DAYS)
    assert not result.everything and result.first_day > "2026-11-01"
    assert recent.receipt_no[4:12] == "20261110" and sold.receipt_no[4:12] == "20261101"
    found = [(p.code, p.subject) for p in result.problems]
    assert found == [("refund_within_sold", sold.receipt_no)]


def test_a_store_without_older_days_is_checked_whole(tmp_path, store, stall):
    season(store, stall, days=3)
    with store.unit_of_work(write=False) as uow:
        result = check(uow, days=CHECK_DAYS)
    assert result.everything and result.documents == 15 and result.problems == []


def _break(data, receipt_no: str) -> None:
    con = sqlite3.connect(data / "jangteo.db")
    con.execute("UPDATE payments SET amount = amount + 1 WHERE sale_id = "
                "(SELECT id FROM sales WHERE receipt_no = ?)", (receipt_no,))
    con.commit()
    con.close()

