"""Choosing a file to open or save, the same way on every screen: the file types named in the
vendor's language, the dialog opening in the folder last used (kept in the state folder beside
the window's place), else the Documents folder, never the folder the till was started from."""

from __future__ import annotations

from pathlib import Path

from ui.qt import QFileDialog, QSettings, QStandardPaths
from ui.texts import t

# file kinds: the message key of each filter's words and its patterns
KINDS = {"pdf": ("files_pdf", "*.pdf"), "catalog_open": ("files_catalog", "*.csv *.xlsx *.txt"),
         "xlsx": ("files_xlsx", "*.xlsx"), "csv": ("files_csv", "*.csv"),
         "image": ("files_image", "*.png *.jpg *.jpeg *.bmp")}


def _settings() -> QSettings:
    from ui.app import geometry_file

    return QSettings(str(geometry_file()), QSettings.IniFormat)


def last_folder() -> str:
    saved = _settings().value("files/last_folder")
    if saved and Path(str(saved)).is_dir():
        return str(saved)
    documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return documents if documents and Path(documents).is_dir() else str(Path.home())


def _remember(path: str) -> None:
    try:
        settings = _settings()
        settings.setValue("files/last_folder", str(Path(path).parent))
        settings.sync()
    except OSError:
        pass


def _filters(kinds: tuple[str, ...]) -> str:
    parts = [f"{t(KINDS[k][0])} ({KINDS[k][1]})" for k in kinds]
    return ";;".join(parts + [f"{t('files_all')} (*)"])


def save_file(parent, title: str, name: str, *kinds: str) -> str | None:
    """A path to save `name` at (the last folder first), or None when the vendor closed it."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(last_folder()) / name),
                                          _filters(kinds))
    if not path:
        return None
    _remember(path)
    return path


def open_file(parent, title: str, *kinds: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, last_folder(), _filters(kinds))
    if not path:
        return None
    _remember(path)
    return path
