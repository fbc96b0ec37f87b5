"""A grid of colour swatches (the palette's saved colours, or the recent-colours row)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QMenu, QSizePolicy, QToolButton, QWidget

SWATCH = 20  # px


def swatch_style(color: QColor) -> str:
    return (
        f"QToolButton {{ background: {color.name()}; border: 1px solid palette(mid); border-radius: 3px; }}"
        "QToolButton:hover { border: 2px solid palette(highlight); }"
    )


class SwatchGrid(QWidget):
    """Colour buttons in rows of ``columns``. Click emits ``picked``.

    With ``editable``, a trailing "+" button asks for the colour to add (``add_requested``) and a
    right-click offers "Remove"; ``colors_edited`` then fires with the new list (to persist it).
    """

    picked = Signal(QColor)
    add_requested = Signal()
    colors_edited = Signal(list)  # list[QColor]

    def __init__(self, columns: int = 8, editable: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._columns = columns
        self._editable = editable
        self._colors: list[QColor] = []
        self._buttons: list[QToolButton] = []
        self.add_button: QToolButton | None = None
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._rebuild()

    def colors(self) -> list[QColor]:
        return [QColor(c) for c in self._colors]

    def set_colors(self, colors: list[QColor]) -> None:
        self._colors = [QColor(c) for c in colors]
        self._rebuild()

    def add_color(self, color: QColor) -> None:
        if any(c.rgb() == QColor(color).rgb() for c in self._colors):
            return  # no duplicates in a palette
        self._colors.append(QColor(color))
        self._rebuild()
        self.colors_edited.emit(self.colors())

    def remove_at(self, index: int) -> None:
        del self._colors[index]
        self._rebuild()
        self.colors_edited.emit(self.colors())

    def buttons(self) -> list[QToolButton]:
        """The colour buttons in order (not the "+" button)."""
        return list(self._buttons)

    def _rebuild(self) -> None:
        while (item := self._grid.takeAt(0)) is not None:
            if item.widget():
                item.widget().deleteLater()
        self._buttons = []
        for i, color in enumerate(self._colors):
            button = QToolButton()
            button.setFixedSize(QSize(SWATCH, SWATCH))
            button.setStyleSheet(swatch_style(color))
            button.setToolTip(color.name())
            button.setProperty("swatch_index", i)
            button.clicked.connect(self._on_click)
            if self._editable:
                button.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                button.customContextMenuRequested.connect(self._on_menu)
            self._grid.addWidget(button, i // self._columns, i % self._columns)
            self._buttons.append(button)
        if self._editable:
            add = QToolButton()
            add.setText("+")
            add.setFixedSize(QSize(SWATCH, SWATCH))
            add.setToolTip("Add the current colour")
            add.clicked.connect(self.add_requested)
            n = len(self._colors)
            self._grid.addWidget(add, n // self._columns, n % self._columns)
            self.add_button = add

    def _on_click(self) -> None:
        index = self.sender().property("swatch_index")
        self.picked.emit(QColor(self._colors[index]))

    def _on_menu(self, pos) -> None:
        button = self.sender()
        index = button.property("swatch_index")
        menu = QMenu(self)
        remove = menu.addAction("Remove")
        remove.triggered.connect(lambda: self.remove_at(index))
        menu.popup(button.mapToGlobal(pos))
