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
        SELECT device_id || ' ' || business_day,
               COUNT(*) || ' receipts, highest number ' || MAX(n)
        FROM (SELECT device_id, business_day,
                     CAST(substr(receipt_no, instr(receipt_no, '-') + 10) AS INTEGER) AS n
              FROM sales)
        GROUP BY device_id, business_day HAVING COUNT(*) <> MAX(n) OR MIN(n) <> 1""",
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
    return problems
