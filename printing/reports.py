"""Shift reports (X: any time; Z: at close, numbered) and the per-enterprise settlement, on the
thermal printer (layout items for `render`) and as CSV. PDFs are in `printing.pdf`."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from pos.export import SafeWriter
from pos.settlement import Settlement
from pos.i18n import tr
from pos.money import format_amount
from printing.layout import Feed, Item, Measure, Row, Rule, fit, heading
from printing.receipt import tax_items

def word(key: str, lang: str, /, **params) -> str:
    """A report's words, from the message catalogue (context "report")."""
    return tr(key, lang, context="report", **params)


def won_text(amount: int, lang: str) -> str:
    from pos.money import format_won

    return format_won(amount, lang)


_n = format_amount


def title_for(kind: str, number: int | None, lang: str) -> str:
    title = word(f"{kind}_title", lang)
    return f"{title} #{number}" if number is not None and kind in ("x", "z") else title


def layout_shift_report(f: Settlement, *, kind: str, columns: int | Measure, lang: str = "ko",
                        store: dict | None = None, shift: dict | None = None,
                        method_labels: dict[str, str] | None = None,
                        printed_at: datetime | None = None) -> list[Item]:
    """An X, Z or day report for the thermal printer; `columns` as `layout_receipt`'s measure
    (`printing.render.measure_for(profile)`, or a number of columns)."""
    labels = method_labels or {}
    out: list[Item] = heading(title_for(kind, shift["number"] if shift else None, lang), columns)
    if store and store.get("name"):
        out += [Row(r.left, align="center") for r in fit(store["name"], "", columns)]
    if store and store.get("till"):  # which till: a stall's tills each make their own
        out.append(Row(word("till", lang), store["till"]))
    if shift:
        out.append(Row(word("opened", lang), shift["opened_at"][:16].replace("T", " ")))
        if shift.get("closed_at"):
            out.append(Row(word("closed", lang), shift["closed_at"][:16].replace("T", " ")))
        for key in ("opened_by", "closed_by"):
            if shift.get(key):
                out += fit(word(key, lang), shift[key], columns)
    if printed_at:
        out.append(Row(word("printed", lang), printed_at.strftime("%Y-%m-%d %H:%M")))
    out.append(Rule("="))
    out += [Row(word("gross", lang), _n(f.gross)),
            Row(word("discounts", lang), _n(-f.discounts)),
            Row(word("sales_total", lang), _n(f.sales_total)),
            Row(f"{word('voids', lang)} ({word('count_unit', lang, n=f.void_count)})", _n(f.voids)),
            Row(f"{word('refunds', lang)} ({word('count_unit', lang, n=f.refund_count)})",
                _n(f.refunds))]
    out += fit(word("net", lang), _n(f.net), columns, bold=True, double=True)
    out.append(Rule())
    out += tax_items(f.tax, lang, columns)
    out += [Rule(), Row(word("by_method", lang), bold=True)]
    for m in f.methods:
        name = labels.get(m.method, m.method)
        out += fit(f"{name} ({word('count_unit', lang, n=m.count)})", _n(m.amount), columns)
    out += [Rule(), Row(word("by_enterprise", lang), bold=True)]
    for e in f.enterprises:
        out += fit(e.name, _n(e.net), columns)
        if e.commission:
            out.append(Row(f"  {word('commission', lang)} {e.commission_bp / 100:g}%",
                           _n(-e.commission)))
            out.append(Row(f"  {word('payout', lang)}", _n(e.payout)))
    if f.cash is not None:
        c = f.cash
        out += [Rule(), Row(word("cash", lang), bold=True),
                Row(word("float", lang), _n(c.float)),
                Row(word("cash_taken", lang), _n(c.cash_taken)),
                Row(word("change_given", lang), _n(-c.change_given)),
                Row(word("cash_refunds", lang), _n(-c.cash_refunds)),
                Row(word("cash_in", lang), _n(c.cash_in)),
                Row(word("cash_out", lang), _n(-c.cash_out)),
                Row(word("expected", lang), _n(c.expected), bold=True)]
        if c.counted is not None:
            out += [Row(word("counted", lang), _n(c.counted)),
                    Row(word("difference", lang), f"{c.difference:+,}" if c.difference else "0",
                        bold=True)]
            if shift and shift.get("difference_reason"):
                out += fit(f"{word('difference_reason', lang)}: {shift['difference_reason']}", "",
                           columns)
    if f.staff:  # who recorded what, and the cash through their hands
        out += [Rule(), Row(word("by_staff", lang), bold=True)]
        for person in f.staff:
            out += fit(f"{person.name} ({word('count_unit', lang, n=person.receipts)})",
                       _n(person.net), columns)
            if person.returns:
                out.append(Row(f"  {word('returns', lang)}", _n(person.returns)))
            out.append(Row(f"  {word('staff_cash', lang)}", _n(person.cash)))
    out += [Rule(), Row(word("receipts", lang), word("count_unit", lang, n=f.receipt_count)),
            Row(word("average", lang), _n(f.average_sale)), Feed(2)]
    return out


def settlement_csv(path: Path | str, f: Settlement, *, enterprises: dict[str, dict],
                   methods: list[str], lang: str = "ko",
                   method_labels: dict[str, str] | None = None) -> int:
    """One row per enterprise, UTF-8 with BOM; the last row is the stall's total. The header
    is in the report's language (an office opens it in a spreadsheet); a payment method's
    column is its label (`method_labels`), else its code. The VAT columns are the breakdown
    every other page shows: a simplified taxpayer's sales in their own column."""
    labels = method_labels or {}
    columns = [word(f"csv_{c}", lang) for c in (
        "enterprise", "bizno", "representative", "sales", "refunds", "net", "commission_rate",
        "commission", "payout")]
    columns += [labels.get(m, m) for m in methods]
    columns += [word(f"csv_{c}", lang) for c in ("supply", "vat", "simplified", "exempt",
                                                 "qty_sold", "qty_returned", "cash_receipts")]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = SafeWriter(fh)  # an enterprise's name never runs as a formula
        w.writerow(columns)
        for e in f.enterprises:
            info = enterprises.get(e.enterprise_id, {})
            w.writerow([e.name, info.get("bizno") or "", info.get("representative", ""), e.sales,
                        e.refunds, e.net, f"{e.commission_bp / 100:g}", e.commission, e.payout,
                        *(e.by_method.get(m, 0) for m in methods), e.tax.supply_value,
                        e.vat, e.simplified_total, e.exempt_total, e.qty_sold, e.qty_returned,
                        e.cash_receipts])
        w.writerow([word("csv_total", lang), "", "", sum(e.sales for e in f.enterprises),
                    sum(e.refunds for e in f.enterprises), f.net, "",
                    sum(e.commission for e in f.enterprises), sum(e.payout for e in f.enterprises),
                    *(sum(e.by_method.get(m, 0) for e in f.enterprises) for m in methods),
                    sum(e.tax.supply_value for e in f.enterprises),
                    sum(e.vat for e in f.enterprises),
                    sum(e.simplified_total for e in f.enterprises),
                    sum(e.exempt_total for e in f.enterprises),
                    sum(e.qty_sold for e in f.enterprises),
                    sum(e.qty_returned for e in f.enterprises),
                    sum(e.cash_receipts for e in f.enterprises)])
    return len(f.enterprises)
