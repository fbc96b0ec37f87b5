"""Image → Canvas size… and Image → Extend canvas + fill…: how many pixels to add (or, for canvas
size, remove) on each side, by a new size with an anchor or by a target aspect ratio."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QColorDialog, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout,
    QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget,
)

from engines.geometry import Pad, Resize, pads_for_aspect

ASPECTS = (("Keep as set above", None), ("1:1", 1.0), ("4:3", 4 / 3), ("3:2", 3 / 2), ("16:9", 16 / 9),
           ("3:4", 3 / 4), ("2:3", 2 / 3), ("9:16", 9 / 16))


class CanvasSizeDialog(QDialog):
    """``extend=True``: the Extend canvas + fill form (only growing; the new border is filled by the
    Fill engine). Otherwise Canvas size (grow or shrink; the new area is a colour or transparent)."""

    def __init__(self, width: int, height: int, extend: bool = False, fill_title: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.extend = extend
        self.setWindowTitle("Extend canvas and fill" if extend else "Canvas size")
        self._w0, self._h0 = width, height
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        low = (width, height) if extend else (1, 1)
        for box, value, lo in ((self.width_box, width, low[0]), (self.height_box, height, low[1])):
            box.setRange(lo, Resize.MAX_SIDE)
            box.setSuffix(" px")
            box.setValue(value)
        self.width_box.setToolTip("Width of the new canvas")
        self.height_box.setToolTip("Height of the new canvas")
        self.aspect = QComboBox()
        for text, ratio in ASPECTS:
            self.aspect.addItem(text, ratio)
        self.aspect.setToolTip("Grow the canvas to this aspect ratio (the photo keeps its size)")
        self.aspect.currentIndexChanged.connect(self._aspect_chosen)

        # a 3 x 3 anchor grid: where the photo sits in the new canvas
        grid = QGridLayout()
        grid.setSpacing(2)
        self.anchors = QButtonGroup(self)
        for i in range(9):
            b = QPushButton()
            b.setCheckable(True)
            b.setFixedSize(28, 28)
            b.setToolTip("Place the photo here in the new canvas")
            self.anchors.addButton(b, i)
            grid.addWidget(b, i // 3, i % 3)
        self.anchors.button(4).setChecked(True)
        self.anchors.idToggled.connect(lambda *_: (self._aspect_chosen(), self._update_summary()))
        anchor_box = QWidget()
        anchor_box.setLayout(grid)

        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("Aspect", self.aspect)
        form.addRow("Photo position", anchor_box)
        self.transparent = QCheckBox("Transparent")
        self.colour = QColor(255, 255, 255)
        self.colour_button = QPushButton("Colour…")
        self.colour_button.setToolTip("The colour of the new area")
        self.colour_button.clicked.connect(self._pick_colour)
        if not extend:
            row = QHBoxLayout()
            row.addWidget(self.colour_button)
            row.addWidget(self.transparent)
            self.transparent.setToolTip("The new area is transparent (saved as alpha in PNG / WebP / TIFF)")
            form.addRow("New area", row)
        else:
            note = QLabel(f"The new border is filled by the Fill engine ({fill_title}) as one undo step.")
            note.setWordWrap(True)
            form.addRow(note)
        self.summary = QLabel()
        form.addRow(self.summary)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        form.addRow(buttons)
        self.width_box.valueChanged.connect(self._update_summary)
        self.height_box.valueChanged.connect(self._update_summary)
        self._update_summary()

    def _anchor(self) -> tuple[float, float]:
        i = max(0, self.anchors.checkedId())
        return (i % 3) / 2, (i // 3) / 2

    def _aspect_chosen(self, *_args) -> None:
        ratio = self.aspect.currentData()
        if ratio is None:
            return
        pad = pads_for_aspect(self._w0, self._h0, ratio, self._anchor())
        self.width_box.setValue(self._w0 + pad.left + pad.right)
        self.height_box.setValue(self._h0 + pad.top + pad.bottom)

    def _pick_colour(self) -> None:
        c = QColorDialog.getColor(self.colour, self, "Colour of the new area")
        if c.isValid():
            self.colour = c
            self.transparent.setChecked(False)

    def pad(self) -> Pad:
        ax, ay = self._anchor()
        dw, dh = self.width_box.value() - self._w0, self.height_box.value() - self._h0
        left, top = int(round(dw * ax)), int(round(dh * ay))
        transparent = self.transparent.isChecked() and not self.extend
        return Pad(left=left, top=top, right=dw - left, bottom=dh - top,
                   fill=(self.colour.redF(), self.colour.greenF(), self.colour.blueF()),
                   pad_alpha=0.0 if transparent else 1.0)

    def _update_summary(self, *_args) -> None:
        p = self.pad()
        sides = ", ".join(f"{name} {v:+d}" for name, v in (("left", p.left), ("top", p.top), ("right", p.right),
                                                            ("bottom", p.bottom)) if v)
        w, h = self.width_box.value(), self.height_box.value()
        self.summary.setText(f"{self._w0} × {self._h0}  →  {w} × {h} px" + (f"  ({sides})" if sides else ""))
        if hasattr(self, "ok_button"):  # the anchor grid reports before the buttons exist
            self.ok_button.setEnabled((w, h) != (self._w0, self._h0))
