"""The log file in the data folder (`logs/jangteo.log`): the GUI and the command line write
unexpected errors there instead of onto the vendor's screen."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

log = logging.getLogger("jangteo")


def setup_logging(data_dir: Path) -> Path:
    logs = Path(data_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "jangteo.log"
    if not any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path
               for h in log.handlers):
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)  # with a handler here, nothing falls to the terminal
    return path
