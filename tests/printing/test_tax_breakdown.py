"""One VAT breakdown, in the same words, on every page that shows one: a simplified taxpayer's
(간이과세자) sales are their own figure with a note, never part of a VAT split (the cart had
said `과세 46,000원 · 부가세 1,636원`, the Z a VAT of 6,200 "on" 90,700, the settlement 부가세 0,
none explained)."""

from __future__ import annotations

import csv

from pypdf import PdfReader

from pos import services as svc
from pos.domain import Discount, Tender
from pos.i18n import tr
from pos.services.sales import SaleItem
from printing.decode import decode
from printing.pdf import settlement_pdf, shift_report_pdf
from printing.profiles import profile
from printing.receipt import layout_receipt, receipt_for
from printing.render import render
from printing.reports import layout_shift_report, settlement_csv
from tests.conftest import in_shift

WORDS = {k: tr(k, "ko", context="tax") for k in ("tax_supply", "tax_vat", "tax_simplified",
                                                 "tax_exempt", "tax_simplified_note")}


def mixed_sale(store, stall):
    """Soap ×2 (general, taxable), rice (general, exempt product), brooch ×2 (simplified),
    eggs (exempt enterprise), 1,000 won off the receipt; then the figures worked out here from
    the lines alone: supply = taxable / 1.1 half up, per enterprise."""
    with store.unit_of_work() as uow:
        in_shift(uow)
        doc = svc.record_sale(uow, items=[SaleItem(stall.soap, 2), SaleItem(stall.rice),
                                          SaleItem(stall.brooch, 2), SaleItem(stall.eggs)],
                              tenders=[Tender("cash", 60000)], discount=Discount.amount(1000))
        uow.commit()
    by = {}
    for ln in doc.lines:
        by.setdefault(ln.name, 0)
        by[ln.name] += ln.amount
    taxable = by["수제비누"]
    supply = (taxable * 10 * 2 + 11) // 22  # half up of taxable × 10 / 11
    expected = {"tax_supply": supply, "tax_vat": taxable - supply,
                "tax_simplified": by["자수 브로치"], "tax_exempt": by["무농약 쌀 2kg"] + by["유정란 10구"]}
    assert sum(expected.values()) == doc.totals.total
    return doc, expected


def flat(text: str) -> str:
    """A PDF's extracted text with a table's cells one space apart."""
    return " ".join(text.split())


def rows_with(lines: list[str], words: str) -> list[str]:
    """The printed rows of `words` with an amount at the end (a wrapped note is not one)."""
    return [line for line in lines if line.startswith(words) and line.rstrip()[-1:].isdigit()]


def test_receipt_and_x_report_print_the_same_breakdown(store, stall):
    doc, expected = mixed_sale(store, stall)
    prof = profile("epson-tm-t20-kr")
    with store.unit_of_work(write=False) as uow:
        receipt = decode(render(layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns),
                                prof)).text_lines()
        shift = svc.current_shift(uow)
        f = svc.shift_settlement(uow, shift_id=shift["id"])
    report = decode(render(layout_shift_report(f, kind="x", columns=prof.columns, shift=shift),
                           prof)).text_lines()
    for key, amount in expected.items():  # the report: one row for the whole
        found = rows_with(report, WORDS[key])
        assert len(found) == 1 and found[0].endswith(f"{amount:,}"), (key, found)
    for key, amount in expected.items():  # the joint receipt: a row in each part, adding up
        found = rows_with(receipt, WORDS[key])
        assert found and sum(int(r.split()[-1].replace(",", "")) for r in found) == amount, \
            (key, found)
    for lines in (receipt, report):
        assert WORDS["tax_simplified_note"][:12] in " ".join(lines)  # (wrapped: its start)
    assert (f.tax.supply_value, f.tax.vat, f.tax.simplified_total, f.tax.exempt_total) == tuple(
        expected.values())


def test_z_pdf_settlement_pdf_and_csv_say_the_same(store, stall, tmp_path):
    _doc, expected = mixed_sale(store, stall)
    with store.unit_of_work() as uow:
        shift = svc.current_shift(uow)
        closed, f = svc.close_shift(uow, counted=svc.expected_cash(uow, shift_id=shift["id"]))
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
        labels = {m.code: m.label("ko") for m in svc.payment_methods(uow).values()}
    z = shift_report_pdf(tmp_path / "z.pdf", f, kind="z", shift=closed, method_labels=labels)
    text = flat(PdfReader(z).pages[0].extract_text())
    for key, amount in expected.items():
        assert f"{WORDS[key]} {amount:,}" in text, key
    assert "과세 매출" not in text  # a taxable total with the simplified part in it is gone

    pdf = settlement_pdf(tmp_path / "s.pdf", f, enterprises=enterprises, shift=closed,
                         method_labels=labels)
    pages = {e.name: flat(page.extract_text()) for e, page in zip(f.enterprises, PdfReader(pdf).pages)}
    simplified = pages["손끝공방"]
    assert f"{WORDS['tax_simplified']} {expected['tax_simplified']:,}" in simplified
    assert WORDS["tax_simplified_note"][:10] in simplified
    assert WORDS["tax_supply"] not in simplified and f"{WORDS['tax_vat']} 0" not in simplified
    general = pages["모두의공방"]
    assert f"{WORDS['tax_supply']} {expected['tax_supply']:,}" in general
    assert f"{WORDS['tax_vat']} {expected['tax_vat']:,}" in general
    assert WORDS["tax_simplified_note"][:10] not in general

    settlement_csv(tmp_path / "s.csv", f, enterprises=enterprises, methods=list(labels),
                   method_labels=labels)
    rows = list(csv.DictReader((tmp_path / "s.csv").read_text(encoding="utf-8-sig").splitlines()))
    total = rows[-1]
    for key, column in (("tax_supply", "과세물품가액"), ("tax_vat", "부가세"),
                        ("tax_simplified", "간이과세자 판매분"), ("tax_exempt", "면세물품가액")):
        assert int(total[column]) == expected[key] == sum(int(r[column]) for r in rows[:-1])
