"""The Super-resolution section of the Engines dock: model, its card line, scale, tile, a preview of
the visible region and Upscale (one job, one undo step)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from engines.core import Task, registry

from ...engine_controller import EngineController
from ...widgets.model_combo import ModelCombo

# the preview of the visible region upscales at most this many source pixels square, so it comes
# back in about a second even with the slowest bundled model on a 2-core CPU
UPSCALE_PREVIEW_MAX = 256


class UpscaleSection(QGroupBox):
    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__("Super-resolution", parent)
        self.controller = controller
        # set by the main window: () -> (x, y, w, h) of the image shown on the canvas, or None
        self.visible_rect: Callable[[], tuple[int, int, int, int] | None] | None = None
        form = QFormLayout(self)
        self.model = ModelCombo(Task.UPSCALE)
        self.scale = QComboBox()
        for s in (2, 3, 4):
            self.scale.addItem(f"× {s}", s)
        self.scale.setCurrentIndex(2)
        self.tile = QSpinBox()
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("auto")
        self.tile.setToolTip("Tile edge in pixels (auto picks from free memory)")
        self.card = QLabel()
        self.card.setWordWrap(True)
        self.card.setStyleSheet("color: palette(mid);")
        self.model.currentIndexChanged.connect(self._show_card)
        self._show_card()
        self.preview_button = QPushButton("Preview view")
        self.preview_button.setToolTip(
            f"Upscale the visible part of the photo (its centre, at most {UPSCALE_PREVIEW_MAX} px square) "
            "and show it in place; zoom in to judge the detail. Nothing changes until Upscale.")
        self.preview_button.clicked.connect(self.preview)
        self.button = QPushButton("Upscale")
        self.button.clicked.connect(self.run)
        self.kinds = QLabel("Ours: faithful · Real-ESRGAN: sharp, may invent detail")
        self.kinds.setWordWrap(True)
        self.kinds.setToolTip("Faithful models are trained for PSNR: no invented texture, colours kept. "
                              "Sharp (GAN) models add crisp edges and texture that were not in the photo, "
                              "and can shift brightness. Anime / illustration models are for drawings.")
        form.addRow("Model", self.model)
        form.addRow(self.kinds)
        form.addRow(self.card)
        form.addRow("Scale", self.scale)
        form.addRow("Tile", self.tile)
        row = QHBoxLayout()
        row.addWidget(self.preview_button)
        row.addWidget(self.button)
        form.addRow(row)

    def _show_card(self) -> None:
        model_id = self.model.model_id()
        info = next((i for i in registry.infos(Task.UPSCALE) if i.id == model_id), None)
        if info is None:
            self.card.setText("")
            return
        native = f"native ×{info.scale}" if info.scale else ""
        short_license = info.license.split(";")[0].split(" (")[0]  # the full text is in the tooltip
        self.card.setText(f"{native} · {short_license}".strip(" ·"))
        self.card.setToolTip(f"{info.description}\n\nLicence: {info.license}")

    def options(self) -> dict:
        return {"scale": self.scale.currentData(), "tile": self.tile.value()}

    def run(self) -> int | None:
        return self.controller.run(Task.UPSCALE, self.model.model_id(), self.options())

    def preview(self) -> int | None:
        """Upscale the centre of the visible region (latest wins) and show it over that region."""
        view = self.visible_rect() if self.visible_rect is not None else None
        if view is None:
            return None
        x, y, w, h = view
        cw, ch = min(w, UPSCALE_PREVIEW_MAX), min(h, UPSCALE_PREVIEW_MAX)
        region = (x + (w - cw) // 2, y + (h - ch) // 2, cw, ch)
        return self.controller.run(Task.UPSCALE, self.model.model_id(),
                                   {**self.options(), "region": region}, preview=True)
