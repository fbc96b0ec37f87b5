"""The latent edit pad: the model's view of the photo (projection, morph frame or candidate) with
the user's edit strokes over it, kept apart from the photo.

Strokes live in :class:`StrokeLayers` (PAD x PAD arrays, pad pixels): ``color`` RGB + coverage
(colour brush), ``sketch`` edge strength (pen) and ``keep`` (1 = keep the projection here). Each
stroke is one :class:`StrokeCommand` on the editor's undo stack, holding before / after patches of
the bounding box it touched.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QSizePolicy, QWidget

PAD = 256  # stroke resolution (pad pixels); the model works at 64, the photo region at any size
TOOLS = ("color", "sketch", "keep")


class StrokeLayers:
    def __init__(self, side: int = PAD) -> None:
        self.side = side
        self.color = np.zeros((side, side, 4), np.float32)  # RGB [0, 1] + coverage [0, 1]
        self.sketch = np.zeros((side, side), np.float32)  # 1 = an edge here
        self.keep = np.zeros((side, side), np.float32)  # 1 = keep the projection here

    def layer(self, name: str) -> np.ndarray:
        if name not in TOOLS:
            raise ValueError(f"unknown stroke layer {name!r}")
        return getattr(self, name)

    def empty(self) -> bool:
        return not (self.color[..., 3].any() or self.sketch.any() or self.keep.any())


class StrokeCommand(QUndoCommand):
    """One stroke (or Clear) on a stroke layer: before / after patches of ``rect`` (x, y, w, h)."""

    saved_data = False  # the pad's strokes are not part of the photo: Save does not write them

    def __init__(self, pad: "EditPad", name: str, rect, before: np.ndarray, after: np.ndarray, text: str,
                 applied: bool = True):
        super().__init__(text)
        self.pad, self.name, self.rect, self.before, self.after = pad, name, rect, before, after
        self._skip = applied

    def _put(self, data: np.ndarray) -> None:
        x, y, w, h = self.rect
        self.pad.strokes.layer(self.name)[y:y + h, x:x + w] = data
        self.pad.strokes_changed.emit()
        self.pad.update()

    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self._put(self.after)

    def undo(self) -> None:
        self._put(self.before)


class EditPad(QWidget):
    """Paint colour strokes (left button), sketch strokes (pen) or keep regions over the model's image."""

    strokes_changed = Signal()
    stroke_finished = Signal()

    def __init__(self, undo: QUndoStack, parent: QWidget | None = None):
        super().__init__(parent)
        self.undo = undo
        self.strokes = StrokeLayers()
        self.tool = "color"
        self.rgb = (0.85, 0.15, 0.1)
        self.radius = 10  # pad pixels
        self._image: np.ndarray | None = None  # float32 s x s x 3 shown under the strokes
        self._qimage: QImage | None = None
        self._before: np.ndarray | None = None
        self._last: tuple[int, int] | None = None
        self._dirty: list[int] | None = None  # x0, y0, x1, y1 of the current stroke
        self.setFixedSize(PAD, PAD)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Paint colour strokes (Colour), edges (Sketch) or regions to keep (Keep) over the "
                        "model's view of the photo; each stroke is one undo step")

    def sizeHint(self) -> QSize:  # layouts size rows from hints; a fixed size alone is not enough
        return QSize(PAD, PAD)

    def minimumSizeHint(self) -> QSize:
        return QSize(PAD, PAD)

    # ------------------------------------------------------------------ image
    def set_image(self, image: np.ndarray | None) -> None:
        self._image = None if image is None else np.ascontiguousarray(image, np.float32)
        self._qimage = None
        if self._image is not None:
            rgb = np.ascontiguousarray(np.round(np.clip(self._image, 0, 1) * 255).astype(np.uint8))
            h, w = rgb.shape[:2]
            self._qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.update()

    def clear_strokes(self) -> None:
        """Clear all three layers as one undo step."""
        if self.strokes.empty():
            return
        self.undo.beginMacro("Clear edit strokes")
        for name in TOOLS:
            layer = self.strokes.layer(name)
            if layer.any():
                rect = (0, 0, self.strokes.side, self.strokes.side)
                cmd = StrokeCommand(self, name, rect, layer.copy(), np.zeros_like(layer), "Clear strokes",
                                    applied=False)
                self.undo.push(cmd)
        self.undo.endMacro()

    # ------------------------------------------------------------------ painting
    def _dab(self, x0: int, y0: int, x1: int, y1: int) -> None:
        layer = self.strokes.layer(self.tool)
        thickness = 2 if self.tool == "sketch" else max(1, 2 * self.radius)
        cover = np.zeros(layer.shape[:2], np.uint8)
        cv2.line(cover, (x0, y0), (x1, y1), 255, thickness, lineType=cv2.LINE_AA)
        c = cover.astype(np.float32) / 255.0
        if self.tool == "color":
            hit = c > 0
            layer[hit, :3] = self.rgb
            layer[..., 3] = np.maximum(layer[..., 3], c)
        else:
            np.maximum(layer, c, out=layer)
        r = thickness // 2 + 2
        box = [min(x0, x1) - r, min(y0, y1) - r, max(x0, x1) + r + 1, max(y0, y1) + r + 1]
        if self._dirty is None:
            self._dirty = box
        else:
            self._dirty = [min(self._dirty[0], box[0]), min(self._dirty[1], box[1]),
                           max(self._dirty[2], box[2]), max(self._dirty[3], box[3])]

    def _pos(self, event: QMouseEvent) -> tuple[int, int]:
        p = event.position()
        s = self.strokes.side
        return (int(np.clip(p.x() * s / self.width(), 0, s - 1)), int(np.clip(p.y() * s / self.height(), 0, s - 1)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._before = self.strokes.layer(self.tool).copy()
        self._dirty = None
        self._last = self._pos(event)
        self._dab(*self._last, *self._last)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is None:
            return
        p = self._pos(event)
        self._dab(*self._last, *p)
        self._last = p
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._last is None or self._before is None:
            return
        self._last = None
        s = self.strokes.side
        x0, y0, x1, y1 = (int(np.clip(v, 0, s)) for v in self._dirty or (0, 0, s, s))
        rect = (x0, y0, x1 - x0, y1 - y0)
        layer = self.strokes.layer(self.tool)
        before = self._before[y0:y1, x0:x1].copy()
        after = layer[y0:y1, x0:x1].copy()
        self._before = None
        if rect[2] > 0 and rect[3] > 0 and not np.array_equal(before, after):
            names = {"color": "Colour stroke", "sketch": "Sketch stroke", "keep": "Keep region"}
            self.undo.push(StrokeCommand(self, self.tool, rect, before, after, names[self.tool]))
        self.strokes_changed.emit()
        self.stroke_finished.emit()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._before is not None:  # abort the stroke
            self.strokes.layer(self.tool)[...] = self._before
            self._before = self._last = None
            self.update()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ drawing
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        rect = QRectF(0, 0, self.width(), self.height())
        if self._qimage is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(rect, self._qimage)
        else:
            p.fillRect(rect, QColor(60, 60, 60))
            p.setPen(QColor(200, 200, 200))
            p.drawText(rect.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "Project the photo (or Random) to start")
        p.drawImage(rect, self._overlay())
        p.setPen(QColor(0, 0, 0, 120))
        p.drawRect(rect.adjusted(0, 0, -1, -1))
        p.end()

    def _overlay(self) -> QImage:
        s = self.strokes.side
        rgba = np.zeros((s, s, 4), np.float32)
        keep = self.strokes.keep[..., None]
        rgba[..., :3] = keep * np.array([0.2, 0.8, 0.3], np.float32)
        rgba[..., 3] = keep[..., 0] * 0.35
        cov = self.strokes.color[..., 3:4]
        rgba[..., :3] = rgba[..., :3] * (1 - cov) + self.strokes.color[..., :3] * cov
        rgba[..., 3] = np.maximum(rgba[..., 3], cov[..., 0] * 0.9)
        sk = self.strokes.sketch[..., None]
        rgba[..., :3] *= 1 - sk  # black pen lines
        rgba[..., 3] = np.maximum(rgba[..., 3], sk[..., 0])
        u8 = np.ascontiguousarray(np.round(rgba * 255).astype(np.uint8))
        return QImage(u8.data, s, s, 4 * s, QImage.Format.Format_RGBA8888).copy()
