"""`jangteo check`: the store's integrity and the invariants every document must keep."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from pos.store import UnitOfWork


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    subject: str
    detail: str


# Each query returns (subject, detail) for every document that breaks the rule.
_RULES: dict[str, str] = {
    "lines_total": """
        SELECT s.receipt_no, 'lines ' || COALESCE(SUM(l.amount), 0) || ' <> total ' || s.total
        FROM sales s LEFT JOIN sale_lines l ON l.sale_id = s.id
        GROUP BY s.id HAVING COALESCE(SUM(l.amount), 0) <> s.total""",
    "line_arithmetic": """
        SELECT s.receipt_no, 'line ' || l.line_no || ': ' || l.amount
        FROM sale_lines l JOIN sales s ON s.id = l.sale_id
        WHERE l.amount <> l.unit_price * l.qty - l.line_discount - l.receipt_discount""",
    "payments_total": """
        SELECT s.receipt_no, 'payments ' || COALESCE(p.paid, 0) || ' <> total ' || s.total
        FROM sales s LEFT JOIN (SELECT sale_id, SUM(amount) AS paid, SUM(change) AS chg
                                FROM payments GROUP BY sale_id) p ON p.sale_id = s.id
        WHERE COALESCE(p.paid, 0) <> s.total OR COALESCE(p.chg, 0) <> s.change""",
    "vat_split": """
        SELECT s.receipt_no, 'taxable ' || s.taxable_total || ' exempt ' || s.exempt_total
               || ' supply ' || s.supply_value || ' vat ' || s.vat
        FROM sales s LEFT JOIN (SELECT sale_id, SUM(taxable_total) tt, SUM(supply_value) sv,
                                       SUM(vat) v, SUM(exempt_total) et
                                FROM sale_taxes GROUP BY sale_id) x ON x.sale_id = s.id
        WHERE s.taxable_total + s.exempt_total <> s.total
           OR s.supply_value + s.vat <> s.taxable_total
           OR COALESCE(x.tt, 0) <> s.taxable_total OR COALESCE(x.sv, 0) <> s.supply_value
           OR COALESCE(x.v, 0) <> s.vat OR COALESCE(x.et, 0) <> s.exempt_total""",
    "refund_within_sold": """
        SELECT o.receipt_no, 'line ' || ol.line_no || ' sold ' || ol.qty || ' returned ' || r.back
        FROM (SELECT s.original_id, l.original_line_no, -SUM(l.qty) AS back
              FROM sales s JOIN sale_lines l ON l.sale_id = s.id
              WHERE s.original_id IS NOT NULL GROUP BY s.original_id, l.original_line_no) r
        JOIN sales o ON o.id = r.original_id
        LEFT JOIN sale_lines ol ON ol.sale_id = r.original_id AND ol.line_no = r.original_line_no
        WHERE ol.line_no IS NULL OR r.back > ol.qty OR r.back < 0""",
    "return_points_to_sale": """
        SELECT s.receipt_no, s.kind || ' without an original sale'
        FROM sales s LEFT JOIN sales o ON o.id = s.original_id
        WHERE (s.kind <> 'sale' AND (o.id IS NULL OR o.kind <> 'sale'))
           OR (s.kind = 'sale' AND s.original_id IS NOT NULL)""",
    "seq_gapless": """
        SELECT device_id, 'seq ' || MIN(seq) || '..' || MAX(seq) || ' has ' || COUNT(*)
        FROM outbox GROUP BY device_id HAVING MIN(seq) <> 1 OR MAX(seq) <> COUNT(*)""",
    "document_in_outbox": """
        SELECT s.receipt_no, 'seq ' || s.seq || ' not in the outbox'
        FROM sales s LEFT JOIN outbox o ON o.device_id = s.device_id AND o.seq = s.seq
        WHERE o.seq IS NULL OR o.document_id IS NOT s.id""",
    "receipt_numbers": """
        SELECT x.device_id || ' ' || x.business_day,
               COUNT(*) || ' receipts, highest number ' || MAX(x.n)
        FROM (SELECT s.device_id, s.business_day,
                     CAST(substr(s.receipt_no, instr(s.receipt_no, '-') + 10) AS INTEGER) AS n,
                     COALESCE(f.last_n, 0) AS fl
              FROM sales s LEFT JOIN receipt_floors f
                ON f.device_id = s.device_id AND f.business_day = s.business_day) x
        GROUP BY x.device_id, x.business_day
        -- numbers run 1, 2, 3 … without a gap; after a numbering floor (numbers a lost file
        -- had given out, see receipts_missing) they run on from the floor
        HAVING SUM(x.n <= x.fl) <> COALESCE(MAX(CASE WHEN x.n <= x.fl THEN x.n END), 0)
            OR SUM(x.n > x.fl) <> COALESCE(MAX(CASE WHEN x.n > x.fl THEN x.n END) - MAX(x.fl), 0)
            OR COUNT(DISTINCT x.n) <> COUNT(*)""",
    "document_has_lines": """
        SELECT s.receipt_no, 'no lines or no payments'
        FROM sales s WHERE NOT EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.id)
                        OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.sale_id = s.id)""",
}


def run_checks(uow: UnitOfWork, *, limit: int = 50) -> list[Problem]:
    """Every broken invariant, at most `limit` per rule. An empty list means all is well."""
    problems = []
    integrity = [r[0] for r in uow.conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    if integrity != ["ok"]:
        problems += [Problem("integrity", "database", line) for line in integrity[:limit]]
    fk = uow.conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    problems += [Problem("foreign_keys", str(r[0]), f"row {r[1]} -> {r[2]}") for r in fk[:limit]]
    for code, sql in _RULES.items():
        for subject, detail in uow.conn.execute(text(sql + f" LIMIT {int(limit)}")):
            problems.append(Problem(code, str(subject), str(detail)))
    problems += missing_documents(uow, limit=limit)
    return problems


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


def missing_documents(uow: UnitOfWork, found_marks=None, *, limit: int = 50) -> list[Problem]:
    """Receipts and events this store once confirmed (its numbering floors, its high-water
    marks kept outside the database: `pos.marks`) that it no longer has — the sales a cut
    WAL, a damaged file or a restore of an older backup lost — by their numbers."""
    from datetime import date

    from pos import marks, tables as t
    from pos.ids import receipt_no

    device = uow.store.device
    if found_marks is None:
        found_marks = marks.read_marks(uow.store.data_dir)
    highs: dict[str, int] = {}
    for day, last in uow.conn.execute(
            t.receipt_floors.select().with_only_columns(t.receipt_floors.c.business_day,
                                                        t.receipt_floors.c.last_n)
            .where(t.receipt_floors.c.device_id == device["id"])):
        highs[day] = max(highs.get(day, 0), last)
    seq_mark = 0
    for mark in found_marks:
        if mark.device_code != device["code"]:
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
        the_day = date.fromisoformat(day)
        for first, end in _gaps(present, last)[:limit]:
            span = receipt_no(device["code"], the_day, first)
            if end > first:
                span += " .. " + receipt_no(device["code"], the_day, end)
            problems.append(Problem("receipts_missing", f"{device['code']} {day}",
                                    f"{span}: confirmed, not in this store"))
    newest = uow.conn.exec_driver_sql("SELECT MAX(seq) FROM outbox WHERE device_id = ?",
                                      (device["id"],)).scalar() or 0
    if seq_mark > newest:
        problems.append(Problem("events_missing", device["code"],
                                f"seq {newest + 1} .. {seq_mark}: confirmed, not in this store"))
    return problems
