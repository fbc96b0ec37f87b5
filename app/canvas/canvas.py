"""The canvas: shows a Document with overlays, zooms about the cursor, pans, forwards input to tools.

Display caches are 8-bit premultiplied copies (Qt's native ARGB32 byte order, see mipmap.py) of the layers (image, mask tint, label colours). A document
change updates only its rectangle of the caches and repaints only that rectangle of the widget, so
a stroke on a 4000 x 3000 photo costs what the dab covers, not what the photo holds. Each cache
also keeps area-filtered half-size levels (mipmap.py): below 100 % the canvas draws from the level
just above the zoom, so fine detail does not alias into moiré; a change updates its rectangle in
every level.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush, QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap,
    QTransform, QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from ..document.document import Document, Layer, Rect, UNLABELED
from ..tools.base import Tool, ToolEvent
from ..tools.toolstate import FILL_TINT, SOURCE_TINT
from .mipmap import QT_FORMAT, RGB, MipChain, level_for_scale, to_display_order

MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
MASK_TINT = FILL_TINT  # what a painted mask looks like (alpha from the mask value)
MASK_ALPHA = 0.45
SOURCE_ALPHA = 0.35  # the sample-from area: another colour, a little lighter (it is usually larger)
PREVIEW_MASK_OPACITY = 0.3  # the mask tint while an engine preview is shown


def _to_u8(a: np.ndarray) -> np.ndarray:
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _qimage(buf: np.ndarray) -> QImage:
    h, w = buf.shape[:2]
    return QImage(buf.data, w, h, w * 4, QT_FORMAT)


def _checker_pixmap() -> QPixmap:
    pm = QPixmap(16, 16)
    pm.fill(QColor(204, 204, 204))
    p = QPainter(pm)
    p.fillRect(0, 0, 8, 8, QColor(255, 255, 255))
    p.fillRect(8, 8, 8, 8, QColor(255, 255, 255))
    p.end()
    return pm


class Canvas(QWidget):
    cursor_moved = Signal(object)  # (x, y, (r, g, b) 0..255) in image pixels, or None when outside
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self.doc: Document | None = None
        self.tool: Tool | None = None
        self.zoom = 1.0
        self.offset = QPointF(0, 0)  # widget position of image pixel (0, 0)
        self.show_mask = True
        self.show_hints = True
        self.show_labels = True
        self.label_opacity = 0.5
        self._label_lut = np.zeros((1, 3), np.uint8)
        self._rgba = np.zeros((1, 1, 4), np.uint8)
        self._mask_rgba = np.zeros((1, 1, 4), np.uint8)
        self._source_rgba = np.zeros((1, 1, 4), np.uint8)
        self._label_rgba = np.zeros((1, 1, 4), np.uint8)
        self._qimg = self._mask_qimg = self._source_qimg = self._label_qimg = QImage()
        self._chains: dict[str, MipChain] = {}  # "image", "mask", "source", "labels"
        self._compare_chain: MipChain | None = None
        self._preview_chain: MipChain | None = None
        self._mask_any = self._source_any = self._labels_any = False
        self._compare: QImage | None = None  # "before" picture for the split view
        self._compare_buf: np.ndarray | None = None
        self._split = 0.5  # fraction of the widget width showing "before"
        self._preview: tuple[QImage, np.ndarray, Rect] | None = None
        self._checker = QBrush(_checker_pixmap())
        self._pan_anchor: QPointF | None = None
        self._space_down = False
        self._fitted = True
        self._fit_upscale = False
        self._last_mouse: QPointF | None = None

    # ------------------------------------------------------------------ document
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.remove_listener(self._on_doc_changed)
        self.doc = doc
        self._preview, self._preview_chain = None, None
        if doc is not None:
            doc.add_listener(self._on_doc_changed)
            self._rebuild_caches()
            self.fit(upscale=False)
        self.update()

    def _rebuild_caches(self) -> None:
        doc = self.doc
        h, w = doc.height, doc.width
        self._rgba = np.zeros((h, w, 4), np.uint8)
        self._mask_rgba = np.zeros((h, w, 4), np.uint8)
        self._source_rgba = np.zeros((h, w, 4), np.uint8)
        self._label_rgba = np.zeros((h, w, 4), np.uint8)
        self._qimg, self._mask_qimg, self._label_qimg = _qimage(self._rgba), _qimage(self._mask_rgba), _qimage(self._label_rgba)
        self._source_qimg = _qimage(self._source_rgba)
        self._chains = {}  # filled below, once the base buffers are
        full = (0, 0, w, h)
        self._update_image_cache(full)
        self._update_mask_cache(full)
        self._update_source_cache(full)
        self._update_label_cache(full)
        # an empty overlay's levels start as zeros without a pass over 12 MP
        self._chains = {"image": MipChain(self._rgba), "mask": MipChain(self._mask_rgba, self._mask_any),
                        "source": MipChain(self._source_rgba, self._source_any),
                        "labels": MipChain(self._label_rgba, self._labels_any)}

    def _update_levels(self, name: str, rect: Rect, empty: bool = False) -> None:
        """The half-size levels of a cache after its ``rect`` changed (``empty``: the whole
        buffer is now zero)."""
        chain = self._chains.get(name)
        if chain is None:
            return
        if empty and rect[2:] == (self.doc.width, self.doc.height):
            chain.clear()
        else:
            chain.update(rect)

    def _update_image_cache(self, rect: Rect) -> None:
        x, y, w, h = rect
        a = self.doc.alpha[y : y + h, x : x + w, None]
        # premultiplied: the painter blends it over the checkerboard without another pass
        self._rgba[y : y + h, x : x + w, :3] = to_display_order(_to_u8(self.doc.image[y : y + h, x : x + w] * a))
        self._rgba[y : y + h, x : x + w, 3] = _to_u8(a[..., 0])
        self._update_levels("image", rect)

    def _update_mask_cache(self, rect: Rect) -> None:
        x, y, w, h = rect
        alpha = self.doc.mask[y : y + h, x : x + w] * MASK_ALPHA
        out = self._mask_rgba[y : y + h, x : x + w]
        for c, v in zip(RGB, MASK_TINT):
            out[..., c] = _to_u8(alpha * (v / 255.0))
        out[..., 3] = _to_u8(alpha)
        # an empty overlay is not drawn at all (a scaled drawImage of a 12 MP layer costs ~2 ms)
        if rect[2:] == (self.doc.width, self.doc.height):
            self._mask_any = bool(alpha.any())
        else:
            self._mask_any = self._mask_any or bool(alpha.any())
        self._update_levels("mask", rect, not self._mask_any)

    def _update_source_cache(self, rect: Rect) -> None:
        x, y, w, h = rect
        alpha = self.doc.source[y : y + h, x : x + w] * SOURCE_ALPHA
        out = self._source_rgba[y : y + h, x : x + w]
        for c, v in zip(RGB, SOURCE_TINT):
            out[..., c] = _to_u8(alpha * (v / 255.0))
        out[..., 3] = _to_u8(alpha)
        if rect[2:] == (self.doc.width, self.doc.height):
            self._source_any = bool(alpha.any())
        else:
            self._source_any = self._source_any or bool(alpha.any())
        self._update_levels("source", rect, not self._source_any)

    def _update_label_cache(self, rect: Rect) -> None:
        x, y, w, h = rect
        ids = self.doc.labels[y : y + h, x : x + w]
        out = self._label_rgba[y : y + h, x : x + w]
        valid = (ids >= 0) & (ids < len(self._label_lut))
        colors = self._label_lut[np.where(valid, ids, 0)]
        out[..., :3] = to_display_order(np.where(valid[..., None], colors, 0))
        out[..., 3] = np.where(valid, 255, 0)
        if rect[2:] == (self.doc.width, self.doc.height):
            self._labels_any = bool(valid.any())
        else:
            self._labels_any = self._labels_any or bool(valid.any())
        self._update_levels("labels", rect, not self._labels_any)

    def set_label_colors(self, lut: np.ndarray) -> None:
        """Class colours, uint8 (N, 3), indexed by class id."""
        self._label_lut = np.asarray(lut, np.uint8).reshape(-1, 3)
        if self.doc is not None:
            self._update_label_cache((0, 0, self.doc.width, self.doc.height))
        self.update()

    def _on_doc_changed(self, layer: Layer, rect: Rect | None) -> None:
        doc = self.doc
        if layer == Layer.ALL or (doc.height, doc.width) != self._rgba.shape[:2]:
            self._preview, self._preview_chain = None, None
            self._rebuild_caches()
            if self._fitted:
                self.fit()
            self.update()
            return
        full = (0, 0, doc.width, doc.height)
        r = rect or full
        if layer in (Layer.IMAGE, Layer.ALPHA):
            self._update_image_cache(r)
        elif layer == Layer.MASK:
            self._update_mask_cache(r)
        elif layer == Layer.SOURCE:
            self._update_source_cache(r)
        elif layer == Layer.LABELS:
            self._update_label_cache(r)
        if layer == Layer.HINTS or rect is None:
            self.update()
        else:
            self.update(self.image_rect_to_widget(r))

    # ------------------------------------------------------------------ overlays shown by engines
    def set_compare_image(self, rgb: np.ndarray | None) -> None:
        """The 'before' picture for the split view (None = compare off)."""
        if rgb is None:
            self._compare, self._compare_buf, self._compare_chain = None, None, None
        else:
            buf = np.empty(rgb.shape[:2] + (4,), np.uint8)
            buf[..., :3] = to_display_order(_to_u8(rgb))
            buf[..., 3] = 255
            self._compare_buf, self._compare = buf, _qimage(buf)
            self._compare_chain = MipChain(buf)
        self.update()

    @property
    def comparing(self) -> bool:
        return self._compare is not None

    def set_preview(self, rgb: np.ndarray | None, rect: Rect | None = None) -> None:
        """Show an engine preview over ``rect`` of the image (not part of the document)."""
        if rgb is None:
            self._preview, self._preview_chain = None, None
        else:
            buf = np.empty(rgb.shape[:2] + (4,), np.uint8)
            buf[..., :3] = to_display_order(_to_u8(rgb))
            buf[..., 3] = 255
            self._preview = (_qimage(buf), buf, rect or (0, 0, rgb.shape[1], rgb.shape[0]))
            self._preview_chain = MipChain(buf)
        self.update()

    def visible_image_rect(self) -> Rect | None:
        """The part of the image shown in the widget, in image pixels (None without an image)."""
        if self.doc is None:
            return None
        tl = self.widget_to_image(QPointF(0, 0))
        br = self.widget_to_image(QPointF(self.width(), self.height()))
        x0, y0 = max(0, int(tl.x())), max(0, int(tl.y()))
        x1, y1 = min(self.doc.width, int(np.ceil(br.x()))), min(self.doc.height, int(np.ceil(br.y())))
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1 - x0, y1 - y0)

    # ------------------------------------------------------------------ geometry
    def transform(self) -> QTransform:
        return QTransform(self.zoom, 0, 0, self.zoom, self.offset.x(), self.offset.y())

    def widget_to_image(self, p: QPointF) -> QPointF:
        return QPointF((p.x() - self.offset.x()) / self.zoom, (p.y() - self.offset.y()) / self.zoom)

    def image_to_widget(self, p: QPointF) -> QPointF:
        return QPointF(p.x() * self.zoom + self.offset.x(), p.y() * self.zoom + self.offset.y())

    def image_rect_to_widget(self, rect: Rect) -> QRect:
        x, y, w, h = rect
        return QRectF(x * self.zoom + self.offset.x(), y * self.zoom + self.offset.y(), w * self.zoom, h * self.zoom).toAlignedRect().adjusted(-2, -2, 2, 2)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget coords) where it is."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        img_pt = self.widget_to_image(anchor)
        self.zoom = zoom
        self.offset = QPointF(anchor.x() - img_pt.x() * zoom, anchor.y() - img_pt.y() * zoom)
        self._fitted = False
        self._emit_zoom()
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def fit(self, upscale: bool | None = None) -> None:
        """Fit the image in the view; small images are enlarged only when ``upscale``."""
        if self.doc is None:
            return
        if upscale is not None:
            self._fit_upscale = upscale
        margin = 16
        zw = (self.width() - 2 * margin) / self.doc.width
        zh = (self.height() - 2 * margin) / self.doc.height
        z = min(zw, zh) if self._fit_upscale else min(zw, zh, 1.0)
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, z))
        self._center()
        self._fitted = True
        self._emit_zoom()
        self.update()

    def actual_size(self) -> None:
        """100 %: one image pixel on one device pixel (at a 200 % screen scale, zoom is 0.5)."""
        self.zoom = 1.0 / self.dpr()
        self._center()
        self._fitted = False
        self._emit_zoom()
        self.update()

    # High-DPI: ``zoom`` is widget (logical) pixels per image pixel, what tools and geometry use;
    # the screen shows ``zoom * dpr()`` device pixels per image pixel, which is what "100 %" means.
    def dpr(self) -> float:
        return float(self.devicePixelRatioF()) or 1.0

    def device_zoom(self) -> float:
        return self.zoom * self.dpr()

    def _emit_zoom(self) -> None:
        self.zoom_changed.emit(self.device_zoom())

    def _center(self) -> None:
        # whole device pixels: at 100 % each image pixel then lands on exactly one screen pixel
        d = self.dpr()
        self.offset = QPointF(round((self.width() - self.doc.width * self.zoom) / 2 * d) / d,
                              round((self.height() - self.doc.height * self.zoom) / 2 * d) / d)

    def resizeEvent(self, event) -> None:
        if self._fitted and self.doc is not None:
            self.fit()
        super().resizeEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        exposed = event.rect()
        p.fillRect(exposed, QColor(58, 58, 62))
        if self.doc is None:
            p.setPen(QColor(170, 170, 170))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Open a photo (Ctrl+O) or drop one here")
            p.end()
            return
        # Which image pixels are exposed: draw only those (source rect), scaled by the transform.
        inv, _ = self.transform().inverted()
        src = inv.mapRect(QRectF(exposed)).toAlignedRect().adjusted(-1, -1, 1, 1)
        src = src.intersected(QRect(0, 0, self.doc.width, self.doc.height))
        if src.isEmpty():
            self._paint_tool(p)
            p.end()
            return
        target = QRectF(src.x() * self.zoom + self.offset.x(), src.y() * self.zoom + self.offset.y(), src.width() * self.zoom, src.height() * self.zoom)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.device_zoom() < 1.0)
        if self.doc.has_transparency:
            p.save()
            p.setClipRect(target)
            p.fillRect(target, self._checker)
            p.restore()
        # zoomed out, the layers come from their area-filtered levels, whose last pixel may reach
        # past the image edge by less than a screen pixel: clip to the image
        p.save()
        p.setClipRect(QRectF(self.offset.x(), self.offset.y(), self.doc.width * self.zoom, self.doc.height * self.zoom),
                      Qt.ClipOperation.IntersectClip)
        self._draw_layer(p, "image", target, src)
        if self._preview is not None:
            qimg, buf, (x, y, w, h) = self._preview
            where = QRectF(x * self.zoom + self.offset.x(), y * self.zoom + self.offset.y(), w * self.zoom, h * self.zoom)
            self._draw_levels(p, self._preview_chain, where, QRectF(0, 0, buf.shape[1], buf.shape[0]))
            if (x, y, w, h) != (0, 0, self.doc.width, self.doc.height):
                # a preview of part of the image: outline it so the user sees what was previewed
                p.setPen(QPen(QColor(255, 255, 255, 200), 1, Qt.PenStyle.DashLine))
                p.drawRect(where.adjusted(0, 0, -1, -1))
        # an engine preview (a synthesized photo, a fill) is the result the user asked to see: the
        # label overlay would cover it, so it is hidden until the preview goes
        if self.show_labels and self.label_opacity > 0 and self._labels_any and self._preview is None:
            p.setOpacity(self.label_opacity)
            self._draw_layer(p, "labels", target, src)
            p.setOpacity(1.0)
        if self.show_mask and self._source_any and self._preview is None:
            # the sample-from area, under the fill mask (hidden over a fill preview: it would tint it)
            self._draw_layer(p, "source", target, src)
        if self.show_mask and self._mask_any:
            # over an inpainting preview the tint is faint, so the fill it would hide stays visible
            p.setOpacity(PREVIEW_MASK_OPACITY if self._preview is not None else 1.0)
            self._draw_layer(p, "mask", target, src)
            p.setOpacity(1.0)
        p.restore()
        if self._compare is not None:
            self._paint_compare(p)
        if self.show_hints:
            self._paint_hints(p)
        self._paint_tool(p)
        p.end()

    def _draw_layer(self, p: QPainter, name: str, target: QRectF, src: QRect) -> None:
        """Draw image pixels ``src`` of a layer cache at widget rectangle ``target``."""
        self._draw_levels(p, self._chains[name], target, QRectF(src))

    def _draw_levels(self, p: QPainter, chain: MipChain | None, target: QRectF, src: QRectF) -> None:
        """Draw ``src`` (pixels of ``chain``'s base) at ``target`` from the level that suits the
        scale: the smallest one still at least as large as the screen shows it (no aliasing)."""
        if chain is None or src.isEmpty():
            return
        sx, sy = target.width() / src.width(), target.height() / src.height()
        k = level_for_scale(min(sx, sy) * self.dpr(), len(chain))
        if k == 0:
            p.drawImage(target, chain.images[0], src)
            return
        image, level_src, covered = chain.source(k, src)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)  # shrinks by 1/2 .. 1
        p.drawImage(QRectF(target.x() + (covered.x() - src.x()) * sx, target.y() + (covered.y() - src.y()) * sy,
                           covered.width() * sx, covered.height() * sy), image, level_src)

    def _paint_compare(self, p: QPainter) -> None:
        split_x = self.width() * self._split
        p.save()
        p.setClipRect(QRectF(0, 0, split_x, self.height()))
        cw, ch = self._compare.width(), self._compare.height()
        # the 'before' picture may differ in size (an upscale): stretch it over the current image
        where = QRectF(self.offset.x(), self.offset.y(), self.doc.width * self.zoom, self.doc.height * self.zoom)
        p.setClipRect(where, Qt.ClipOperation.IntersectClip)
        self._draw_levels(p, self._compare_chain, where, QRectF(0, 0, cw, ch))
        p.restore()
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(split_x, 0), QPointF(split_x, self.height()))
        p.setPen(QColor(255, 255, 255))
        p.drawText(QRectF(split_x - 70, 8, 62, 20), Qt.AlignmentFlag.AlignRight, "before")
        p.drawText(QRectF(split_x + 8, 8, 62, 20), Qt.AlignmentFlag.AlignLeft, "after")

    def _paint_hints(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for h in self.doc.hints:
            c = self.image_to_widget(QPointF(h.x, h.y))
            r = max(5.0, h.size * self.zoom / 2 + 3)
            p.setPen(QPen(QColor(0, 0, 0), 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(c, r, r)
            p.setPen(QPen(QColor(255, 255, 255), 1.5))
            p.setBrush(QColor.fromRgbF(*h.rgb))
            p.drawEllipse(c, r, r)

    def _paint_tool(self, p: QPainter) -> None:
        if self.tool is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self.tool.paint_overlay(p, self)

    # ------------------------------------------------------------------ input
    def _event(self, e: QMouseEvent) -> ToolEvent:
        pos = self.widget_to_image(e.position())
        return ToolEvent(pos.x(), pos.y(), e.button(), e.buttons(), e.modifiers(), e.position())

    def _panning_start(self, e: QMouseEvent) -> bool:
        return e.button() == Qt.MouseButton.MiddleButton or (e.button() == Qt.MouseButton.LeftButton and self._space_down)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if self.doc is None:
            return
        if self._panning_start(e):
            self._pan_anchor = e.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if self._compare is not None and e.button() == Qt.MouseButton.LeftButton:
            self._split = min(1.0, max(0.0, e.position().x() / max(1, self.width())))
            self.update()
            return
        if self.tool is not None:
            self.tool.press(self._event(e))

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self.doc is None:
            return
        old = self._last_mouse
        self._last_mouse = e.position()
        if self._pan_anchor is not None:
            d = e.position() - self._pan_anchor
            self._pan_anchor = e.position()
            self.offset += d
            self._fitted = False
            self.update()
            return
        if self._compare is not None and e.buttons() & Qt.MouseButton.LeftButton:
            self._split = min(1.0, max(0.0, e.position().x() / max(1, self.width())))
            self.update()
            return
        ev = self._event(e)
        if self.tool is not None:
            self.tool.move(ev)
            self._update_cursor_outline(old, e.position())
        self._report_cursor(ev.x, ev.y)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if self._pan_anchor is not None and e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_anchor = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_down else Qt.CursorShape.CrossCursor)
            return
        if self.doc is not None and self.tool is not None:
            self.tool.release(self._event(e))

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:
        if self.doc is not None and self.tool is not None:
            self.tool.double_click(self._event(e))

    def leaveEvent(self, e) -> None:
        old, self._last_mouse = self._last_mouse, None
        self._update_cursor_outline(old, None)
        self.cursor_moved.emit(None)

    def wheelEvent(self, e: QWheelEvent) -> None:
        if self.doc is None:
            return
        dy = e.angleDelta().y() or e.angleDelta().x()
        # smooth: 120 units (one notch) = x1.2; trackpads send small deltas for small steps
        self.zoom_by(math.pow(1.2, dy / 120.0), e.position())

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self._space_down = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if e.key() == Qt.Key.Key_Escape and self.tool is not None:
            self.tool.cancel("escape")
            return
        if self.tool is not None and self.tool.key_press(e):
            return
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self._space_down = False
            self._pan_anchor = None
            self.setCursor(Qt.CursorShape.CrossCursor)
            return
        super().keyReleaseEvent(e)

    def focusOutEvent(self, e) -> None:
        self._space_down = False
        super().focusOutEvent(e)

    def _update_cursor_outline(self, old: QPointF | None, new: QPointF | None) -> None:
        """Repaint only around the old and new brush outline."""
        if self.tool is None:
            return
        for pt in (old, new):
            if pt is not None:
                r = self.tool.outline_radius(self) + 3
                self.update(QRectF(pt.x() - r, pt.y() - r, 2 * r, 2 * r).toAlignedRect())

    @property
    def last_mouse(self) -> QPointF | None:
        return self._last_mouse

    def _report_cursor(self, x: float, y: float) -> None:
        ix, iy = int(math.floor(x)), int(math.floor(y))
        if 0 <= ix < self.doc.width and 0 <= iy < self.doc.height:
            rgb = tuple(int(v) for v in self._rgba_unpremultiplied(ix, iy))
            label = int(self.doc.labels[iy, ix])
            self.cursor_moved.emit((ix, iy, rgb, None if label == UNLABELED else label))
        else:
            self.cursor_moved.emit(None)

    def _rgba_unpremultiplied(self, x: int, y: int) -> np.ndarray:
        return _to_u8(self.doc.image[y, x])
