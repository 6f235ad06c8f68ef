"""Unexpected errors: written to a log file in the data directory and shown in a dialog; the
till keeps running with its cart."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

from pos.logfile import setup_logging  # noqa: F401 - the GUI's log is the command line's

log = logging.getLogger("jangteo")


def install_excepthook(log_path: Path, parent_getter) -> None:
    """Route exceptions that escape Qt slots to the log and a dialog instead of a crash."""
    from ui import prompts
    from ui.texts import t

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("unexpected error\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        try:
            prompts.error(parent_getter(), t("error_unexpected", log=str(log_path),
                                             detail=f"{exc_type.__name__}: {exc}"))
        except Exception:  # noqa: BLE001 - the dialog itself must never take the till down
            log.exception("could not show the error dialog")

    sys.excepthook = hook
