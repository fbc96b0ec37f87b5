"""Colour picker: click (or drag) to take the photo's colour as the current colour."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from .base import Tool, ToolEvent


class ColorPickerTool(Tool):
    id, title, shortcut = "picker", "Colour picker", "I"
    tooltip = "Take the colour under the cursor"

    def __init__(self, ctx):
        super().__init__(ctx)
        self._down = False

    def _pick(self, e: ToolEvent) -> None:
        doc = self.doc
        x, y = int(math.floor(e.x)), int(math.floor(e.y))
        if doc is None or not (0 <= x < doc.width and 0 <= y < doc.height):
            return
        r, g, b = (float(v) for v in doc.image[y, x])
        self.ctx.state.set_color(QColor.fromRgbF(r, g, b))

    def press(self, e: ToolEvent) -> None:
        if e.button == Qt.MouseButton.LeftButton:
            self._down = True
            self._pick(e)

    def move(self, e: ToolEvent) -> None:
        if self._down:
            self._pick(e)

    def release(self, e: ToolEvent) -> None:
        if self._down:
            self._down = False
            self.ctx.state.remember_color(self.ctx.state.color)

    def cancel(self, reason: str) -> None:
        self._down = False
