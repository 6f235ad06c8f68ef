"""What goes to the printer, decoded back: raster images and Korean text mode, 58 and 80 mm."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from PIL import ImageChops

from pos import services as svc
from printing.decode import BarcodeMark, Cut, Drawer, Raster, decode, preview
from printing.layout import QR, Barcode, Feed, Row, Rule, fit, width, wrap
from printing.profiles import PRESETS, profile
from printing.receipt import layout_receipt, receipt_for
from printing.render import draw_rows, korean_text_bytes, ks_x_1001_safe, render
from tests.printing.conftest import sell


def test_widths_count_hangul_as_two_columns():
    assert width("김밥") == 4 and width("abc") == 3 and width("수제 비누 2개") == 13
    assert wrap("천연 수제비누 라벤더 향 대용량 선물세트", 16) == ["천연 수제비누", "라벤더 향 대용량",
                                                           "선물세트"]
    assert all(width(x) <= 5 for x in wrap("가나다라마바사", 5))


@given(st.text(alphabet="가나다라마바사아자차카 abcdef12345", min_size=1, max_size=80),
       st.integers(0, 10**8), st.sampled_from([32, 42, 48]))
def test_rows_never_overflow_and_amounts_end_at_the_edge(name, won, columns):
    rows = fit(name, f"{won:,}", columns)
    for row in rows:
        text = row.text(columns)
        assert width(text) <= columns
    assert rows[-1].text(columns).endswith(f"{won:,}")
    assert width(rows[-1].text(columns)) == columns


@pytest.mark.parametrize("key", ["generic-58", "generic-80", "epson-tm-t88-kr"])
def test_receipt_layout_fits_every_paper(demo_store, key):
    doc = sell(demo_store)
    prof = profile(key)
    with demo_store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns)
    rows = [i for i in items if isinstance(i, Row)]
    assert all(width(r.text(prof.columns)) <= prof.columns for r in rows)
    texts = [r.text(prof.columns) for r in rows]
    assert any(doc.receipt_no in t for t in texts)
    assert any("합계" in t and f"{doc.totals.total:,}" in t for t in texts)
    assert any("부가세" in t and f"{doc.totals.vat:,}" in t for t in texts)
    assert isinstance(items[-1], Barcode)


@pytest.mark.parametrize("key", ["generic-58", "generic-80"])
def test_raster_bytes_reassemble_into_the_expected_rendering(demo_store, key):
    doc = sell(demo_store)
    prof = profile(key)
    with demo_store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns)
    data = render(items, prof, drawer=True)
    decoded = decode(data)
    assert decoded.unknown == [] and decoded.kanji_switches == 0
    assert data.startswith(b"\x1b@")
    expected = draw_rows([i for i in items if not isinstance(i, (QR, Barcode))], prof)
    got = decoded.raster()
    assert got.size == expected.size and got.width == prof.dots
    assert ImageChops.difference(got.convert("L"), expected.convert("L")).getbbox() is None
    assert all(img.height <= prof.slice_height for img in decoded.rasters())
    assert expected.convert("L").getextrema()[0] == 0  # there is ink
    barcode = next(i for i in decoded.items if isinstance(i, BarcodeMark))
    with demo_store.unit_of_work(write=False) as uow:
        assert svc.get_document(uow, receipt_no=barcode.data).id == doc.id  # scan → sale
    assert any(isinstance(i, Drawer) for i in decoded.items)
    assert isinstance(decoded.items[-1], Cut)
    assert b"?" not in data.split(b"\x1dv0")[0]  # no Hangul turned into ???


@pytest.mark.parametrize("key", ["generic-58-text", "epson-tm-t20-kr"])
def test_korean_text_mode_decodes_back_to_the_laid_out_lines(demo_store, key):
    doc = sell(demo_store, method="card")
    prof = profile(key)
    with demo_store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns)
    data = render(items, prof, drawer=False)
    decoded = decode(data)
    assert data.startswith(b"\x1b@") and b"\x1bR\x0d" in data[:8]
    expected = []
    for item in items:
        if isinstance(item, Row):
            expected.append(item.text(prof.columns))
        elif isinstance(item, Rule):
            expected.append(item.char * prof.columns)
        elif isinstance(item, Feed):
            expected += [""] * item.lines
    assert decoded.text_lines() == expected and decoded.unknown == []
    assert decoded.kanji_switches > 10 and decoded.rasters() == []
    assert not any(isinstance(i, Drawer) for i in decoded.items)  # a card sale: no drawer
    assert len(data) < 2500  # hundreds of bytes, not tens of kilobytes
    bold = [i for i in decoded.items if getattr(i, "bold", False)]
    assert any("합계" in i.text for i in bold)


def test_text_mode_styles_are_python_escpos_commands_that_decode_back():
    """Bold and double size are python-escpos's own `set()` commands, sent when the style
    changes; the decoder reads them as a printer does (`ESC !` also sets bold, to off)."""
    from escpos.printer import Dummy

    def escpos_set(**kw) -> bytes:
        p = Dummy()
        p.set(**kw)
        return bytes(p.output)

    items = [Row("굵게 bold", bold=True), Row("크게 big", "1", double=True),
             Row("둘 다 both", bold=True, double=True), Row("보통 plain"), Rule(),
             Row("굵게 again", bold=True), Row("굵게 also", bold=True), Feed()]
    prof = profile("epson-tm-t20-kr")
    data = render(items, prof)
    decoded = decode(data)
    assert decoded.unknown == []
    lines = [i for i in decoded.items if hasattr(i, "bold")]
    styles = [(i.bold, i.double) for i in items if isinstance(i, Row)]
    assert [(ln.bold, ln.double) for ln in lines if ln.text.strip("-")] == styles
    assert not (lines[4].bold or lines[4].double) and not (lines[-1].bold or lines[-1].double)
    assert escpos_set(double_width=True, double_height=True) in data
    assert escpos_set(normal_textsize=True) in data
    assert data.count(escpos_set(bold=True)) == 3  # not again for the second bold row in a row
    assert decode(b"\x1bE\x01\x1b!\x00plain\n").items[0].bold is False
    assert decode(b"\x1b!\x08bold\n").items[0].bold is True


def test_korean_text_mode_bytes_follow_ks_x_1001():
    assert korean_text_bytes("김밥 2") == b"\x1c&\xb1\xe8\xb9\xe4\x1c. 2"
    assert ks_x_1001_safe("수제비누 3,000") and not ks_x_1001_safe("똠양꿍")
    assert not ks_x_1001_safe("커피 ☕")


def test_a_line_outside_ks_x_1001_falls_back_to_an_image(demo_store):
    with demo_store.unit_of_work() as uow:
        products = svc.list_products(uow)
        svc.update_product(uow, product_id=products[0]["id"], name="똠양꿍 소스")
        uow.commit()
    doc = sell(demo_store, names=["똠양꿍 소스"], method="card")
    prof = profile("epson-tm-t20-kr")
    with demo_store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns)
    decoded = decode(render(items, prof))
    assert not any("똠" in line or "?" in line for line in decoded.text_lines())
    assert all(isinstance(i, Raster) for i in decoded.items
               if not hasattr(i, "text") and not isinstance(i, (BarcodeMark, Cut)))
    fallback = next(i for i in items if isinstance(i, Row) and "똠" in i.left)
    expected = draw_rows([fallback], prof)  # the one row, in slices
    assert ImageChops.difference(decoded.raster().convert("L"),
                                 expected.convert("L")).getbbox() is None


def test_a_refund_is_clearly_headed_with_its_original(demo_store):
    doc = sell(demo_store)
    with demo_store.unit_of_work() as uow:
        back = svc.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
        uow.commit()
    prof = profile("epson-tm-t20-kr")
    with demo_store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=back.id, copy=True), prof.columns)
    lines = decode(render(items, prof)).text_lines()
    assert any("[반품·환불] 영수증" in line for line in lines)
    assert any("원 영수증" in line and doc.receipt_no in line for line in lines)
    assert any("사본" in line for line in lines)
    assert any("환불 합계" in line and f"{back.totals.total:,}" in line for line in lines)


def test_joint_stall_receipt_groups_lines_by_enterprise(demo_store):
    doc = sell(demo_store, names=["천연 수제비누", "유정란 10구", "은 반지"])
    prof = profile("epson-tm-t20-kr")
    with demo_store.unit_of_work(write=False) as uow:
        lines = decode(render(layout_receipt(receipt_for(uow, sale_id=doc.id), 48), prof)).text_lines()
    groups = [line for line in lines if line.startswith("[") and line.endswith("]")]
    assert groups == ["[꿈드림공예협동조합]", "[늘푸른영농조합법인]", "[손끝공방]"]
    with demo_store.unit_of_work(write=False) as uow:
        firms = {e["name"]: e for e in svc.list_enterprises(uow)}
    words = {"general": "일반과세자", "simplified": "간이과세자", "exempt": "면세사업자"}
    for part in doc.parts:  # each enterprise's part: who it is, its own total and VAT
        firm = firms[part.enterprise_name]
        at = lines.index(f"[{part.enterprise_name}]")
        ident = lines[at + 1]
        assert words[firm["tax_status"]] in ident
        assert (firm["bizno"] or "") in ident and (firm["representative"] or "") in ident
        total = next(ln for ln in lines[at:] if ln.startswith(f"{part.enterprise_name} 합계"))
        assert total.endswith(f"{part.taxable_total + part.exempt_total:,}")
    assert sum(p.taxable_total + p.exempt_total for p in doc.parts) == doc.totals.total
    assert not any(line.startswith("판매 업체") for line in lines)  # said in each part instead
    assert any("간이과세자" in line for line in lines)  # 손끝공방's part shows no VAT


def test_preview_is_drawn_from_the_bytes(demo_store, tmp_path):
    doc = sell(demo_store)
    for key in PRESETS:
        prof = profile(key)
        with demo_store.unit_of_work(write=False) as uow:
            data = render(layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns), prof)
        image = preview(data, prof)
        assert image.width == prof.dots and image.height > 600
        image.save(tmp_path / f"{key}.png")


def test_logo_and_qr_when_set_and_a_missing_logo_is_skipped(demo_store, tmp_path):
    from PIL import Image as PILImage

    from printing.decode import QRCode

    logo = tmp_path / "logo.png"
    PILImage.new("L", (300, 120), 0).save(logo)  # a black block: easy to find on paper
    with demo_store.unit_of_work() as uow:
        svc.set_setting(uow, "receipt_logo", str(logo))
        svc.set_setting(uow, "receipt_qr", "https://smartstore.example/dreamcraft")
        uow.commit()
    doc = sell(demo_store)
    prof = profile("generic-58")
    with demo_store.unit_of_work(write=False) as uow:
        data = render(layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns), prof)
    decoded = decode(data)
    assert [i.data for i in decoded.items if isinstance(i, QRCode)] == [
        "https://smartstore.example/dreamcraft"]
    top = decoded.raster().crop((0, 0, prof.dots, 60)).convert("L")
    assert top.getextrema()[0] == 0  # the logo is printed at the top
    logo.unlink()
    with demo_store.unit_of_work(write=False) as uow:
        assert receipt_for(uow, sale_id=doc.id).logo is None


def test_a_transparent_logo_background_prints_as_paper(demo_store, tmp_path):
    from PIL import Image as PILImage

    from printing.render import _logo

    logo = tmp_path / "logo.png"
    img = PILImage.new("RGBA", (200, 100), (0, 0, 0, 0))  # fully transparent, black beneath
    img.paste((0, 0, 0, 255), (50, 25, 150, 75))  # an opaque black block in the middle
    img.save(logo)
    printed = _logo(str(logo), profile("generic-80")).convert("L")
    assert printed.getpixel((5, 5)) == 255  # the transparent corner is left blank
    assert printed.getpixel((100, 50)) == 0  # the drawing itself is black


@pytest.mark.parametrize("key", ["generic-58-text", "epson-tm-t20-kr"])
def test_text_mode_lines_fit_the_paper_as_the_printer_counts_columns(demo_store, key):
    """Counted from the bytes (a byte outside Kanji mode one column, a KS X 1001 character
    two), not by the layout's own width function: '·' '×' '★' '※' '①' print two wide."""
    from printing.reports import layout_shift_report

    prof = profile(key)
    with demo_store.unit_of_work() as uow:
        if svc.current_shift(uow) is None:
            svc.open_shift(uow, float_amount=0)
            uow.commit()
    qr = sell(demo_store, method="qr")
    refund = None
    with demo_store.unit_of_work() as uow:
        refund = svc.refund_sale(uow, sale_id=qr.id, quantities={1: 1}, method="cash")
        uow.commit()
    layouts = []
    with demo_store.unit_of_work(write=False) as uow:
        for doc in (qr, refund):
            layouts.append(layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns))
        shift = svc.current_shift(uow)
        figures = svc.shift_settlement(uow, shift_id=shift["id"])
        labels = {code: m.label("ko") for code, m in svc.payment_methods(uow).items()}
    layouts.append(layout_shift_report(figures, kind="x", columns=prof.columns, shift=shift,
                                       method_labels=labels))
    layouts.append(fit("★ 오늘의 추천 ※ 1+1 ① × 2 · 끝", "12,300", prof.columns)
                   + fit("ORGANIC DRIP COFFEE 10EA · ①②③", "12,300", prof.columns))
    for items in layouts:
        decoded = decode(render(items, prof, drawer=False))
        lines = decoded.text_lines()
        assert any("·" in ln or "×" in ln or "★" in ln for ln in lines) or items is layouts[1]
        for line in decoded.items:
            if hasattr(line, "columns"):
                assert line.columns <= prof.columns, (line.text, line.columns)
    qr_lines = decode(render(layouts[0], prof, drawer=False)).text_lines()
    assert any("QR·간편결제" in ln and ln.rstrip().endswith(f"{qr.totals.total:,}")
               for ln in qr_lines), qr_lines


@pytest.mark.parametrize("key", ["generic-58-text", "generic-80"])
def test_a_printer_without_native_barcodes_gets_one_drawn_that_a_scanner_reads(demo_store, key):
    """The software barcode (python-escpos draws it) had crashed on an argument python-escpos
    3.1 does not have; it is sent as a GS v 0 raster, and an independent reader (zxing-cpp)
    reads the receipt number back from the decoded bytes."""
    import dataclasses

    import zxingcpp

    prof = dataclasses.replace(profile(key), native_barcode=False)
    doc = sell(demo_store, method="card")
    with demo_store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns)
    assert any(isinstance(i, Barcode) for i in items)
    decoded = decode(render(items, prof, drawer=False))
    assert decoded.unknown == [] and not any(isinstance(i, BarcodeMark) for i in decoded.items)
    for raster in decoded.rasters():
        assert raster.width <= prof.dots
    found = {r.text for img in decoded.rasters()
             for r in zxingcpp.read_barcodes(img.convert("L"))
             if r.format == zxingcpp.BarcodeFormat.Code128}
    from pos.ids import barcode_form

    assert barcode_form(doc.receipt_no) in found or doc.receipt_no in found, found
