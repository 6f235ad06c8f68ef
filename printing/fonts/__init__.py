"""The Korean font for receipts and the GUI, and the fonts that stand in for it.

Nanum Gothic (SIL Open Font License 1.1 — see OFL.txt) ships inside the package, so Hangul
never depends on the machine; a system Korean font is preferred where one is installed.
Nanum Gothic has no emoji and not every Hanja: `fallback_fonts` are the system's fonts that
may have them, where they are installed; none ships with Jangteo, so a character that no font
here has is left to the renderer's placeholder (`printing.render`)."""

from __future__ import annotations

import logging
import sys
from functools import lru_cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent
REGULAR = FONT_DIR / "NanumGothic.ttf"
BOLD = FONT_DIR / "NanumGothicBold.ttf"
LICENSE = FONT_DIR / "OFL.txt"

_SYSTEM = {
    "linux": [("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
               "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf")],
    "win32": [("C:/Windows/Fonts/malgun.ttf", "C:/Windows/Fonts/malgunbd.ttf")],
    "darwin": [("/System/Library/Fonts/AppleSDGothicNeo.ttc",
                "/System/Library/Fonts/AppleSDGothicNeo.ttc")],
}

# One-colour outlines only: colour emoji fonts that are bitmaps (Noto Color Emoji, Apple
# Color Emoji) cannot be drawn at a receipt's sizes.
_FALLBACK = {
    "linux": ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/arphic/uming.ttc"],
    "win32": ["C:/Windows/Fonts/seguisym.ttf", "C:/Windows/Fonts/seguiemj.ttf",
              "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simsunb.ttf"],
    "darwin": ["/System/Library/Fonts/Apple Symbols.ttf",
               "/System/Library/Fonts/Supplemental/Songti.ttc"],
}

log = logging.getLogger("jangteo.printing")


@lru_cache(maxsize=1)
def receipt_fonts(prefer_system: bool = True) -> tuple[Path, Path]:
    """(regular, bold) font files: the system's Korean font if present, else the bundled one."""
    if prefer_system:
        for regular, bold in _SYSTEM.get(sys.platform, []):
            if Path(regular).is_file() and Path(bold).is_file():
                return Path(regular), Path(bold)
    return REGULAR, BOLD


def fallback_fonts() -> list[Path]:
    """The system's fonts, in order, for characters the receipt font lacks: those installed."""
    return [Path(p) for p in _FALLBACK.get(sys.platform, []) if Path(p).is_file()]


@lru_cache(maxsize=16)
def coverage(path: Path) -> frozenset[int] | None:
    """The characters `path` has a glyph for (its cmap, read with fontTools: Pillow cannot tell a
    glyph from the box it draws for a missing one), or None when it cannot be read."""
    try:
        from fontTools.ttLib import TTFont

        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
        return frozenset(code for code, glyph in cmap.items() if glyph != ".notdef")
    except Exception as exc:  # noqa: BLE001 - any unreadable font: the caller decides
        log.warning("cannot read the characters of font %s: %s", path, exc)
        return None
