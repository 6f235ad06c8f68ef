"""The bundled Korean font (Nanum Gothic, SIL Open Font License 1.1 — see OFL.txt), so Hangul
never depends on what the machine has installed."""

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent
REGULAR = FONT_DIR / "NanumGothic.ttf"
BOLD = FONT_DIR / "NanumGothicBold.ttf"
LICENSE = FONT_DIR / "OFL.txt"
