"""Shared tool settings (colour, size, hardness, opacity, label class) with change signals.

Docks edit it, tools read it; nothing else holds these values.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

MIN_SIZE, MAX_SIZE = 1, 1000

# overlay colours of the two masks (canvas tint, tool outlines, the Fill panel's buttons)
FILL_TINT = (255, 40, 80)  # the area to fill
SOURCE_TINT = (40, 200, 110)  # the sample-from area
TARGET_TINTS = {"fill": FILL_TINT, "source": SOURCE_TINT}


class ToolState(QObject):
    color_changed = Signal(QColor)
    size_changed = Signal(int)
    hardness_changed = Signal(float)
    opacity_changed = Signal(float)
    label_changed = Signal(int)  # class id
    label_opacity_changed = Signal(float)
    tool_changed = Signal(str)  # tool id
    recent_colors_changed = Signal(list)  # list[QColor], newest first
    mask_target_changed = Signal(str)  # "fill" | "source": what the mask tools paint

    RECENT_MAX = 12

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._color = QColor(220, 40, 40)
        self._size = 24
        self._hardness = 0.8
        self._opacity = 1.0
        self._label = 1
        self._label_opacity = 0.5
        self._tool = "brush"
        self._recent: list[QColor] = []
        self._mask_target = "fill"

    # colour ---------------------------------------------------------------
    @property
    def color(self) -> QColor:
        return QColor(self._color)

    def set_color(self, color: QColor) -> None:
        color = QColor(color)
        if color.isValid() and color != self._color:
            self._color = color
            self.color_changed.emit(QColor(color))

    def remember_color(self, color: QColor) -> None:
        """Called when a colour is actually used (a stroke or a hint), not on every picker move."""
        color = QColor(color)
        self._recent = [c for c in self._recent if c.rgb() != color.rgb()]
        self._recent.insert(0, color)
        del self._recent[self.RECENT_MAX :]
        self.recent_colors_changed.emit(list(self._recent))

    @property
    def recent_colors(self) -> list[QColor]:
        return list(self._recent)

    # brush ----------------------------------------------------------------
    @property
    def size(self) -> int:
        return self._size

    def set_size(self, size: int) -> None:
        size = max(MIN_SIZE, min(MAX_SIZE, int(size)))
        if size != self._size:
            self._size = size
            self.size_changed.emit(size)

    def grow(self, factor: float) -> None:
        """`[` and `]`: change size by a factor, at least by one pixel."""
        new = round(self._size * factor)
        if new == self._size:
            new += 1 if factor > 1 else -1
        self.set_size(new)

    @property
    def hardness(self) -> float:
        return self._hardness

    def set_hardness(self, value: float) -> None:
        value = max(0.0, min(1.0, float(value)))
        if value != self._hardness:
            self._hardness = value
            self.hardness_changed.emit(value)

    @property
    def opacity(self) -> float:
        return self._opacity

    def set_opacity(self, value: float) -> None:
        value = max(0.0, min(1.0, float(value)))
        if value != self._opacity:
            self._opacity = value
            self.opacity_changed.emit(value)

    # labels ---------------------------------------------------------------
    @property
    def label(self) -> int:
        return self._label

    def set_label(self, class_id: int) -> None:
        if class_id != self._label:
            self._label = int(class_id)
            self.label_changed.emit(self._label)

    @property
    def label_opacity(self) -> float:
        return self._label_opacity

    def set_label_opacity(self, value: float) -> None:
        value = max(0.0, min(1.0, float(value)))
        if value != self._label_opacity:
            self._label_opacity = value
            self.label_opacity_changed.emit(value)

    # mask target ----------------------------------------------------------
    MASK_TARGETS = ("fill", "source")

    @property
    def mask_target(self) -> str:
        """What the mask brush, rectangle and lasso paint: ``"fill"`` (the area to fill, the
        document's mask) or ``"source"`` (the sample-from area of a fill)."""
        return self._mask_target

    def set_mask_target(self, target: str) -> None:
        if target not in self.MASK_TARGETS:
            raise ValueError(f"mask target must be one of {self.MASK_TARGETS}, not {target!r}")
        if target != self._mask_target:
            self._mask_target = target
            self.mask_target_changed.emit(target)

    # tool -----------------------------------------------------------------
    @property
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool_id: str) -> None:
        if tool_id != self._tool:
            self._tool = tool_id
            self.tool_changed.emit(tool_id)
