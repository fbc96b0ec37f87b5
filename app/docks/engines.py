"""The Engines dock: one section per task (app/tasks/<task>/panel.py) in a vertical scroll, plus a
"no model installed" line under each section's model list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFormLayout, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from engines.core import Task

from ..engine_controller import EngineController
from ..tasks.colorize.panel import ColorizeSection
from ..tasks.fill.panel import FillSection
from ..tasks.latent.panel import LatentSection
from ..tasks.synthesize.panel import SynthesisSection
from ..tasks.upscale.panel import UpscaleSection
from ..widgets.model_combo import ModelCombo


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
        body = QWidget()
        layout = QVBoxLayout(body)
        self.upscale = UpscaleSection(controller)
        layout.addWidget(self.upscale)
        self.fill = FillSection(controller)
        layout.addWidget(self.fill)
        self.colorize = ColorizeSection(controller)
        layout.addWidget(self.colorize)
        self.synth = SynthesisSection(controller)
        layout.addWidget(self.synth)
        self.latent = LatentSection(controller)
        layout.addWidget(self.latent)
        layout.addStretch(1)
        # the widgets the main window, its actions and the tests reach through the dock
        self.upscale_model, self.upscale_scale, self.upscale_tile = self.upscale.model, self.upscale.scale, self.upscale.tile
        self.upscale_card, self.upscale_kinds = self.upscale.card, self.upscale.kinds
        self.upscale_button, self.upscale_preview_button = self.upscale.button, self.upscale.preview_button
        self.inpaint_model, self.inpaint_live, self.inpaint_button = self.fill.model, self.fill.live, self.fill.fill_button
        scroll = _VerticalScroll()  # four sections are taller than most screens
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
        scroll.setWidget(body)
        self.setWidget(scroll)
        self._add_missing_model_hints()

    # ------------------------------------------------------------------ installed models
    def _add_missing_model_hints(self) -> None:
        """Under each section's model list, a line saying how to get a model when none is installed.

        Found by walking the sections' model combos, so a section added later gets its line too.
        """
        self.missing_model_hints: dict[Task, QLabel] = {}
        for combo in self.findChildren(ModelCombo):
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
        for combo in self.findChildren(ModelCombo):
            hint = self.missing_model_hints.get(combo.task)
            if hint is not None:
                hint.setVisible(not combo.has_network())

    def refresh_models(self) -> None:
        """Re-list every section's models (after Engines ▸ Models… installed or removed one)."""
        for combo in self.findChildren(ModelCombo):
            combo.reload()
        self.synth.reload_models()
        self.latent.reload_models()
        self._update_missing_model_hints()

    # ------------------------------------------------------------------ the main window's entry points
    def run_upscale(self) -> int | None:
        return self.upscale.run()

    def preview_upscale(self) -> int | None:
        return self.upscale.preview()

    def run_inpaint(self) -> int | None:
        return self.fill.run()

    def stroke_finished(self) -> None:
        """Called after each mask edit: the Fill section's live preview."""
        self.fill.stroke_finished()
