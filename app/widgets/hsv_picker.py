"""A compact HSV colour picker: a saturation/value square and a vertical hue strip."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

STRIP_W = 18  # hue strip width
GAP = 8  # between square and strip
MARGIN = 4  # room for the markers at the edges


class HsvPicker(QWidget):
    """Drag in the square for saturation (x) and value (y), in the strip for hue.

    ``color_changed`` fires on user input only; ``set_color`` is silent. The hue is kept as
    state of its own because greys have no hue: dragging value to black and back must not
    reset the hue to red.
    """

    color_changed = Signal(QColor)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._h, self._s, self._v = 0.0, 1.0, 1.0  # each in [0, 1]
        self._drag: str | None = None  # "sv" or "hue" while the mouse is down
        self.setMinimumSize(120, 130)  # below that, picking a value gets fiddly
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag in the square for saturation and brightness, in the strip for hue")

    def sizeHint(self) -> QSize:
        return QSize(200, 150)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        # Keep the square square-ish while the dock is resized.
        return max(100, min(260, width - STRIP_W - GAP))

    # ------------------------------------------------------------------ value
    def color(self) -> QColor:
        return QColor.fromHsvF(self._h, self._s, self._v)

    def set_color(self, color: QColor) -> None:
        h, s, v, _ = QColor(color).getHsvF()
        if h >= 0 and s > 0 and v > 0:  # keep the previous hue for greys and black
            self._h = h
        if v > 0:  # black has no saturation either
            self._s = s
        self._v = v
        self.update()

    # ------------------------------------------------------------------ geometry
    def sv_rect(self) -> QRectF:
        side_w = self.width() - 2 * MARGIN - STRIP_W - GAP
        return QRectF(MARGIN, MARGIN, max(10, side_w), max(10, self.height() - 2 * MARGIN))

    def hue_rect(self) -> QRectF:
        sv = self.sv_rect()
        return QRectF(sv.right() + GAP, MARGIN, STRIP_W, sv.height())

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        sv, hue = self.sv_rect(), self.hue_rect()

        # Square: white -> pure hue across, then transparent -> black down over it.
        across = QLinearGradient(sv.topLeft(), sv.topRight())
        across.setColorAt(0, Qt.GlobalColor.white)
        across.setColorAt(1, QColor.fromHsvF(self._h, 1, 1))
        p.fillRect(sv, across)
        down = QLinearGradient(sv.topLeft(), sv.bottomLeft())
        down.setColorAt(0, QColor(0, 0, 0, 0))
        down.setColorAt(1, QColor(0, 0, 0, 255))
        p.fillRect(sv, down)

        strip = QLinearGradient(hue.topLeft(), hue.bottomLeft())
        for i in range(7):  # six hue sectors; 7 stops wrap red to red
            strip.setColorAt(i / 6, QColor.fromHsvF((i / 6) % 1.0, 1, 1))
        p.fillRect(hue, strip)

        p.setPen(QPen(self.palette().mid().color(), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(sv)
        p.drawRect(hue)

        # Markers: a ring on the square (dark or light to stay visible), a bar on the strip.
        x = sv.left() + self._s * sv.width()
        y = sv.top() + (1 - self._v) * sv.height()
        ring = Qt.GlobalColor.black if self._v > 0.6 and self._s < 0.4 else Qt.GlobalColor.white
        p.setPen(QPen(ring, 2))
        p.drawEllipse(QPointF(x, y), 5, 5)
        hy = hue.top() + self._h * hue.height()
        p.setPen(QPen(Qt.GlobalColor.black, 1))
        p.setBrush(Qt.GlobalColor.white)
        p.drawRect(QRectF(hue.left() - 2, hy - 2, hue.width() + 4, 4))
        p.end()

    # ------------------------------------------------------------------ input
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        if self.hue_rect().adjusted(-GAP / 2, -MARGIN, MARGIN, MARGIN).contains(pos):
            self._drag = "hue"
        elif self.sv_rect().adjusted(-MARGIN, -MARGIN, GAP / 2, MARGIN).contains(pos):
            self._drag = "sv"
        else:
            return
        self._pick(pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag:
            self._pick(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None

    def _pick(self, pos: QPointF) -> None:
        clamp = lambda t: max(0.0, min(1.0, t))  # noqa: E731 - dragging past the edge pins to it
        if self._drag == "hue":
            hue = self.hue_rect()
            # 1.0 is red again; QColor wants hue < 1
            self._h = min(clamp((pos.y() - hue.top()) / hue.height()), 0.9999)
        else:
            sv = self.sv_rect()
            self._s = clamp((pos.x() - sv.left()) / sv.width())
            self._v = 1 - clamp((pos.y() - sv.top()) / sv.height())
        self.update()
        self.color_changed.emit(self.color())
