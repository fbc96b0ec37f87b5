"""Label rectangle: drag a rectangle, release to give it the current class (right button or Alt:
unlabel). Pixels are whole: a pixel belongs to the rectangle when its centre is inside. One
rectangle = one undo item."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from ..document.commands import layer_change
from ..document.document import Layer, UNLABELED
from .base import Tool, ToolEvent


def rect_pixels(a: tuple[float, float], b: tuple[float, float], width: int, height: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels whose centres lie inside the dragged rectangle, clipped."""
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    px0, py0 = max(0, math.ceil(x0 - 0.5)), max(0, math.ceil(y0 - 0.5))
    px1, py1 = min(width, math.floor(x1 - 0.5) + 1), min(height, math.floor(y1 - 0.5) + 1)
    if px1 <= px0 or py1 <= py0:
        return None
    return px0, py0, px1, py1


class LabelRectTool(Tool):
    id, title, shortcut = "label_rect", "Label rectangle", "Shift+L"
    tooltip = "Drag a rectangle of the current class (right button or Alt: unlabel)"

    def __init__(self, ctx):
        super().__init__(ctx)
        self._start: QPointF | None = None
        self._end: QPointF | None = None
        self._erase = False

    def press(self, e: ToolEvent) -> None:
        if self.doc is None or e.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self._erase = e.secondary
        self._start = self._end = QPointF(e.x, e.y)
        self.ctx.canvas.update()

    def move(self, e: ToolEvent) -> None:
        if self._start is not None:
            self._end = QPointF(e.x, e.y)
            self.ctx.canvas.update()

    def release(self, e: ToolEvent) -> None:
        if self._start is None:
            return
        a, b = (self._start.x(), self._start.y()), (e.x, e.y)
        self._start = self._end = None
        self.ctx.canvas.update()
        doc = self.doc
        box = rect_pixels(a, b, doc.width, doc.height)
        if box is None:
            return
        x0, y0, x1, y1 = box
        target = UNLABELED if self._erase else self.ctx.state.label
        new = doc.labels.copy()
        new[y0:y1, x0:x1] = np.int32(target)
        cmd = layer_change(doc, Layer.LABELS, new, "Unlabel rectangle" if self._erase else "Label rectangle")
        if cmd is not None:
            self.ctx.undo.push(cmd)

    def cancel(self, reason: str) -> None:
        if self._start is not None:
            self._start = self._end = None
            self.ctx.canvas.update()

    def paint_overlay(self, p: QPainter, canvas) -> None:
        if self._start is None or self._end is None:
            return
        r = QRectF(canvas.image_to_widget(self._start), canvas.image_to_widget(self._end)).normalized()
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0), 1.5))
        p.drawRect(r)
        p.setPen(QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine))
        p.drawRect(r)
