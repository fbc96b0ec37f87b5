"""The Engines dock: one section per task with its installed models, options and a Run button."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from engines.core import Task, registry

from .engine_controller import EngineController


# the preview of the visible region upscales at most this many source pixels square, so it comes
# back in about a second even with the slowest bundled model on a 2-core CPU
UPSCALE_PREVIEW_MAX = 256


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
        # set by the main window: () -> (x, y, w, h) of the image shown on the canvas, or None
        self.visible_rect: Callable[[], tuple[int, int, int, int] | None] | None = None
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
        self.upscale_card = QLabel()
        self.upscale_card.setWordWrap(True)
        self.upscale_card.setStyleSheet("color: palette(mid);")
        self.upscale_model.currentIndexChanged.connect(self._show_upscale_card)
        self._show_upscale_card()
        self.upscale_preview_button = QPushButton("Preview view")
        self.upscale_preview_button.setToolTip(
            f"Upscale the visible part of the photo (its centre, at most {UPSCALE_PREVIEW_MAX} px square) "
            "and show it in place; zoom in to judge the detail. Nothing changes until Upscale.")
        self.upscale_preview_button.clicked.connect(self.preview_upscale)
        self.upscale_button = QPushButton("Upscale")
        self.upscale_button.clicked.connect(self.run_upscale)
        form.addRow("Model", self.upscale_model)
        form.addRow(self.upscale_card)
        form.addRow("Scale", self.upscale_scale)
        form.addRow("Tile", self.upscale_tile)
        row = QHBoxLayout()
        row.addWidget(self.upscale_preview_button)
        row.addWidget(self.upscale_button)
        form.addRow(row)
        return box

    def _show_upscale_card(self) -> None:
        model_id = self.upscale_model.model_id()
        info = next((i for i in registry.infos(Task.UPSCALE) if i.id == model_id), None)
        if info is None:
            self.upscale_card.setText("")
            return
        native = f"native ×{info.scale}" if info.scale else ""
        short_license = info.license.split(";")[0].split(" (")[0]  # the full text is in the tooltip
        self.upscale_card.setText(f"{native} · {short_license}".strip(" ·"))
        self.upscale_card.setToolTip(f"{info.description}\n\nLicence: {info.license}")

    def _upscale_options(self) -> dict:
        return {"scale": self.upscale_scale.currentData(), "tile": self.upscale_tile.value()}

    def run_upscale(self) -> int | None:
        return self.controller.run(Task.UPSCALE, self.upscale_model.model_id(), self._upscale_options())

    def preview_upscale(self) -> int | None:
        """Upscale the centre of the visible region (latest wins) and show it over that region."""
        view = self.visible_rect() if self.visible_rect is not None else None
        if view is None:
            return None
        x, y, w, h = view
        cw, ch = min(w, UPSCALE_PREVIEW_MAX), min(h, UPSCALE_PREVIEW_MAX)
        region = (x + (w - cw) // 2, y + (h - ch) // 2, cw, ch)
        return self.controller.run(Task.UPSCALE, self.upscale_model.model_id(),
                                   {**self._upscale_options(), "region": region}, preview=True)

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
