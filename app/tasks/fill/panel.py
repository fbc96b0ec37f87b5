"""The Fill (inpainting) section of the Engines dock.

- **Method**: every registered inpainting engine (``default`` = the texture fill first).
- **Paint**: what the mask brush, rectangle and lasso paint — the *area to fill* (red) or the
  *sample-from* area (green, Shift+M toggles): where the texture fill may take texture from. Not
  painted = the whole photo outside the hole. It lives in the document (``Layer.SOURCE``), every
  stroke is an undo step like a mask stroke, and it stays after a Fill so several holes can be
  filled from the same area; *Clear* forgets it (one undo step).
- **Fill mask**: one job on the worker, one undo step (the controller applies it).
- **Variations**: ONE job runs the texture fill with seeds 0, 1, 2 (progress, cancellable: the
  button turns into *Stop*); the results appear as thumbnails of the hole's surroundings as they
  come. A click shows one on the photo (a preview, not an edit); *Use* or a double-click applies it
  as one undo step, like a Fill, and discards the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidgetItem, QPushButton,
    QSizePolicy, QWidget,
)

from engines.core import EngineError, InpaintRequest, Progress, Result, Task, registry

from ...document.document import Document, Layer
from ...engine_controller import ADAPTERS, EngineController
from ...image_ops.engine_job import EngineJob
from ...tools.toolstate import TARGET_TINTS, ToolState
from ...widgets.model_combo import ModelCombo
from ...widgets.thumbnails import hrow, thumbnail_list, thumbnail_pixmap
from .adapter import apply_inpaint

THUMB = 80  # px, variation thumbnails (three side by side in a narrow dock)
SEEDS = (0, 1, 2)
MASK_TOOLS = ("mask", "mask_rect", "mask_lasso")


# ----------------------------------------------------------------------------- variations job
class VariationsEngine:
    """Runs one fill engine once per seed inside ONE job: progress over the whole run, cancellable
    between (and inside) the runs. Each finished image is appended to :attr:`done` on the worker
    (list appends are atomic), so the panel can show it before the others are ready; the Result
    carries all of them in ``extras["variations"]`` as ``(seed, image)`` pairs."""

    def __init__(self, engine, seeds=SEEDS) -> None:
        self.engine = engine
        self.info = engine.info
        self.seeds = tuple(int(s) for s in seeds)
        self.done: list[tuple[int, np.ndarray]] = []

    def run(self, request: InpaintRequest, ctx):
        started = time.perf_counter()
        n = len(self.seeds)
        for k, seed in enumerate(self.seeds):
            ctx.cancel.raise_if_cancelled()
            prefix = f"variation {k + 1} of {n}"
            yield Progress(k * 100, n * 100, prefix)
            gen = self.engine.run(replace(request, seed=seed), ctx)
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                if isinstance(event, Progress):  # inner previews are not shown: the gallery is
                    msg = f"{prefix}: {event.message}" if event.message else prefix
                    yield Progress(k * 100 + int(event.fraction * 99), n * 100, msg)
                ctx.cancel.raise_if_cancelled()
            if not isinstance(result, Result) or result.image is None:
                raise EngineError(f"{self.info.title}: no image for variation {k + 1}")
            self.done.append((seed, result.image))
            yield Progress((k + 1) * 100, n * 100, f"{prefix} done")
        return Result(image=self.done[0][1], extras={"variations": list(self.done)},
                      seconds=time.perf_counter() - started)


@dataclass
class _VariationRun:
    job_id: int | None
    doc: Document
    request: InpaintRequest
    engine: VariationsEngine
    title: str
    shown: int = 0  # variations put in the gallery so far


def texture_engine(model_id: str | None):
    """The engine that honours the sample-from area and seeds: the chosen one when it does, else
    the default fill when that does; None when neither does (no texture fill registered)."""
    from engines.inpaint.texture import TextureFillEngine

    for mid in (model_id, "default"):
        if not mid:
            continue
        try:
            engine = registry.get(Task.INPAINT, mid)
        except EngineError:
            continue
        if isinstance(engine, TextureFillEngine):
            return engine
    return None


def hole_crop(image: np.ndarray, mask: np.ndarray, context: float = 0.6) -> np.ndarray:
    """The hole's bounding box plus ``context`` x its size on each side (square where the photo
    allows): what a thumbnail must show for variations to be told apart."""
    ys, xs = np.nonzero(mask > 0.25)
    h, w = mask.shape
    if len(xs) == 0:
        return image
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = max(x1 - x0, y1 - y0)
    side = int(side * (1 + 2 * context)) + 8
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    sx, sy = min(side, w), min(side, h)
    left = int(np.clip(cx - sx // 2, 0, w - sx))
    top = int(np.clip(cy - sy // 2, 0, h - sy))
    return image[top : top + sy, left : left + sx]


def _icon(rgb: np.ndarray, size: int = THUMB) -> QIcon:
    pm = thumbnail_pixmap(rgb, size)
    icon = QIcon(pm)
    # the selected thumbnail keeps its true colours (Qt tints Selected-mode icons by default, which
    # would make the chosen variation look different from what it is); the frame shows the choice
    icon.addPixmap(pm, QIcon.Mode.Selected)
    return icon


def _placeholder(size: int = THUMB) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(70, 70, 74))
    p = QPainter(pm)
    p.setPen(QColor(170, 170, 170))
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "…")
    p.end()
    return QIcon(pm)


def _swatch(rgb: tuple[int, int, int], size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(*rgb))
    return QIcon(pm)


# ----------------------------------------------------------------------------- the section
class FillSection(QGroupBox):
    """The Fill section: its method combo (item data = engine id), Fill mask, the live preview after
    each mask stroke, the sample-from area and the variations."""

    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__("Inpainting (Fill)", parent)
        self.setObjectName("FillSection")
        self.controller = controller
        self.model = model = ModelCombo(Task.INPAINT)
        self.state: ToolState | None = None  # bound by the main window (bind_tools)
        self.set_tool: Callable[[str], None] | None = None
        self._doc: Document | None = None
        self._run: _VariationRun | None = None
        self._source_timer = QTimer(self)  # the sample-from line is recounted after strokes, not per dab
        self._source_timer.setSingleShot(True)
        self._source_timer.setInterval(150)
        self._source_timer.timeout.connect(self._update_source_line)
        self._build()
        model.currentIndexChanged.connect(self._method_changed)
        self._method_changed()
        self.fill_button.clicked.connect(self.run)
        # live preview: a stroke ends -> wait a moment -> run (latest wins in the worker)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self.run_preview)

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        form = QFormLayout(self)
        self.method_note = QLabel()
        self.method_note.setStyleSheet("color: palette(mid);")
        # what the mask tools paint: two segmented buttons in the overlay colours
        self.paint_fill = QPushButton(_swatch(TARGET_TINTS["fill"]), "Area to fill")
        self.paint_fill.setToolTip("The mask tools (M, R, O) paint the area to fill (red). Shift+M switches.")
        self.paint_source = QPushButton(_swatch(TARGET_TINTS["source"]), "Sample from")
        self.paint_source.setToolTip("The mask tools (M, R, O) paint where the fill may take texture from "
                                     "(green); right button or Alt erases. Shift+M switches back.")
        self.paint_group = QButtonGroup(self)
        self.paint_group.setExclusive(True)
        for i, b in enumerate((self.paint_fill, self.paint_source)):
            b.setCheckable(True)
            self.paint_group.addButton(b, i)
        self.paint_fill.setChecked(True)
        self.paint_fill.clicked.connect(lambda: self.paint_target("fill"))
        self.paint_source.clicked.connect(lambda: self.paint_target("source"))
        self.source_line = QLabel()
        self.source_line.setObjectName("fill_source_line")
        self.source_clear = QPushButton("Clear")
        self.source_clear.setToolTip("Forget the painted sample-from area: sample from the whole photo "
                                     "(one undo step)")
        self.source_clear.clicked.connect(self.clear_source)
        self.live = QCheckBox("Live preview after each stroke")
        self.fill_button = QPushButton("Fill mask")
        self.fill_button.setToolTip("Fill the painted mask (Ctrl+F); one undo step")
        self.variations_button = QPushButton("Variations")
        self.variations_button.setToolTip(f"Fill {len(SEEDS)} times with different seeds and show the results "
                                          "to pick from; nothing changes until you use one")
        self.variations_button.clicked.connect(self._variations_clicked)
        self.gallery = thumbnail_list(THUMB)
        self.gallery.setObjectName("fill_variations")
        self.gallery.setGridSize(QSize(THUMB + 12, THUMB + 26))
        self.gallery.setWrapping(False)
        self.gallery.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.gallery.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.gallery.setFixedHeight(THUMB + 34)
        self.gallery.setStyleSheet("QListWidget::item:selected { border: 2px solid palette(highlight); "
                                   "border-radius: 3px; background: transparent; color: palette(text); }")
        self.gallery.currentItemChanged.connect(self._variation_selected)
        self.gallery.itemDoubleClicked.connect(lambda item: self.use_variation(item))
        self.use_button = QPushButton("Use this")
        self.use_button.setToolTip("Put the selected variation in the photo (one undo step); the others are "
                                   "discarded")
        self.use_button.clicked.connect(lambda: self.use_variation())
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Close the variations without changing the photo")
        self.discard_button.clicked.connect(self.discard_variations)
        self.variations_note = QLabel()
        self.variations_note.setStyleSheet("color: palette(mid);")
        self.variations_box = QWidget()
        vbox = QFormLayout(self.variations_box)
        vbox.setContentsMargins(0, 0, 0, 0)
        vbox.addRow(self.gallery)
        vbox.addRow(self.variations_note)
        vbox.addRow(_row(self.use_button, self.discard_button))
        self.variations_box.hide()  # shown once Variations runs
        # one short line (a word-wrapped label in a form row is drawn clipped); the rest in the tooltip
        hint = QLabel("Mask: brush M · rectangle R · lasso O")
        hint.setToolTip("Paint the region to fill with the mask brush (M), a rectangle (R) or a lasso (O), "
                        "or load a mask from a file (Mask menu). Shift+M (or Sample from) makes the same "
                        "tools paint the area the fill takes texture from. The preview is not part of the "
                        "photo until Fill mask; Fill is one undo step.")
        hint.setStyleSheet("color: palette(mid);")
        # status lines never widen the dock (their text changes as the user paints): cut, full text
        # in the tooltip
        for label in (self.method_note, self.source_line, self.variations_note, hint):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(40)
        form.addRow("Method", self.model)
        form.addRow(self.method_note)
        form.addRow("Paint", _row(self.paint_fill, self.paint_source))
        source_row = _row(self.source_line, self.source_clear)
        source_row.setStretch(0, 1)
        form.addRow("Sample from", source_row)
        form.addRow(self.live)
        form.addRow(_row(self.fill_button, self.variations_button))
        form.addRow(self.variations_box)
        form.addRow(hint)
        self._update_source_line()

    # ------------------------------------------------------------------ binding
    def bind_tools(self, state: ToolState, set_tool: Callable[[str], None]) -> None:
        """Hook up the tool state (what the mask tools paint) and a way to pick a tool."""
        self.state, self.set_tool = state, set_tool
        state.mask_target_changed.connect(self._show_target)
        self._show_target(state.mask_target)

    def document_changed(self, doc: Document | None) -> None:
        """A new document (or none): forget variations of the old one, follow its sample-from area."""
        if self._doc is not None:
            self._doc.remove_listener(self._doc_edited)
        self._doc = doc
        if doc is not None:
            doc.add_listener(self._doc_edited)
        self.discard_variations()
        self._update_source_line()

    def _doc_edited(self, layer: Layer, rect) -> None:
        if layer in (Layer.SOURCE, Layer.ALL):
            self._source_timer.start()
        if self._run is not None and layer in (Layer.MASK, Layer.IMAGE, Layer.ALL):
            # the variations were made for the photo and hole as they were: stale now
            self.discard_variations()
            self.controller.message.emit("Variations discarded: the photo or the mask changed")

    # ------------------------------------------------------------------ fill
    def run(self) -> int | None:
        """Fill the painted mask with the chosen method: one job, one undo step."""
        return self.controller.run(Task.INPAINT, self.model.model_id())

    def stroke_finished(self) -> None:
        """Called after each mask edit: schedule a preview when live preview is on."""
        if self.live.isChecked():
            self._preview_timer.start()

    def run_preview(self) -> None:
        self.controller.run(Task.INPAINT, self.model.model_id(), preview=True)

    # ------------------------------------------------------------------ method
    def model_id(self) -> str | None:
        return self.model.currentData()

    def _method_changed(self, *_args) -> None:
        from engines.inpaint.texture import TextureFillEngine

        chosen = _engine_or_none(self.model_id())
        if isinstance(chosen, TextureFillEngine):
            self.method_note.setText("Uses Sample from and Variations")
            self.method_note.setToolTip("")
        elif texture_engine(None) is not None:
            self.method_note.setText("Ignores Sample from (texture fill only)")
            self.method_note.setToolTip("Only the texture fill takes texture from the photo, so only it "
                                        "uses the sample-from area and seeds; Variations use the default "
                                        "texture fill.")
        else:
            self.method_note.setText("No texture fill: no Sample from, Variations")
            self.method_note.setToolTip("The texture fill is registered with the bundled inpainting network.")
        self.variations_button.setEnabled(texture_engine(self.model_id()) is not None or self.variations_running)

    # ------------------------------------------------------------------ sample-from area
    def paint_target(self, target: str) -> None:
        """Make the mask tools paint ``target`` ("fill" | "source"); picks the mask brush when no mask
        tool is active, so the next stroke paints what was chosen."""
        if self.state is None:
            return
        self.state.set_mask_target(target)
        if self.set_tool is not None and self.state.tool not in MASK_TOOLS:
            self.set_tool("mask")

    def toggle_target(self) -> None:
        if self.state is not None:
            self.paint_target("fill" if self.state.mask_target == "source" else "source")

    def _show_target(self, target: str) -> None:
        (self.paint_source if target == "source" else self.paint_fill).setChecked(True)

    def clear_source(self) -> None:
        from ...document.commands import layer_change

        doc = self.controller.get_doc()
        if doc is None:
            return
        cmd = layer_change(doc, Layer.SOURCE, np.zeros_like(doc.source), "Clear sample-from area")
        if cmd is not None:
            self.controller.undo.push(cmd)

    def _update_source_line(self) -> None:
        doc = self.controller.get_doc()
        painted = doc is not None and doc.has_source()
        if painted:
            share = float((doc.source >= 0.5).mean()) * 100
            self.source_line.setText(f"painted area, {share:.0f} %" if share >= 1
                                     else "painted area, < 1 %")
            self.source_line.setStyleSheet(f"color: rgb{TARGET_TINTS['source']}; font-weight: bold;")
        else:
            self.source_line.setText("whole photo (default)")
            self.source_line.setStyleSheet("color: palette(mid);")
        self.source_line.setToolTip("Where the texture fill takes texture from: the green area when one is "
                                    "painted (the percentage is its share of the photo), else the whole "
                                    "photo outside the hole.")
        self.source_clear.setEnabled(painted)

    # ------------------------------------------------------------------ variations
    @property
    def variations_running(self) -> bool:
        return self._run is not None and self._run.job_id is not None

    def _variations_clicked(self) -> None:
        if self.variations_running:
            self.stop_variations()
        else:
            self.variations()

    def variations(self) -> int | None:
        """Queue ONE job that fills with each seed of :data:`SEEDS`; returns its id (None if not started)."""
        doc = self.controller.get_doc()
        if doc is None:
            self.controller.error.emit("Open a photo first.")
            return None
        engine = texture_engine(self.model_id())
        if engine is None:
            self.controller.error.emit("Variations need the texture fill (installed with the bundled "
                                       "inpainting network).")
            return None
        try:
            request = ADAPTERS[Task.INPAINT].build(doc, {})
        except EngineError as exc:
            self.controller.error.emit(str(exc))
            return None
        self.stop_variations()
        wrapper = VariationsEngine(engine, SEEDS)
        title = engine.info.title.removeprefix("Default: ")
        self._run = run = _VariationRun(None, doc, request, wrapper, title)
        self.gallery.clear()
        for k, seed in enumerate(SEEDS):
            item = QListWidgetItem(_placeholder(), f"Variation {k + 1}")
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # not selectable until its image arrives
            item.setToolTip(f"Seed {seed}: being computed")
            self.gallery.addItem(item)
        self.variations_note.setText("Computing… click one to see it on the photo")
        self.variations_box.show()
        self.use_button.setEnabled(False)
        self.controller.preview_ready.emit(None)
        # the callbacks belong to this run: a run stopped or discarded meanwhile is no longer self._run
        run.job_id = EngineJob(self.controller.runner, wrapper, request, f"Variations ({len(SEEDS)} fills)",
                               on_result=lambda result: self._variations_finished(run, result),
                               on_error=lambda message: self._variations_failed(run, message),
                               on_cancel=lambda: self._variations_cancelled(run),
                               on_progress=lambda *_: self._variations_progress(run), parent=self).job_id
        self.variations_button.setText("Stop")
        self.variations_button.setToolTip("Stop computing variations (the finished ones stay)")
        return self._run.job_id

    def stop_variations(self) -> None:
        if self.variations_running:
            self.controller.runner.cancel(self._run.job_id)

    def _show_done(self) -> None:
        """Put every variation the worker has finished into the gallery (in order)."""
        run = self._run
        done = list(run.engine.done)
        crop_mask = run.request.mask
        for k in range(run.shown, len(done)):
            seed, image = done[k]
            item = self.gallery.item(k)
            if item is None:
                break
            item.setIcon(_icon(hole_crop(image, crop_mask)))
            item.setData(Qt.ItemDataRole.UserRole, (seed, image))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setToolTip(f"Variation {k + 1} (seed {seed}): click to see it on the photo, double-click "
                            "to use it")
            run.shown = k + 1
            if k == 0 and self.gallery.currentItem() is None:
                self.gallery.setCurrentItem(item)  # the first one is shown on the photo at once

    def _job_ended(self) -> None:
        self._run.job_id = None
        self.variations_button.setText("Variations")
        self.variations_button.setToolTip(f"Fill {len(SEEDS)} times with different seeds and show the "
                                          "results to pick from; nothing changes until you use one")
        # a stopped run: drop the placeholders of the variations that never came
        for k in range(self.gallery.count() - 1, self._run.shown - 1, -1):
            self.gallery.takeItem(k)
        if self._run.shown == 0:
            self.discard_variations()
            return
        self.variations_note.setText("Click: see it on the photo · double-click: use it")
        self._method_changed()

    def _variations_progress(self, run: _VariationRun) -> None:
        if run is self._run:
            self._show_done()

    def _variations_finished(self, run: _VariationRun, result: Result) -> None:
        if run is not self._run:
            return
        self._show_done()
        shown = self._run.shown
        self._job_ended()
        self.controller.message.emit(f"Variations: {shown} ready in {result.seconds:.1f} s — pick one")

    def _variations_failed(self, run: _VariationRun, message: str) -> None:
        if run is not self._run:
            return
        self._show_done()
        self._job_ended()
        self.controller.error.emit(message)

    def _variations_cancelled(self, run: _VariationRun) -> None:
        if run is not self._run:
            return
        self._show_done()
        shown = self._run.shown
        self._job_ended()
        self.controller.message.emit(f"Variations: stopped ({shown} of {len(SEEDS)} ready)")

    def _variation_selected(self, item: QListWidgetItem | None, _previous=None) -> None:
        data = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        self.use_button.setEnabled(data is not None)
        if data is not None and self._run is not None and self._run.doc is self.controller.get_doc():
            self.controller.preview_ready.emit(data[1])

    def use_variation(self, item: QListWidgetItem | None = None) -> bool:
        """Apply the chosen variation (default: the selected one) as ONE undo step; the others go."""
        run = self._run
        item = item or self.gallery.currentItem()
        data = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        if run is None or data is None:
            return False
        seed, image = data
        doc = self.controller.get_doc()
        if doc is not run.doc or image.shape[:2] != (doc.height, doc.width):
            self.controller.error.emit("The photo changed since the variations were made; run Variations again.")
            self.discard_variations()
            return False
        # only the hole takes the variation: edits made elsewhere meanwhile are kept
        hole = run.request.mask > 0
        new = doc.image.copy()
        new[hole] = image[hole]
        k = self.gallery.row(item) + 1
        title = f"Fill variation {k} ({run.title})"
        cmds = apply_inpaint(doc, run.request, Result(image=new), title)
        self.stop_variations()
        self.discard_variations()
        share = 100.0 * float((run.request.mask > 0.5).mean())
        return self.controller.push_commands(
            cmds, title, summary=f"Filled {share:.0f} % of the photo with variation {k} (seed {seed})")

    def discard_variations(self) -> None:
        """Close the gallery; a run still computing is stopped."""
        self.stop_variations()
        had = self._run is not None
        self._run = None
        self.gallery.clear()
        self.variations_box.hide()
        self.variations_button.setText("Variations")
        self._method_changed()
        if had:
            self.controller.preview_ready.emit(None)


def _engine_or_none(model_id: str | None):
    if not model_id:
        return None
    try:
        return registry.get(Task.INPAINT, model_id)
    except EngineError:
        return None


def _row(*widgets: QWidget | None) -> QHBoxLayout:
    """Widgets side by side (None = a stretch), without margins."""
    row = hrow(*widgets)
    row.setContentsMargins(0, 0, 0, 0)
    return row
