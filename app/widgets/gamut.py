"""The ab gamut panel: the a-b colour plane at one lightness, showing only reachable colours.

The panel is drawn at the selected hint's own lightness L (the photo's L at that point), so every
colour offered can really appear there; unreachable (a, b) are drawn as the panel background and
ignore clicks. Clicking a reachable colour emits ``picked`` with its RGB.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engines.colorize import lab

PANEL = 150  # px


class GamutWidget(QWidget):
    picked = Signal(QColor)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(QSize(PANEL, PANEL))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Colours reachable at this hint's lightness: click to pick")
        self.lightness = 50.0
        self.marker: tuple[float, float] | None = None  # (a, b) of the selected hint
        self._ok = np.zeros((PANEL, PANEL), bool)
        self._buf: np.ndarray | None = None
        self._image: QImage | None = None
        self.set_lightness(50.0)

    def set_lightness(self, L: float) -> None:
        self.lightness = float(np.clip(L, 0.0, 100.0))
        rgb, ok = lab.gamut_image(self.lightness, PANEL)
        buf = np.empty((PANEL, PANEL, 4), np.uint8)
        buf[..., :3] = np.round(rgb * 255).astype(np.uint8)
        buf[..., 3] = np.where(ok, 255, 0)  # unreachable: transparent, the widget background shows
        self._buf, self._ok = buf, ok
        self._image = QImage(buf.data, PANEL, PANEL, 4 * PANEL, QImage.Format.Format_RGBA8888)
        self.update()

    def set_marker(self, ab: tuple[float, float] | None) -> None:
        self.marker = ab
        self.update()

    def colour_at(self, x: float, y: float) -> QColor | None:
        """The reachable colour under widget pixel (x, y), or None outside the gamut."""
        xi, yi = int(x), int(y)
        if not (0 <= xi < PANEL and 0 <= yi < PANEL) or not self._ok[yi, xi]:
            return None
        a, b = lab.ab_at_panel(xi + 0.5, yi + 0.5, PANEL)
        rgb = lab.lab_to_rgb(np.array([[[self.lightness, a, b]]], np.float32))[0, 0]
        return QColor.fromRgbF(*(float(c) for c in rgb))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self._image is not None:
            p.drawImage(0, 0, self._image)
        p.setPen(QColor(128, 128, 128, 160))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))  # the ab square: -110..110 on both axes
        p.setPen(QPen(QColor(128, 128, 128, 120), 1, Qt.PenStyle.DotLine))
        p.drawLine(PANEL // 2, 0, PANEL // 2, PANEL)  # a = 0
        p.drawLine(0, PANEL // 2, PANEL, PANEL // 2)  # b = 0
        p.setPen(QColor(128, 128, 128))
        p.drawText(4, 12, f"L {self.lightness:.0f}")
        if self.marker is not None:
            x, y = lab.panel_xy(self.marker[0], self.marker[1], PANEL)
            p.setPen(QPen(QColor(0, 0, 0), 3))
            p.drawEllipse(QPointF(x, y), 5, 5)
            p.setPen(QPen(QColor(255, 255, 255), 1.5))
            p.drawEllipse(QPointF(x, y), 5, 5)
        p.end()

    def _pick(self, e: QMouseEvent) -> None:
        colour = self.colour_at(e.position().x(), e.position().y())
        if colour is not None:
            self.picked.emit(colour)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._pick(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        pass
