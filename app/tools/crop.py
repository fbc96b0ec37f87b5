"""Crop tool: drag a rectangle (held to the chosen aspect), adjust it by its corners and edges or
move it from inside, then Enter (or double-click) crops every layer as one undo step; Esc forgets
the rectangle. Nothing changes until Enter.

Coordinates are continuous image pixels (pixel i spans [i, i + 1)); the applied crop is the
rectangle rounded to whole pixels and clipped to the photo.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPen

from engines.geometry import Crop, GeometryError

from ..document.document import Document
from .base import Tool, ToolEvent

# (menu text, width / height or None for free, "original" for the photo's own)
ASPECT_PRESETS: tuple[tuple[str, float | str | None], ...] = (
    ("Free", None), ("Original ratio", "original"), ("Square 1:1", 1.0),
    ("4:3", 4 / 3), ("3:2", 3 / 2), ("16:9", 16 / 9),
    ("3:4 (portrait)", 3 / 4), ("2:3 (portrait)", 2 / 3), ("9:16 (portrait)", 9 / 16),
)
HANDLE_PX = 8  # grab distance of a corner or edge, in screen pixels


def crop_from_rect(r: QRectF, doc: Document) -> Crop | None:
    """The whole-pixel crop a rectangle stands for, clipped to the photo (None when empty)."""
    x0, y0 = max(0, round(r.left())), max(0, round(r.top()))
    x1, y1 = min(doc.width, round(r.right())), min(doc.height, round(r.bottom()))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return Crop(x0, y0, x1 - x0, y1 - y0)


class CropTool(Tool):
    id, title, shortcut = "crop", "Crop", "C"
    cursor = Qt.CursorShape.CrossCursor
    tooltip = "Drag the area to keep; adjust by its corners, move from inside; Enter crops, Esc cancels"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.rect: QRectF | None = None  # image coordinates
        self.aspect: float | str | None = None
        self._drag: str | None = None  # "new", "move" or the handle: any of "l", "r", "t", "b" combined
        self._anchor = QPointF()
        self._start_rect = QRectF()
        self.apply_crop = None  # set by the window: callable(Crop) that pushes the undo step

    # ---------------------------------------------------------------- aspect
    def ratio(self) -> float | None:
        if self.aspect == "original":
            doc = self.doc
            return None if doc is None else doc.width / doc.height
        return self.aspect  # type: ignore[return-value]

    def set_aspect(self, aspect: float | str | None) -> None:
        """Choose a preset; a rectangle already drawn is refitted about its centre."""
        self.aspect = aspect
        ratio = self.ratio()
        if self.rect is not None and ratio is not None and self.doc is not None:
            c = self.rect.center()
            w = self.rect.width()
            h = w / ratio
            if h > self.rect.height():
                h = self.rect.height()
                w = h * ratio
            self.rect = self._clamped(QRectF(c.x() - w / 2, c.y() - h / 2, w, h))
        self.ctx.canvas.update()

    # ---------------------------------------------------------------- input
    def activate(self) -> None:
        super().activate()
        self.ctx.status("Crop: drag the area to keep, then Enter (Esc cancels)")

    def _handle_at(self, e: ToolEvent) -> str | None:
        if self.rect is None:
            return None
        tol = HANDLE_PX / max(self.ctx.canvas.zoom, 1e-6)
        r, x, y = self.rect, e.x, e.y
        if not (r.left() - tol <= x <= r.right() + tol and r.top() - tol <= y <= r.bottom() + tol):
            return None
        h = ""
        if abs(x - r.left()) <= tol:
            h += "l"
        elif abs(x - r.right()) <= tol:
            h += "r"
        if abs(y - r.top()) <= tol:
            h += "t"
        elif abs(y - r.bottom()) <= tol:
            h += "b"
        if h:
            return h
        return "move" if r.contains(QPointF(x, y)) else None

    def press(self, e: ToolEvent) -> None:
        if self.doc is None or e.button != Qt.MouseButton.LeftButton:
            return
        grab = self._handle_at(e)
        self._start_rect = QRectF(self.rect) if self.rect is not None else QRectF()
        self._anchor = QPointF(e.x, e.y)
        if grab is None:
            self._drag = "new"
            self.rect = QRectF(self._anchor, self._anchor)
        else:
            self._drag = grab
        self.ctx.canvas.update()

    def move(self, e: ToolEvent) -> None:
        if self._drag is None:
            return
        p = QPointF(min(max(e.x, 0.0), self.doc.width), min(max(e.y, 0.0), self.doc.height))
        if self._drag == "new":
            self.rect = self._with_aspect(self._anchor, p)
        elif self._drag == "move":
            d = p - self._anchor
            r = self._start_rect.translated(d)
            dx = max(0.0, -r.left()) - max(0.0, r.right() - self.doc.width)
            dy = max(0.0, -r.top()) - max(0.0, r.bottom() - self.doc.height)
            self.rect = r.translated(dx, dy)
        else:
            self.rect = self._resized(self._drag, p)
        self.ctx.canvas.update()
        self._say_size()

    def release(self, e: ToolEvent) -> None:
        if self._drag is None:
            return
        self._drag = None
        if self.rect is not None and (self.rect.width() < 1 or self.rect.height() < 1):
            self.rect = None  # a click without a drag: no rectangle
        self.ctx.canvas.update()
        self._say_size()

    def double_click(self, e: ToolEvent) -> None:
        self.commit()

    def key_press(self, e: QKeyEvent) -> bool:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return self.commit()
        if e.key() == Qt.Key.Key_Escape and self.rect is not None:
            self.cancel("escape")
            return True
        return False

    def cancel(self, reason: str) -> None:
        self._drag = None
        if self.rect is not None:
            self.rect = None
            self.ctx.canvas.update()

    def commit(self) -> bool:
        """Crop to the rectangle (one undo step); False when there is nothing to crop."""
        doc = self.doc
        if doc is None or self.rect is None:
            return False
        crop = crop_from_rect(self.rect.normalized(), doc)
        self.rect = None
        self.ctx.canvas.update()
        if crop is None or (crop.w, crop.h) == (doc.width, doc.height):
            return False
        try:
            if self.apply_crop is not None:
                self.apply_crop(crop)
        except GeometryError as exc:
            self.ctx.status(str(exc))
            return False
        return True

    # ---------------------------------------------------------------- geometry
    def _clamped(self, r: QRectF) -> QRectF:
        doc = self.doc
        return r.intersected(QRectF(0, 0, doc.width, doc.height))

    def _with_aspect(self, a: QPointF, b: QPointF) -> QRectF:
        """The rectangle from anchor ``a`` towards ``b``, shrunk to the aspect and the photo."""
        ratio = self.ratio()
        dx, dy = b.x() - a.x(), b.y() - a.y()
        if ratio is not None:
            w, h = abs(dx), abs(dy)
            if w < h * ratio:
                h = w / ratio
            else:
                w = h * ratio
            # keep inside the photo on the side we grow towards
            room_x = a.x() if dx < 0 else self.doc.width - a.x()
            room_y = a.y() if dy < 0 else self.doc.height - a.y()
            scale = min(1.0, room_x / w if w else 1.0, room_y / h if h else 1.0)
            w, h = w * scale, h * scale
            dx, dy = (w if dx >= 0 else -w), (h if dy >= 0 else -h)
        return self._clamped(QRectF(a, QPointF(a.x() + dx, a.y() + dy)).normalized())

    def _resized(self, handle: str, p: QPointF) -> QRectF:
        r = QRectF(self._start_rect)
        if self.ratio() is not None and len(handle) == 2:
            # a corner drag keeps the aspect: grow from the opposite corner
            opposite = QPointF(r.right() if "l" in handle else r.left(), r.bottom() if "t" in handle else r.top())
            return self._with_aspect(opposite, p)
        if "l" in handle:
            r.setLeft(min(p.x(), r.right() - 1))
        if "r" in handle:
            r.setRight(max(p.x(), r.left() + 1))
        if "t" in handle:
            r.setTop(min(p.y(), r.bottom() - 1))
        if "b" in handle:
            r.setBottom(max(p.y(), r.top() + 1))
        ratio = self.ratio()
        if ratio is not None:  # an edge drag: the other side follows, about the centre
            c = r.center()
            if handle in ("l", "r"):
                h = r.width() / ratio
                r = QRectF(r.left(), c.y() - h / 2, r.width(), h)
            else:
                w = r.height() * ratio
                r = QRectF(c.x() - w / 2, r.top(), w, r.height())
        return self._clamped(r)

    def _say_size(self) -> None:
        if self.rect is not None and self.doc is not None:
            crop = crop_from_rect(self.rect.normalized(), self.doc)
            if crop is not None:
                self.ctx.status(f"Crop {crop.w} × {crop.h} px at ({crop.x}, {crop.y}) — Enter crops, Esc cancels")

    # ---------------------------------------------------------------- drawing
    def paint_overlay(self, p: QPainter, canvas) -> None:
        if self.rect is None or self.doc is None:
            return
        r = QRectF(canvas.image_to_widget(self.rect.topLeft()), canvas.image_to_widget(self.rect.bottomRight())).normalized()
        photo = QRectF(canvas.image_to_widget(QPointF(0, 0)),
                       canvas.image_to_widget(QPointF(self.doc.width, self.doc.height)))
        shade = QPainterPath()
        shade.addRect(photo)
        keep = QPainterPath()
        keep.addRect(r)
        p.fillPath(shade.subtracted(keep), QColor(0, 0, 0, 140))  # dim what will be cut away
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0), 1.5))
        p.drawRect(r)
        p.setPen(QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine))
        p.drawRect(r)
        # rule-of-thirds guides and corner handles
        p.setPen(QPen(QColor(255, 255, 255, 90), 1.0))
        for i in (1, 2):
            x = r.left() + r.width() * i / 3
            y = r.top() + r.height() * i / 3
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
        p.setPen(QPen(QColor(0, 0, 0), 1.0))
        p.setBrush(QColor(255, 255, 255))
        s = HANDLE_PX * 0.75
        for c in (r.topLeft(), r.topRight(), r.bottomLeft(), r.bottomRight()):
            p.drawRect(QRectF(c.x() - s / 2, c.y() - s / 2, s, s))
