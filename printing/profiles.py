"""Printer profiles: what a model can do, and presets for the printers vendors bring."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    """`dots` across the printable width, `columns` of font A, and how to talk to it.

    `renderer` is "raster" (the receipt drawn as an image; every printer) or "text" (Korean
    text mode with the printer's own Hangul font, falling back to an image per line).
    `status` asks a network printer for its state before each job: one that cannot answer is
    costs under a second a job (it is sent the job as before)."""

    key: str
    name: str
    dots: int
    columns: int
    renderer: str = "raster"
    slice_height: int = 24
    native_qr: bool = True
    native_barcode: bool = True
    drawer_pin: int = 2
    cut: bool = True
    code_table: int = 0
    status: bool = True  # ask the printer for its state (ESC/POS real-time status) before a job

    def as_dict(self) -> dict:
        return asdict(self)

    def label(self, lang: str) -> str:
        """The model as a person reads it, from the message catalogue (context "printer");
        a profile the catalogue does not know shows its own name."""
        from pos.i18n import tr

        text = tr(self.key, lang, context="printer")
        return self.name if text == self.key else text


PRESETS: dict[str, PrinterProfile] = {p.key: p for p in (
    PrinterProfile("generic-58", "58 mm (generic)", 384, 32),
    PrinterProfile("generic-80", "80 mm (generic)", 576, 48),
    PrinterProfile("epson-tm-t20-kr", "Epson TM-T20 (Korean)", 576, 48, "text"),
    PrinterProfile("epson-tm-t88-kr", "Epson TM-T88 (Korean, 180 dpi)", 512, 42, "text"),
    PrinterProfile("bixolon-srp-350", "Bixolon SRP-350", 512, 42, "text"),
    PrinterProfile("sewoo-lk-t21", "Sewoo LK-T21", 576, 48, "text"),
    PrinterProfile("generic-58-text", "58 mm with a Korean font (text mode)", 384, 32, "text"),
)}

DEFAULT = "generic-80"


def profile(key: str | None = None, overrides: dict | None = None) -> PrinterProfile:
    """A preset by key, with the vendor's own changes applied (stored in settings)."""
    base = PRESETS.get(key or DEFAULT)
    if base is None:
        raise KeyError(f"unknown printer profile {key!r}; known: {', '.join(PRESETS)}")
    if overrides:
        allowed = {k: v for k, v in overrides.items()
                   if k in PrinterProfile.__dataclass_fields__ and k not in ("key",)}
        base = replace(base, **allowed)
    if base.renderer not in ("raster", "text") or base.dots < 128 or base.columns < 16:
        raise ValueError("profile out of range")
    return base
