"""ESC/POS bytes read back: what a printer would do with them.

Used by the tests (to check what was produced), by `jangteo print preview` and by the GUI's
preview, which show the receipt from the very bytes that go to the printer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from printing.profiles import PrinterProfile


class DecodeError(ValueError):
    pass


@dataclass
class TextLine:
    text: str
    bold: bool = False
    double: bool = False
    align: int = 0
    # columns the printer uses for it, counted from the bytes as a printer does: a byte
    # outside Kanji mode takes one, a two-byte KS X 1001 character two; twice that at double
    # width
    columns: int = 0


@dataclass
class Raster:
    image: Image.Image


@dataclass
class QRCode:
    data: str


@dataclass
class BarcodeMark:
    data: str


@dataclass
class Cut:
    pass


@dataclass
class Drawer:
    pin: int


@dataclass
class Decoded:
    items: list = field(default_factory=list)
    kanji_switches: int = 0
    unknown: list = field(default_factory=list)

    def text_lines(self) -> list[str]:
        return [i.text for i in self.items if isinstance(i, TextLine)]

    def rasters(self) -> list[Image.Image]:
        return [i.image for i in self.items if isinstance(i, Raster)]

    def raster(self) -> Image.Image | None:
        """Consecutive raster slices stacked into one image, as the paper shows them."""
        images = self.rasters()
        if not images:
            return None
        out = Image.new("1", (max(i.width for i in images), sum(i.height for i in images)), 1)
        y = 0
        for img in images:
            out.paste(img, (0, y))
            y += img.height
        return out


def _code128_text(payload: bytes) -> str:
    """Readable text of ESC/POS CODE128 data with its `{B`/`{C` code set switches."""
    text, mode, k = [], "B", 0
    while k < len(payload):
        if payload[k] == 0x7B and k + 1 < len(payload) and payload[k + 1] in b"ABC{":
            if payload[k + 1] == 0x7B:
                text.append("{")
            else:
                mode = chr(payload[k + 1])
            k += 2
            continue
        text.append(f"{payload[k]:02d}" if mode == "C" else chr(payload[k]))
        k += 1
    return "".join(text)


def _raster(data: bytes, i: int) -> tuple[Image.Image, int]:
    # GS v 0 m xL xH yL yH d1...dk ; width in bytes = xL + xH*256, height in dots = yL + yH*256
    if i + 8 > len(data):
        raise DecodeError("truncated GS v 0 header")
    xb = data[i + 4] + data[i + 5] * 256
    h = data[i + 6] + data[i + 7] * 256
    start = i + 8
    end = start + xb * h
    if end > len(data):
        raise DecodeError("truncated GS v 0 image")
    raw = bytes(b ^ 0xFF for b in data[start:end])  # ESC/POS: 1 = black; PIL "1": 0 = black
    return Image.frombytes("1", (xb * 8, h), raw), end


def decode(data: bytes) -> Decoded:
    out = Decoded()
    i = 0
    kanji = False
    bold = False
    double = False
    align = 0
    buf = bytearray()
    spans: list[tuple[bool, bytes]] = []

    def flush_segment():
        nonlocal buf
        if buf:
            spans.append((kanji, bytes(buf)))
            buf = bytearray()

    def end_line():
        flush_segment()
        text = "".join(seg.decode("euc_kr") if k else seg.decode("ascii", "replace")
                       for k, seg in spans)
        columns = sum(len(seg) for _k, seg in spans) * (2 if double else 1)
        out.items.append(TextLine(text, bold, double, align, columns))
        spans.clear()

    n = len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == 0x0D:
            i += 1
        elif b == 0x1B:  # ESC
            if i + 1 >= n:
                raise DecodeError("truncated ESC")
            c = data[i + 1]
            if c == 0x40:  # ESC @
                kanji = bold = double = False
                align = 0
                i += 2
            elif c in (0x21, 0x45, 0x61, 0x74, 0x52, 0x64, 0x2D, 0x47, 0x4D, 0x33, 0x7B,
                       0x56, 0x20, 0x4A, 0x63):
                if i + 2 >= n:
                    raise DecodeError("truncated ESC command")
                arg = data[i + 2]
                if c == 0x45:
                    bold = bool(arg & 1)
                elif c == 0x61:
                    align = arg % 48 if arg >= 48 else arg
                elif c == 0x21:  # ESC ! sets every print mode at once, bold included
                    bold = bool(arg & 0x08)
                    double = bool(arg & 0x30)
                elif c == 0x64:
                    flush_segment()
                    if spans:
                        end_line()
                i += 3
            elif c == 0x70:  # ESC p m t1 t2
                out.items.append(Drawer(data[i + 2] % 48 if data[i + 2] >= 48 else data[i + 2]))
                i += 5
            elif c == 0x32:
                i += 2
            else:
                out.unknown.append(f"ESC {c:#04x}")
                i += 2
        elif b == 0x1C:  # FS
            c = data[i + 1]
            if c == 0x26:
                flush_segment()
                kanji = True
                out.kanji_switches += 1
                i += 2
            elif c == 0x2E:
                flush_segment()
                kanji = False
                i += 2
            elif c == 0x21:
                i += 3
            elif c == 0x43:
                i += 3
            else:
                out.unknown.append(f"FS {c:#04x}")
                i += 2
        elif b == 0x1D:  # GS
            c = data[i + 1]
            if c == 0x76 and data[i + 2] == 0x30:  # GS v 0
                img, i = _raster(data, i)
                out.items.append(Raster(img))
            elif c == 0x28 and data[i + 2] == 0x6B:  # GS ( k pL pH cn fn ...
                length = data[i + 3] + data[i + 4] * 256
                body = data[i + 5:i + 5 + length]
                if body[:2] == b"1P":  # store the QR data
                    out.items.append(QRCode(body[3:].decode("utf-8", "replace")))
                i += 5 + length
            elif c == 0x6B:  # GS k m ...
                m = data[i + 2]
                if m >= 65:
                    length = data[i + 3]
                    payload = data[i + 4:i + 4 + length]
                    out.items.append(BarcodeMark(_code128_text(payload) if m == 73
                                                 else payload.decode("ascii", "replace")))
                    i += 4 + length
                else:
                    end = data.index(0, i + 3)
                    out.items.append(BarcodeMark(data[i + 3:end].decode("ascii", "replace")))
                    i = end + 1
            elif c == 0x56:  # GS V m [n]
                m = data[i + 2]
                out.items.append(Cut())
                i += 4 if m in (65, 66) else 3
            elif c in (0x21, 0x68, 0x77, 0x66, 0x48, 0x42, 0x62):
                if c == 0x21:
                    double = bool(data[i + 2] & 0x11)
                i += 3
            elif c == 0x4C or c == 0x57:
                i += 4
            else:
                out.unknown.append(f"GS {c:#04x}")
                i += 2
        elif b == 0x10 and i + 1 < n and data[i + 1] in (0x04, 0x05, 0x14):  # DLE: real-time
            if data[i + 1] == 0x14:  # DLE DC4 fn m t: fn 1 is the drawer pulse
                if i + 4 >= n:
                    raise DecodeError("truncated DLE DC4")
                if data[i + 2] == 1:
                    out.items.append(Drawer(data[i + 3]))
                i += 5
            else:  # DLE EOT n, DLE ENQ n: status requests and recovery, nothing printed
                i += 3
        else:
            if kanji:
                if b < 0xA1 or i + 1 >= n:
                    raise DecodeError(f"byte {b:#04x} is not KS X 1001 in Korean mode")
                buf += data[i:i + 2]
                i += 2
            else:
                buf.append(b)
                i += 1
    flush_segment()
    if spans:
        end_line()
    return out


def preview(data: bytes, profile: PrinterProfile) -> Image.Image:
    """The paper as the printer would print `data`: text lines in a fixed-pitch Korean font,
    raster slices as sent, QR codes and barcodes drawn from their data."""
    from printing.render import draw_fixed

    decoded = decode(data)
    parts: list[Image.Image] = []
    for item in decoded.items:
        if isinstance(item, TextLine):
            parts.append(draw_fixed(item.text, profile, bold=item.bold, double=item.double))
        elif isinstance(item, Raster):
            parts.append(item.image)
        elif isinstance(item, QRCode):
            parts.append(_qr_image(item.data, profile))
        elif isinstance(item, BarcodeMark):
            parts.append(_barcode_image(item.data, profile))
        elif isinstance(item, Cut):
            parts.append(_cut_mark(profile))
    width = profile.dots
    height = sum(p.height for p in parts) + 16
    paper = Image.new("1", (width, max(height, 1)), 1)
    y = 8
    for part in parts:
        paper.paste(part, ((width - part.width) // 2 if part.width < width else 0, y))
        y += part.height
    return paper


def _qr_image(data: str, profile: PrinterProfile) -> Image.Image:
    import qrcode

    qr = qrcode.QRCode(box_size=4 if profile.dots < 500 else 6, border=2)
    qr.add_data(data)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("1")


def _barcode_image(data: str, profile: PrinterProfile) -> Image.Image:
    from barcode import Code128
    from barcode.writer import ImageWriter

    img = Code128(data, writer=ImageWriter()).render({"module_width": 0.2, "module_height": 8,
                                                      "font_size": 6, "quiet_zone": 2,
                                                      "write_text": True})
    img.thumbnail((profile.dots, 200))
    return img.convert("1")


def _cut_mark(profile: PrinterProfile) -> Image.Image:
    img = Image.new("1", (profile.dots, 12), 1)
    for x in range(0, profile.dots, 6):
        img.putpixel((x, 6), 0)
    return img
