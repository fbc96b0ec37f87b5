"""The Engines dock: one section per task with its installed models, options and a Run button."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton,
    QScrollArea, QSpinBox, QVBoxLayout, QWidget,
)

from engines.core import Task, registry

from .colorize_panel import ColorizeSection
from .synth_panel import SynthesisSection
from .latent_panel import LatentSection
from .engine_controller import EngineController
from .fill_panel import FillSection
from .model_list import fill_model_combo


# the preview of the visible region upscales at most this many source pixels square, so it comes
# back in about a second even with the slowest bundled model on a 2-core CPU
UPSCALE_PREVIEW_MAX = 256


class _ModelCombo(QComboBox):
    def __init__(self, task: Task):
        super().__init__()
        self.task = task
        # long titles ("Default: Texture fill (PatchMatch, structure from ...)") must not widen the
        # dock past the screen: the combo is as wide as the dock gives, the popup shows them whole
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.view().setTextElideMode(Qt.TextElideMode.ElideNone)
        self.currentIndexChanged.connect(self._tooltip_follows)
        self.reload()

    def _tooltip_follows(self, *_args) -> None:
        """The full title (it may be elided in the box) and the description as the combo's tooltip."""
        tip = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) or ""
        self.setToolTip(f"{self.currentText()}\n\n{tip}".strip())

    def reload(self) -> None:
        """(Re)list the registered engines of the task, keeping the current choice when it still exists."""
        fill_model_combo(self, registry.infos(self.task))
        self.currentIndexChanged.emit(self.currentIndex())  # dependent labels follow the new list

    def has_network(self) -> bool:
        """True when a neural model of the task is installed (classical methods do not count)."""
        return any(info.uses_torch for info in registry.infos(self.task))

    def model_id(self) -> str:
        return self.currentData()


class _VerticalScroll(QScrollArea):
    """Scrolls up and down only, so it asks for the width of its widest row (plus the scroll bar):
    else a narrow dock draws the right-hand buttons of the sections cut off."""

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        body = self.widget()
        if body is not None:
            need = body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
            hint.setWidth(max(hint.width(), need))
        return hint


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
        self.colorize = ColorizeSection(controller)  # its own file: app/colorize_panel.py
        layout.addWidget(self.colorize)
        self.synth = SynthesisSection(controller)  # its own file: app/synth_panel.py
        layout.addWidget(self.synth)
        self.latent = LatentSection(controller)  # its own file: app/latent_panel.py
        layout.addWidget(self.latent)
        layout.addStretch(1)
        scroll = _VerticalScroll()  # four sections are taller than most screens
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
        scroll.setWidget(body)
        self.setWidget(scroll)
        self._add_missing_model_hints()
        # live preview: a stroke ends -> wait a moment -> run (latest wins in the worker)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self._run_inpaint_preview)

    # ------------------------------------------------------------------ installed models
    def _add_missing_model_hints(self) -> None:
        """Under each section's model list, a line saying how to get a model when none is installed.

        Found by walking the sections' model combos, so a section added later gets its line too.
        """
        self.missing_model_hints: dict[Task, QLabel] = {}
        for combo in self.findChildren(_ModelCombo):
            form = combo.parentWidget().layout() if combo.parentWidget() is not None else None
            if not isinstance(form, QFormLayout) or combo.task in self.missing_model_hints:
                continue
            row, _ = form.getWidgetPosition(combo)
            # one short line (a word-wrapped label in a form row is drawn clipped); the rest in the tooltip
            hint = QLabel("No model installed — Engines ▸ Models… to get one")
            hint.setToolTip("Only the classical methods are available for this task. Engines ▸ Models… "
                            "downloads an official model, or imports a .pth / .safetensors file or an "
                            "ncnn folder you already have.")
            hint.setObjectName(f"missing_model_{combo.task.value}")
            hint.setStyleSheet("color: palette(mid); font-style: italic;")
            form.insertRow(row + 1, hint)
            self.missing_model_hints[combo.task] = hint
        self._update_missing_model_hints()

    def _update_missing_model_hints(self) -> None:
        for combo in self.findChildren(_ModelCombo):
            hint = self.missing_model_hints.get(combo.task)
            if hint is not None:
                hint.setVisible(not combo.has_network())

    def refresh_models(self) -> None:
        """Re-list every section's models (after Engines ▸ Models… installed or removed one)."""
        for combo in self.findChildren(_ModelCombo):
            combo.reload()
        self.synth.reload_models()
        self.latent.reload_models()
        self._update_missing_model_hints()

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
        self.upscale_kinds = QLabel("Ours: faithful · Real-ESRGAN: sharp, may invent detail")
        self.upscale_kinds.setWordWrap(True)
        self.upscale_kinds.setToolTip("Faithful models are trained for PSNR: no invented texture, colours kept. "
                                      "Sharp (GAN) models add crisp edges and texture that were not in the photo, "
                                      "and can shift brightness. Anime / illustration models are for drawings.")
        form.addRow("Model", self.upscale_model)
        form.addRow(self.upscale_kinds)
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
        """The Fill section (its own file: app/fill_panel.py) around this dock's method combo."""
        self.inpaint_model = _ModelCombo(Task.INPAINT)
        self.fill = FillSection(self.controller, self.inpaint_model)
        self.inpaint_live = self.fill.live
        self.inpaint_button = self.fill.fill_button
        self.inpaint_button.clicked.connect(self.run_inpaint)
        return self.fill

    def run_inpaint(self) -> int | None:
        return self.controller.run(Task.INPAINT, self.inpaint_model.model_id())

    def stroke_finished(self) -> None:
        """Called after each mask edit: schedule a preview when live preview is on."""
        if self.inpaint_live.isChecked():
            self._preview_timer.start()

    def _run_inpaint_preview(self) -> None:
        self.controller.run(Task.INPAINT, self.inpaint_model.model_id(), preview=True)
