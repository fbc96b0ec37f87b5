"""The Semantic synthesis section of the Engines dock (GauGAN / SPADE).

Paint a label map (label brush, fill, rectangle; or load a label PNG, or "Segment photo"), then
Generate shows a preview on the canvas (latest wins; optionally after every label stroke),
Candidates fills a gallery with photos from several seeds, and Apply puts the chosen one in the
image layer as one undoable step. With no synthesis model installed the section says what is
needed and only the label-file buttons work; "Segment photo" needs the facades segmentation model.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QLabel, QListWidgetItem, QPushButton, QSpinBox, QWidget,
)

from engines.core import EngineError, EngineInfo, Input, Progress, Result, Task, registry
from engines.labels import LabelPalette, PaletteError, load_palette

from ...document.commands import layer_change
from ...document.document import Layer
from ...engine_controller import ADAPTERS, EngineController
from ...jobs import Job
from ...widgets.model_section import ModelSection
from ...widgets.thumbnails import hrow, thumbnail_list, thumbnail_pixmap

THUMB = 84  # px, candidate thumbnails
SEED_MAX = 2**31 - 1
NO_MODEL = ("No synthesis model installed. Train the facades model (“ganstudio train spade”, then "
            "--export into the models folder), or import an official SPADE generator (ADE20K, "
            "COCO-Stuff, Cityscapes) with Engines ▸ Models…. Label maps can be painted, loaded and "
            "saved meanwhile.")
NO_SEGMENTER = ("Needs the facades segmentation model: train it with “ganstudio train segment” "
                "and export it with --export.")
ID_FILTER = "Label ids, grey PNG (*.png)"
COLOUR_FILTER = "Label colours, palette PNG (*.png)"


def _thumbnail(image: np.ndarray) -> QIcon:
    return QIcon(thumbnail_pixmap(image, THUMB))


class _SegmentEngine:
    """Runs the segmentation net on the worker (the UI thread never runs a network)."""

    info = EngineInfo(id="segment-photo", task=Task.SYNTHESIZE, title="Segment photo", license="ours",
                      inputs=(Input.IMAGE,), uses_torch=True)

    def __init__(self, segmenter) -> None:
        self.segmenter = segmenter

    def run(self, photo: np.ndarray, ctx):
        yield Progress(0, 1, "segmenting the photo")
        ctx.cancel.raise_if_cancelled()
        labels, seconds = self.segmenter(photo)
        return Result(labels=labels, seconds=seconds)


class SynthesisSection(ModelSection):
    TASK = Task.SYNTHESIZE
    NO_MODEL = NO_MODEL

    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__("Semantic synthesis", controller, parent)
        # set by the main window: the Labels dock's palette, and a way to switch it
        self.palette_getter: Callable[[], LabelPalette | None] | None = None
        self.use_palette: Callable[[str], None] | None = None
        self._style: np.ndarray | None = None
        self._candidate_jobs: dict[int, int] = {}  # job id -> seed
        self._segment_job: int | None = None
        self._segmenter = None
        self._build()
        controller.runner.finished.connect(self._on_job_finished)
        controller.runner.failed.connect(self._on_job_failed)
        controller.runner.cancelled.connect(self._on_job_cancelled)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(300)
        self._live_timer.timeout.connect(self.preview)
        self.reload_models()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        form = QFormLayout(self)
        self._add_model_row(form)
        self.status.setStyleSheet("color: palette(mid);")
        self.load_button = QPushButton("Load labels…")
        self.load_button.setToolTip("Load a label map: grey PNG of class ids, or a palette-colour PNG")
        self.load_button.clicked.connect(self.load_labels_dialog)
        self.save_button = QPushButton("Save labels…")
        self.save_button.setToolTip("Save the label map as class ids (grey PNG) or palette colours")
        self.save_button.clicked.connect(self.save_labels_dialog)
        self.segment_button = QPushButton("Segment photo")
        self.segment_button.clicked.connect(self.segment_photo)
        self.style = QComboBox()
        self.style.addItem("Random style (from the seed)", "random")
        self.style.addItem("Style of an example photo", "photo")
        self.style.setToolTip("Models with a style encoder can copy the look of an example photo")
        self.style_current = QPushButton("Use current photo")
        self.style_current.clicked.connect(self.take_style_from_document)
        self.style_file = QPushButton("Open…")
        self.style_file.clicked.connect(self.style_from_file_dialog)
        self.style_thumb = QLabel()
        self.style_thumb.setFixedSize(36, 36)
        self.style_thumb.setScaledContents(True)
        self.seed = QSpinBox()
        self.seed.setRange(0, SEED_MAX)
        self.seed.setToolTip("Same seed, same labels and style: the same photo")
        self.dice = QPushButton("Random seed")
        self.dice.clicked.connect(self.random_seed)
        self.live = QCheckBox("Preview after each label stroke")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Synthesize a preview from the label map (nothing changes until Apply)")
        self.generate_button.clicked.connect(self.preview)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Put the synthesized photo in the image (one undo step)")
        self.apply_button.clicked.connect(self.apply)
        self.count = QSpinBox()
        self.count.setRange(2, 8)
        self.count.setValue(4)
        self.count.setSuffix(" seeds")
        self.count.setToolTip("How many seeds the gallery tries (seed, seed + 1, ...)")
        self.candidates_button = QPushButton("Candidates")
        self.candidates_button.setToolTip("Synthesize from several seeds; click one to preview it, then Apply")
        self.candidates_button.clicked.connect(self.candidates)
        self.gallery = thumbnail_list(THUMB)
        self.gallery.setFixedHeight(THUMB + 30)
        self.gallery.itemClicked.connect(self._candidate_chosen)
        self.gallery.hide()  # shown once candidates arrive
        self.style_thumb.hide()  # shown once an example photo is chosen

        form.addRow(hrow(self.load_button, self.save_button))
        form.addRow(self.segment_button)
        form.addRow("Style", self.style)
        form.addRow(hrow(self.style_thumb, self.style_current, self.style_file))
        form.addRow("Seed", hrow(self.seed, self.dice))
        form.addRow(self.live)
        form.addRow(hrow(self.generate_button, self.apply_button))
        form.addRow(hrow(self.count, self.candidates_button))
        form.addRow(self.gallery)

    # ------------------------------------------------------------------ models
    def reload_models(self) -> None:
        """(Re)list the installed synthesis models and the segmentation model."""
        from engines.spade.engine import installed_segmenter

        self._segmenter = installed_segmenter()
        self.segment_button.setEnabled(self._segmenter is not None)
        self.segment_button.setToolTip(
            "Turn the photo into an editable label map (facades classes)" if self._segmenter else NO_SEGMENTER)
        super().reload_models()

    def bind_labels(self, palette_getter: Callable[[], LabelPalette | None],
                    use_palette: Callable[[str], None]) -> None:
        """Hook up the Labels dock: its palette for label files, and switching it to the model's."""
        self.palette_getter, self.use_palette = palette_getter, use_palette
        self._model_changed()

    def model_palette(self) -> str:
        from engines.spade.engine import card_for

        card = card_for(self.model_id() or "")
        return card.palette if card is not None else ""

    def model_has_styles(self) -> bool:
        """False when the card says the generator has no VAE (then seeds and styles do nothing)."""
        from engines.spade.engine import card_for

        card = card_for(self.model_id() or "")
        return card is None or bool((card.extra.get("hparams") or {}).get("use_vae", True))

    def _model_changed(self, *_args) -> None:
        have = self.has_model()
        for w in (self.model, self.generate_button, self.apply_button, self.candidates_button, self.live,
                  self.seed, self.dice, self.style, self.style_current, self.style_file, self.count):
            w.setEnabled(have)
        # the empty-state message is the important part then: normal text colour, not the muted one
        self.status.setStyleSheet("color: palette(window-text);" if not have else "color: palette(mid);")
        if not have:
            from engines.paths import user_data_dir

            self.status.setText(NO_MODEL)
            self.status.setToolTip(f"Models folder: {user_data_dir() / 'models' / 'synthesize'}")
            return
        info = self.model_info()
        palette = self.model_palette()
        text = f"Classes: {palette or 'from the model'} · {info.license.split(';')[0] if info else ''}"
        if not self.model_has_styles():  # official releases: no VAE, one photo per label map
            text += " · no style encoder: seed and style do not change the photo"
            for w in (self.seed, self.dice, self.style, self.style_current, self.style_file, self.count,
                      self.candidates_button):
                w.setEnabled(False)
        self.status.setText(text)
        self.status.setToolTip(info.description if info else "")
        if palette and self.use_palette is not None:
            try:
                self.use_palette(palette)
            except KeyError:
                pass

    # ------------------------------------------------------------------ options
    def options(self) -> dict:
        if self.style.currentData() == "photo" and self._style is None:
            self.take_style_from_document()  # "example photo" with none chosen: the photo being edited
        style = self._style if self.style.currentData() == "photo" else None
        return {"seed": self.seed.value(), "style": style}

    def random_seed(self) -> None:
        self.seed.setValue(random.randint(0, SEED_MAX))

    def set_style(self, image: np.ndarray | None) -> None:
        self._style = None if image is None else np.ascontiguousarray(image, np.float32)
        if image is None:
            self.style_thumb.clear()
            self.style_thumb.hide()
            return
        self.style_thumb.show()
        self.style_thumb.setPixmap(_thumbnail(image).pixmap(36, 36))
        self.style.setCurrentIndex(self.style.findData("photo"))

    def take_style_from_document(self) -> None:
        doc = self.controller.get_doc()
        if doc is not None:
            self.set_style(doc.image.copy())

    def style_from_file_dialog(self) -> None:
        from ...document.files import OPEN_FILTER

        path, _ = QFileDialog.getOpenFileName(self, "Example photo for the style", "", OPEN_FILTER)
        if path:
            self.style_from_file(path)

    def style_from_file(self, path: str | Path) -> bool:
        from engines.imageio import load_image

        try:
            self.set_style(load_image(path).rgb)
        except EngineError as exc:
            self.controller.error.emit(str(exc))
            return False
        return True

    # ------------------------------------------------------------------ run
    def preview(self) -> int | None:
        if not self.has_model() or self.controller.get_doc() is None:
            return None
        return self.controller.run(Task.SYNTHESIZE, self.model_id(), self.options(), preview=True)

    def apply(self) -> int | None:
        if self.model_missing():
            return None
        return self.controller.run(Task.SYNTHESIZE, self.model_id(), self.options())

    def stroke_finished(self) -> None:
        """After each label edit: schedule a preview when live preview is on, else drop a stale one."""
        if self.live.isChecked() and self.live.isEnabled():
            self._live_timer.start()
        else:
            self.controller.preview_ready.emit(None)

    def document_opened(self, doc) -> None:
        """Another photo: the candidates and jobs of the last one are dropped (the style photo, an
        example the user chose, is kept)."""
        self._live_timer.stop()
        self._cancel_jobs(self._candidate_jobs)
        self._candidate_jobs.clear()
        self._segment_job = None
        self.gallery.clear()
        self.gallery.hide()

    def candidates(self) -> list[int]:
        """Queue one preview per seed (seed, seed + 1, ...); results fill the gallery."""
        doc = self.controller.get_doc()
        if doc is None or not self.has_model():
            return []
        try:
            engine = registry.get(Task.SYNTHESIZE, self.model_id())
            base = self.options()
            requests = [ADAPTERS[Task.SYNTHESIZE].build(doc, {**base, "seed": base["seed"] + i})
                        for i in range(self.count.value())]
        except EngineError as exc:
            self.controller.error.emit(str(exc))
            return []
        self.gallery.clear()
        self.gallery.show()
        self._cancel_jobs(self._candidate_jobs)
        self._candidate_jobs.clear()
        ids = []
        for i, request in enumerate(requests):
            job = Job(engine=engine, request=request, kind="preview", key=f"synthesize-candidate-{i}",
                      label=f"Candidate {i + 1} (seed {request.seed})")
            job_id = self.controller.runner.submit(job)
            self._candidate_jobs[job_id] = request.seed
            ids.append(job_id)
        return ids

    def _candidate_chosen(self, item: QListWidgetItem) -> None:
        seed, image = item.data(Qt.ItemDataRole.UserRole)
        self.seed.setValue(seed)
        self.controller.preview_ready.emit(image)
        self.controller.message.emit(f"Candidate with seed {seed} shown — Apply puts it in the photo")

    # ------------------------------------------------------------------ segment photo
    def segment_photo(self) -> int | None:
        doc = self.controller.get_doc()
        if doc is None or self._segmenter is None:
            return None
        self._segment_job = self.controller.runner.submit(
            Job(engine=_SegmentEngine(self._segmenter), request=doc.image.copy(), label="Segment photo"))
        return self._segment_job

    def _on_job_finished(self, job_id: int, result: Result) -> None:
        if job_id in self._candidate_jobs:
            seed = self._candidate_jobs.pop(job_id)
            item = QListWidgetItem(_thumbnail(result.image), f"seed {seed}")
            item.setData(Qt.ItemDataRole.UserRole, (seed, result.image))
            item.setToolTip(f"Seed {seed}: click to preview, then Apply")
            self.gallery.addItem(item)
            left = len(self._candidate_jobs)
            self.controller.message.emit(
                f"Candidate seed {seed} ready in {result.seconds:.1f} s" + (f", {left} to go" if left else
                                                                          ": click one to preview it"))
        elif job_id == self._segment_job:
            self._segment_job = None
            doc = self.controller.get_doc()
            if doc is None or result.labels is None or result.labels.shape != (doc.height, doc.width):
                return
            if self.use_palette is not None:
                self.use_palette("facades")  # the segmentation net speaks facades classes
            cmd = layer_change(doc, Layer.LABELS, result.labels.astype(np.int32), "Segment photo")
            if cmd is not None:
                self.controller.undo.push(cmd)
            self.controller.message.emit(f"Segment photo: done in {result.seconds:.2f} s")

    def _on_job_cancelled(self, job_id: int) -> None:
        self._candidate_jobs.pop(job_id, None)
        if job_id == self._segment_job:
            self._segment_job = None

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if job_id == self._segment_job or job_id in self._candidate_jobs:
            self._candidate_jobs.pop(job_id, None)
            self._segment_job = None if job_id == self._segment_job else self._segment_job
            self.controller.error.emit(message)

    # ------------------------------------------------------------------ label files
    def palette(self) -> LabelPalette:
        """The palette label files are read and written in: the model's, else the Labels dock's."""
        name = self.model_palette()
        if name:
            try:
                return load_palette(name)
            except PaletteError:
                pass
        current = self.palette_getter() if self.palette_getter is not None else None
        return current if current is not None else load_palette("facades")

    def load_labels_dialog(self) -> None:
        if self.controller.get_doc() is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load label map", "", "PNG images (*.png);;All files (*)")
        if path:
            self.load_labels(path)

    def load_labels(self, path: str | Path) -> bool:
        from engines.spade.labels import read_label_png, resize_labels

        doc = self.controller.get_doc()
        if doc is None:
            return False
        palette = self.palette()
        try:
            ids, note = read_label_png(path, palette)
        except ValueError as exc:
            self.controller.error.emit(str(exc))
            return False
        if ids.shape != (doc.height, doc.width):
            note += f"; resized (nearest) from {ids.shape[1]}×{ids.shape[0]}"
            ids = resize_labels(ids, (doc.height, doc.width))
        cmd = layer_change(doc, Layer.LABELS, ids.astype(np.int32), "Load labels")
        if cmd is not None:
            self.controller.undo.push(cmd)
        self.controller.message.emit(f"Loaded labels ({palette.title}): {note}")
        return True

    def save_labels_dialog(self) -> None:
        if self.controller.get_doc() is None:
            return
        path, chosen = QFileDialog.getSaveFileName(self, "Save label map", "labels.png",
                                                   f"{ID_FILTER};;{COLOUR_FILTER}")
        if path:
            self.save_labels(path, colours=chosen == COLOUR_FILTER)

    def save_labels(self, path: str | Path, colours: bool = False) -> bool:
        from engines.spade.labels import write_label_png

        doc = self.controller.get_doc()
        if doc is None:
            return False
        try:
            write_label_png(doc.labels, path, self.palette() if colours else None)
        except OSError as exc:
            self.controller.error.emit(f"Could not save {Path(path).name}: {exc}")
            return False
        self.controller.message.emit(f"Saved labels to {path}")
        return True
