"""A guard on the Qt binding itself: PySide6 6.12.0 returned `None` from void methods without
counting the reference, so on Python 3.11 a till crashed ("deallocating None") after a few
thousand clicks. pyproject.toml keeps it below 6.12; this test fails if a broken one comes back."""

import sys

from ui.qt import QLabel


def test_void_qt_methods_do_not_steal_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("수제비누")
        label.setEnabled(True)
    assert sys.getrefcount(None) >= before
