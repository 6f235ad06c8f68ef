"""A4 PDF reports with reportlab: X/Z/day reports with a sales-by-hour chart, and one
settlement statement page per enterprise with signature lines. The Korean font is embedded."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape
from functools import lru_cache
from pathlib import Path

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer,
                                Table, TableStyle)

from pos.settlement import EnterpriseFigures, Settlement
from pos.i18n import tax_note, tax_rows
from pos.money import format_amount
from printing.fonts import receipt_fonts
from printing.reports import title_for, won_text, word

FONT, BOLD = "JangteoKorean", "JangteoKorean-Bold"


@lru_cache(maxsize=1)
def _fonts() -> None:
    regular, bold = receipt_fonts(prefer_system=False)  # the bundled TTF: embeddable everywhere
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))


def _styles():
    _fonts()
    return {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=18, leading=24, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=12, leading=16, spaceBefore=10,
                             spaceAfter=4),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10,
                                textColor=colors.grey),
    }


def _table(rows: list[list], widths: list[float], *, total_row: bool = False,
           align_right_from: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [("FONT", (0, 0), (-1, -1), FONT, 9), ("FONT", (0, 0), (-1, 0), BOLD, 9),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
             ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
             ("ALIGN", (align_right_from, 0), (-1, -1), "RIGHT"),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f8f8f8")]),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if total_row:
        style += [("FONT", (0, -1), (-1, -1), BOLD, 9),
                  ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black)]
    table.setStyle(TableStyle(style))
    return table


_n = format_amount


def _tax_rows(breakdown, lang: str) -> list[list[str]]:
    """The VAT breakdown's rows, in the words of every other page (`pos.i18n.tax_rows`)."""
    return [[words, _n(value)] for words, value in tax_rows(breakdown, lang)]


def hour_chart(f: Settlement, lang: str) -> Drawing:
    hours = list(range(min([h.hour for h in f.hours] + [9]), max([h.hour for h in f.hours] + [18]) + 1))
    by_hour = {h.hour: h.amount for h in f.hours}
    drawing = Drawing(170 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 16 * mm, 8 * mm
    chart.width, chart.height = 150 * mm, 48 * mm
    chart.data = [[by_hour.get(h, 0) for h in hours]]
    chart.categoryAxis.categoryNames = [f"{h}{word('hour', lang)}" for h in hours]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    # the value axis counts in the language's own unit of won (Korean: 만, ten thousand)
    unit = word("chart_unit", lang)
    unit = int(unit) if unit.isdigit() and int(unit) > 0 else 1
    chart.valueAxis.labelTextFormat = lambda v: word("chart_value", lang, value=v / unit)
    chart.valueAxis.valueMin = min(0, min(chart.data[0]))
    chart.bars[0].fillColor = colors.HexColor("#2f7d32")
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    drawing.add(String(0, 58 * mm, word("by_hour", lang), fontName=BOLD, fontSize=10))
    return drawing


def _footer(text: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 10 * mm, text)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{doc.page}")
        canvas.restoreState()
    return draw


def shift_report_pdf(path: Path | str, f: Settlement, *, kind: str, lang: str = "ko",
                     store: dict | None = None, shift: dict | None = None,
                     day: str | None = None, method_labels: dict[str, str] | None = None,
                     printed_at: datetime | None = None) -> Path:
    """An X, Z or day report on A4: totals, VAT, a sales-by-hour chart, and tables by payment
    method, enterprise and product; with the cash count for a shift."""
    s = _styles()
    labels = method_labels or {}
    title = title_for(kind, shift["number"] if shift else None, lang)
    story = [Paragraph(title, s["title"])]
    meta = []
    if store and store.get("name"):
        meta.append(store["name"])
    if store and store.get("till"):
        meta.append(f"{word('till', lang)} {store['till']}")
    if shift:
        meta.append(f"{word('opened', lang)} {shift['opened_at'][:16].replace('T', ' ')}")
        if shift.get("closed_at"):
            meta.append(f"{word('closed', lang)} {shift['closed_at'][:16].replace('T', ' ')}")
        for key in ("opened_by", "closed_by"):
            if shift.get(key):
                meta.append(f"{word(key, lang)} {shift[key]}")
    if day:
        meta.append(f"{word('day', lang)} {day}")
    story.append(Paragraph(escape(" · ".join(meta)), s["body"]))
    story.append(Spacer(1, 4 * mm))
    summary = [[word("amount", lang), ""],
               [word("gross", lang), _n(f.gross)], [word("discounts", lang), _n(-f.discounts)],
               [word("sales_total", lang), _n(f.sales_total)],
               [f"{word('voids', lang)} ({word('count_unit', lang, n=f.void_count)})", _n(f.voids)],
               [f"{word('refunds', lang)} ({word('count_unit', lang, n=f.refund_count)})",
                _n(f.refunds)],
               [word("net", lang), won_text(f.net, lang)]]
    tax = [[word("vat", lang), ""], *_tax_rows(f.tax, lang),
           [word("receipts", lang), word("count_unit", lang, n=f.receipt_count)],
           [word("average", lang), _n(f.average_sale)]]
    story.append(Table([[_table(summary, [45 * mm, 32 * mm], total_row=True),
                         _table(tax, [45 * mm, 32 * mm])]], colWidths=[85 * mm, 85 * mm],
                       style=[("VALIGN", (0, 0), (-1, -1), "TOP")]))
    if tax_note(f.tax, lang):
        story.append(Paragraph(tax_note(f.tax, lang), s["small"]))
    story.append(hour_chart(f, lang))
    rows = [[word("by_method", lang), word("count_unit", lang, n="").strip() or "#",
             word("refunds", lang), word("amount", lang)]]
    rows += [[labels.get(m.method, m.method), str(m.count), _n(m.refund_amount), _n(m.amount)]
             for m in f.methods]
    rows.append(["", "", "", _n(sum(m.amount for m in f.methods))])
    story += [Paragraph(word("by_method", lang), s["h2"]),
              _table(rows, [70 * mm, 25 * mm, 35 * mm, 40 * mm], total_row=True)]
    rows = [[word("enterprise", lang), word("sales", lang), word("refunds", lang),
             word("net", lang), word("rate", lang), word("commission", lang),
             word("payout", lang)]]
    rows += [[e.name, _n(e.sales), _n(e.refunds), _n(e.net), f"{e.commission_bp / 100:g}%",
              _n(e.commission), _n(e.payout)] for e in f.enterprises]
    rows.append(["", _n(sum(e.sales for e in f.enterprises)),
                 _n(sum(e.refunds for e in f.enterprises)), _n(f.net), "",
                 _n(sum(e.commission for e in f.enterprises)),
                 _n(sum(e.payout for e in f.enterprises))])
    story += [Paragraph(word("by_enterprise", lang), s["h2"]),
              _table(rows, [48 * mm, 22 * mm, 20 * mm, 22 * mm, 16 * mm, 20 * mm, 22 * mm],
                     total_row=True)]
    if f.cash is not None:
        c = f.cash
        rows = [[word("cash", lang), ""], [word("float", lang), _n(c.float)],
                [word("cash_taken", lang), _n(c.cash_taken)],
                [word("change_given", lang), _n(-c.change_given)],
                [word("cash_refunds", lang), _n(-c.cash_refunds)],
                [word("cash_in", lang), _n(c.cash_in)], [word("cash_out", lang), _n(-c.cash_out)],
                [word("expected", lang), _n(c.expected)]]
        if c.counted is not None:
            rows += [[word("counted", lang), _n(c.counted)],
                     [word("difference", lang), won_text(c.difference, lang)]]
        cash = [Paragraph(word("cash", lang), s["h2"]),
                _table(rows, [60 * mm, 40 * mm], total_row=c.counted is not None)]
        if c.counted is not None and shift and shift.get("difference_reason"):
            cash.append(Paragraph(f"{word('difference_reason', lang)}: "
                                  f"{escape(shift['difference_reason'])}", s["body"]))
        story += [KeepTogether(cash)]
    story += _staff_table(f, s, lang)
    rows = [[word("product", lang), word("enterprise", lang), word("qty", lang),
             word("amount", lang)]]
    rows += [[p.name, p.enterprise_name, str(p.qty), _n(p.amount)] for p in f.products]
    story += [Paragraph(word("by_product", lang), s["h2"]),
              _table(rows, [70 * mm, 55 * mm, 15 * mm, 30 * mm], align_right_from=2)]
    footer = f"Jangteo · {title} · {(printed_at or datetime.now()).strftime('%Y-%m-%d %H:%M')}"
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm, title=title,
                            author=(store or {}).get("name", "Jangteo"))
    doc.build(story, onFirstPage=_footer(footer), onLaterPages=_footer(footer))
    return Path(path)


def settlement_pdf(path: Path | str, f: Settlement, *, enterprises: dict[str, dict],
                   lang: str = "ko", store: dict | None = None, shift: dict | None = None,
                   day: str | None = None, method_labels: dict[str, str] | None = None,
                   printed_at: datetime | None = None, notes: list[str] | None = None) -> Path:
    """One page per enterprise: identity, what it sold and got back, totals by payment method,
    VAT, commission, payout, and lines for both signatures. `notes`: lines said under the
    period on every page (a stall's settlement: how far each till is in it)."""
    s = _styles()
    labels = method_labels or {}
    story = []
    period = []
    if shift:
        period.append(f"{word('shift', lang)} #{shift['number']} "
                      f"{shift['opened_at'][:16].replace('T', ' ')} – "
                      f"{(shift.get('closed_at') or '')[:16].replace('T', ' ')}")
    if day:
        period.append(f"{word('day', lang)} {day}")
    period += list(notes or [])
    for k, e in enumerate(f.enterprises):
        if k:
            story.append(PageBreak())
        story += _statement(e, f, enterprises.get(e.enterprise_id, {}), s, lang, store, period,
                            labels)
    if f.staff:  # the stall's own page: who recorded what
        if story:
            story.append(PageBreak())
        story += [Paragraph(escape(f"{word('settlement_title', lang)} — {word('by_staff', lang)}"),
                            s["title"])]
        story += [Paragraph(escape(" · ".join(period)), s["body"])] if period else []
        story += _staff_table(f, s, lang)
    if not story:
        story.append(Paragraph(word("none", lang), s["body"]))
    return _build(path, story, word("settlement_title", lang), printed_at)


def _staff_table(f: Settlement, s, lang: str) -> list:
    """Sales, returns, net and cash by the person who recorded them (staff accounts on)."""
    if not f.staff:
        return []
    rows = [[word("staff", lang), word("receipts", lang), word("sales", lang),
             word("returns", lang), word("net", lang), word("staff_cash", lang)]]
    rows += [[p.name, str(p.receipts), _n(p.sales), _n(p.returns), _n(p.net), _n(p.cash)]
             for p in f.staff]
    rows.append(["", str(sum(p.receipts for p in f.staff)), _n(sum(p.sales for p in f.staff)),
                 _n(sum(p.returns for p in f.staff)), _n(sum(p.net for p in f.staff)),
                 _n(sum(p.cash for p in f.staff))])
    return [KeepTogether([Paragraph(word("by_staff", lang), s["h2"]),
                          _table(rows, [45 * mm, 20 * mm, 27 * mm, 27 * mm, 27 * mm, 27 * mm],
                                 total_row=True)])]


def _statement(e: EnterpriseFigures, f: Settlement, info: dict, s, lang, store, period,
               labels) -> list:
    story = [Paragraph(escape(f"{word('settlement_title', lang)} — {e.name}"), s["title"])]
    if store and store.get("name"):
        story.append(Paragraph(escape(store["name"]), s["body"]))
    if store and store.get("till"):
        story.append(Paragraph(escape(f"{word('till', lang)} {store['till']}"), s["body"]))
    story += [Paragraph(escape(p), s["body"]) for p in period]
    ident = [[word("enterprise", lang), e.name], [word("bizno", lang), info.get("bizno") or "—"],
             [word("representative", lang), info.get("representative") or "—"],
             [word("address", lang), info.get("address") or "—"],
             [word("phone", lang), info.get("phone") or "—"]]
    story += [Spacer(1, 3 * mm), _table(ident, [40 * mm, 130 * mm], align_right_from=9)]
    rows = [[word("product", lang), word("qty", lang), word("qty_returned", lang),
             word("sales", lang), word("refunds", lang), word("net", lang)]]
    mine = [p for p in f.products if p.enterprise_id == e.enterprise_id]
    rows += [[p.name, str(p.qty_sold), str(p.qty_returned), _n(p.amount_sold),
              _n(p.amount_returned), _n(p.amount)] for p in sorted(mine, key=lambda p: p.name)]
    rows.append(["", str(e.qty_sold), str(e.qty_returned), _n(e.sales), _n(e.refunds),
                 _n(e.net)])
    story += [Paragraph(word("by_product", lang), s["h2"]),
              _table(rows, [62 * mm, 16 * mm, 16 * mm, 26 * mm, 24 * mm, 26 * mm],
                     total_row=True)]
    goods = [g for g in f.stock if g.enterprise_id == e.enterprise_id]
    if goods:  # what the enterprise brought, what it takes back, what went missing
        rows = [[word("product", lang), word("stock_received", lang), word("stock_sold", lang),
                 word("stock_returned", lang), word("stock_missing", lang),
                 word("stock_left", lang)]]
        rows += [[g.name, str(g.received), str(g.sold), str(g.returned), str(g.missing),
                  "" if g.stock is None else str(g.stock)] for g in goods]
        story += [Paragraph(word("stock_title", lang), s["h2"]),
                  _table(rows, [62 * mm, 22 * mm, 22 * mm, 22 * mm, 20 * mm, 22 * mm])]
    rows = [[word("by_method", lang), word("amount", lang)]]
    rows += [[labels.get(m, m), _n(v)] for m, v in e.by_method.items()]
    rows.append(["", _n(sum(e.by_method.values()))])
    totals = [[word("amount", lang), ""], [word("net", lang), _n(e.net)],
              *_tax_rows(e.tax, lang),
              *([[word("cash_receipts", lang), _n(e.cash_receipts)]] if e.cash_receipts else []),
              [f"{word('commission', lang)} ({e.commission_bp / 100:g}%)", _n(-e.commission)],
              [word("payout", lang), won_text(e.payout, lang)]]
    story += [Spacer(1, 4 * mm),
              Table([[_table(rows, [45 * mm, 32 * mm], total_row=True),
                      _table(totals, [45 * mm, 32 * mm], total_row=True)]],
                    colWidths=[85 * mm, 85 * mm], style=[("VALIGN", (0, 0), (-1, -1), "TOP")])]
    if tax_note(e.tax, lang):
        story.append(Paragraph(tax_note(e.tax, lang), s["small"]))
    sign = Table([[word("sign_stall", lang), "", word("sign_enterprise", lang), ""],
                  ["", word("seal", lang), "", word("seal", lang)]],
                 colWidths=[30 * mm, 55 * mm, 30 * mm, 55 * mm], rowHeights=[14 * mm, 6 * mm])
    sign.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 9),
                              ("LINEBELOW", (1, 0), (1, 0), 0.6, colors.black),
                              ("LINEBELOW", (3, 0), (3, 0), 0.6, colors.black),
                              ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
                              ("ALIGN", (1, 1), (-1, 1), "RIGHT"),
                              ("TEXTCOLOR", (0, 1), (-1, 1), colors.grey)]))
    story += [Spacer(1, 14 * mm), sign]
    return story


def vat_pdf(path: Path | str, rows, *, lang: str = "ko", store: dict | None = None,
            rules=None, printed_at: datetime | None = None) -> Path:
    """The VAT filing figures (`pos.vat.VatFigures`), one page per enterprise: who, the period,
    taxable and exempt sales (with supply value and VAT for a general taxpayer; a simplified
    taxpayer's taxable sales are not split), and how the money came as the return's card-slip
    summary asks: card, cash receipts issued, those still to issue, other cash, vouchers."""
    from pos.domain import TaxBreakdown
    from pos.korea_rules import Rules

    rules = rules or Rules()
    s = _styles()
    story: list = []
    for k, f in enumerate(rows):
        if k:
            story.append(PageBreak())
        story.append(Paragraph(escape(f"{word('vat_title', lang)} — {f.name}"), s["title"]))
        story.append(Paragraph(escape(f"{word('period', lang)} {f.day_from} – {f.day_to}"),
                               s["body"]))
        if store and store.get("name"):
            story.append(Paragraph(escape(f"{word('vat_stall', lang)} {store['name']}"),
                                   s["body"]))
        ident = [[word("enterprise", lang), f.name], [word("bizno", lang), f.bizno or "—"],
                 [word("representative", lang), f.representative or "—"],
                 [word("vat_tax_status", lang), word(f"vat_status_{f.tax_status}", lang)]]
        story += [Spacer(1, 3 * mm), _table(ident, [45 * mm, 125 * mm], align_right_from=9)]
        simplified = f.taxable_total if f.tax_status == "simplified" else 0
        tax = TaxBreakdown.of(supply_value=f.supply_value, vat=f.vat,
                              exempt_total=f.exempt_total, simplified_total=simplified)
        sales = [[word("vat_sales_head", lang), word("amount", lang)],
                 [word("sales", lang), _n(f.sales)], [word("refunds", lang), _n(f.refunds)],
                 [word("net", lang), _n(f.net)],
                 [word("taxable_total", lang), _n(f.taxable_total)], *_tax_rows(tax, lang)]
        money = [[word("vat_money_head", lang), word("amount", lang)],
                 [word("vat_card", lang), _n(f.card)],
                 [word("vat_cash_receipts_issued", lang, count=f.receipts_issued_count),
                  _n(f.cash_receipts_issued)],
                 [word("vat_cash_receipts_waiting", lang, count=f.receipts_waiting_count),
                  _n(f.cash_receipts_waiting)],
                 [word("vat_other_cash", lang), _n(f.other_cash)],
                 [word("vat_vouchers", lang), _n(f.vouchers)]]
        if f.tokens:
            money.append([word("vat_tokens", lang), _n(f.tokens)])
        money.append(["", _n(f.card + f.cash_like + f.vouchers + f.tokens)])
        story += [Spacer(1, 4 * mm),
                  Table([[_table(sales, [50 * mm, 30 * mm]),
                          _table(money, [55 * mm, 30 * mm], total_row=True)]],
                        colWidths=[85 * mm, 90 * mm],
                        style=[("VALIGN", (0, 0), (-1, -1), "TOP")])]
        notes = [word("vat_note_netted", lang)]
        if tax_note(tax, lang):
            notes.append(tax_note(tax, lang))
        if f.tax_status == "simplified":
            notes.append(word("vat_note_simplified", lang, max=won_text(rules.simplified_max, lang),
                              invoice=won_text(rules.simplified_invoice_min, lang)))
        if f.tax_status == "exempt":
            notes.append(word("vat_note_exempt", lang))
        if len(f.statuses) > 1:
            notes.insert(0, word("vat_note_mixed", lang, statuses=" → ".join(
                word(f"vat_status_{x}", lang) for x in f.statuses)))
        if f.receipts_waiting_count:
            notes.append(word("vat_note_waiting", lang, count=f.receipts_waiting_count,
                              amount=won_text(f.cash_receipts_waiting, lang)))
        notes.append(word("vat_note_check", lang))
        story += [Spacer(1, 3 * mm)] + [Paragraph(escape(n), s["small"]) for n in notes]
    if not story:
        story.append(Paragraph(word("none", lang), s["body"]))
    return _build(path, story, word("vat_title", lang), printed_at)


def _build(path: Path | str, story: list, title: str, printed_at: datetime | None) -> Path:
    """An A4 PDF of `story`, with the title, the time it was made and the page number in
    every page's footer."""
    footer = f"Jangteo · {title} · {(printed_at or datetime.now()).strftime('%Y-%m-%d %H:%M')}"
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm, title=title)
    doc.build(story, onFirstPage=_footer(footer), onLaterPages=_footer(footer))
    return Path(path)
