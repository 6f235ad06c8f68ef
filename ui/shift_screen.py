"""The Shift screen: opening, cash count and settlement arrive with the settlement feature."""

from ui.qt import QLabel, Qt, QVBoxLayout, QWidget
from ui.texts import t


class ShiftScreen(QWidget):
    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        layout = QVBoxLayout(self)
        label = QLabel(t("shift_coming"))
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignCenter)
        layout.addWidget(label)
