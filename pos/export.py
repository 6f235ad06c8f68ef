"""Sales export for spreadsheets: CSV in UTF-8 with BOM (Excel opens Hangul correctly).

Voids and refunds carry negative quantities and amounts, so a column's sum is the net figure.
By receipt, `pay_<method>` is what the method brought in: for cash what was tendered, for a
voucher its face value when change was given; `total = Σ pay_* − change` on every row.
`staff`: who recorded the document (staff accounts on; empty otherwise).
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from pos import tables as t
from pos.services.settings import payment_methods
from pos.store import UnitOfWork

LINE_COLUMNS = ("receipt_no", "kind", "sold_at", "enterprise", "product", "barcode", "quantity",
                "unit_price", "discount", "amount", "tax_class", "sku", "line_no",
                "original_receipt_no", "business_day", "staff")
RECEIPT_HEAD = ("receipt_no", "kind", "sold_at", "total", "taxable_total", "supply_value", "vat",
                "exempt_total")
RECEIPT_TAIL = ("change", "original_receipt_no", "business_day", "line_count", "voucher_kept",
                "staff")


def _sales_query(day_from: str | None, day_to: str | None):
    original = t.sales.alias("original")
    q = (select(t.sales, func.coalesce(original.c.receipt_no, t.other_sales.c.receipt_no)
                .label("original_receipt_no"))
         .outerjoin(original, original.c.id == t.sales.c.original_id)
         .outerjoin(t.other_sales, t.other_sales.c.id == t.sales.c.other_sale_id)
         .order_by(t.sales.c.device_id, t.sales.c.seq))
    if day_from:
        q = q.where(t.sales.c.business_day >= day_from)
    if day_to:
        q = q.where(t.sales.c.business_day <= day_to)
    return q


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value):
    """A cell a spreadsheet must show as text: one that starts like a formula (`=`, `+`, `-`,
    `@`) gets a leading `'`, which Excel and LibreOffice hide and never evaluate (a product
    named `=cmd|'/c calc'!A1` had gone out as a live formula). Numbers stay numbers; the
    catalog import takes the `'` off again, so a round trip keeps the name."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose text cells cannot run as formulas (`as_text`)."""

    def __init__(self, fh):
        self._w = csv.writer(fh)

    def writerow(self, row) -> None:
        self._w.writerow([as_text(v) for v in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(path: Path | str, header, rows) -> int:
    """A CSV file for a spreadsheet (UTF-8 with BOM, no cell that runs as a formula) written
    whole or not at all: beside it first, flushed to the disk, then put in its place, so a
    full disk or a cut leaves the earlier file, never half of one. Returns the rows written."""
    import os

    path = Path(path)
    part = path.with_name(path.name + ".part")
    n = 0
    try:
        with open(part, "w", encoding="utf-8-sig", newline="") as fh:
            writer = SafeWriter(fh)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                n += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException as e:
        try:
            part.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(e, OSError):  # said of the file asked for, not of its `.part`
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise
    return n


def export_sales(uow: UnitOfWork, path: Path | str, *, day_from: str | None = None,
                 day_to: str | None = None, by: str = "line") -> int:
    """Write the sales between two business days (inclusive) and return the rows written."""
    if by not in ("line", "receipt"):
        raise ValueError("by must be 'line' or 'receipt'")
    docs = uow.conn.execute(_sales_query(day_from, day_to)).mappings().all()
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = SafeWriter(fh)
        if by == "line":
            return _by_line(uow, writer, docs)
        return _by_receipt(uow, writer, docs)


def _chunks(items, size=500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _by_line(uow: UnitOfWork, writer, docs) -> int:
    writer.writerow(LINE_COLUMNS)
    n = 0
    for chunk in _chunks(docs):
        ids = [d["id"] for d in chunk]
        lines: dict[str, list] = {}
        for ln in uow.conn.execute(select(t.sale_lines).where(t.sale_lines.c.sale_id.in_(ids))
                                   .order_by(t.sale_lines.c.line_no)).mappings():
            lines.setdefault(ln["sale_id"], []).append(ln)
        for d in chunk:
            for ln in lines.get(d["id"], []):
                writer.writerow([
                    d["receipt_no"], d["kind"], d["created_at"], ln["enterprise_name"],
                    ln["name"], ln["barcode"] or "", ln["qty"], ln["unit_price"],
                    ln["line_discount"] + ln["receipt_discount"], ln["amount"], ln["tax_class"],
                    ln["sku"] or "", ln["line_no"], d["original_receipt_no"] or "",
                    d["business_day"], d["staff_name"] or ""])
                n += 1
    return n


def _by_receipt(uow: UnitOfWork, writer, docs) -> int:
    methods = list(payment_methods(uow))
    pays: dict[str, dict[str, int]] = {}
    kept: dict[str, int] = {}
    counts: dict[str, int] = {}
    for chunk in _chunks(docs):
        ids = [d["id"] for d in chunk]
        for p in uow.conn.execute(select(t.payments).where(t.payments.c.sale_id.in_(ids))):
            if p.method not in methods:
                methods.append(p.method)
            row = pays.setdefault(p.sale_id, {})
            row[p.method] = row.get(p.method, 0) + p.amount + p.change
            kept[p.sale_id] = kept.get(p.sale_id, 0) + p.tendered - p.amount - p.change
        for sid, c in uow.conn.execute(
                select(t.sale_lines.c.sale_id, t.sale_lines.c.line_no)
                .where(t.sale_lines.c.sale_id.in_(ids))):
            counts[sid] = counts.get(sid, 0) + 1
    writer.writerow([*RECEIPT_HEAD, *(f"pay_{m}" for m in methods), *RECEIPT_TAIL])
    for d in docs:
        p = pays.get(d["id"], {})
        writer.writerow([
            d["receipt_no"], d["kind"], d["created_at"], d["total"], d["taxable_total"],
            d["supply_value"], d["vat"], d["exempt_total"], *(p.get(m, 0) for m in methods),
            d["change"], d["original_receipt_no"] or "", d["business_day"],
            counts.get(d["id"], 0), kept.get(d["id"], 0), d["staff_name"] or ""])
    return len(docs)
