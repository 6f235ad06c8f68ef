"""`jangteo check`: the store's integrity and the invariants every document must keep.

`check(uow, days=7)` (what `jangteo check` does, `pos.cli.CHECK_DAYS`) checks the documents
of the newest 7 business days whatever the size of the store: they are found through the
index on `business_day`, and every rule reaches their lines, payments, VAT parts, returns and
outbox entries through primary keys and indexes, so the check reads what those days wrote and
not the season before them. `days=None` (`jangteo check --all`) checks every document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from pos.store import UnitOfWork


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    everything: bool  # every document and SQLite's full integrity_check
    days: int | None  # the business days asked for (None: all)
    first_day: str | None  # the oldest and newest business day checked
    last_day: str | None
    documents: int  # documents checked
    problems: list[Problem] = field(default_factory=list)


# `{docs}` in each rule is the documents checked, as `s`. By default they are those of the
# newest days, put first in `check_docs` by rowid from the business_day index (which holds the
# rowid: the fill reads only the index); every rule starts from them and reaches each sale's
# row directly, and `CROSS JOIN` keeps SQLite from planning any other order (which could be a
# scan of a whole document table). With --all, `{docs}` is every sale and SQLite plans freely.
_DOCS = "CREATE TEMP TABLE IF NOT EXISTS check_docs (rid INTEGER PRIMARY KEY)"
_FILL = ("INSERT INTO temp.check_docs SELECT s.rowid FROM sales s "
         "WHERE s.business_day >= :since")
_RECENT_DOCS = "temp.check_docs d CROSS JOIN sales s ON s.rowid = d.rid"
_ALL_DOCS = "sales s"
# The newest business day (before :before), from the end of its index: one search each.
_NEWEST_DAY = "SELECT MAX(business_day) FROM sales"
_DAY_BEFORE = "SELECT MAX(business_day) FROM sales WHERE business_day < :before"
_OLDEST_DAY = "SELECT MIN(business_day) FROM sales"

# Each query returns (subject, detail) for every document that breaks the rule.
_RULES: dict[str, str] = {
    "lines_total": """
        SELECT s.receipt_no, 'lines ' || COALESCE(SUM(l.amount), 0) || ' <> total ' || s.total
        FROM {docs}
        LEFT JOIN sale_lines l ON l.sale_id = s.id
        GROUP BY s.id HAVING COALESCE(SUM(l.amount), 0) <> s.total""",
    "line_arithmetic": """
        SELECT s.receipt_no, 'line ' || l.line_no || ': ' || l.amount
        FROM {docs}
        CROSS JOIN sale_lines l ON l.sale_id = s.id
        WHERE l.amount <> l.unit_price * l.qty - l.line_discount - l.receipt_discount""",
    "payments_total": """
        SELECT s.receipt_no, 'payments ' || COALESCE(SUM(p.amount), 0) || ' <> total ' || s.total
        FROM {docs}
        LEFT JOIN payments p ON p.sale_id = s.id
        GROUP BY s.id
        HAVING COALESCE(SUM(p.amount), 0) <> s.total OR COALESCE(SUM(p.change), 0) <> s.change""",
    # a sale's cash receipts in force are never more than what it took in cash-like money
    "cash_receipts_within_cash": """
        SELECT s.receipt_no, 'cash receipts ' || SUM(c.amount) || ' > cash '
               || (SELECT COALESCE(SUM(p.amount), 0) FROM payments p
                   WHERE p.sale_id = s.id AND p.kind IN ('cash', 'transfer', 'qr'))
        FROM {docs}
        CROSS JOIN cash_receipts c ON c.sale_id = s.id
        WHERE s.kind = 'sale' AND c.kind = 'issue' AND c.state <> 'cancelled'
        GROUP BY s.id
        HAVING SUM(c.amount) > (SELECT COALESCE(SUM(p.amount), 0) FROM payments p
                                WHERE p.sale_id = s.id AND p.kind IN ('cash', 'transfer', 'qr'))""",
    "vat_split": """
        SELECT s.receipt_no, 'taxable ' || s.taxable_total || ' exempt ' || s.exempt_total
               || ' supply ' || s.supply_value || ' vat ' || s.vat
        FROM {docs}
        LEFT JOIN sale_taxes x ON x.sale_id = s.id
        GROUP BY s.id
        HAVING s.taxable_total + s.exempt_total <> s.total
           OR s.supply_value + s.vat <> s.taxable_total
           OR COALESCE(SUM(x.taxable_total), 0) <> s.taxable_total
           OR COALESCE(SUM(x.supply_value), 0) <> s.supply_value
           OR COALESCE(SUM(x.vat), 0) <> s.vat
           OR COALESCE(SUM(x.exempt_total), 0) <> s.exempt_total""",
    # every return (void or refund) of each sale that a checked return points to, wherever
    # those returns are: a refund today may go over what last month's refunds left
    "refund_within_sold": """
        SELECT o.receipt_no, 'line ' || ol.line_no || ' sold ' || ol.qty || ' returned ' || r.back
        FROM (SELECT b.original_id, l.original_line_no, -SUM(l.qty) AS back
              FROM (SELECT DISTINCT s.original_id
                    FROM {docs}
                    WHERE s.original_id IS NOT NULL) w
              CROSS JOIN sales b ON b.original_id = w.original_id
              CROSS JOIN sale_lines l ON l.sale_id = b.id
              GROUP BY b.original_id, l.original_line_no) r
        CROSS JOIN sales o ON o.id = r.original_id
        LEFT JOIN sale_lines ol ON ol.sale_id = r.original_id AND ol.line_no = r.original_line_no
        WHERE ol.line_no IS NULL OR r.back > ol.qty OR r.back < 0""",
    "return_points_to_sale": """
        SELECT s.receipt_no, s.kind || ' without an original sale'
        FROM {docs}
        LEFT JOIN sales o ON o.id = s.original_id
        LEFT JOIN other_sales x ON x.id = s.other_sale_id
        WHERE (s.kind <> 'sale' AND (o.id IS NULL OR o.kind <> 'sale') AND x.id IS NULL)
           OR (s.kind <> 'sale' AND s.original_id IS NOT NULL AND s.other_sale_id IS NOT NULL)
           OR (s.kind = 'sale' AND (s.original_id IS NOT NULL OR s.other_sale_id IS NOT NULL))""",
    "seq_gapless": "",  # _SEQ_ALL or _SEQ_RECENT, below
    "document_in_outbox": """
        SELECT s.receipt_no, 'seq ' || s.seq || ' not in the outbox'
        FROM {docs}
        LEFT JOIN outbox o ON o.device_id = s.device_id AND o.seq = s.seq
        WHERE o.seq IS NULL OR o.document_id IS NOT s.id""",
    # whole business days are checked, so each day's numbers are all there
    "receipt_numbers": """
        SELECT x.device_id || ' ' || x.business_day,
               COUNT(*) || ' receipts, highest number ' || MAX(x.n)
        FROM (SELECT s.device_id, s.business_day,
                     CAST(substr(s.receipt_no, instr(s.receipt_no, '-') + 10) AS INTEGER) AS n,
                     COALESCE(f.last_n, 0) AS fl
              FROM {docs} LEFT JOIN receipt_floors f
                ON f.device_id = s.device_id AND f.business_day = s.business_day) x
        GROUP BY x.device_id, x.business_day
        -- numbers run 1, 2, 3 … without a gap; after a numbering floor (numbers a lost file
        -- had given out, see receipts_missing) they run on from the floor
        HAVING SUM(x.n <= x.fl) <> COALESCE(MAX(CASE WHEN x.n <= x.fl THEN x.n END), 0)
            OR SUM(x.n > x.fl) <> COALESCE(MAX(CASE WHEN x.n > x.fl THEN x.n END) - MAX(x.fl), 0)
            OR COUNT(DISTINCT x.n) <> COUNT(*)""",
    "document_has_lines": """
        SELECT s.receipt_no, 'no lines or no payments'
        FROM {docs}
        WHERE NOT EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.id)
           OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.sale_id = s.id)""",
}

# The outbox is the device's gapless ledger: 1..N with --all; by default, from the lowest seq
# of the checked documents to the newest event (the PRIMARY KEY range of those days). The runs
# only the server holds (`events_on_server`: events this store lost after they were synced,
# its own renumbered after them by sync.client) count as the server's: outbox and runs are
# 1, 2, 3 … between them, each number once. There are a few runs at most.
_RUNS_CLASH = """
    EXISTS (SELECT 1 FROM events_on_server run CROSS JOIN outbox inside
              ON inside.device_id = run.device_id
             AND inside.seq BETWEEN run.first_seq AND run.last_seq
            WHERE run.device_id = {device})
    OR EXISTS (SELECT 1 FROM events_on_server run CROSS JOIN events_on_server later
                 ON later.device_id = run.device_id AND later.first_seq > run.first_seq
                AND later.first_seq <= run.last_seq
               WHERE run.device_id = {device})"""
_SEQ_ALL = """
    SELECT o.device_id, 'seq ' || MIN(o.lo, COALESCE(h.lo, o.lo)) || '..'
           || MAX(o.hi, COALESCE(h.hi, o.hi)) || ' has ' || o.n
           || COALESCE(' and ' || h.n || ' held by the server', '')
    FROM (SELECT device_id, MIN(seq) lo, MAX(seq) hi, COUNT(*) n
          FROM outbox GROUP BY device_id) o
    LEFT JOIN (SELECT device_id, MIN(first_seq) lo, MAX(last_seq) hi,
                      SUM(last_seq - first_seq + 1) n
               FROM events_on_server GROUP BY device_id) h ON h.device_id = o.device_id
    WHERE MIN(o.lo, COALESCE(h.lo, o.lo)) <> 1
       OR MAX(o.hi, COALESCE(h.hi, o.hi)) <> o.n + COALESCE(h.n, 0)
       OR """ + _RUNS_CLASH.replace("{device}", "o.device_id")
_SEQ_RECENT = """
    SELECT q.device_id, 'seq ' || q.lo || '..' || q.hi || ' has ' || q.n
           || CASE WHEN q.held > 0 THEN ' and ' || q.held || ' held by the server' ELSE '' END
    FROM (SELECT r.*, (SELECT COALESCE(SUM(x.last_seq - x.first_seq + 1), 0)
                       FROM events_on_server x
                       WHERE x.device_id = r.device_id AND x.first_seq > r.lo
                         AND x.last_seq < r.hi) AS held
          FROM (SELECT w.device_id, w.lo, MIN(o.seq) AS first, MAX(o.seq) AS hi,
                       COUNT(o.seq) AS n
                FROM (SELECT s.device_id, MIN(s.seq) AS lo
                      FROM {docs} GROUP BY s.device_id) w
                CROSS JOIN outbox o ON o.device_id = w.device_id AND o.seq >= w.lo
                GROUP BY w.device_id) r) q
    WHERE q.first <> q.lo OR q.hi - q.lo + 1 <> q.n + q.held
       OR """ + _RUNS_CLASH.replace("{device}", "q.device_id")

# Tables whose foreign keys the default check verifies whole: the catalog and the shifts' cash
# movements, a few thousand rows at most. The documents' own references (lines, payments and
# VAT parts to their sale, a return to its original) are written in one transaction with
# foreign keys on; the rules above follow them from the checked documents, and only --all
# looks for rows of another day that lost their sale.
_SMALL_FK_TABLES = ("products", "barcodes", "cash_movements")


def _since(uow: UnitOfWork, days: int) -> tuple[str | None, str | None, bool]:
    """(oldest, newest) of the newest `days` business days with documents, and whether that
    is every business day the store has."""
    newest = day = uow.conn.exec_driver_sql(_NEWEST_DAY).scalar()
    if newest is None:
        return None, None, True
    for _ in range(days - 1):
        older = uow.conn.execute(text(_DAY_BEFORE), {"before": day}).scalar()
        if older is None:
            return day, newest, True
        day = older
    older = uow.conn.execute(text(_DAY_BEFORE), {"before": day}).scalar()
    return day, newest, older is None


def check(uow: UnitOfWork, *, days: int | None = None, limit: int = 50,
          structure: bool = True) -> CheckResult:
    """Every broken invariant of the documents of the newest `days` business days (every
    document when None), at most `limit` per rule. No problems means all is well.

    A store that has no business day older than those `days` is checked whole, with the full
    integrity_check: it is small, and "everything" is then the truth. `structure=False`
    leaves SQLite's check of the whole file out (for a caller that has just run it, or a
    benchmark of what the rules cost)."""
    conn = uow.conn
    if days is None:
        first = conn.exec_driver_sql(_OLDEST_DAY).scalar()
        last = conn.exec_driver_sql(_NEWEST_DAY).scalar()
        everything = True
    else:
        first, last, everything = _since(uow, days)
    problems = []
    # --all: SQLite's integrity_check, which also holds every index entry against its row (the
    # slow part: seconds on a season's file). By default quick_check: every page of the file
    # is still read and every b-tree, record and NOT NULL checked — a damaged page of an old
    # day can break tomorrow's sale as well as one of today — but only at the speed of reading
    # the file once, without the index cross-checks.
    pragma = "integrity_check" if everything else "quick_check"
    if structure:
        integrity = [r[0] for r in conn.exec_driver_sql(f"PRAGMA {pragma}").fetchall()]
        if integrity != ["ok"]:
            problems += [Problem("integrity", "database", line) for line in integrity[:limit]]
    if everything:
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    else:
        fk = [r for table in _SMALL_FK_TABLES
              for r in conn.exec_driver_sql(f"PRAGMA foreign_key_check({table})").fetchall()]
    problems += [Problem("foreign_keys", str(r[0]), f"row {r[1]} -> {r[2]}") for r in fk[:limit]]
    if everything:
        docs = _ALL_DOCS
        documents = conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
    else:
        docs = _RECENT_DOCS
        conn.exec_driver_sql(_DOCS)
        conn.exec_driver_sql("DELETE FROM temp.check_docs")
        conn.execute(text(_FILL), {"since": first})
        documents = conn.exec_driver_sql("SELECT COUNT(*) FROM temp.check_docs").scalar()
    rules = {**_RULES, "seq_gapless": _SEQ_ALL if everything else _SEQ_RECENT}
    try:
        for code, sql in rules.items():
            query = text(sql.replace("{docs}", docs) + f" LIMIT {int(limit)}")
            for subject, detail in conn.execute(query):
                problems.append(Problem(code, str(subject), str(detail)))
    finally:
        if not everything:
            conn.exec_driver_sql("DELETE FROM temp.check_docs")
    # the receipts this store once confirmed and lacks: the days of its floors and marks
    # (pos.marks keeps 14), so this too stays the same size all season
    problems += missing_documents(uow, limit=limit)
    # the audit log's hash chain, whole (it holds sensitive actions only: small all season)
    from pos.audit import verify

    problems += [Problem(code, subject, detail) for code, subject, detail in verify(uow, limit=limit)]
    return CheckResult(everything, days, first, last, documents, problems)


def run_checks(uow: UnitOfWork, *, days: int | None = None, limit: int = 50) -> list[Problem]:
    """The problems `check` finds: of every document unless `days` is given."""
    return check(uow, days=days, limit=limit).problems


def _gaps(present: list[int], last: int) -> list[tuple[int, int]]:
    """The runs of 1..last that are not in `present` (sorted, without materialising 1..last)."""
    gaps, expected = [], 1
    for n in present:
        if n > last:
            break
        if n > expected:
            gaps.append((expected, n - 1))
        expected = max(expected, n + 1)
    if expected <= last:
        gaps.append((expected, last))
    return gaps


def _held(runs: list[tuple[int, int]], seq: int) -> bool:
    return any(first <= seq <= last for first, last in runs)


def missing_documents(uow: UnitOfWork, found_marks=None, *, limit: int = 50) -> list[Problem]:
    """Receipts and events this store once confirmed (its numbering floors, its high-water
    marks kept outside the database: `pos.marks`) that it no longer has — the sales a cut
    WAL, a damaged file or a restore of an older backup lost — by their numbers. What the
    organizer's server is known to hold is not missing: the runs of events it holds that this
    store lost (`events_on_server`), and the receipts a restore found at those numbers in the
    file it replaced (`lost_receipts` in `store_meta`, written by `pos.backups.restore`)."""
    from datetime import date

    from pos import backups, marks, outbox, tables as t
    from pos.ids import receipt_no

    device = uow.store.device
    runs = outbox.on_server(uow)
    on_server: dict[str, list[int]] = {}  # business day -> receipt numbers the server holds
    for lost in backups.lost_receipts(uow.conn):
        if lost["device_id"] == device["id"] and _held(runs, lost["seq"]):
            try:
                n = int(str(lost["receipt_no"]).rsplit("-", 1)[1])
            except (IndexError, ValueError):
                continue
            on_server.setdefault(lost["business_day"], []).append(n)
    if found_marks is None:
        found_marks = marks.read_marks(uow.store.data_dir)
    highs: dict[str, int] = {}
    for day, last in uow.conn.execute(
            t.receipt_floors.select().with_only_columns(t.receipt_floors.c.business_day,
                                                        t.receipt_floors.c.last_n)
            .where(t.receipt_floors.c.device_id == device["id"],
                   # numbers another store gave out (a folder lost, or swapped) are kept
                   # from being reused, but they are not this store's missing receipts
                   t.receipt_floors.c.reason.notin_(("lost", "other", "elsewhere")))):
        highs[day] = max(highs.get(day, 0), last)
    others = dict(uow.conn.execute(
        t.receipt_floors.select().with_only_columns(t.receipt_floors.c.business_day,
                                                    t.receipt_floors.c.last_n)
        .where(t.receipt_floors.c.device_id == device["id"],
               t.receipt_floors.c.reason.in_(("lost", "other", "elsewhere")))).all())
    seq_mark = 0
    for mark in found_marks:
        if mark.device_code != device["code"] or mark.store_id != device["id"]:
            continue
        for day, last in mark.days.items():
            highs[day] = max(highs.get(day, 0), last)
        if mark.store_id == device["id"]:
            seq_mark = max(seq_mark, mark.seq)
    problems = []
    for day, last in sorted(highs.items()):
        present = [r[0] for r in uow.conn.exec_driver_sql(
            "SELECT CAST(substr(receipt_no, instr(receipt_no, '-') + 10) AS INTEGER) AS n "
            "FROM sales WHERE device_id = ? AND business_day = ? ORDER BY n",
            (device["id"], day))]
        if day in on_server:
            present = sorted(present + on_server[day])
        if others.get(day):  # numbers another store gave out here: not this store's losses
            present = sorted(set(present) | set(range(1, others[day] + 1)))
        the_day = date.fromisoformat(day)
        for first, end in _gaps(present, last)[:limit]:
            span = receipt_no(device["code"], the_day, first)
            if end > first:
                span += " .. " + receipt_no(device["code"], the_day, end)
            problems.append(Problem("receipts_missing", f"{device['code']} {day}", span))
    newest = uow.conn.exec_driver_sql("SELECT MAX(seq) FROM outbox WHERE device_id = ?",
                                      (device["id"],)).scalar() or 0
    lacking, start = [], newest + 1  # newest + 1 .. seq_mark, less what the server holds
    for first, last in runs:
        if last < start or first > seq_mark:
            continue
        if first > start:
            lacking.append((start, first - 1))
        start = max(start, last + 1)
    if start <= seq_mark:
        lacking.append((start, seq_mark))
    for first, last in lacking[:limit]:
        problems.append(Problem("events_missing", device["code"],
                                f"seq {first} .. {last}"))
    return problems
