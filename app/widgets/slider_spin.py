"""A slider and a spin box that show one value, optionally with a non-linear slider scale."""

from __future__ import annotations

import math
from typing import Callable

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSlider, QSpinBox, QWidget

SLIDER_STEPS = 1000


def log_scale(lo: int, hi: int) -> tuple[Callable[[int], int], Callable[[int], int]]:
    """(value -> slider position, slider position -> value) on a log scale.

    Brush sizes 1..1000 on a linear slider leave 1-20 px (the sizes used most) in the first 2%
    of its travel; a log scale gives each decade the same room.
    """
    span = math.log(hi / lo)

    def to_pos(value: int) -> int:
        return round(SLIDER_STEPS * math.log(max(lo, min(hi, value)) / lo) / span)

    def to_value(pos: int) -> int:
        return max(lo, min(hi, round(lo * math.exp(span * pos / SLIDER_STEPS))))

    return to_pos, to_value


class SliderSpin(QWidget):
    """Emits ``value_changed(int)`` when the user moves either control; ``set_value`` is silent."""

    value_changed = Signal(int)

    def __init__(self, lo: int, hi: int, suffix: str = "", log: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._lo, self._hi = lo, hi
        if log:
            self._to_pos, self._to_value = log_scale(lo, hi)
            slider_range = (0, SLIDER_STEPS)
        else:
            self._to_pos = self._to_value = lambda v: v
            slider_range = (lo, hi)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(*slider_range)
        self.spin = QSpinBox()
        self.spin.setRange(lo, hi)
        self.spin.setSuffix(suffix)
        self.spin.setKeyboardTracking(False)  # typing "250" must not apply 2 and 25 first
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        # One width for every SliderSpin, so stacked rows line up whatever their range.
        self.spin.setFixedWidth(self.spin.fontMetrics().horizontalAdvance("0000 px") + 36)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self._spin_changed)

    def value(self) -> int:
        return self.spin.value()

    def set_value(self, value: int) -> None:
        """Show ``value`` without emitting (the caller already knows it)."""
        value = max(self._lo, min(self._hi, int(value)))
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)
        # Leave the slider alone while its position already means this value, so a log-scale
        # slider being dragged does not jump to the rounded position.
        if self._to_value(self.slider.value()) != value:
            with QSignalBlocker(self.slider):
                self.slider.setValue(self._to_pos(value))

    def _slider_moved(self, pos: int) -> None:
        value = self._to_value(pos)
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)
        self.value_changed.emit(value)

    def _spin_changed(self, value: int) -> None:
        if self._to_value(self.slider.value()) != value:
            with QSignalBlocker(self.slider):
                self.slider.setValue(self._to_pos(value))
        self.value_changed.emit(value)
