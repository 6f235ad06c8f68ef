"""Z report and settlement statements as PDF (text extracted, pages rendered) and CSV."""

from __future__ import annotations

import os
import csv
import subprocess
import sys

import pypdfium2 as pdfium
from pypdf import PdfReader

from pos import services as svc
from pos.demo import run_demo
from printing.decode import decode
from printing.pdf import settlement_pdf, shift_report_pdf
from printing.profiles import profile
from printing.render import render
from printing.reports import layout_shift_report, settlement_csv
from tests.conftest import ROOT, manager_and_cashier

ARTIFACTS = ROOT / "test-artifacts" / "pdf"


def pages_to_png(pdf_path, name: str) -> list:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = pdfium.PdfDocument(str(pdf_path))
    out = []
    for i in range(len(pdf)):
        path = ARTIFACTS / f"{name}-{i + 1}.png"
        pdf[i].render(scale=1.5).to_pil().save(path)
        out.append(path)
    pdf.close()
    return out


def closed_demo_shift(store):
    run_demo(store, sales=120, seed=3)
    with store.unit_of_work() as uow:
        shift = svc.current_shift(uow)
        expected = svc.shift_settlement(uow, shift_id=shift["id"]).cash.expected
        closed, figures = svc.close_shift(uow, counted=expected - 1000)
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
        labels = {m.code: m.label("ko") for m in svc.payment_methods(uow).values()}
        identity = svc.get_setting(uow, "store", {})
    return closed, figures, enterprises, labels, identity


def test_z_report_pdf_has_the_totals_and_hangul(store, tmp_path):
    closed, f, enterprises, labels, identity = closed_demo_shift(store)
    path = shift_report_pdf(tmp_path / "z.pdf", f, kind="z", store=identity, shift=closed,
                            method_labels=labels)
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "Z 마감 보고서 #1" in text and identity["name"] in text
    assert f"{f.net:,}원" in text and f"{f.vat:,}" in text
    for e in f.enterprises:
        assert e.name in text and f"{e.payout:,}" in text
    assert "현금" in text and "카드" in text and "-1,000원" in text
    assert "시간대별 매출" in text
    fonts = {str(font) for page in PdfReader(path).pages
             for font in (page["/Resources"]["/Font"].values())}
    assert fonts  # fonts are embedded (subset TrueType)
    pngs = pages_to_png(path, "z-report")
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)


def test_settlement_pdf_one_page_per_enterprise_and_csv_adding_up(store, tmp_path):
    closed, f, enterprises, labels, identity = closed_demo_shift(store)
    path = settlement_pdf(tmp_path / "s.pdf", f, enterprises=enterprises, store=identity,
                          shift=closed, method_labels=labels)
    reader = PdfReader(path)
    assert len(reader.pages) == len(f.enterprises) >= 5
    for page, e in zip(reader.pages, f.enterprises):
        text = page.extract_text()
        assert e.name in text and enterprises[e.enterprise_id]["bizno"] in text
        assert f"{e.payout:,}원" in text and f"{e.net:,}" in text
        assert "판매장 확인" in text and "업체 확인" in text
    pages_to_png(path, "settlement")
    settlement_csv(tmp_path / "s.csv", f, enterprises=enterprises, methods=list(labels),
                   method_labels=labels)
    text = (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("업체,사업자등록번호,대표자,")  # the office reads Korean
    rows = list(csv.DictReader(text.splitlines()))
    body, total = rows[:-1], rows[-1]
    assert total["업체"] == "합계"
    assert sum(int(r["순매출"]) for r in body) == f.net == int(total["순매출"])
    assert sum(int(r["지급액"]) + int(r["수수료"]) for r in body) == f.net
    for r in body:
        assert sum(int(r[labels[m]]) for m in labels) == int(r["순매출"])
        assert (int(r["과세물품가액"]) + int(r["부가세"]) + int(r["간이과세자 판매분"])
                + int(r["면세물품가액"])) == int(r["순매출"])


def test_x_report_on_paper_decodes_to_the_figures(store):
    run_demo(store, sales=40, seed=4)
    with store.unit_of_work(write=False) as uow:
        shift = svc.current_shift(uow)
        f = svc.shift_settlement(uow, shift_id=shift["id"])
    prof = profile("generic-58-text")
    lines = decode(render(layout_shift_report(f, kind="x", columns=prof.columns, shift=shift),
                          prof)).text_lines()
    assert any("X 중간 보고서 #1" in line for line in lines)
    assert any(line.startswith("예상 현금") and f"{f.cash.expected:,}" in line for line in lines)
    assert all(len(line.encode("euc_kr")) <= prof.columns for line in lines)


def jangteo(data, *args):
    return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(data), "--lang", "ko",
                           *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]})


def test_close_the_day_from_the_command_line(tmp_path):
    data = tmp_path / "d"
    assert jangteo(data, "demo", "--sales", "60").returncode == 0
    from pos.store import Store

    with Store(data) as till:  # the code the organizer's server gave it: every report says it
        assert till.take_device_code("B03")
    status = jangteo(data, "shift", "status")
    assert "교대 #1" in status.stdout  # the demo leaves its shift open
    assert jangteo(data, "shift", "cash", "--out", "5000", "--reason", "포장재").returncode == 0
    x = jangteo(data, "report", "x", "--pdf", str(tmp_path / "x.pdf"))
    assert x.returncode == 0, x.stderr
    z_early = jangteo(data, "report", "z")
    assert z_early.returncode == 1 and "교대" in z_early.stderr
    close = jangteo(data, "shift", "close", "--count", "50000=1,10000=3,1000=7,500=1",
                    "--reason", "잔돈 교환 후 셈")
    assert close.returncode == 0 and "마감" in close.stdout
    z = jangteo(data, "report", "z", "--shift", "last", "--pdf", str(tmp_path / "z.pdf"),
                "--print", "--printer", f"file://{tmp_path / 'z.bin'}", "--profile",
                "generic-58-text")
    assert z.returncode == 0, z.stderr
    paper = decode((tmp_path / "z.bin").read_bytes()).text_lines()
    assert any("Z 마감 보고서 #1" in line for line in paper)
    assert any(line.startswith("단말") and line.endswith("B03") for line in paper), paper
    assert "단말 B03" in "".join(p.extract_text() for p in PdfReader(tmp_path / "z.pdf").pages)
    s = jangteo(data, "report", "settlement", "--pdf", str(tmp_path / "s.pdf"), "--csv",
                str(tmp_path / "s.csv"))
    assert s.returncode == 0 and (tmp_path / "s.csv").exists()
    assert all("단말 B03" in page.extract_text() for page in PdfReader(tmp_path / "s.pdf").pages)
    from datetime import datetime

    today = datetime.now().astimezone().date().isoformat()
    day = jangteo(data, "report", "day", "--date", today, "--pdf", str(tmp_path / "day.pdf"))
    assert day.returncode == 0
    assert "일일 보고서" in "".join(p.extract_text() for p in PdfReader(tmp_path / "day.pdf").pages)
    bad = jangteo(data, "shift", "close", "--count", "1000=3")
    assert bad.returncode == 1 and "열린 교대가 없습니다" in bad.stderr
    assert jangteo(data, "check").returncode == 0


def test_the_z_and_the_settlement_say_what_each_staff_member_recorded(store, tmp_path):
    """Two people sell in one shift, switching at the till: their sales, returns and the cash
    through their hands add up to the shift's (SQL sums equal the reference computation), and
    the Z on paper and in PDF and the settlement's last page name each of them."""
    import random

    from pos.domain import Tender
    from pos.services.shifts import _enterprises, _load, _method_order
    from pos.settlement import settle as reference

    run_demo(store, sales=0, seed=5)
    boss, clerk = manager_and_cashier(store, signed_in="manager")
    rng = random.Random(7)
    with store.unit_of_work() as uow:
        products = [p for p in svc.list_products(uow) if p["price"] > 0][:6]
        shift = svc.current_shift(uow) or svc.open_shift(uow, float_amount=50000)
        uow.commit()
    made = []
    for k in range(30):
        store.actor = boss if k % 3 == 0 else clerk
        p = rng.choice(products)
        qty = rng.randint(1, 3)
        total = p["price"] * qty
        tender = rng.choice([Tender("cash", total + rng.choice([0, 1000, 5000])),
                             Tender("card", total)])
        with store.unit_of_work() as uow:
            made.append(svc.record_sale(uow, items=[svc.SaleItem(p["id"], qty)],
                                        tenders=[tender]))
            uow.commit()
    store.actor = boss  # a manager gives two back, by cash
    with store.unit_of_work() as uow:
        svc.refund_sale(uow, sale_id=made[1].id, quantities={1: 1}, method="cash")
        svc.void_sale(uow, sale_id=made[2].id)
        uow.commit()
    with store.unit_of_work() as uow:
        fast = svc.shift_settlement(uow, shift_id=shift["id"])
        rows = _load(uow, shift_id=shift["id"])
        slow = reference(*rows, _enterprises(uow), method_order=list(_method_order(uow)))
    assert fast.staff == slow.staff and [p.name for p in fast.staff] == ["김매니저", "이계산"]
    assert sum(p.net for p in fast.staff) == fast.net
    c = fast.cash
    assert sum(p.cash for p in fast.staff) == c.cash_taken - c.change_given - c.cash_refunds
    clerk_sales = [d for d in made if d.staff_name == "이계산"]
    assert fast.staff[1].receipts == len(clerk_sales)
    assert fast.staff[1].sales == sum(d.totals.total for d in clerk_sales)

    from printing.queue import render_receipt

    prof = profile("generic-58-text")
    with store.unit_of_work(write=False) as uow:  # the receipt says who sold
        receipt = decode(render_receipt(uow, prof, document_id=clerk_sales[0].id)).text_lines()
    assert any(line.startswith("담당") and line.rstrip().endswith("이계산") for line in receipt)
    with store.unit_of_work() as uow:
        closed, f = svc.close_shift(uow, counted=c.expected)
        uow.commit()
    lines = decode(render(layout_shift_report(f, kind="z", columns=prof.columns, shift=closed),
                          prof)).text_lines()
    assert any(line.startswith("마감") and "김매니저" in line for line in lines)
    at = next(i for i, line in enumerate(lines) if line.strip() == "직원별")
    clerk_line = next(line for line in lines[at:] if line.startswith("이계산"))
    assert f"{f.staff[1].net:,}" in clerk_line and f"({f.staff[1].receipts}건)" in clerk_line
    path = shift_report_pdf(tmp_path / "z.pdf", f, kind="z", shift=closed)
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "직원별" in text and f"{f.staff[0].cash:,}" in text and "마감 김매니저" in text
    pages_to_png(path, "z-by-staff")
    with store.unit_of_work(write=False) as uow:
        enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
    path = settlement_pdf(tmp_path / "s.pdf", f, enterprises=enterprises, shift=closed)
    last = PdfReader(path).pages[-1].extract_text()
    assert "직원별" in last and "이계산" in last and f"{f.staff[1].net:,}" in last
