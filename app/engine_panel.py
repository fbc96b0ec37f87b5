"""The Engines dock: one section per task with its installed models, options and a Run button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFormLayout, QGroupBox, QLabel, QPushButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from engines.core import Task, registry

from .engine_controller import EngineController


class _ModelCombo(QComboBox):
    def __init__(self, task: Task):
        super().__init__()
        self.task = task
        infos = registry.infos(task)
        aliased = {i.alias_of for i in infos if i.alias_of}
        # the default first; the model it stands for is not listed twice
        for info in sorted(infos, key=lambda i: i.id != "default"):
            if info.id in aliased:
                continue
            self.addItem(info.title, info.id)
            self.setItemData(self.count() - 1, info.description or info.license, Qt.ItemDataRole.ToolTipRole)

    def model_id(self) -> str:
        return self.currentData()


class EnginesDock(QDockWidget):
    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__("Engines", parent)
        self.setObjectName("EnginesDock")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self._upscale_box())
        layout.addWidget(self._inpaint_box())
        layout.addStretch(1)
        self.setWidget(body)
        # live preview: a stroke ends -> wait a moment -> run (latest wins in the worker)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self._run_inpaint_preview)

    # ------------------------------------------------------------------ upscale
    def _upscale_box(self) -> QGroupBox:
        box = QGroupBox("Super-resolution")
        form = QFormLayout(box)
        self.upscale_model = _ModelCombo(Task.UPSCALE)
        self.upscale_scale = QComboBox()
        for s in (2, 3, 4):
            self.upscale_scale.addItem(f"× {s}", s)
        self.upscale_scale.setCurrentIndex(2)
        self.upscale_tile = QSpinBox()
        self.upscale_tile.setRange(0, 4096)
        self.upscale_tile.setSingleStep(64)
        self.upscale_tile.setSpecialValueText("auto")
        self.upscale_tile.setToolTip("Tile edge in pixels (auto picks from free memory)")
        self.upscale_button = QPushButton("Upscale")
        self.upscale_button.clicked.connect(self.run_upscale)
        form.addRow("Model", self.upscale_model)
        form.addRow("Scale", self.upscale_scale)
        form.addRow("Tile", self.upscale_tile)
        form.addRow(self.upscale_button)
        return box

    def run_upscale(self) -> int | None:
        return self.controller.run(Task.UPSCALE, self.upscale_model.model_id(),
                                   {"scale": self.upscale_scale.currentData(), "tile": self.upscale_tile.value()})

    # ------------------------------------------------------------------ inpaint
    def _inpaint_box(self) -> QGroupBox:
        box = QGroupBox("Inpainting")
        form = QFormLayout(box)
        self.inpaint_model = _ModelCombo(Task.INPAINT)
        self.inpaint_live = QCheckBox("Live preview after each stroke")
        self.inpaint_button = QPushButton("Fill mask")
        self.inpaint_button.setToolTip("Fill the painted mask (Ctrl+F)")
        self.inpaint_button.clicked.connect(self.run_inpaint)
        hint = QLabel("Paint the region with the mask brush (M), a rectangle (R) or a lasso (O).")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        form.addRow("Method", self.inpaint_model)
        form.addRow(self.inpaint_live)
        form.addRow(self.inpaint_button)
        form.addRow(hint)
        return box

    def run_inpaint(self) -> int | None:
        return self.controller.run(Task.INPAINT, self.inpaint_model.model_id())

    def stroke_finished(self) -> None:
        """Called after each mask edit: schedule a preview when live preview is on."""
        if self.inpaint_live.isChecked():
            self._preview_timer.start()

    def _run_inpaint_preview(self) -> None:
        self.controller.run(Task.INPAINT, self.inpaint_model.model_id(), preview=True)
