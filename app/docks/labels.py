"""Label classes: choose a palette, pick the class the label brush paints, set overlay opacity."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDockWidget, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QVBoxLayout, QWidget,
)

from ..settings import LABELS_OPACITY, LABELS_PALETTE, Settings
from ..tools.toolstate import ToolState
from ..widgets.slider_spin import SliderSpin
from engines.labels import LabelPalette, PaletteError, list_palettes, load_palette

log = logging.getLogger(__name__)
CHIP = 14  # px colour chip per row
ID_ROLE = Qt.ItemDataRole.UserRole


def color_chip(rgb: tuple[int, int, int]) -> QIcon:
    pix = QPixmap(CHIP, CHIP)
    pix.fill(QColor(*rgb))
    return QIcon(pix)


class LabelsDock(QDockWidget):
    palette_changed = Signal(object)  # LabelPalette

    def __init__(self, state: ToolState, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__("Labels", parent)
        self.setObjectName("LabelsDock")
        self._state = state
        self._settings = settings
        self._palette: LabelPalette | None = None
        self._palettes = self._load_all()

        self.header = QLabel()
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.combo = QComboBox()
        for name, palette in self._palettes.items():
            self.combo.addItem(f"{palette.title} ({len(palette)})", name)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter classes")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setIconSize(QSize(CHIP, CHIP))
        self.list.setUniformItemSizes(True)  # fast with 150+ classes
        self.opacity = SliderSpin(0, 100, " %")
        self.opacity.setToolTip("Opacity of the label overlay on the canvas")

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Palette", self.combo)
        form.addRow("Overlay", self.opacity)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        self.setWidget(body)

        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.filter.textChanged.connect(self._apply_filter)
        self.list.currentItemChanged.connect(self._item_chosen)
        self.opacity.value_changed.connect(self._opacity_edited)
        state.label_changed.connect(self._show_label)
        state.label_opacity_changed.connect(self._show_opacity)

        if settings is not None:
            state.set_label_opacity(settings.get(LABELS_OPACITY))
        self._show_opacity(state.label_opacity)
        wanted = settings.get(LABELS_PALETTE) if settings is not None else None
        if wanted not in self._palettes and self._palettes:
            wanted = next(iter(self._palettes))
        if wanted is not None:
            self.set_palette(wanted)
        else:
            self.header.setText("Labels: no palettes found")

    # ------------------------------------------------------------------ public
    def palette(self) -> LabelPalette | None:
        return self._palette

    def palette_names(self) -> list[str]:
        return list(self._palettes)

    def set_palette(self, name: str) -> None:
        index = self.combo.findData(name)
        if index < 0:
            raise KeyError(f"no label palette named {name!r}")
        if self._palette is not None and self._palette.name == name:
            return
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(index)
        self._use(name)

    def visible_class_ids(self) -> list[int]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return [item.data(ID_ROLE) for item in items if not item.isHidden()]

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _load_all() -> dict[str, LabelPalette]:
        palettes = {}
        for name in list_palettes():
            try:
                palettes[name] = load_palette(name)
            except PaletteError as e:  # one broken file must not take the dock down
                log.warning("skipping label palette: %s", e)
        return palettes

    def _combo_changed(self, index: int) -> None:
        self._use(self.combo.itemData(index))

    def _use(self, name: str) -> None:
        palette = self._palettes[name]
        self._palette = palette
        self.header.setText(f"Labels: {palette.title}")
        self.header.setToolTip(palette.note)
        with QSignalBlocker(self.list):
            self.list.clear()
            for c in palette.classes:
                item = QListWidgetItem(color_chip(c.rgb), c.name)
                item.setData(ID_ROLE, c.id)
                item.setToolTip(f"id {c.id} - rgb{tuple(c.rgb)}")
                self.list.addItem(item)
        self._apply_filter(self.filter.text())
        ids = [c.id for c in palette.classes]
        if self._state.label not in ids:
            self._state.set_label(ids[0])  # a class of the new palette, never a stale id
        self._show_label(self._state.label)
        if self._settings is not None:
            self._settings.set(LABELS_PALETTE, name)
        self.palette_changed.emit(palette)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            # Match the name or an exact id ("12"), so numbered classes are quick to find.
            match = not needle or needle in item.text().lower() or needle == str(item.data(ID_ROLE))
            item.setHidden(not match)

    def _item_chosen(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self._state.set_label(item.data(ID_ROLE))

    def _show_label(self, class_id: int) -> None:
        with QSignalBlocker(self.list):
            for i in range(self.list.count()):
                item = self.list.item(i)
                if item.data(ID_ROLE) == class_id:
                    self.list.setCurrentItem(item)
                    self.list.scrollToItem(item)
                    return
            self.list.setCurrentItem(None)

    def _opacity_edited(self, percent: int) -> None:
        self._state.set_label_opacity(percent / 100)
        if self._settings is not None:
            self._settings.set(LABELS_OPACITY, percent / 100)

    def _show_opacity(self, value: float) -> None:
        self.opacity.set_value(round(value * 100))
