"""Rendering a 20-line receipt on 58 and 80 mm paper, by raster and by Korean text mode, and
what it costs on the wire.

Each renderer: `layout_receipt` (measured for the printer: the font's dots for raster, its
columns for text mode) + `render` (the ESC/POS bytes), against Pillow alone drawing the same
text rows with the same font file, sizes and row heights into an 8-bit image of the same size
(fonts loaded beforehand, as the renderer caches them), measured in the same run, one sample
of each in turn. The widths of the receipt's texts are measured anew for every sample, as for
a new receipt. Target for raster: ≤ 2 × Pillow.
Korean text mode sends the printer's own font and draws nothing (but a row outside KS X 1001),
so it is also put beside encoding the same rows (as the renderer pads them) to EUC-KR bytes
with Python's codec: the least any text-mode renderer has to do. Reported.
Also reports the bytes per receipt of each renderer and how long they take over 9,600-baud
serial (Bluetooth), 115,200-baud serial and a 10 Mbit/s LAN printer.

    uv run python bench/bench_render.py [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import finish, note, parser, percentile, report  # noqa: E402


class PillowText:
    """Pillow drawing the receipt's text rows as plain text: same font, size, row heights and
    paper width; rules as one line, feeds as space. No layout, no thresholding, no ESC/POS."""

    def __init__(self, items, profile):
        from PIL import ImageFont

        from printing.fonts import receipt_fonts
        from printing.layout import Feed, Row, Rule
        from printing.render import metrics

        self.size, self.line = metrics(profile)
        regular, bold = receipt_fonts()
        self.fonts = {(d, b): ImageFont.truetype(str(bold if b else regular),
                                                 self.size * (2 if d else 1))
                      for d in (False, True) for b in (False, True)}
        self.dots = profile.dots
        self.plan, y = [], 0
        for item in items:
            if isinstance(item, Row):
                h = self.line * 2 if item.double else self.line
                self.plan.append(("row", y, item))
            elif isinstance(item, Rule):
                h = self.line // 2 + 4
                self.plan.append(("rule", y + h // 2, None))
            elif isinstance(item, Feed):
                h = self.line * item.lines // 2
            else:  # QR, barcode: printer commands, not drawn
                continue
            y += h
        self.height = max(1, y)

    def draw(self):
        from PIL import Image, ImageDraw

        img = Image.new("L", (self.dots, self.height), 255)
        draw = ImageDraw.Draw(img)
        for kind, y, row in self.plan:
            if kind == "rule":
                draw.line((0, y, self.dots, y), fill=0, width=1)
                continue
            font = self.fonts[(row.double, row.bold)]
            if row.left:
                x = 0
                if not row.right and row.align != "left":
                    x = self.dots - draw.textlength(row.left, font=font)
                    x = x // 2 if row.align == "center" else x
                draw.text((x, y + 2), row.left, font=font, fill=0)
            if row.right:
                w = draw.textlength(row.right, font=font)
                draw.text((self.dots - w, y + 2), row.right, font=font, fill=0)
        return img


PRINTERS = (("generic-58", "58 mm", "raster"), ("generic-80", "80 mm", "raster"),
            ("generic-58-text", "58 mm", "text"), ("epson-tm-t20-kr", "80 mm", "text"))


def main() -> int:
    from pos import services as svc
    from pos.demo import load_demo_catalog
    from pos.domain import Tender
    from pos.store import Store
    from printing.layout import Row, Rule
    from printing.profiles import profile
    from printing.receipt import layout_receipt, receipt_for
    from printing.render import glyph_runs, measure_for, render, text_width

    ap = parser(__doc__)
    args = ap.parse_args()
    samples = 5 if args.quick else 30
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "d") as store:
            load_demo_catalog(store)
            with store.unit_of_work() as uow:
                svc.open_shift(uow, float_amount=0)  # every sale belongs to a shift
                products = svc.list_products(uow)[:20]
                items = [svc.SaleItem(p["id"], 1 + i % 3) for i, p in enumerate(products)]
                total = svc.quote_sale(uow, items=items).totals.total
                doc = svc.record_sale(uow, items=items,
                                      tenders=[Tender("local_voucher", 10000),
                                               Tender("cash", total - 10000 + 5000)])
                uow.commit()
            with store.unit_of_work(write=False) as uow:
                receipt = receipt_for(uow, sale_id=doc.id)
    note(f"receipt: {len(receipt.lines)} lines, {len(receipt.sellers)} enterprises, "
         f"{samples} samples each, in turn with the anchors")
    for key, paper, mode in PRINTERS:
        prof = profile(key)
        layout = layout_receipt(receipt, measure_for(prof))
        render(layout, prof, drawer=True)  # warm the font cache
        pillow = PillowText(layout, prof)
        rows = [(it.text(prof.columns) if isinstance(it, Row) else it.char * prof.columns)
                for it in layout if isinstance(it, (Row, Rule))]

        def euc_kr():
            return b"\n".join(r.encode("euc_kr", "replace") for r in rows)

        anchors = {"pillow": pillow.draw, "euc_kr": euc_kr}
        for anchor in anchors.values():
            anchor()
        times: list[float] = []
        anchor_times: dict[str, list[float]] = {name: [] for name in anchors}
        for _ in range(samples):
            # every receipt has names of its own: their widths are measured anew each time
            text_width.cache_clear()
            glyph_runs.cache_clear()
            t = time.perf_counter()
            data = render(layout_receipt(receipt, measure_for(prof)), prof, drawer=True)
            times.append((time.perf_counter() - t) * 1000)
            for name, anchor in anchors.items():
                t = time.perf_counter()
                anchor()
                anchor_times[name].append((time.perf_counter() - t) * 1000)
        name = f"render {paper}, {mode} (p50)"
        figure = percentile(times, 50)
        drawn = sum(1 for k, *_ in pillow.plan if k == "row")
        if mode == "raster":
            ok &= report(name, figure, "ms", percentile(anchor_times["pillow"], 50), ratio=2.0)
            note(f"anchor: Pillow drawing the same {drawn} rows into {prof.dots}×{pillow.height}"
                 " pixels")
        else:
            report(name, figure, "ms", percentile(anchor_times["pillow"], 50))
            note(f"anchor: Pillow drawing the same {drawn} rows into {prof.dots}×{pillow.height}"
                 " pixels")
            report(f"render {paper}, {mode} (p50), against EUC-KR", figure, "ms",
                   percentile(anchor_times["euc_kr"], 50))
            note(f"anchor: the same {len(rows)} rows encoded to EUC-KR")
        label = f"{mode}, {paper}"
        report(f"  bytes per receipt, {label}", len(data) / 1024, "KiB")
        for wire, seconds in (("9,600 baud serial", len(data) * 10 / 9600),
                              ("115,200 baud serial", len(data) * 10 / 115200),
                              ("10 Mbit/s LAN", len(data) * 8 / 10_000_000)):
            report(f"  on the wire, {label}, {wire}", seconds, "s")
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
