"""The mouse wheel over a combo box, spin box or slider scrolls the panel it sits in unless that
widget has keyboard focus (click it first, or Tab to it, to change it with the wheel).

Without this, scrolling a long panel changes whichever field happens to pass under the pointer
(issue 22: the wheel over the Engines dock switched the inpainting method).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QScrollBar, QWidget,
)

GUARDED = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def _guarded(obj: QObject) -> bool:
    # a scroll bar is a slider too, but the wheel over it must scroll as usual
    return isinstance(obj, GUARDED) and not isinstance(obj, QScrollBar)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    w = widget.parentWidget()
    while w is not None:
        if isinstance(w, QAbstractScrollArea):
            return w
        w = w.parentWidget()
    return None


class WheelGuard(QObject):
    """Event filter installed on the application (``install``): a wheel event for an unfocused
    guarded widget goes to the scroll bar of the scroll area around it, or is dropped."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.Wheel or not _guarded(obj):
            return False
        if obj.hasFocus():
            return False
        area = _scroll_area_of(obj)
        if area is not None:
            horizontal = abs(event.angleDelta().x()) > abs(event.angleDelta().y())
            bar = area.horizontalScrollBar() if horizontal else area.verticalScrollBar()
            if bar is not None and bar.isVisible():
                QApplication.sendEvent(bar, event)
        return True  # never the field's value


def guard_focus(root: QWidget) -> int:
    """Give the guarded widgets under ``root`` StrongFocus (the wheel alone must not focus them,
    which Qt's WheelFocus default does); returns how many."""
    count = 0
    for w in root.findChildren(QWidget):
        if _guarded(w) and w.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            count += 1
    return count


def install(parent: QObject) -> WheelGuard:
    """Install one guard on the application, owned by ``parent`` (removed when it is destroyed)."""
    guard = WheelGuard(parent)
    QApplication.instance().installEventFilter(guard)
    return guard
