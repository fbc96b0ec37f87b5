"""Image → Resize image…: new width / height in pixels or percent, aspect kept by default, the
resampling filter, and for enlargements the option to let the upscale engine make the detail."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget,
)

from engines.geometry import Resize

METHODS = (("Automatic (area to shrink, bicubic to enlarge)", "auto"), ("Area", "area"), ("Bicubic", "bicubic"),
           ("Lanczos", "lanczos"), ("Bilinear", "bilinear"), ("Nearest neighbour", "nearest"))


@dataclass(frozen=True)
class ResizeChoice:
    width: int
    height: int
    method: str
    use_upscaler: bool  # enlarge with the upscale engine, then resample to the exact size


class ResizeDialog(QDialog):
    def __init__(self, width: int, height: int, upscaler_title: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Resize image")
        self._w0, self._h0 = width, height
        self._busy = False
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, width), (self.height_box, height)):
            box.setRange(1, Resize.MAX_SIDE)
            box.setSuffix(" px")
            box.setValue(value)
        self.percent = QDoubleSpinBox()
        self.percent.setRange(0.1, 2000.0)
        self.percent.setSuffix(" %")
        self.percent.setValue(100.0)
        self.keep_aspect = QCheckBox("Keep the aspect ratio")
        self.keep_aspect.setChecked(True)
        self.method = QComboBox()
        for text, key in METHODS:
            self.method.addItem(text, key)
        self.upscaler = QCheckBox(f"Enlarge with the upscale engine ({upscaler_title})" if upscaler_title
                                  else "Enlarge with the upscale engine")
        self.upscaler.setToolTip("The super-resolution model makes the new detail (×2, ×3 or ×4), then the photo is "
                                 "resampled to the exact size. Runs as a job; Cancel leaves the photo as it was.")
        self.upscaler.setEnabled(False)
        self.summary = QLabel()
        self.width_box.setToolTip("New width in pixels")
        self.height_box.setToolTip("New height in pixels")
        self.percent.setToolTip("New size as a percentage of the current one")
        self.method.setToolTip("How pixels are resampled (labels always use nearest neighbour)")
        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("Scale", self.percent)
        form.addRow("", self.keep_aspect)
        form.addRow("Resampling", self.method)
        form.addRow("", self.upscaler)
        form.addRow(self.summary)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._has_upscaler = upscaler_title is not None
        self.width_box.valueChanged.connect(lambda v: self._edited("w"))
        self.height_box.valueChanged.connect(lambda v: self._edited("h"))
        self.percent.valueChanged.connect(lambda v: self._edited("p"))
        self._edited("w")

    def _edited(self, which: str) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            if which == "p":
                f = self.percent.value() / 100
                self.width_box.setValue(max(1, round(self._w0 * f)))
                self.height_box.setValue(max(1, round(self._h0 * f)))
            elif self.keep_aspect.isChecked():
                if which == "w":
                    self.height_box.setValue(max(1, round(self.width_box.value() * self._h0 / self._w0)))
                else:
                    self.width_box.setValue(max(1, round(self.height_box.value() * self._w0 / self._h0)))
            if which != "p":
                self.percent.setValue(100.0 * self.width_box.value() / self._w0)
        finally:
            self._busy = False
        w, h = self.width_box.value(), self.height_box.value()
        enlarging = w > self._w0 * 1.2 or h > self._h0 * 1.2
        self.upscaler.setEnabled(enlarging and self._has_upscaler)
        if not enlarging:
            self.upscaler.setChecked(False)
        self.summary.setText(f"{self._w0} × {self._h0}  →  {w} × {h} px  ({w * h / 1e6:.1f} MP)")

    def choice(self) -> ResizeChoice:
        return ResizeChoice(self.width_box.value(), self.height_box.value(), self.method.currentData(),
                            self.upscaler.isEnabled() and self.upscaler.isChecked())
