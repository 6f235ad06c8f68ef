"""Small questions to the vendor. Screens ask through these functions, so tests can answer
them (monkeypatch) instead of clicking modal boxes."""

from __future__ import annotations

from ui.qt import QInputDialog, QLineEdit, QMessageBox, QWidget
from ui.texts import t


def error(parent: QWidget | None, text: str, title: str | None = None) -> None:
    QMessageBox.warning(parent, title or t("error_title"), text)


def info(parent: QWidget | None, text: str, title: str | None = None) -> None:
    QMessageBox.information(parent, title or t("app_title"), text)


def confirm(parent: QWidget | None, text: str) -> bool:
    answer = QMessageBox.question(parent, t("app_title"), text,
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def ask_int(parent: QWidget | None, label: str, value: int, minimum: int = 0,
            maximum: int = 1_000_000_000) -> int | None:
    number, ok = QInputDialog.getInt(parent, t("app_title"), label, value, minimum, maximum)
    return number if ok else None


def ask_text(parent: QWidget | None, label: str, value: str = "") -> str | None:
    text, ok = QInputDialog.getText(parent, t("app_title"), label, QLineEdit.Normal, value)
    return text if ok else None


def choose(parent: QWidget | None, label: str, items: list[str]) -> int | None:
    item, ok = QInputDialog.getItem(parent, t("app_title"), label, items, 0, False)
    return items.index(item) if ok else None


def choose_first_start(parent: QWidget | None, path: str) -> bool:
    """True to load the demo stall, False to start empty."""
    box = QMessageBox(parent)
    box.setWindowTitle(t("first_start_title"))
    box.setText(t("first_start_text", path=path))
    demo = box.addButton(t("first_start_demo"), QMessageBox.AcceptRole)
    box.addButton(t("first_start_empty"), QMessageBox.RejectRole)
    box.setDefaultButton(demo)
    box.exec()
    return box.clickedButton() is demo
