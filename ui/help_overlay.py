"""F1: every shortcut of the till."""

from __future__ import annotations

from ui.qt import QDialog, QGridLayout, QKeySequence, QLabel, QShortcut, Qt, QVBoxLayout
from ui.texts import SHORTCUTS, t


class HelpOverlay(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(t("help_title"))
        layout = QVBoxLayout(self)
        grid = QGridLayout()
        for row, key in enumerate(SHORTCUTS):
            k = QLabel(f"<b>{t(key + '_keys')}</b>")
            k.setTextFormat(Qt.RichText)
            grid.addWidget(k, row, 0)
            grid.addWidget(QLabel(t(key)), row, 1)
        layout.addLayout(grid)
        layout.addWidget(QLabel(t("help_close")))
        QShortcut(QKeySequence("F1"), self, activated=self.close)
