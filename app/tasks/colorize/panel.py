"""The Colorize section of the Engines dock: the ideepcolor workflow on the document's hint points.

- Each hint edit (place, drag, delete, recolour, undo/redo) schedules a **preview** at reduced
  size (latest wins on the worker); when the user pauses, a **full pass** at full resolution
  replaces it. Both are shown over the photo, mixed with it by the **Mix** slider, and never touch
  the document.
- **Apply** runs the full pass and puts it in the image as one undo step (mix included).
- The **gamut panel** shows the ab plane at the selected hint's own lightness (reachable colours
  only); the **suggested** swatches are the class head's most probable colours at that point,
  asked without the hint itself. Picking either recolours the selected hint (one undo step), or
  sets the current colour when no hint is selected.
- A greyscale photo opens straight into this workflow (:meth:`document_opened`): the hint tool,
  the photo shown as it is — no colours until the user places a hint or asks for **Automatic
  colours** (a preview without hints).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget,
)

from engines.colorize import lab
from engines.colorize.engine import PREVIEW_SIDE
from engines.core import EngineError, Result, Task, registry

from ...document.commands import UpdateHintCommand
from ...document.document import Document
from ...jobs import Job
from ...widgets.gamut import GamutWidget
from ...widgets.model_combo import ModelCombo
from ...widgets.swatches import SwatchGrid
from .adapter import build_colorize, mix_images

PREVIEW_DELAY_MS = 60  # coalesce a burst of edits into one preview
IDLE_FULL_MS = 700  # no edit for this long after a preview: run the full-resolution pass
SUGGESTIONS = 8
DEFAULT_STATUS = "Hint tool (H): click to place a colour hint, drag to move, right-click removes."


class ColorizeSection(QGroupBox):
    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__("Colorize", parent)
        self.controller = controller
        self.runner = controller.runner
        # set by the main window: () -> id of the hint selected in the hint tool, or None;
        # (QColor) -> None to make a colour the current colour
        self.selected_hint: Callable[[], int | None] = lambda: None
        self.set_colour: Callable[[QColor], None] | None = None
        self._jobs: dict[int, tuple[str, Document, Any, Any]] = {}  # job -> (kind, doc, key, request)
        self._shown: tuple[np.ndarray, np.ndarray] | None = None  # (original, colorized), same size
        self._previewed_key: Any = None
        self._selection: Any = None

        form = QFormLayout(self)
        self.model = ModelCombo(Task.COLORIZE)
        self.live = QCheckBox("Live preview after each hint")
        self.live.setChecked(True)
        self.mix = QSlider(Qt.Orientation.Horizontal)
        self.mix.setRange(0, 100)
        self.mix.setValue(100)
        self.mix.setToolTip("How much of the colorized result replaces the photo")
        self.mix_label = QLabel("100 %")
        self.mix_label.setMinimumWidth(40)
        mix_row = QHBoxLayout()
        mix_row.addWidget(self.mix, 1)
        mix_row.addWidget(self.mix_label)
        self.gamut = GamutWidget()
        self.suggestions = SwatchGrid(columns=SUGGESTIONS)
        self.suggestions.setToolTip("Suggested colours at the selected hint, most likely first")
        self.status = QLabel(DEFAULT_STATUS)
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: palette(mid);")
        self.apply_button = QPushButton("Apply colorize")
        self.apply_button.setToolTip("Colorize at full resolution and put it in the photo (one undo step)")
        self.auto_button = QPushButton("Automatic colours")
        self.auto_button.setToolTip("Preview the model's colours with the hints placed so far (none "
                                    "needed); nothing changes until Apply colorize")
        form.addRow("Model", self.model)
        form.addRow(self.live)
        form.addRow("Mix", mix_row)
        gamut_row = QHBoxLayout()
        gamut_row.addWidget(self.gamut)
        gamut_row.addStretch(1)
        form.addRow("Gamut", gamut_row)
        self.no_suggestions = QLabel("Select a hint to see suggested colours")
        self.no_suggestions.setStyleSheet("color: palette(mid);")
        suggest_box = QVBoxLayout()
        suggest_box.setContentsMargins(0, 0, 0, 0)
        suggest_box.addWidget(self.suggestions)
        suggest_box.addWidget(self.no_suggestions)
        form.addRow("Suggested", suggest_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.auto_button)
        buttons.addWidget(self.apply_button)
        form.addRow(buttons)
        form.addRow(self.status)

        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.run_preview)
        self._full_timer = QTimer(self, singleShot=True, interval=IDLE_FULL_MS)
        self._full_timer.timeout.connect(self.run_full)
        self._select_timer = QTimer(self, interval=250)  # the hint tool's selection has no signal
        self._select_timer.timeout.connect(self.refresh_selection)
        self._select_timer.start()

        self.mix.valueChanged.connect(self._mix_changed)
        self.apply_button.clicked.connect(self.apply)
        self.auto_button.clicked.connect(self.run_preview)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.gamut.picked.connect(self.pick_colour)
        self.suggestions.picked.connect(self.pick_colour)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        controller.undo.indexChanged.connect(self.document_edited)
        controller.applied.connect(self._on_applied)

    # ------------------------------------------------------------------ state
    def doc(self) -> Document | None:
        return self.controller.get_doc()

    def _key(self, doc: Document) -> Any:
        return (id(doc), tuple(doc.hints), self.model.model_id())

    def mix_value(self) -> float:
        return self.mix.value() / 100.0

    # ------------------------------------------------------------------ triggers
    def document_opened(self, doc: Document | None) -> bool:
        """A new document: forget previews, jobs and messages of the last one. A greyscale photo is
        shown as it is (no automatic colour preview: the user asks for colours with a hint or
        Automatic colours); True if grey, so the window picks the hint tool."""
        self._shown = None
        self._previewed_key = None
        self._selection = None
        self._jobs.clear()  # results for the old photo are dropped when they arrive
        self._preview_timer.stop()
        self._full_timer.stop()
        self._set_suggestions([], "Select a hint to see suggested colours")
        self.status.setText(DEFAULT_STATUS)
        if doc is None or not lab.is_grey(doc.image):
            return False
        self.status.setText("Greyscale photo, shown as it is. Place colour hints (H) to colorize, or "
                            "press Automatic colours for a preview without hints.")
        return True

    def document_edited(self, *_ignored) -> None:
        """After any undoable edit: re-preview when the hints changed (live), refresh the selection."""
        doc = self.doc()
        self.refresh_selection()
        if doc is None or not self.live.isChecked():
            return
        if self._key(doc) != self._previewed_key and (doc.hints or self._previewed_key is not None):
            self._preview_timer.start()

    def _model_changed(self) -> None:
        self._previewed_key = None
        self.document_edited()

    # ------------------------------------------------------------------ runs
    def _engine(self):
        return registry.get(Task.COLORIZE, self.model.model_id())

    def _submit(self, kind: str, options: dict) -> int | None:
        doc = self.doc()
        if doc is None:
            return None
        try:
            engine = self._engine()
            request = build_colorize(doc, options)
        except EngineError as exc:
            self.status.setText(str(exc))
            return None
        job = Job(engine=engine, request=request, kind="preview", key=f"colorize-{kind}",
                  label=f"Colorize {kind}")
        try:
            job_id = self.runner.submit(job)
        except RuntimeError:  # the window is closing and the runner has shut down
            self._preview_timer.stop()
            self._full_timer.stop()
            self._select_timer.stop()
            return None
        self._jobs[job_id] = (kind, doc, self._key(doc), request)
        return job_id

    def run_preview(self) -> int | None:
        """The reduced-size preview (latest wins); a full pass follows when the user pauses."""
        self._full_timer.stop()
        return self._submit("preview", {"max_side": PREVIEW_SIDE})

    def run_full(self) -> int | None:
        doc = self.doc()
        if doc is None or max(doc.width, doc.height) <= PREVIEW_SIDE:
            return None  # the preview was already at full size
        return self._submit("full", {})

    def apply(self) -> int | None:
        """Colorize at full resolution and apply as one undo step, mixed as the slider says."""
        self._preview_timer.stop()
        self._full_timer.stop()
        return self.controller.run(Task.COLORIZE, self.model.model_id(), {"mix": self.mix_value()})

    def _on_finished(self, job_id: int, result: Result) -> None:
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return
        kind, doc, key, request = entry
        if doc is not self.doc():
            return
        if kind == "suggest":
            self._show_suggestions(doc, result)
            return
        if key != self._key(doc):
            return  # hints changed meanwhile; a newer preview is on its way
        self._shown = (request.image, result.image)
        self._previewed_key = key
        self._show_mixed()
        n = len(request.hints)
        size = f"{result.image.shape[1]}×{result.image.shape[0]}"
        self.status.setText(f"{'Preview' if kind == 'preview' else 'Full pass'} {size}, {n} hint{'s' * (n != 1)}, "
                            f"{result.seconds:.2f} s")
        self.controller.message.emit(
            f"Colorize {'preview' if kind == 'preview' else 'full-size preview'} {size} with {n} "
            f"hint{'s' * (n != 1)} in {result.seconds:.1f} s — Apply colorize puts it in the photo")
        if kind == "preview":
            self._full_timer.start()

    def _on_failed(self, job_id: int, message: str) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self.status.setText(message)

    def _on_cancelled(self, job_id: int) -> None:
        self._jobs.pop(job_id, None)

    def _on_applied(self, title: str) -> None:
        if title.startswith("Colorize"):
            self._shown = None  # the photo now holds it; the canvas preview was cleared

    # ------------------------------------------------------------------ showing
    def _mix_changed(self, value: int) -> None:
        self.mix_label.setText(f"{value} %")
        self._show_mixed()

    def _show_mixed(self) -> None:
        doc = self.doc()
        if self._shown is None or doc is None:
            return
        original, colorized = self._shown
        self.controller.region_preview_ready.emit(mix_images(original, colorized, self.mix_value()),
                                                  (0, 0, doc.width, doc.height))

    def preview_image(self) -> np.ndarray | None:
        """What the canvas shows now (mixed), for tests."""
        if self._shown is None:
            return None
        return mix_images(self._shown[0], self._shown[1], self.mix_value())

    # ------------------------------------------------------------------ selection, gamut, suggestions
    def _selected(self, doc: Document):
        sel = self.selected_hint()
        return next((h for h in doc.hints if h.id == sel), None) if sel is not None else None

    def refresh_selection(self) -> None:
        doc = self.doc()
        hint = self._selected(doc) if doc is not None else None
        key = None if hint is None else (id(doc), hint, tuple(doc.hints))
        if key == self._selection:
            return
        moved = key is not None and self._selection is not None and key[0] == self._selection[0] \
            and key[1].id == self._selection[1].id
        self._selection = key
        if moved and self.live.isChecked():
            self._preview_timer.start()  # a hint being dragged: follow it live (latest wins)
        if hint is None:
            self.gamut.set_marker(None)
            self._set_suggestions([], "Select a hint to see suggested colours")
            return
        x = min(doc.width - 1, max(0, int(hint.x)))
        y = min(doc.height - 1, max(0, int(hint.y)))
        L = float(lab.rgb_to_lab(doc.image[y : y + 1, x : x + 1])[0, 0, 0])
        self.gamut.set_lightness(L)
        hint_ab = lab.rgb_to_lab(np.array([[hint.rgb]], np.float32))[0, 0, 1:]
        self.gamut.set_marker((float(hint_ab[0]), float(hint_ab[1])))
        # without the hint itself: what would the network pick here on its own?
        self._submit("suggest", {"max_side": PREVIEW_SIDE, "exclude": hint.id})

    def _set_suggestions(self, colours: list[QColor], empty_text: str = "") -> None:
        self.suggestions.set_colors(colours)
        self.no_suggestions.setText(empty_text)
        self.no_suggestions.setVisible(not colours)

    def _show_suggestions(self, doc: Document, result: Result) -> None:
        from engines.colorize.suggest import suggestions_from_logits

        hint = self._selected(doc)
        logits = result.extras.get("class_logits")
        if hint is None or logits is None:
            self._set_suggestions([], "This model has no colour-class head" if hint is not None else
                                  "Select a hint to see suggested colours")
            return
        x = min(doc.width - 1, max(0, int(hint.x)))
        y = min(doc.height - 1, max(0, int(hint.y)))
        L = float(lab.rgb_to_lab(doc.image[y : y + 1, x : x + 1])[0, 0, 0])
        found = suggestions_from_logits(logits, L, hint.x / doc.width, hint.y / doc.height, SUGGESTIONS)
        self._set_suggestions([QColor.fromRgbF(*s.rgb) for s in found])
        for button, s in zip(self.suggestions.buttons(), found):
            button.setToolTip(f"{s.probability:.0%} likely here (a {s.ab[0]:.0f}, b {s.ab[1]:.0f})")

    def pick_colour(self, colour: QColor) -> None:
        """Recolour the selected hint (one undo step), or make it the current colour."""
        doc = self.doc()
        hint = self._selected(doc) if doc is not None else None
        if hint is None:
            if self.set_colour is not None:
                self.set_colour(QColor(colour))
            return
        new = type(hint)(hint.id, hint.x, hint.y, (colour.redF(), colour.greenF(), colour.blueF()), hint.size)
        if new != hint:
            self.controller.undo.push(UpdateHintCommand(doc, hint, new, "Recolour hint"))
