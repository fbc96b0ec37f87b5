"""Mask by shape: rectangle and lasso. Drag to draw; release adds the shape to the mask
(right button or Alt subtracts). One shape = one undo item. Like the mask brush they paint the
sample-from area instead when the tool state's mask target says so."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from ..document.commands import layer_change
from ..document.document import Layer
from .base import Tool, ToolEvent
from .brush import mask_target_layer
from .toolstate import TARGET_TINTS


SUPERSAMPLE = 4  # edge pixels get fractional coverage: the mask edge is anti-aliased


def shape_mask(h: int, w: int, points: np.ndarray) -> np.ndarray:
    """float32 h x w coverage of a polygon (N x 2 image coordinates; pixel (i, j) spans [j, j+1)).

    Rasterised at 4x inside the polygon's bounding box only, then box-averaged, so a 4000 x 3000
    photo never gets a 16x full-size buffer.
    """
    out = np.zeros((h, w), np.float32)
    if len(points) < 3:
        return out
    x0 = max(0, int(np.floor(points[:, 0].min())))
    y0 = max(0, int(np.floor(points[:, 1].min())))
    x1 = min(w, int(np.ceil(points[:, 0].max())))
    y1 = min(h, int(np.ceil(points[:, 1].max())))
    if x1 <= x0 or y1 <= y0:
        return out
    s = SUPERSAMPLE
    big = np.zeros(((y1 - y0) * s, (x1 - x0) * s), np.uint8)
    # sub-pixel k covers [k/s, (k+1)/s); fillPoly fills pixels whose centre is inside: shift by -0.5
    pts = np.round(((points - (x0, y0)) * s - 0.5) * 16).astype(np.int32)
    cv2.fillPoly(big, [pts], 255, lineType=cv2.LINE_8, shift=4)
    small = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    out[y0:y1, x0:x1] = small.astype(np.float32) / 255.0
    return out


class ShapeMaskTool(Tool):
    def __init__(self, ctx):
        super().__init__(ctx)
        self._points: list[QPointF] = []
        self._subtract = False
        self._layer = Layer.MASK

    def press(self, e: ToolEvent) -> None:
        if self.doc is None or e.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self._subtract = e.secondary
        self._layer = mask_target_layer(self.ctx.state)
        self._points = [QPointF(e.x, e.y)]
        self.ctx.canvas.update()

    def move(self, e: ToolEvent) -> None:
        if self._points:
            self._extend(QPointF(e.x, e.y))
            self.ctx.canvas.update()

    def _extend(self, p: QPointF) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def polygon(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self, e: ToolEvent) -> None:
        if not self._points:
            return
        self._extend(QPointF(e.x, e.y))
        poly = self.polygon()
        self._points = []
        self.ctx.canvas.update()
        if len(poly) < 3:
            return
        doc = self.doc
        shape = shape_mask(doc.height, doc.width, poly)
        current = doc.layer_array(self._layer)
        new = current * (1.0 - shape) if self._subtract else np.maximum(current, shape)
        what = self.title.lower()
        if self._layer == Layer.SOURCE:
            what = what.replace("mask", "sample-from area")
        cmd = layer_change(doc, self._layer, new, f"{'Subtract' if self._subtract else 'Add'} {what}")
        if cmd is not None:
            self.ctx.undo.push(cmd)

    def cancel(self, reason: str) -> None:
        if self._points:
            self._points = []
            self.ctx.canvas.update()

    def paint_overlay(self, p: QPainter, canvas) -> None:
        poly = self.polygon() if self._points else None
        if poly is None or len(poly) < 2:
            return
        qpoly = QPolygonF([canvas.image_to_widget(QPointF(float(x), float(y))) for x, y in poly])
        p.setBrush(QColor(*TARGET_TINTS["source" if self._layer == Layer.SOURCE else "fill"], 50))
        p.setPen(QPen(QColor(0, 0, 0), 1.5))
        p.drawPolygon(qpoly)
        pen = QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPolygon(qpoly)


class RectMaskTool(ShapeMaskTool):
    id, title, shortcut = "mask_rect", "Rectangle mask", "R"
    tooltip = "Drag a rectangle to add to the mask (right button or Alt subtracts)"

    def _extend(self, p: QPointF) -> None:
        self._points = [self._points[0], p]

    def polygon(self) -> np.ndarray:
        if len(self._points) < 2:
            return np.zeros((0, 2), np.float32)
        a, b = self._points[0], self._points[-1]
        r = QRectF(a, b).normalized()
        return np.array([[r.left(), r.top()], [r.right(), r.top()], [r.right(), r.bottom()], [r.left(), r.bottom()]], np.float32)


class LassoMaskTool(ShapeMaskTool):
    id, title, shortcut = "mask_lasso", "Lasso mask", "O"
    tooltip = "Draw a free shape to add to the mask (right button or Alt subtracts)"

    def _extend(self, p: QPointF) -> None:
        last = self._points[-1]
        if (p.x() - last.x()) ** 2 + (p.y() - last.y()) ** 2 >= 1.0:
            self._points.append(p)

    def polygon(self) -> np.ndarray:
        return np.array([[q.x(), q.y()] for q in self._points], np.float32)
