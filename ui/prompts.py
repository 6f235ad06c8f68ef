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
            maximum: int = 1_000_000_000, *, won_amount: bool = False) -> int | None:
    """A whole number on a touch-sized pad (`ui.numpad`): a value past `maximum` is said and
    refused, never cut to fit."""
    from ui.numpad import NumpadDialog

    return NumpadDialog(parent, label, value, minimum, maximum, won_amount=won_amount).run()


def ask_discount(parent: QWidget | None, label: str, maximum: int) -> str | None:
    """A discount on the pad: won (up to `maximum`) or, with its % key, a percentage; the text
    "5000" or "10%" as typed, "0" to remove it, None when closed."""
    from ui.numpad import NumpadDialog

    return NumpadDialog(parent, label, None, 0, maximum, percent=True).run()


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
