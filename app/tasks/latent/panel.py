"""The Latent editing section of the Engines dock (iGAN).

Project the photo (or the square around the selection/mask) onto the chosen domain model; paint
colour strokes, sketch strokes and keep regions on the edit pad (each stroke one undo step, kept
apart from the photo); Edit searches the latent space from the projection and fills the candidate
thumbnails (best first; click one to choose it); the slider walks through the morph frames from
the projection to the chosen candidate; Random starts from a random sample instead of the photo;
Apply pastes the transferred edit into the photo as one undoable step. With no latent model
installed the section says so and nothing runs. All networks run on the JobRunner's worker.

What Apply would paste stays on the photo as a preview (whatever the Morph slider shows on the pad)
until Apply or Discard; pad strokes and other edits do not drop it. Starting a projection or an
edit drops any other preview (one result preview at a time). The pad paints in the current colour
(the Palette dock's swatches and the colour picker set it, :meth:`bind_colour`), or in the one
chosen with the colour button.
"""

from __future__ import annotations

import random

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QColorDialog, QComboBox, QFormLayout, QHBoxLayout, QLabel, QListView,
    QListWidgetItem, QPushButton, QRadioButton, QSlider, QSpinBox, QWidget,
)

from engines.core import EngineError, Result, Task, registry
from engines.latent.engine import DEFAULTS as LATENT_DEFAULTS

from ...engine_controller import ADAPTERS, EngineController
from ...jobs import Job
from ...widgets.model_section import ModelSection
from ...widgets.thumbnails import hrow, thumbnail_list, thumbnail_pixmap
from .adapter import square_region
from .pad import EditPad

THUMB = 56
NO_MODEL = "no latent model installed — ganstudio train igan"
KEEP_REST = LATENT_DEFAULTS["keep_rest"]  # weight of the "Keep the rest" check box
PROJECTIONS = (("Hybrid (encoder + optimisation)", "hybrid"), ("Optimisation only", "optimize"),
               ("Encoder only", "encoder"))


class LatentSection(ModelSection):
    TASK = Task.LATENT
    NO_MODEL = NO_MODEL

    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__("Latent editing (iGAN)", controller, parent)
        self.region: tuple[int, int, int, int] | None = None  # the photo square the model sees
        self.z0: np.ndarray | None = None
        self.base = "photo"  # "generated" after Random
        self.result: Result | None = None  # the chosen candidate's transfer, ready to Apply
        self.frames: np.ndarray | None = None
        self._jobs: dict[int, str] = {}  # job id -> mode
        self._showing = False  # the canvas shows this section's preview (what Apply pastes)
        self._emitting = False
        self._build()
        controller.preview_ready.connect(self._other_preview)
        controller.region_preview_ready.connect(self._other_preview)
        controller.runner.finished.connect(self._on_finished)
        controller.runner.failed.connect(self._on_failed)
        controller.runner.cancelled.connect(self._on_cancelled)
        controller.runner.preview.connect(self._on_preview)
        self.reload_models()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        form = QFormLayout(self)
        self._add_model_row(form)
        self.projection = QComboBox()
        for title, key in PROJECTIONS:
            self.projection.addItem(title, key)
        self.project_button = QPushButton("Project")
        self.project_button.setToolTip("Find the model's closest image to the photo (or to the square "
                                       "around the mask / selection)")
        self.project_button.clicked.connect(self.project)
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("Start from a random sample of the model instead of the photo")
        self.random_button.clicked.connect(self.random_sample)
        self.pad = EditPad(self.controller.undo)
        self.pad.stroke_finished.connect(self._stroke_finished)
        self.tools = QButtonGroup(self)
        tool_row = QHBoxLayout()
        for key, title, tip in (("color", "Colour", "Brush: the colour you want there"),
                                ("sketch", "Sketch", "Pen: an edge you want there"),
                                ("keep", "Keep", "Mark what must stay as it is")):
            b = QRadioButton(title)
            b.setToolTip(tip)
            b.setProperty("tool", key)
            self.tools.addButton(b)
            tool_row.addWidget(b)
            if key == "color":
                b.setChecked(True)
        self.tools.buttonClicked.connect(self._tool_changed)
        self.colour_button = QPushButton()
        self.colour_button.setFixedWidth(36)
        self.colour_button.setToolTip("Stroke colour")
        self.colour_button.clicked.connect(self.choose_colour)
        tool_row.addWidget(self.colour_button)
        self.size = QSpinBox()
        self.size.setRange(1, 40)
        self.size.setValue(self.pad.radius)
        self.size.setSuffix(" px")
        self.size.setToolTip("Brush radius on the pad")
        self.size.valueChanged.connect(self._size_changed)
        self.clear_button = QPushButton("Clear strokes")
        self.clear_button.clicked.connect(self.pad.clear_strokes)
        # the projection's far-from-the-domain verdict (engines/latent/domain_check.py), shown
        # until the next projection: edits of such a photo are coarse
        self.domain_note = QLabel()
        self.domain_note.setWordWrap(True)
        self.domain_note.setStyleSheet("color: #b35900;")
        self.domain_note.hide()
        self.keep_rest = QCheckBox("Keep the rest")
        self.keep_rest.setChecked(True)
        self.keep_rest.setToolTip("Keep the projection as it is away from your strokes, so the edit stays "
                                  "local (off: the model may re-render the whole image, as in iGAN)")
        self.edit_button = QPushButton("Edit")
        self.edit_button.setToolTip("Search the latent space for images that follow the strokes")
        self.edit_button.clicked.connect(self.edit)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.gallery = thumbnail_list(THUMB)
        self.gallery.setFlow(QListView.Flow.LeftToRight)
        self.gallery.setWrapping(False)
        self.gallery.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.gallery.setSpacing(2)
        self.gallery.setFixedHeight(THUMB + 30)  # one row of thumbnails + the horizontal scroll bar
        self.gallery.setToolTip("Candidates, best first: click one to choose it")
        self.gallery.itemClicked.connect(self._candidate_chosen)
        self.gallery.hide()  # shown once candidates arrive
        self.morph = QSlider(Qt.Orientation.Horizontal)
        self.morph.setRange(0, 0)
        self.morph.setToolTip("From the projection (left) to the chosen candidate (right)")
        self.morph.valueChanged.connect(self._show_frame)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Transfer the edit onto the photo (one undo step)")
        self.apply_button.clicked.connect(self.apply)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Drop the candidates and the preview on the photo")
        self.discard_button.clicked.connect(self.discard)

        form.addRow("Projection", self.projection)
        form.addRow(hrow(self.project_button, self.random_button))
        form.addRow(self.domain_note)
        form.addRow(hrow(None, self.pad, None))
        form.addRow(tool_row)
        form.addRow("Size", hrow(self.size, self.clear_button))
        form.addRow(self.keep_rest)
        form.addRow(hrow(self.edit_button, self.stop_button))
        form.addRow(self.gallery)
        form.addRow("Morph", self.morph)
        form.addRow(hrow(self.apply_button, self.discard_button))
        self._set_colour(self.pad.rgb)

    # ------------------------------------------------------------------ models
    def _model_changed(self, *_args) -> None:
        have = self.has_model()
        for w in (self.model, self.projection, self.project_button, self.random_button, self.pad, self.edit_button,
                  self.stop_button, self.clear_button, self.colour_button, self.size, self.gallery, self.morph,
                  self.apply_button, self.discard_button, *self.tools.buttons()):
            w.setEnabled(have)
        if not have:
            from engines.paths import user_data_dir

            self.status.setStyleSheet("color: palette(window-text);")
            self.status.setText(NO_MODEL)
            self.status.setToolTip(f"Train one with “ganstudio train igan”, then --export it into "
                                   f"{user_data_dir() / 'models' / 'latent'}")
            return
        self.status.setStyleSheet("color: palette(mid);")
        info = self.model_info()
        self.status.setText(info.description if info and info.description else (info.title if info else ""))
        self.status.setToolTip(info.license if info else "")
        self._reset_edit(keep_projection=False)

    # ------------------------------------------------------------------ tools
    def _tool_changed(self, button) -> None:
        self.pad.tool = button.property("tool")

    def _size_changed(self, value: int) -> None:
        self.pad.radius = int(value)

    def _set_colour(self, rgb) -> None:
        self.pad.rgb = tuple(float(c) for c in rgb)
        c = QColor.fromRgbF(*self.pad.rgb)
        self.colour_button.setStyleSheet(f"background-color: {c.name()}; border: 1px solid palette(mid);")

    def bind_colour(self, state) -> None:
        """Paint in the editor's current colour: the ToolState's colour now and whenever it changes
        (a Palette swatch, the colour picker); the colour button still sets one for the pad only."""
        self._set_colour((state.color.redF(), state.color.greenF(), state.color.blueF()))
        state.color_changed.connect(lambda c: self._set_colour((c.redF(), c.greenF(), c.blueF())))

    def choose_colour(self) -> None:
        c = QColorDialog.getColor(QColor.fromRgbF(*self.pad.rgb), self, "Stroke colour")
        if c.isValid():
            self._set_colour((c.redF(), c.greenF(), c.blueF()))
            for b in self.tools.buttons():
                if b.property("tool") == "color":
                    b.setChecked(True)
            self.pad.tool = "color"

    def _stroke_finished(self) -> None:
        self.controller.message.emit("Stroke added: press Edit to search the latent space")

    # ------------------------------------------------------------------ jobs
    def _submit(self, mode: str, options: dict) -> int | None:
        if self.model_missing():
            return None
        doc = self.controller.get_doc()
        if doc is None:
            return None
        try:
            engine = registry.get(Task.LATENT, self.model_id())
            request = ADAPTERS[Task.LATENT].build(doc, {"mode": mode, **options})
        except EngineError as exc:
            self.controller.error.emit(str(exc))
            return None
        titles = {"project": "Project photo", "edit": "Latent edit", "transfer": "Latent transfer",
                  "random": "Random sample"}
        job = Job(engine=engine, request=request, kind="preview", key="latent", label=titles[mode])
        if mode in ("project", "random", "edit"):
            self._emit_preview(None)  # one result preview at a time: a synthesis preview goes
        job_id = self.controller.runner.submit(job)
        self._jobs = {job_id: mode}  # latest wins: older latent jobs are superseded
        return job_id

    def project(self) -> int | None:
        doc = self.controller.get_doc()
        if doc is None:
            return None
        self.region = square_region(doc)
        return self._submit("project", {"region": self.region, "projection": self.projection.currentData()})

    def random_sample(self) -> int | None:
        doc = self.controller.get_doc()
        if doc is None:
            return None
        self.region = self.region or square_region(doc)
        return self._submit("random", {"region": self.region, "seed": random.randint(0, 2**31 - 1)})

    def edit(self) -> int | None:
        if self.z0 is None or self.region is None:
            self.controller.error.emit("Press Project (or Random) first, then paint strokes on the pad.")
            return None
        return self._submit("edit", {"region": self.region, "latent": self.z0, "strokes": self.pad.strokes,
                                     "base": self.base,
                                     "keep_rest": KEEP_REST if self.keep_rest.isChecked() else 0.0})

    def stop(self) -> None:
        self._cancel_jobs(self._jobs)

    def _candidate_chosen(self, item: QListWidgetItem) -> None:
        z = item.data(Qt.ItemDataRole.UserRole)
        if z is None or self.z0 is None or self.region is None:
            return
        # the strokes and Keep the rest go along: the engine confines the transfer to the strokes'
        # region exactly as it did for the edit's own best candidate
        self._submit("transfer", {"region": self.region, "latent": self.z0, "target": z, "base": self.base,
                                  "strokes": self.pad.strokes,
                                  "keep_rest": KEEP_REST if self.keep_rest.isChecked() else 0.0})

    def _on_preview(self, job_id: int, image) -> None:
        if job_id in self._jobs and image is not None:
            self.pad.set_image(image)

    def _on_finished(self, job_id: int, result: Result) -> None:
        mode = self._jobs.pop(job_id, None)
        if mode is None:
            return
        if mode in ("project", "random"):
            self._reset_edit(keep_projection=False)
            self.z0 = result.latent
            self.base = "photo" if mode == "project" else "generated"
            self.pad.set_image(result.extras.get("projection"))
            if mode == "project":
                note = self._show_domain(result.extras.get("domain"))
                self.controller.message.emit(
                    f"Projected in {result.seconds:.2f} s (PSNR {result.extras.get('psnr', 0):.1f} dB at the "
                    f"model's size){note}: paint strokes on the pad, then Edit")
            else:
                self.controller.message.emit("Random sample: paint strokes on the pad, then Edit")
            return
        if mode == "edit":
            self.gallery.clear()
            self.gallery.show()
            for i, c in enumerate(result.extras.get("candidates", [])):
                item = QListWidgetItem(QIcon(thumbnail_pixmap(c["image"], THUMB)), "")
                item.setData(Qt.ItemDataRole.UserRole, c["z"])
                item.setToolTip(f"Candidate {i + 1}, cost {c['cost']:.4f}: click to choose")
                self.gallery.addItem(item)
            if self.gallery.count():
                self.gallery.setCurrentRow(0)
            before, after = result.extras.get("color_error_before"), result.extras.get("color_error_after")
            extra = f"; stroke colour error {before:.3f} → {after:.3f}" if before else ""
            self.controller.message.emit(f"Latent edit in {result.seconds:.2f} s{extra}: the photo shows "
                                         "the result — Apply keeps it, Discard drops it")
        elif mode == "transfer":
            self.controller.message.emit(f"Candidate transferred in {result.seconds:.2f} s: the photo shows it "
                                         "— Apply keeps it, Discard drops it")
        self.result = result
        if result.image is not None and self.region is not None:
            self._emit_preview(result.image, self.region)  # on the photo until Apply or Discard
        self.frames = result.extras.get("frames")
        if self.frames is not None:
            self.morph.blockSignals(True)
            self.morph.setRange(0, len(self.frames) - 1)
            self.morph.setValue(len(self.frames) - 1)
            self.morph.blockSignals(False)
            self._show_frame(len(self.frames) - 1)

    def _on_failed(self, job_id: int, message: str) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self.controller.error.emit(message)

    def _on_cancelled(self, job_id: int) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self.controller.message.emit("Latent job stopped")

    # ------------------------------------------------------------------ frames and apply
    def _show_frame(self, index: int) -> None:
        """The pad shows the morph frame; the photo keeps showing what Apply pastes."""
        if self.frames is None or not len(self.frames):
            return
        index = int(np.clip(index, 0, len(self.frames) - 1))
        self.pad.set_image(self.frames[index])
        if self.result is not None and self.region is not None and self.result.image is not None:
            if not self._showing:
                self._emit_preview(self.result.image, self.region)

    # ------------------------------------------------------------------ the preview on the photo
    def _emit_preview(self, image, region=None) -> None:
        self._emitting = True
        try:
            if image is None:
                self.controller.preview_ready.emit(None)
            else:
                self.controller.region_preview_ready.emit(image, region)
        finally:
            self._emitting = False
        self._showing = image is not None

    def _other_preview(self, *_args) -> None:
        if not self._emitting:
            self._showing = False  # another section's preview (or none) replaced ours

    def holds_preview(self) -> bool:
        """True while the photo shows this section's result, which stays until Apply or Discard."""
        return self._showing

    def discard(self) -> None:
        had = self.result is not None or self._showing
        if self._showing:
            self._emit_preview(None)
        self._reset_edit(keep_projection=True)
        if had:
            self.controller.message.emit("Latent edit discarded: the photo is unchanged")

    def document_opened(self, doc) -> None:
        """Another photo: the projection, strokes, candidates and jobs of the last one go."""
        self.stop()
        self._jobs.clear()
        self._showing = False
        self.region = None
        self.base = "photo"
        self._reset_edit(keep_projection=False)
        for name in ("color", "sketch", "keep"):  # the undo stack was cleared with the photo
            self.pad.strokes.layer(name)[...] = 0
        self.pad.update()

    def _show_domain(self, domain: dict | None) -> str:
        """Show (or hide) the far-from-the-domain note of a projection; its text for the status bar
        ("; <message>") or ""."""
        message = str((domain or {}).get("message") or "") if (domain or {}).get("far") else ""
        if not message:
            self.domain_note.hide()
            self.domain_note.clear()
            return ""
        self.domain_note.setText("⚠ " + message[:1].upper() + message[1:] + ".")
        self.domain_note.setToolTip(f"Projection score {float(domain.get('score', 0.0)):.2f} above this "
                                    f"model's threshold {float(domain.get('threshold') or 0.0):.2f} "
                                    "(calibrated on its training photos)")
        self.domain_note.show()
        return f"; {message}"

    def _reset_edit(self, keep_projection: bool = True) -> None:
        if self._showing:
            self._emit_preview(None)
        self.result = None
        self.frames = None
        self.gallery.clear()
        self.gallery.hide()
        self.morph.setRange(0, 0)
        if not keep_projection:
            self.z0 = None
            self.pad.set_image(None)
            self._show_domain(None)

    def apply(self) -> bool:
        doc = self.controller.get_doc()
        if doc is None or self.result is None or self.region is None:
            self.controller.error.emit("Nothing to apply yet: Project, paint strokes, then Edit.")
            return False
        title = "Latent edit"
        cmds = ADAPTERS[Task.LATENT].apply(doc, None, self.result, title, self.region)
        if not cmds:
            self.controller.error.emit("The photo changed size since the projection; press Project again.")
            return False
        x, y, w, h = self.region
        before = doc.image[y:y + h, x:x + w].copy()
        self.controller.undo.beginMacro(title)
        for c in cmds:
            self.controller.undo.push(c)
        self.controller.undo.endMacro()
        self._emit_preview(None)
        self.controller.applied.emit(title)
        changed = float((np.abs(doc.image[y:y + h, x:x + w] - before).max(axis=2) > 1 / 255).mean())
        self.controller.message.emit(
            f"Latent edit applied to the {w} × {h} square at ({x}, {y}): {changed:.0%} of its pixels "
            "changed — one undo step (Ctrl+Z)")
        self.z0 = self.result.latent  # further edits start from what is now in the photo
        self.result = None
        return True
