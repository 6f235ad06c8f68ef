"""The VAT return figures (`jangteo report vat`): per enterprise and period, refunds netted,
taxable and exempt sales, card, cash receipts issued and still to issue, other cash and
vouchers, in a PDF read back as text and a CSV read back as numbers."""

from __future__ import annotations

import csv
from dataclasses import replace

import pypdfium2 as pdfium

from pos import services as svc
from pos.domain import Discount, Tender
from pos.services import cash_receipts as cr
from pos.vat import CSV_COLUMNS, vat_csv, vat_figures
from printing.pdf import vat_pdf
from tests.conftest import in_shift
from tests.printing.test_reports import pages_to_png


def pdf_text(path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def a_market_day(store, stall):
    """A joint sale with a discount paid by card and cash with a cash receipt (one issued), a
    voucher sale, a card sale, and a refund of one line paid back in cash."""
    with store.unit_of_work() as uow:
        in_shift(uow)
        joint = svc.record_sale(
            uow, items=[svc.SaleItem(stall.candle, 2), svc.SaleItem(stall.brooch),
                        svc.SaleItem(stall.eggs, 2), svc.SaleItem(stall.rice)],
            tenders=[Tender("card", 20_000, approval_no="1"), Tender("cash", 50_000)],
            discount=Discount.percent("5"), cash_receipt=cr.Ask("010-2345-6789"))
        svc.record_sale(uow, items=[svc.SaleItem(stall.brooch)],
                        tenders=[Tender("onnuri", 15_000, face_value=5_000, count=3)])
        svc.record_sale(uow, items=[svc.SaleItem(stall.soap, 3)], tenders=[Tender("card", 9000)])
        uow.commit()
    general = next(r for r in joint.cash_receipts if r.enterprise_id == stall.general)
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=general.id, approval_no="777")
        eggs = next(ln for ln in joint.lines if ln.enterprise_id == stall.exempt)
        refund = svc.refund_sale(uow, sale_id=joint.id, quantities={eggs.line_no: 1},
                                 method="cash")
        uow.commit()
    return joint, refund


def test_each_enterprises_figures_add_up_and_net_the_refunds(store, stall):
    joint, refund = a_market_day(store, stall)
    with store.unit_of_work(write=False) as uow:
        rows = {f.name: f for f in vat_figures(uow, day_from="2026-11-21", day_to="2026-11-21")}
        day = svc.day_settlement(uow, day="2026-11-21")
    assert set(rows) == {"모두의공방", "손끝공방", "늘푸른농장"}
    for f in rows.values():
        assert f.card + f.cash_like + f.vouchers + f.tokens == f.net
        assert f.taxable_total + f.exempt_total == f.net
    by_name = {e.name: e for e in day.enterprises}
    for name, f in rows.items():  # the same figures as the day's settlement
        assert (f.net, f.taxable_total, f.exempt_total) == (
            by_name[name].net, by_name[name].taxable_total, by_name[name].exempt_total)
    general, simplified, exempt = rows["모두의공방"], rows["손끝공방"], rows["늘푸른농장"]
    issued = next(r for r in joint.cash_receipts if r.enterprise_id == stall.general)
    assert general.cash_receipts_issued == issued.amount and general.receipts_issued_count == 1
    assert general.supply_value + general.vat == general.taxable_total and general.vat > 0
    assert general.exempt_total > 0  # its rice is exempt although it is a general taxpayer
    assert simplified.vat == 0 and simplified.vouchers == 13_000  # ₩2,000 back in change
    eggs_refunded = -refund.totals.total
    eggs_sold = sum(ln.amount for ln in joint.lines if ln.enterprise_id == stall.exempt)
    assert exempt.exempt_total == eggs_sold - eggs_refunded and exempt.taxable_total == 0
    (eggs_request,) = [r for r in joint.cash_receipts if r.enterprise_id == stall.exempt]
    (kept,) = refund.cash_receipts  # not issued yet: one request for what the customer kept
    assert kept.kind == "issue" and kept.amount < eggs_request.amount
    assert exempt.cash_receipts_waiting == kept.amount
    with store.unit_of_work(write=False) as uow:  # one enterprise by its registration number
        (only,) = vat_figures(uow, day_from="2026-11-01", day_to="2026-11-30",
                              enterprise="2208162517")
    assert only == replace(general, day_from="2026-11-01", day_to="2026-11-30")


def test_the_pdf_and_csv_say_the_same_figures(store, stall, tmp_path):
    a_market_day(store, stall)
    with store.unit_of_work(write=False) as uow:
        rows = vat_figures(uow, day_from="2026-11-21", day_to="2026-11-21")
    vat_csv(tmp_path / "vat.csv", rows)
    with open(tmp_path / "vat.csv", encoding="utf-8-sig", newline="") as fh:
        back = list(csv.DictReader(fh))
    assert tuple(back[0]) == CSV_COLUMNS and len(back) == len(rows)
    for row, f in zip(back, rows):
        assert row["enterprise"] == f.name
        assert [int(row[c]) for c in ("net", "taxable_total", "exempt_total", "card",
                                       "cash_receipts_issued", "cash_receipts_waiting",
                                       "other_cash", "vouchers")] == [
            f.net, f.taxable_total, f.exempt_total, f.card, f.cash_receipts_issued,
            f.cash_receipts_waiting, f.other_cash, f.vouchers]
    vat_pdf(tmp_path / "vat.pdf", rows, lang="ko", store={"name": "서울역 이음공간"})
    pages = pdf_text(tmp_path / "vat.pdf")
    pages_to_png(tmp_path / "vat.pdf", "vat-ko")
    assert len(pages) == 3
    for page, f in zip(pages, rows):
        assert "부가가치세 신고 자료" in page and f.name in page and "2026-11-21" in page
        assert f"{f.net:,}" in page and f"{f.card:,}" in page
    simplified = next(p for p, f in zip(pages, rows) if f.tax_status == "simplified")
    assert "간이과세자" in simplified and "104,000,000원" in simplified
    assert "48,000,000원" in simplified
    waiting = next(p for p, f in zip(pages, rows) if f.cash_receipts_waiting)
    assert "발급 대기" in waiting


def test_the_command_line_writes_both(tmp_path):
    import os
    import subprocess
    import sys

    from pos.store import Store
    from tests.conftest import ROOT

    def jangteo(*args):  # the whole command, printing's commands with it
        env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
               "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]}
        return subprocess.run([sys.executable, "-m", "ui.main", *args], cwd=ROOT,
                              capture_output=True, text=True, env=env)

    data = tmp_path / "till"
    with Store(data) as store, store.unit_of_work() as uow:
        firm = svc.add_enterprise(uow, name="모두의공방", bizno="220-81-62517")
        svc.add_product(uow, name="수제비누", price=3000, enterprise_id=firm, sku="SOAP")
        uow.commit()
    d = ("--data-dir", str(data))
    jangteo(*d, "shift", "open", "--float", "0")
    jangteo(*d, "sell", "--item", "SOAP:2", "--pay", "cash", "--cash-receipt", "01023456789")
    from datetime import date

    today = date.today().isoformat()
    out = jangteo(*d, "--lang", "en", "report", "vat", "--from", today, "--to", today,
                  "--pdf", str(tmp_path / "v.pdf"), "--csv", str(tmp_path / "v.csv"))
    assert out.returncode == 0, out.stderr
    assert "모두의공방: taxable ₩6,000 · exempt ₩0 · card ₩0 · cash receipts ₩0" in out.stdout
    assert "1 cash receipt (request or cancellation) still to issue, net ₩6,000" in out.stderr
    assert (tmp_path / "v.pdf").stat().st_size > 1000 and (tmp_path / "v.csv").exists()
    bad = jangteo(*d, "--lang", "en", "report", "vat", "--from", today, "--to", "2020-01-01")
    assert bad.returncode == 1 and "The period is reversed" in bad.stderr


def test_the_servers_way_from_documents_gives_the_tills_figures(store, stall):
    """The organizer's server has documents, not the till's tables: `from_documents` over the
    same documents gives the same figures as the till's SQL sums."""
    from pos.vat import from_documents

    a_market_day(store, stall)
    with store.unit_of_work(write=False) as uow:
        mine = vat_figures(uow, day_from="2026-11-21", day_to="2026-11-21")
        docs = [svc.get_document(uow, sale_id=r["id"]) for r in svc.list_documents(uow)]
        receipts = [(r.enterprise_name, r.kind, r.state, r.amount)
                    for r in cr.list_requests(uow)]
        info = {e["name"]: e for e in svc.list_enterprises(uow)}
    theirs = from_documents(docs, receipts, cash_like_kinds=("cash", "transfer"),
                            day_from="2026-11-21", day_to="2026-11-21", info=info)
    assert [replace(f, enterprise_id=f.name) for f in mine] == theirs


def test_a_tax_type_changed_in_the_period_is_said(store, stall, clock, tmp_path):
    """간이 → 일반 on 7-01 is usual: one row for the period would mix the two returns, so the
    figures say which types the sales carried, in order, and the page asks for two periods."""
    from datetime import timedelta

    from pos.vat import from_documents

    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        svc.record_sale(uow, items=[svc.SaleItem(stall.brooch)], tenders=[Tender("cash", 13_000)])
        uow.commit()
    clock.advance(timedelta(days=1))
    with store.unit_of_work() as uow:
        svc.update_enterprise(uow, enterprise_id=stall.simplified, tax_status="general")
        in_shift(uow, daily=True)
        svc.record_sale(uow, items=[svc.SaleItem(stall.brooch)], tenders=[Tender("cash", 13_000)])
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        (f,) = vat_figures(uow, day_from="2026-11-21", day_to="2026-11-22",
                           enterprise="손끝공방")
        docs = [svc.get_document(uow, sale_id=r["id"]) for r in svc.list_documents(uow)]
    assert f.statuses == ("simplified", "general") and f.tax_status == "general"
    (theirs,) = from_documents(docs, [], cash_like_kinds=("cash",), day_from="2026-11-21",
                               day_to="2026-11-22")
    assert theirs.statuses == f.statuses and theirs.tax_status == "general"
    vat_pdf(tmp_path / "v.pdf", [f], lang="ko")
    assert "과세유형이 바뀌었습니다 (간이과세자 → 일반과세자)" in " ".join(
        pdf_text(tmp_path / "v.pdf")[0].split())
