"""No combo box or spin box changes on the mouse wheel unless the vendor is in it.

Scrolling down the Settings screen had changed the printer model under the pointer. One filter
on the whole application: a wheel turned over a combo box, spin box or date field that does
not have the keyboard focus scrolls the page it is on instead (the nearest scroll area, if
any) and leaves the value alone. Such fields also no longer take the focus from the wheel
(`Qt.WheelFocus`, a combo box's default), so a value changes on the wheel only after a click
or Tab into the field."""

from __future__ import annotations

from ui.qt import (QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QEvent,
                   QObject, Qt)


class WheelGuard(QObject):
    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Wheel and isinstance(obj, (QComboBox, QAbstractSpinBox)):
            if obj.hasFocus():
                return False
            area = obj.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:
                bar = area.verticalScrollBar()
                if bar is not None and bar.isVisible():
                    QApplication.sendEvent(bar, event)
            return True  # the value stays as it is
        if kind == QEvent.Polish and isinstance(obj, (QComboBox, QAbstractSpinBox)) and \
                obj.focusPolicy() == Qt.WheelFocus:
            obj.setFocusPolicy(Qt.StrongFocus)
        return False


def install(app) -> None:
    """Once per application (`ui.app.application`)."""
    if getattr(app, "_jangteo_wheel_guard", None) is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
        app._jangteo_wheel_guard = guard
