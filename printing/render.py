"""Receipt layout → ESC/POS bytes, by raster or by Korean text mode.

python-escpos builds the commands (initialise, bold and double size, QR, barcode, cut, drawer
kick); Hangul never goes through its `text()`, which turns it into `?`:
- raster: every row is drawn with a Korean font into a 1-bit image, sent in slices of
  `GS v 0` written here (`raster_bytes`: python-escpos re-converts the image for every slice);
- text: KS X 1001 Hangul is sent as EUC-KR bytes between `FS &` and `FS .` with `ESC R 13`
  (python-escpos has no Korean mode), its double size by `FS !` (python-escpos's double size,
  `ESC !`, sizes only one-byte characters); a row with a character outside KS X 1001 (e.g. 똠)
  is sent as an image instead.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import logging
import unicodedata
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from printing.fonts import coverage, fallback_fonts, receipt_fonts
from printing.layout import (QR, Barcode, Columns, Feed, Item, Logo, Measure, Row, Rule,
                             char_width, fit)
from printing.profiles import PrinterProfile

logging.getLogger("escpos").setLevel(logging.ERROR)

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
KOREA = ESC + b"R\x0d"
KANJI_ON, KANJI_OFF = FS + b"&", FS + b"."
KANJI_DOUBLE, KANJI_NORMAL = FS + b"!\x0c", FS + b"!\x00"


# -- drawing (raster renderer, text-mode fallback, previews) --------------------------------------

# What is printed for a run of letters (a rare Hanja) that no font on the machine has.
PLACEHOLDER = "(?)"


@lru_cache(maxsize=2)
def _fonts(bold: bool) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """The font files a row is drawn with and the characters each has (None: not known, so
    trusted with all): the receipt font, then the fallback fonts that can be read and drawn
    at receipt sizes."""
    regular, heavy = receipt_fonts()
    main = heavy if bold else regular
    cover = coverage(main)
    chain = [(str(main), None if cover is None else frozenset(map(chr, cover)))]
    for path in fallback_fonts():
        cover = coverage(path)
        if not cover:
            continue
        try:
            ImageFont.truetype(str(path), 24)
        except OSError:  # a font of bitmaps at fixed sizes
            continue
        chain.append((str(path), frozenset(map(chr, cover))))
    return tuple(chain)


@lru_cache(maxsize=64)
def _font(size: int, bold: bool, index: int = 0) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_fonts(bold)[index][0], size)


@lru_cache(maxsize=4096)
def glyph_runs(text: str, bold: bool = False) -> tuple[tuple[int, str], ...]:
    """`text` as it is drawn: runs of (font, text), font 0 being the receipt font and the rest
    the fallback fonts. A character that no font has is never drawn as the box a font draws
    for it: marks and joiners that are not drawn alone are left out, a compatibility form is
    drawn as its plain one (NFKC: ① as 1), an emoji or other symbol is left out with the space
    that set it apart ("☕ 커피" prints "커피"), and anything else, a letter such as a rare
    Hanja, prints as PLACEHOLDER, once for a run of them."""
    text = unicodedata.normalize("NFC", text)  # "Café" typed decomposed (macOS) draws composed
    if not text.isprintable():  # a line break or control character kept from older data
        text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    chain = _fonts(bold)
    if chain[0][1] is None or chain[0][1].issuperset(text):
        return ((0, text),) if text else ()  # nearly every text: all in the receipt font

    def where(ch: str) -> int | None:
        for k, (_path, cover) in enumerate(chain):
            if cover is None or ch in cover:
                return k
        return None

    chars: list[tuple[int, str]] = []
    dropped = False
    for ch in text:
        kind = unicodedata.category(ch)
        if kind in ("Mn", "Me", "Cf") or "\ufe00" <= ch <= "\ufe0f":
            # A mark, joiner or variation selector is never a run of its own (drawn alone it
            # sits on a dotted circle, ◌): it goes with the character before it, in that
            # character's font, if that font has it; else it is left out (a selector only
            # chooses how the character before it looks).
            if chars and not dropped:
                cover = chain[chars[-1][0]][1]
                if cover is None or ch in cover:
                    chars.append((chars[-1][0], ch))
            continue
        k = where(ch)
        if k is not None:
            if ch == " " and dropped and (not chars or chars[-1][1] == " "):
                continue
            chars.append((k, ch))
            dropped = dropped and ch == " "
            continue
        plain = unicodedata.normalize("NFKC", ch)
        if plain != ch and all(where(c) is not None for c in plain):
            chars += [(where(c), c) for c in plain]
            dropped = False
        elif kind.startswith("S"):
            dropped = True
        elif not chars or chars[-1] != (0, PLACEHOLDER):
            chars.append((0, PLACEHOLDER))
            dropped = False
    if dropped and chars and chars[-1][1] == " ":
        chars.pop()
    if text.strip() and not any(c.strip() for _k, c in chars):
        chars = [(0, PLACEHOLDER)]  # a name of emoji only still shows that something was there
    runs: list[tuple[int, str]] = []
    for k, c in chars:
        if runs and runs[-1][0] == k:
            runs[-1] = (k, runs[-1][1] + c)
        else:
            runs.append((k, c))
    return tuple(runs)


@lru_cache(maxsize=8192)
def text_width(text: str, size: int, bold: bool = False) -> float:
    """Dots `text` takes drawn at `size` (advance widths, fallback fonts and placeholders
    included)."""
    return sum(_font(size, bold, k).getlength(run) for k, run in glyph_runs(text, bold))


def _draw_text(draw: ImageDraw.ImageDraw, x: float, top: float, text: str, size: int,
               bold: bool, baseline_size: int | None = None) -> None:
    """`text` from `x`, its runs on one baseline (that of the receipt font at `baseline_size`,
    for a part drawn smaller to fit)."""
    baseline = top + _font(baseline_size or size, bold).getmetrics()[0]
    runs = glyph_runs(text, bold)
    for n, (k, run) in enumerate(runs):
        font = _font(size, bold, k)
        draw.text((x, baseline), run, font=font, fill=0, anchor="ls")
        if n + 1 < len(runs):
            x += font.getlength(run)


def metrics(profile: PrinterProfile) -> tuple[int, int]:
    """(font pixel size, row height) so that `columns` single-width characters fill `dots`."""
    size = max(12, round(2 * profile.dots / profile.columns))
    return size, size + 6


class Dots:
    """Widths in dots, as `draw_rows` draws text for `profile`: the font's own widths at the
    size `metrics` gives, where "W" is nearly two columns wide and a space half of one."""

    __slots__ = ("across", "size", "_cell")

    def __init__(self, profile: PrinterProfile):
        self.across = profile.dots
        self.size = metrics(profile)[0]
        self._cell = profile.dots / profile.columns

    def __call__(self, text: str, *, bold: bool = False, double: bool = False) -> float:
        return text_width(text, self.size * 2 if double else self.size, bold)

    def cell(self, double: bool = False) -> float:
        return self._cell * (2 if double else 1)


@lru_cache(maxsize=16)
def _dots(profile: PrinterProfile) -> Dots:
    return Dots(profile)


def measure_for(profile: PrinterProfile) -> Measure:
    """How to lay a receipt out for `profile`: in the font's dots for raster, in the
    printer's columns for Korean text mode."""
    return _dots(profile) if profile.renderer == "raster" else Columns(profile.columns)


def _fits(row: Row, m: Dots) -> bool:
    used = m(row.left, bold=row.bold, double=row.double)
    if row.right and row.left:
        used += m.cell(row.double) + m(row.right, bold=row.bold, double=row.double)
    return used <= m.across


def fitted(items: list[Item], profile: PrinterProfile) -> list[Item]:
    """The items as `draw_rows` draws them. A row laid out in columns (or by any other
    measure) that the font draws wider than the paper is laid out again in its dots:
    wrapped, its amount a column apart or on a line of its own. (A lone right part too wide
    for the paper is then drawn smaller.)"""
    m = _dots(profile)
    out: list[Item] = []
    for item in items:
        if isinstance(item, Row) and item.left and not _fits(item, m):
            rows = fit(item.left, item.right, m, bold=item.bold, double=item.double)
            out += [r if r.right else dataclasses.replace(r, align=item.align) for r in rows]
        else:
            out.append(item)
    return out


def _size_within(text: str, size: int, bold: bool, room: float) -> int:
    """The largest size up to `size` at which `text` takes at most `room` dots."""
    w = text_width(text, size, bold)
    while w > room and size > 6:
        size = max(6, min(size - 1, int(size * room / w)))
        w = text_width(text, size, bold)
    return size


def draw_rows(items: list[Item], profile: PrinterProfile) -> Image.Image:
    """Rows, rules and feeds drawn as the raster renderer prints them (mode "1"). Nothing is
    drawn past `profile.dots`, and a row's two parts stay at least a column apart."""
    size, line = metrics(profile)
    m = _dots(profile)
    items = fitted(items, profile)
    heights = []
    for item in items:
        if isinstance(item, Row):
            heights.append(line * 2 if item.double else line)
        elif isinstance(item, Rule):
            heights.append(line // 2 + 4)
        elif isinstance(item, Feed):
            heights.append(line * item.lines // 2)
        elif isinstance(item, Logo):
            heights.append(_logo(item.path, profile).height)
        else:
            raise TypeError(f"cannot draw {item!r}")
    img = Image.new("L", (profile.dots, max(1, sum(heights))), 255)
    draw = ImageDraw.Draw(img)
    y = 0
    for item, h in zip(items, heights):
        if isinstance(item, Row):
            row_size = size * 2 if item.double else size
            top = y + 2
            room = profile.dots
            if item.left:
                left_size = _size_within(item.left, row_size, item.bold, room)
                left_w = text_width(item.left, left_size, item.bold)
                x = 0
                if not item.right and item.align == "center":
                    x = (profile.dots - left_w) // 2
                elif not item.right and item.align == "right":
                    x = profile.dots - left_w
                _draw_text(draw, x, top, item.left, left_size, item.bold, row_size)
                room -= left_w + m.cell(item.double)
            if item.right:
                right_size = _size_within(item.right, row_size, item.bold, room)
                right_w = text_width(item.right, right_size, item.bold)
                _draw_text(draw, profile.dots - right_w, top, item.right, right_size,
                           item.bold, row_size)
        elif isinstance(item, Rule):
            mid = y + h // 2
            if item.char == "=":
                draw.line((0, mid - 2, profile.dots, mid - 2), fill=0, width=1)
                draw.line((0, mid + 1, profile.dots, mid + 1), fill=0, width=1)
            else:
                for x in range(0, profile.dots, 8):
                    draw.line((x, mid, x + 4, mid), fill=0, width=1)
        elif isinstance(item, Logo):
            logo = _logo(item.path, profile)
            img.paste(logo.convert("L"), ((profile.dots - logo.width) // 2, y))
        y += h
    return img.point(lambda v: 0 if v < 160 else 255).convert("1", dither=Image.Dither.NONE)


def draw_fixed(text: str, profile: PrinterProfile, *, bold: bool = False,
               double: bool = False) -> Image.Image:
    """A text-mode line as a printer's fixed-pitch font shows it (for previews): each
    character in its cells, drawn smaller where the font's is wider ("W")."""
    size, line = metrics(profile)
    size = size * 2 if double else size
    cell = profile.dots / profile.columns * (2 if double else 1)
    img = Image.new("L", (profile.dots, line * (2 if double else 1)), 255)
    draw = ImageDraw.Draw(img)
    col = 0
    for ch in text:
        w = char_width(ch)
        if ch != " ":
            _draw_text(draw, col * cell, 2, ch, _size_within(ch, size, bold, cell * w), bold,
                       size)
        col += w
    return img.point(lambda v: 0 if v < 160 else 255).convert("1", dither=Image.Dither.NONE)


@lru_cache(maxsize=4)
def _logo(path: str, profile: PrinterProfile) -> Image.Image:
    logo = Image.open(path)
    logo.thumbnail((profile.dots, profile.dots // 2))
    if logo.mode in ("RGBA", "LA", "PA") or "transparency" in logo.info:
        # transparent parts are paper, not black (their colour is often black underneath)
        rgba = logo.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        logo = Image.alpha_composite(paper, rgba)
    return logo.convert("L").point(lambda v: 0 if v < 128 else 255).convert("1")


# -- bytes ----------------------------------------------------------------------------------------

def _printer(profile: PrinterProfile):
    from escpos.printer import Dummy

    p = Dummy()
    # python-escpos keeps one capability profile per model for the whole process: setting the
    # paper width on it had set it for every render at once (a 58 mm and an 80 mm job in two
    # threads raced). This printer gets its own copy.
    data = copy.deepcopy(p.profile.profile_data)
    data["media"]["width"]["pixels"] = profile.dots
    p.profile.profile_data = data
    return p


def raster_bytes(img: Image.Image, slice_height: int) -> bytes:
    """`GS v 0` commands for a 1-bit image, `slice_height` dot rows each (big images time out
    on USB in one piece). The same bytes python-escpos's `image(impl="bitImageRaster")` sends,
    without re-converting the image for every slice, which made it the slowest step."""
    img = img.convert("1")
    width_bytes = (img.width + 7) // 8
    if img.width % 8:
        padded = Image.new("1", (width_bytes * 8, img.height), 1)
        padded.paste(img, (0, 0))
        img = padded
    packed = _quiet(_invert(img.tobytes()))
    out = bytearray()
    for top in range(0, img.height, slice_height):
        rows = min(slice_height, img.height - top)
        out += GS + b"v0\x00" + bytes([width_bytes % 256, width_bytes // 256,
                                        rows % 256, rows // 256])
        out += packed[top * width_bytes:(top + rows) * width_bytes]
    return bytes(out)


_INVERT = bytes(255 - b for b in range(256))


def _invert(data: bytes) -> bytes:
    """PIL's mode "1" stores white as 1; ESC/POS prints a 1 as a black dot."""
    return data.translate(_INVERT)


def _quiet(packed: bytes) -> bytes:
    """Image bytes with no real-time command in them. A printer reads `DLE EOT`, `DLE ENQ` and
    `DLE DC4` (status, recovery, drawer pulse, power off) even inside image data: such a pair
    of bytes in a picture would answer a status request nobody made, or worse. Each loses one
    dot (the 0x10 byte, a single dot of its eight, is left white)."""
    for second in (b"\x04", b"\x05", b"\x14"):
        packed = packed.replace(b"\x10" + second, b"\x00" + second)
    return packed


def _image(p, img: Image.Image, profile: PrinterProfile) -> None:
    p._raw(raster_bytes(img, profile.slice_height))


def ks_x_1001_safe(text: str) -> bool:
    """True when every character is printable ASCII or one of KS X 1001's two-byte codes."""
    for ch in text:
        if " " <= ch <= "~":
            continue
        try:
            b = ch.encode("euc_kr")
        except UnicodeEncodeError:
            return False
        if len(b) != 2 or not (0xA1 <= b[0] <= 0xFE and 0xA1 <= b[1] <= 0xFE):
            return False
    return True


def korean_text_bytes(text: str, *, double: bool = False) -> bytes:
    """A line in Korean text mode: ASCII as is, Hangul runs as EUC-KR inside FS & … FS ."""
    out = bytearray()
    run = ""

    def flush():
        nonlocal run
        if run:
            out.extend(KANJI_ON)
            if double:
                out.extend(KANJI_DOUBLE)
            out.extend(run.encode("euc_kr"))
            if double:
                out.extend(KANJI_NORMAL)
            out.extend(KANJI_OFF)
            run = ""

    for ch in text:
        if " " <= ch <= "~":
            flush()
            out.append(ord(ch))
        else:
            run += ch
    flush()
    return bytes(out)


def code128_payload(text: str) -> str:
    """ESC/POS CODE128 data: code set B for the letters, code set C (two digits a symbol)
    for a trailing run of digits of even length, which keeps receipt numbers short."""
    head = text.rstrip("0123456789")
    digits = text[len(head):]
    if len(digits) % 2:
        head, digits = head + digits[0], digits[1:]
    payload = "{B" + head
    if digits:
        payload += "{C" + "".join(chr(int(digits[k:k + 2])) for k in range(0, len(digits), 2))
    return payload


def _code(p, item: QR | Barcode, profile: PrinterProfile) -> None:
    if isinstance(item, QR):
        p.set(align="center")
        p.qr(item.data, native=profile.native_qr, size=6 if profile.dots >= 500 else 4,
             center=not profile.native_qr)
        p.set(align="left")
        return
    p.set(align="center")
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s its choice
        if profile.native_barcode:
            p.barcode(code128_payload(item.data), "CODE128", height=64, width=2, pos="BELOW",
                      font="A", function_type="B", check=False)
        else:
            p.barcode(item.data, "code128", height=64, width=2, pos="BELOW",
                      force_software="bitImageRaster", align_ct=False)
    p.set(align="left")


def render(items: list[Item], profile: PrinterProfile, *, drawer: bool = False) -> bytes:
    """The bytes to send: initialise, the receipt, the drawer kick (cash sales), the cut."""
    p = _printer(profile)
    p.hw("INIT")
    if profile.renderer == "text":
        # The code table is the number the vendor set for their printer; python-escpos's
        # charcode() takes a code page's name and numbers it by its own model database.
        p._raw(ESC + b"t" + bytes([profile.code_table]) + KOREA)
        _render_text(p, items, profile)
    else:
        _render_raster(p, items, profile)
    if drawer:
        p.cashdraw(2 if profile.drawer_pin == 2 else 5)
    if profile.cut:
        p.cut()
    else:
        p._raw(b"\n" * 4)
    return bytes(p.output)


def render_drawer_kick(profile: PrinterProfile) -> bytes:
    """Only the drawer kick: no paper moves, nothing is cut (it goes before the receipt)."""
    p = _printer(profile)
    p.hw("INIT")
    p.cashdraw(2 if profile.drawer_pin == 2 else 5)
    return bytes(p.output)


def _render_raster(p, items: list[Item], profile: PrinterProfile) -> None:
    pending: list[Item] = []
    for item in items + [None]:
        if item is None or isinstance(item, (QR, Barcode)):
            if pending:
                _image(p, draw_rows(pending, profile), profile)
                pending = []
            if item is not None:
                _code(p, item, profile)
        else:
            pending.append(item)


def _render_text(p, items: list[Item], profile: PrinterProfile) -> None:
    bold = double = False  # as ESC @ left the printer

    def style(want_bold: bool, want_double: bool) -> None:
        """Bold and double size by python-escpos, sent only when they change. Its size is
        `ESC !`, which also turns bold off: set() sends the size first, then bold."""
        nonlocal bold, double
        if (want_bold, want_double) == (bold, double):
            return
        size = {}
        if want_double != double:
            size = ({"double_width": True, "double_height": True} if want_double
                    else {"normal_textsize": True})
        now_bold = bold and not size
        p.set(bold=want_bold if want_bold != now_bold else None, **size)
        bold, double = want_bold, want_double

    for item in items:
        if isinstance(item, Row):
            text = item.text(profile.columns)
            if not ks_x_1001_safe(text):
                _image(p, draw_rows([item], profile), profile)
                continue
            style(item.bold, item.double)
            p._raw(korean_text_bytes(text, double=item.double) + b"\n")
        elif isinstance(item, Rule):
            style(False, False)
            p._raw((item.char * profile.columns).encode("ascii") + b"\n")
        elif isinstance(item, Feed):
            style(False, False)
            p._raw(b"\n" * item.lines)
        elif isinstance(item, Logo):
            _image(p, draw_rows([item], profile), profile)
        else:
            _code(p, item, profile)


def render_drawer_pulse(profile: PrinterProfile) -> bytes:
    """The drawer kick as a real-time command (`DLE DC4 1 m t`): a printer runs it even while
    it is stopped (paper out, cover open), when it would hold `ESC p` until it is ready again
    and the drawer would spring open minutes after the sale."""
    return b"\x10\x14\x01" + bytes([0 if profile.drawer_pin == 2 else 1, 2])
