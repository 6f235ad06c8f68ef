"""Raster receipts with hostile names, read back from the bytes: names wrap inside the paper,
amounts never touch them, and no character prints as a box.

Geometry is measured on the decoded image: each printed row is a band of ink; an amount's
ink is found from its right edge with Pillow's own measure of that amount drawn alone (same
font file and size, nothing of the renderer's), and must stand clear of the rest of its row.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFont

from printing import render as rendering
from printing.decode import decode, preview
from printing.fonts import coverage, receipt_fonts
from printing.layout import Row, Rule, fit, heading
from printing.profiles import profile
from printing.receipt import ReceiptDoc, ReceiptLine, ReceiptPayment, Seller, layout_receipt
from printing.render import (PLACEHOLDER, draw_fixed, draw_rows, fitted, glyph_runs, measure_for,
                             metrics, render)
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "receipts"

HOSTILE = ["ORGANIC DRIP COFFEE 10EA", "W" * 35, "1234567890" * 5,
           "유기농 DRIP 커피 WWW 10EA 선물세트", "MMMMMMMMMMMMMMMMMM 백화점 OIL 500ML"]
HUGE = 9_999_999_999


def receipt(names: list[str], price: int = 12_300, *, last_price: int | None = None) -> ReceiptDoc:
    prices = [price] * len(names)
    if last_price is not None:
        prices[-1] = last_price
    total = sum(prices)
    return ReceiptDoc(
        kind="sale", receipt_no="A01-20261122-0042", created_at="2026-11-22T10:00:00+09:00",
        store={"name": "장터 WWW MARKET"},
        lines=[ReceiptLine(n, p, 1, 0, p, "e1") for n, p in zip(names, prices)],
        payments=[ReceiptPayment("현금", total, total, 0, None)],
        sellers={"e1": Seller("손끝공방", "", "", "", "general")}, subtotal=total,
        line_discount=0, receipt_discount=0, total=total, taxable_total=total,
        supply_value=round(total / 1.1), vat=total - round(total / 1.1), exempt_total=0,
        simplified_total=0, change=0)


def ink(img: Image.Image) -> Image.Image:
    """Black dots as non-zero pixels (PIL's "1": 0 is black)."""
    return ImageChops.invert(img.convert("L"))


def bands(img: Image.Image) -> list[tuple[int, int]]:
    """(top, bottom) of each run of dot rows that have ink, taller than a rule's line."""
    rows = ink(img).getprojection()[1]
    out, start = [], None
    for y, on in enumerate(rows + [0]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start > 4:
                out.append((start, y))
            start = None
    return out


def ink_columns(img: Image.Image, top: int, bottom: int) -> list[int]:
    return [x for x, on in enumerate(ink(img.crop((0, top, img.width, bottom))).getprojection()[0])
            if on]


def pillow_ink(text: str, size: int, bold: bool) -> tuple[int, int, float]:
    """(left, right, advance) of `text` drawn alone from x = 0 by Pillow with the receipt
    font: its ink, black where a thermal printer would print a dot (darker than 160), and
    where the next character would start."""
    regular, heavy = receipt_fonts()
    font = ImageFont.truetype(str(heavy if bold else regular), size)
    img = Image.new("L", (int(font.getlength(text)) + size * 2, size * 3), 255)
    ImageDraw.Draw(img).text((size, size // 2), text, font=font, fill=0)
    left, _top, right, _bottom = ink(img.point(lambda v: 0 if v < 160 else 255)).getbbox()
    return left - size, right - size, font.getlength(text)


def printed_rows(items, prof) -> list[Row]:
    """The rows the paper shows, in order, that have ink (the raster image's bands)."""
    return [i for i in fitted([i for i in items if isinstance(i, (Row, Rule))], prof)
            if isinstance(i, Row) and (i.left.strip() or i.right.strip())]


def check_paper(data: bytes, items, prof, names: list[str]) -> Image.Image:
    decoded = decode(data)
    assert decoded.unknown == []
    assert all(r.width == prof.dots for r in decoded.rasters())  # as wide as the paper
    img = decoded.raster()
    rows = printed_rows(items, prof)
    found = bands(img)
    assert len(found) == len(rows), "every row printed, each in a band of its own"
    size = metrics(prof)[0]
    for row, (top, bottom) in zip(rows, found):
        row_size = size * 2 if row.double else size
        cols = ink_columns(img, top, bottom)
        if row.right:
            left, right, advance = pillow_ink(row.right, row_size, row.bold)
            amount_right = cols[-1]
            amount_left = amount_right - (right - left)
            # the amount ends at the paper's edge, whole (not shrunk, not cut off)...
            assert abs(amount_right + 1 - (prof.dots - (advance - right))) <= 2, (row, cols[-1])
            first = min(x for x in cols if x >= amount_left - 2)
            assert abs(first - amount_left) <= 2, (row, first, amount_left)
            # ...and nothing else of its row comes within half a column of it
            gap = prof.dots / prof.columns / 2 * (2 if row.double else 1)
            near = [x for x in cols if amount_left - 2 - gap <= x < first]
            assert near == [], (row, near)
        elif row.left and row.align == "left":
            _left, right, _advance = pillow_ink(row.left, row_size, row.bold)
            assert right <= prof.dots, (row, right)  # Pillow's own measure fits the paper
            assert abs(cols[-1] + 1 - right) <= 2, (row, cols[-1], right)  # drawn whole
    printed = "".join(r.left for r in rows).replace(" ", "")
    for name in names:
        assert name.replace(" ", "") in printed, name
    return img


@pytest.mark.parametrize("key", ["generic-58", "generic-80"])
def test_hostile_names_wrap_inside_the_paper_and_never_touch_their_amount(key):
    prof = profile(key)
    doc = receipt(HOSTILE + ["가나다 ABC 123"], last_price=HUGE)
    items = layout_receipt(doc, measure_for(prof))
    assert fitted(items, prof) == items  # laid out in the font's dots: nothing to redo
    data = render(items, prof, drawer=False)
    img = check_paper(data, items, prof, HOSTILE)
    rows = printed_rows(items, prof)
    coffee = [r for r in rows if r.right == "12,300" and "10EA" in r.left]
    assert coffee and all("12,300" not in r.left for r in rows)
    assert any(r.right == f"{HUGE:,}" for r in rows)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    preview(data, prof).save(ARTIFACTS / f"hostile-{key}.png")
    assert img.height > 600


@pytest.mark.parametrize("key", ["generic-58", "generic-80"])
def test_a_layout_in_columns_is_fitted_again_when_drawn(key):
    """What a caller that still lays out in columns gets on a raster printer: the renderer
    wraps what its font draws wider, so the bytes keep the same guarantees."""
    prof = profile(key)
    items = layout_receipt(receipt(HOSTILE), prof.columns)
    assert fitted(items, prof) != items
    check_paper(render(items, prof, drawer=False), items, prof, HOSTILE)


def test_the_58_mm_coffee_row_that_printed_10E12_300():
    prof = profile("generic-58")
    items = layout_receipt(receipt(["ORGANIC DRIP COFFEE 10EA"]), measure_for(prof))
    first = next(k for k, r in enumerate(items) if isinstance(r, Row) and "ORGANIC" in r.left)
    last = next(k for k, r in enumerate(items) if k >= first and r.right == "12,300")
    assert " ".join(r.left for r in items[first:last + 1]) == "ORGANIC DRIP COFFEE 10EA"
    assert items[last].left  # the amount beside the name's last words, not on a line alone
    check_paper(render(items, prof), items, prof, ["ORGANIC DRIP COFFEE 10EA"])


def test_a_ten_kilobyte_name_prints_whole_on_58_mm():
    prof = profile("generic-58")
    name = ("ORGANIC 유기농 DRIP COFFEE 10EA " * 400)[:10_000].strip()
    items = layout_receipt(receipt([name]), measure_for(prof))
    check_paper(render(items, prof, drawer=False), items, prof, [name])


@pytest.mark.parametrize("double", [False, True])
def test_an_amount_wider_than_the_paper_is_drawn_smaller_inside_it(double):
    prof = profile("generic-58")
    rows = [Row("합계", "9" * 60, double=double), Row("", "W" * 40, bold=True)]
    assert [(r.left, r.right) for r in fitted(rows, prof)] == [
        ("합계", ""), ("", "9" * 60), ("", "W" * 40)]  # the label, then each part alone
    img = draw_rows(rows, prof)
    found = bands(img)
    assert len(found) == 3
    for top, bottom in found[1:]:
        cols = ink_columns(img, top, bottom)
        assert cols[0] > 0  # begins on the paper: drawn full size, it would start far left
        assert cols[-1] >= prof.dots - 8 and cols[-1] - cols[0] > prof.dots * 3 // 4
        assert bottom - top < metrics(prof)[0]  # smaller than the row's font


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="WMQ0123456789 ORGANICEA가나다똠 ", min_size=1, max_size=90),
       st.integers(0, 10**10), st.sampled_from(["generic-58", "generic-80"]), st.booleans())
def test_rows_laid_out_in_dots_keep_their_parts_apart_inside_the_paper(name, won, key, double):
    """Checked against Pillow's own measure of each part with the receipt font."""
    prof = profile(key)
    regular, _ = receipt_fonts()
    font = ImageFont.truetype(str(regular), metrics(prof)[0] * (2 if double else 1))
    cell = prof.dots / prof.columns * (2 if double else 1)
    rows = fit(name, f"{won:,}", measure_for(prof), double=double)
    for row in rows:
        used = font.getlength(row.left)
        if row.left and row.right:
            used += cell + font.getlength(row.right)
        assert used <= prof.dots, row
    assert rows[-1].right == f"{won:,}" and all(not r.right for r in rows[:-1])
    assert "".join(r.left for r in rows).replace(" ", "") == name.replace(" ", "")
    for row in heading(name, measure_for(prof)):
        bold = ImageFont.truetype(str(receipt_fonts()[1]), metrics(prof)[0] * 2)
        assert bold.getlength(row.left) <= prof.dots


# -- characters the receipt font has no glyph for ------------------------------------------------

NO_GLYPH = ["☕🍰 케이크", "𠀀 떡", "龘 차", "👨‍👩‍👧 가족 세트", "🍰"]


@pytest.fixture
def fonts_only(monkeypatch):
    """Rendering with the receipt font and the given fallback fonts (none by default): the
    shipped app, whatever the machine has."""
    def use(paths=()):
        monkeypatch.setattr(rendering, "fallback_fonts", lambda: list(paths))
        for cached in (rendering._fonts, rendering._font, rendering.glyph_runs,
                       rendering.text_width):
            cached.cache_clear()
    yield use
    monkeypatch.undo()
    for cached in (rendering._fonts, rendering._font, rendering.glyph_runs, rendering.text_width):
        cached.cache_clear()


def tofu(size: int, bold: bool = False) -> Image.Image:
    """The box the receipt font draws for a character it lacks, drawn by Pillow alone."""
    regular, heavy = receipt_fonts()
    font = ImageFont.truetype(str(heavy if bold else regular), size)
    img = Image.new("L", (size * 2, size * 2), 255)
    ImageDraw.Draw(img).text((size // 2, size // 2), "\U0010fffd", font=font, fill=0)
    img = img.point(lambda v: 0 if v < 160 else 255)
    return img.crop(ink(img).getbbox())


def boxes_in(img: Image.Image, box: Image.Image) -> int:
    """How many places of `img` show `box` (a few dots may differ)."""
    page, tmpl = img.convert("L"), box.convert("L")
    ink_dots = ink(tmpl).histogram()[255]
    found = 0
    for top, bottom in bands(img):
        cols = ink_columns(img, top, bottom)
        starts = [x for k, x in enumerate(cols) if k == 0 or cols[k - 1] != x - 1]
        for y in range(max(0, top - 2), max(top - 1, bottom - tmpl.height + 2)):
            for x in starts:
                crop = page.crop((x, y, x + tmpl.width, y + tmpl.height))
                if ImageChops.difference(crop, tmpl).histogram()[255] <= ink_dots // 8:
                    found += 1
                    break
    return found


def test_the_box_is_found_where_a_font_draws_one():
    """The detector itself: Pillow drawing a missing character with the receipt font."""
    size = metrics(profile("generic-58"))[0]
    regular, _ = receipt_fonts()
    img = Image.new("L", (384, 40), 255)
    ImageDraw.Draw(img).text((40, 4), "커피 \U0010fffd 라떼", font=ImageFont.truetype(
        str(regular), size), fill=0)
    img = img.point(lambda v: 0 if v < 160 else 255).convert("1")
    assert boxes_in(img, tofu(size)) == 1


@pytest.mark.parametrize("key", ["generic-58", "generic-80", "epson-tm-t20-kr"])
@pytest.mark.parametrize("fallbacks", ["none", "machine"])
def test_emoji_and_rare_hanja_never_print_as_boxes(key, fallbacks, fonts_only):
    if fallbacks == "none":
        fonts_only([])
    prof = profile(key)
    items = layout_receipt(receipt(NO_GLYPH), measure_for(prof))
    data = render(items, prof, drawer=False)
    decoded = decode(data)
    assert decoded.unknown == []
    size = metrics(prof)[0]
    assert boxes_in(decoded.raster(), tofu(size)) == 0
    assert boxes_in(preview(data, prof), tofu(size)) == 0
    for name in NO_GLYPH:
        assert boxes_in(draw_fixed(name, prof), tofu(size)) == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    preview(data, prof).save(ARTIFACTS / f"no-glyph-{key}-{fallbacks}.png")


def test_what_no_font_has_is_left_out_or_a_placeholder(fonts_only):
    fonts_only([])
    regular, _ = receipt_fonts()
    has = coverage(regular)
    for text in NO_GLYPH + ["①② ㈜장터", "커피 ☕ 라떼"]:
        runs = glyph_runs(text)
        assert all(k == 0 for k, _ in runs)
        drawn = "".join(run for _, run in runs)
        assert all(ord(ch) in has for ch in drawn), drawn  # the font has every glyph drawn
        assert "  " not in drawn and drawn == drawn.strip()
        # the Hangul of every name is all there
        assert [c for c in drawn if "가" <= c <= "힣"] == [c for c in text if "가" <= c <= "힣"]
    assert "".join(r for _, r in glyph_runs("☕🍰 케이크")) == "케이크"  # emoji: decoration
    assert "".join(r for _, r in glyph_runs("커피 ☕ 라떼")) == "커피 라떼"
    assert "".join(r for _, r in glyph_runs("𠀀 떡")) == f"{PLACEHOLDER} 떡"  # a letter: marked
    assert "".join(r for _, r in glyph_runs("🍰")) == PLACEHOLDER  # never nothing at all
    assert "".join(r for _, r in glyph_runs("①② ㈜장터")) == "①② ㈜장터"  # the font has these


def test_a_fallback_font_that_has_the_character_draws_it(fonts_only):
    """Where the machine has a font with the glyph (DejaVu Sans has ☕), it is drawn from it."""
    dejavu = next((p for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
                   if coverage(p)), None)
    if dejavu is None:
        pytest.skip("no DejaVu Sans on this machine")
    fonts_only([dejavu])
    runs = glyph_runs("☕🍰 케이크")
    assert runs == ((1, "☕"), (0, " 케이크")) and ord("☕") in coverage(dejavu)
    # DejaVu has the zero-width joiner: the joiners of a family left out go with it
    assert "".join(r for _, r in glyph_runs("👨‍👩‍👧 가족 세트")) == "가족 세트"


@pytest.mark.parametrize("name", ["♨\ufe0f 온천", "Ⓜ\ufe0f 메트로", "Cafe\u0301 Cre\u0300me",
                                  "불량\r\n교환", "a\x1cb"])
def test_marks_selectors_and_control_characters_never_draw_alone(name):
    """A mark or selector drawn as a run of its own sits on a dotted circle (◌); a control
    character from older data had stopped the drawing (raqm_layout failed)."""
    runs = glyph_runs(name)
    for _font, text in runs:
        assert not all(__import__("unicodedata").category(c) in ("Mn", "Me", "Cf")
                       for c in text), runs
        assert text.isprintable(), runs
    img = draw_rows([Row(name, "3,000")], profile("generic-58"))  # draws, does not raise
    assert img.width == 384


def test_an_approval_number_wraps_on_58_mm_text_mode():
    from printing.decode import decode as read

    prof = profile("generic-58-text")
    doc = receipt(["비누"])
    from dataclasses import replace

    doc = replace(doc, payments=[ReceiptPayment("카드", 12_300, 12_300, 0,
                                                "TXN20261122ABCDEF0123456789XYZ")])
    data = rendering.render(layout_receipt(doc, measure_for(prof)), prof)
    lines = read(data).items
    assert all(line.columns <= prof.columns for line in lines if hasattr(line, "columns"))
    text = "".join(line.text for line in lines if hasattr(line, "text"))
    assert "TXN20261122ABCDEF0123456789XYZ" in text.replace(" ", "")
