"""The Super-resolution section of the Engines dock: model, its card line, scale, tile, a preview of
the visible region and Upscale (one job, one undo step)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from engines.core import Result, Task, registry

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
        # set by the main window (app/feedback.py): show a previewed region at 100 % of the output;
        # ask Continue / Cancel before a very large upscale (text -> True to go on)
        self.show_at_output: Callable[[tuple[int, int, int, int], int], None] | None = None
        self.confirm_large: Callable[[str], bool] | None = None
        self._preview_jobs: dict[int, tuple[tuple[int, int, int, int], int]] = {}  # job -> (region, scale)
        self._jobs_started: dict[int, str] = {}  # job id -> model id (preview or run), for the rate
        self.seconds_per_mp: dict[str, float] = {}  # model id -> measured seconds per output MP
        controller.runner.finished.connect(self._on_finished)
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
            "and show it at 100 % of the output size (the view zooms in to the scale). Nothing changes "
            "until Upscale.")
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
        doc = self.controller.get_doc()
        if doc is not None and self.confirm_large is not None:
            from ...feedback import FALLBACK_S_PER_OUTPUT_MP, MEASURED_S_PER_OUTPUT_MP, large_upscale_text

            model_id = self.model.model_id()
            rate = self.seconds_per_mp.get(model_id) or MEASURED_S_PER_OUTPUT_MP.get(model_id)
            if rate is None:
                info = next((i for i in registry.infos(Task.UPSCALE) if i.id == model_id), None)
                rate = FALLBACK_S_PER_OUTPUT_MP["network" if info is None or info.uses_torch else "classical"]
            text = large_upscale_text(doc.width, doc.height, int(self.scale.currentData()), self.tile.value(),
                                      rate, measured=model_id in self.seconds_per_mp)
            if text is not None and not self.confirm_large(text):
                self.controller.message.emit("Upscale cancelled: the output would be too large")
                return None
        job_id = self.controller.run(Task.UPSCALE, self.model.model_id(), self.options())
        if job_id is not None:
            self._jobs_started[job_id] = self.model.model_id()
        return job_id

    def document_opened(self, doc) -> None:
        """Another photo: previews of the last one are forgotten (the measured speed is kept)."""
        self._preview_jobs.clear()

    def _on_finished(self, job_id: int, result: Result) -> None:
        model_id = self._jobs_started.pop(job_id, None)
        if model_id is not None and result.image is not None and result.seconds:
            mp = result.image.shape[0] * result.image.shape[1] / 1e6
            if mp > 0:
                self.seconds_per_mp[model_id] = result.seconds / mp
        entry = self._preview_jobs.pop(job_id, None)
        # the controller (connected first) has put the region preview on the canvas already
        if entry is not None and self.show_at_output is not None and result.image is not None:
            region, scale = entry
            self.show_at_output(region, scale)

    def preview(self) -> int | None:
        """Upscale the centre of the visible region (latest wins) and show it over that region."""
        view = self.visible_rect() if self.visible_rect is not None else None
        if view is None:
            return None
        x, y, w, h = view
        cw, ch = min(w, UPSCALE_PREVIEW_MAX), min(h, UPSCALE_PREVIEW_MAX)
        region = (x + (w - cw) // 2, y + (h - ch) // 2, cw, ch)
        self._preview_jobs.clear()  # latest wins: an older preview's zoom is not wanted any more
        job_id = self.controller.run(Task.UPSCALE, self.model.model_id(),
                                     {**self.options(), "region": region}, preview=True)
        if job_id is not None:
            self._preview_jobs[job_id] = (region, int(self.scale.currentData()))
            self._jobs_started[job_id] = self.model.model_id()
        return job_id
