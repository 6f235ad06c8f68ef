"""A short sound when a scan goes wrong (an unknown barcode), so a vendor looking at the
customer hears it (Settings: 스캔 오류 소리). Qt's multimedia module is not in the packaged
app, so it is the platform's own: Windows' error sound, macOS' alert, on Linux a generated
two-tone WAV played by `paplay` or `aplay` when one is there, else the display's bell. It never
blocks the till and never fails loudly."""

from __future__ import annotations

import io
import logging
import math
import shutil
import struct
import subprocess
import sys
import wave
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("jangteo")


@lru_cache(maxsize=1)
def _wav() -> Path | None:
    """A 0.25 s falling two-tone in the state folder (made once)."""
    from pos.marks import state_dir

    path = state_dir() / "scan-error.wav"
    if path.exists():
        return path
    rate = 16000
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(rate // 4):
            freq = 880 if i < rate // 8 else 440
            fade = min(1.0, (rate // 4 - i) / 400)
            frames += struct.pack("<h", int(9000 * fade * math.sin(2 * math.pi * freq * i / rate)))
        w.writeframes(bytes(frames))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
    except OSError:
        return None
    return path


def error_beep() -> None:
    try:
        if sys.platform == "win32":
            import winsound

            winsound.MessageBeep(winsound.MB_ICONHAND)
            return
        if sys.platform != "darwin":
            player = shutil.which("paplay") or shutil.which("aplay")
            wav = _wav() if player else None
            if player and wav is not None:
                subprocess.Popen([player, "-q", str(wav)] if player.endswith("aplay")
                                 else [player, str(wav)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
                return
        from ui.qt import QApplication

        QApplication.beep()
    except Exception:  # noqa: BLE001 - a sound is a nicety; the red message is the news
        log.debug("no scan error sound", exc_info=True)
