"""The Korean font for receipts and the GUI.

Nanum Gothic (SIL Open Font License 1.1 — see OFL.txt) ships inside the package, so Hangul
never depends on the machine; a system Korean font is preferred where one is installed."""

from __future__ import annotations

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


@lru_cache(maxsize=1)
def receipt_fonts(prefer_system: bool = True) -> tuple[Path, Path]:
    """(regular, bold) font files: the system's Korean font if present, else the bundled one."""
    if prefer_system:
        for regular, bold in _SYSTEM.get(sys.platform, []):
            if Path(regular).is_file() and Path(bold).is_file():
                return Path(regular), Path(bold)
    return REGULAR, BOLD
