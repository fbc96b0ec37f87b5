"""Colour palette: the current colour, an HSV picker with hex entry, saved swatches, recent colours."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, QSignalBlocker, QSize
from PySide6.QtGui import QColor, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDockWidget, QFrame, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from ..settings import PALETTE_SWATCHES, Settings
from ..tools.toolstate import ToolState
from ..widgets.hsv_picker import HsvPicker
from ..widgets.swatches import SwatchGrid

# Useful starting colours: greys, a hue circle, and skin/earth tones for retouching.
DEFAULT_SWATCHES = (
    "#000000", "#404040", "#808080", "#c0c0c0", "#ffffff", "#dc2828", "#f08c28", "#f0d228",
    "#50b43c", "#1e6e28", "#28a0dc", "#1e3ca0", "#8c3cb4", "#e678a0", "#d2a080", "#785032",
)
COLUMNS = 8


class PaletteDock(QDockWidget):
    def __init__(self, state: ToolState, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__("Colour", parent)
        self.setObjectName("PaletteDock")
        self._state = state
        self._settings = settings

        self.current = QFrame()
        self.current.setFixedSize(QSize(48, 48))
        self.current.setFrameShape(QFrame.Shape.Box)
        self.hex = QLineEdit()
        self.hex.setValidator(QRegularExpressionValidator(QRegularExpression(r"#?[0-9a-fA-F]{0,6}")))
        self.hex.setMaxLength(7)
        self.hex.setToolTip("Hex colour, e.g. #3c78d8 (Enter to apply)")
        self.hex.setFixedWidth(self.hex.fontMetrics().horizontalAdvance("#WWWWWW") + 16)
        self.picker = HsvPicker()
        self.swatches = SwatchGrid(COLUMNS, editable=True)
        self.recent = SwatchGrid(COLUMNS)
        self.recent_label = QLabel("Recent")

        top = QHBoxLayout()
        top.addWidget(self.current)
        hex_col = QVBoxLayout()
        hex_col.addWidget(QLabel("Hex"))
        hex_col.addWidget(self.hex)
        top.addLayout(hex_col)
        top.addStretch(1)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(top)
        layout.addWidget(self.picker)
        layout.addWidget(QLabel("Swatches"))
        layout.addWidget(self.swatches)
        layout.addWidget(self.recent_label)
        layout.addWidget(self.recent)
        layout.addStretch(1)
        self.setWidget(body)

        self.swatches.set_colors([QColor(c) for c in self._saved_swatches()])
        self._show_recent(state.recent_colors)
        self._show_color(state.color)

        self.picker.color_changed.connect(state.set_color)
        self.hex.editingFinished.connect(self._hex_entered)
        self.swatches.picked.connect(state.set_color)
        self.swatches.add_requested.connect(self._add_current)
        self.swatches.colors_edited.connect(self._save_swatches)
        self.recent.picked.connect(state.set_color)
        state.color_changed.connect(self._show_color)
        state.recent_colors_changed.connect(self._show_recent)

    # ------------------------------------------------------------------ state -> widgets
    def _show_color(self, color: QColor) -> None:
        self.current.setStyleSheet(f"background: {color.name()}; border: 1px solid palette(mid);")
        self.current.setToolTip(color.name())
        self.picker.set_color(color)
        if not self.hex.hasFocus() or self.hex.text().lstrip("#").lower() != color.name()[1:]:
            with QSignalBlocker(self.hex):
                self.hex.setText(color.name())

    def _show_recent(self, colors: list) -> None:
        self.recent.set_colors(colors)
        self.recent_label.setVisible(bool(colors))
        self.recent.setVisible(bool(colors))

    # ------------------------------------------------------------------ user -> state
    def _hex_entered(self) -> None:
        text = self.hex.text().strip().lstrip("#")
        if len(text) == 3:  # CSS shorthand #abc
            text = "".join(ch * 2 for ch in text)
        color = QColor("#" + text)
        if len(text) == 6 and color.isValid():
            self._state.set_color(color)
        else:  # incomplete entry: show the current colour again rather than guess
            self.hex.setText(self._state.color.name())

    def _add_current(self) -> None:
        self.swatches.add_color(self._state.color)

    # ------------------------------------------------------------------ persistence
    def _saved_swatches(self) -> list[str]:
        saved = self._settings.get(PALETTE_SWATCHES) if self._settings else []
        valid = [c for c in saved if QColor(c).isValid()]
        return valid or list(DEFAULT_SWATCHES)

    def _save_swatches(self, colors: list) -> None:
        if self._settings is not None:
            self._settings.set(PALETTE_SWATCHES, [c.name() for c in colors])
