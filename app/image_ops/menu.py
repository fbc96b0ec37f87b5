"""The Image menu and its operations, bound to the main window.

Each operation is one undo step over every layer (``transform.geometry_command``). The two that
need an engine — Resize with the upscaler and Extend canvas + fill — build their request from a
snapshot, run on the worker with progress and Cancel, and change the document only when the result
arrives (and only if the photo did not change meanwhile).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu

from engines.core import EngineError, InpaintRequest, Result, Task, UpscaleRequest, registry
from engines.geometry import Crop, Flip, GeometryError, Operation, Pad, Resize, Rotate

from ..dialogs.canvas_size_dialog import CanvasSizeDialog
from ..dialogs.resize_dialog import ResizeDialog
from ..document.commands import StateCommand
from ..tools.crop import ASPECT_PRESETS
from .engine_job import EngineJob
from .transform import geometry_command, transformed_state

if TYPE_CHECKING:
    from ..mainwindow import MainWindow

# (id, text, shortcut, handler name, argument)
_SIMPLE = (
    ("rotate_cw", "Rotate 90° &clockwise", "Ctrl+R", Rotate(1)),
    ("rotate_ccw", "Rotate 90° counter-clock&wise", "Ctrl+Shift+R", Rotate(3)),
    ("rotate_180", "Rotate &180°", "", Rotate(2)),
    ("flip_h", "Flip &horizontal", "", Flip(horizontal=True)),
    ("flip_v", "Flip &vertical", "", Flip(horizontal=False)),
)
UPSCALER_SCALES = (2, 3, 4)


def upscaler_scale(factor: float) -> int:
    """The engine scale for an enlargement by ``factor``: the smallest that reaches it, at most 4."""
    for s in UPSCALER_SCALES:
        if s >= factor - 1e-6:
            return s
    return UPSCALER_SCALES[-1]


def edge_extended(image: np.ndarray, pad: Pad) -> np.ndarray:
    """The padded photo with its border pixels repeated into the new area: the fill engines start
    from plausible colours rather than a flat white frame (only the new area is filled)."""
    return cv2.copyMakeBorder(image, max(0, pad.top), max(0, pad.bottom), max(0, pad.left), max(0, pad.right),
                              cv2.BORDER_REFLECT_101 if min(image.shape[:2]) > 1 else cv2.BORDER_REPLICATE)


def edge_source(w: int, h: int, pad: Pad, depth: float = 1.5) -> np.ndarray:
    """float32 H2 x W2 sample-from area for an extension: the photo's band along each grown side,
    ``depth`` x that side's growth deep. A fill that may copy from anywhere pulls in the subject
    (a cup's rim into a table edge); the band next to the new border is what continues there."""
    w2, h2 = pad.size(w, h)
    src = np.zeros((h2, w2), np.float32)
    x0, y0 = pad.left, pad.top
    for grow, band in ((pad.left, np.s_[y0:y0 + h, x0:x0 + int(np.ceil(depth * pad.left))]),
                       (pad.right, np.s_[y0:y0 + h, max(x0, x0 + w - int(np.ceil(depth * pad.right))):x0 + w]),
                       (pad.top, np.s_[y0:y0 + int(np.ceil(depth * pad.top)), x0:x0 + w]),
                       (pad.bottom, np.s_[max(y0, y0 + h - int(np.ceil(depth * pad.bottom))):y0 + h, x0:x0 + w])):
        if grow > 0:
            src[band] = 1.0
    return src


class ImageOps:
    """Builds the Image menu on ``win`` and carries out its operations."""

    def __init__(self, win: "MainWindow"):
        self.win = win
        self.actions: dict[str, QAction] = {}
        self._job: EngineJob | None = None
        self._build_menu()
        crop = win.tools.get("crop")
        if crop is not None:
            crop.apply_crop = self.crop

    # ---------------------------------------------------------------- menu
    def _action(self, menu: QMenu, id_: str, text: str, handler, shortcut: str = "", tip: str = "") -> QAction:
        act = QAction(text, self.win)
        act.setObjectName(f"action_{id_}")
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        act.triggered.connect(lambda checked=False: handler())
        menu.addAction(act)
        self.win.addAction(act)
        self.actions[id_] = act
        getattr(self.win, "actions_by_id", {})[id_] = act
        return act

    def _build_menu(self) -> None:
        bar = self.win.menuBar()
        menu = QMenu("&Image", self.win)
        menu.setObjectName("image_menu")
        # before the Engines menu when there is one, else at the end
        before = next((a for a in bar.actions() if a.text().replace("&", "") in ("Engines", "Window", "Help")), None)
        if before is not None:
            bar.insertMenu(before, menu)
        else:
            bar.addMenu(menu)
        self.menu = menu
        self._action(menu, "crop_tool", "&Crop", lambda: self.win.set_tool("crop"),
                     tip="The crop tool (C): drag the area to keep, Enter crops, Esc cancels")
        aspects = menu.addMenu("Crop &aspect")
        aspects.setObjectName("crop_aspect_menu")
        group = QActionGroup(self.win)
        for i, (text, ratio) in enumerate(ASPECT_PRESETS):
            act = QAction(text, self.win)
            act.setCheckable(True)
            act.setChecked(i == 0)
            act.setObjectName(f"action_crop_aspect_{i}")
            act.triggered.connect(lambda checked=False, r=ratio: self.set_crop_aspect(r))
            group.addAction(act)
            aspects.addAction(act)
        menu.addSeparator()
        for id_, text, shortcut, op in _SIMPLE:
            self._action(menu, id_, text, lambda op=op, t=text: self.apply(op, t.replace("&", "")), shortcut)
        menu.addSeparator()
        self._action(menu, "resize", "&Resize image…", self.resize_dialog, "Ctrl+Alt+I",
                     "Change the photo's size in pixels (enlargements can use the upscale engine)")
        self._action(menu, "canvas_size", "Canvas si&ze…", self.canvas_size_dialog, "Ctrl+Alt+C",
                     "Add or remove area around the photo (colour or transparent)")
        self._action(menu, "extend_fill", "E&xtend canvas + fill…", self.extend_dialog, "Ctrl+Alt+X",
                     "Enlarge the canvas on any side and let the Fill engine paint the new border (outpainting)")

    # ---------------------------------------------------------------- helpers
    def _ready(self) -> bool:
        """A photo is open and no engine job could land on it after the change."""
        if self.win.canvas.doc is None:
            self.win.show_error("Open a photo first.")
            return False
        if self.win.runner.is_busy:
            self.win.show_error("An engine job is running on this photo: wait for it or cancel it (Esc in the "
                                "status bar's Cancel) before changing the photo's geometry.")
            return False
        return True

    def _push(self, cmd: StateCommand) -> None:
        compare = self.win.actions_by_id.get("compare")
        if compare is not None and compare.isChecked():
            compare.setChecked(False)  # the 'before' picture no longer lines up with the photo
        self.win.undo.push(cmd)
        doc = self.win.canvas.doc
        self.win.canvas.fit()
        self.win._flash(f"{cmd.text()}: now {doc.width} × {doc.height} px")

    def apply(self, op: Operation, text: str) -> bool:
        """Apply one geometry operation to every layer as one undo step."""
        if not self._ready():
            return False
        try:
            cmd = geometry_command(self.win.canvas.doc, op, text)
        except GeometryError as exc:
            self.win.show_error(str(exc))
            return False
        self._push(cmd)
        return True

    # ---------------------------------------------------------------- crop
    def set_crop_aspect(self, ratio) -> None:
        crop = self.win.tools.get("crop")
        if crop is None:
            return
        crop.set_aspect(ratio)
        if self.win.canvas.tool is not crop:
            self.win.set_tool("crop")

    def crop(self, crop: Crop) -> bool:
        return self.apply(crop, f"Crop to {crop.w} × {crop.h}")

    # ---------------------------------------------------------------- resize
    def _upscaler(self) -> tuple[str, str] | None:
        """(model id, title) of the upscale engine chosen in the Upscale panel, if any."""
        try:
            model_id = self.win.engines_dock.upscale.model.model_id()
            return model_id, registry.get(Task.UPSCALE, model_id).info.title
        except (AttributeError, EngineError):
            return None

    def resize_dialog(self) -> None:
        if not self._ready():
            return
        doc = self.win.canvas.doc
        upscaler = self._upscaler()
        dlg = ResizeDialog(doc.width, doc.height, upscaler[1] if upscaler else None, self.win)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        choice = dlg.choice()
        if (choice.width, choice.height) == (doc.width, doc.height):
            return
        if choice.use_upscaler and upscaler is not None:
            self.resize_with_upscaler(choice.width, choice.height, upscaler[0])
        else:
            self.apply(Resize(choice.width, choice.height, choice.method),
                       f"Resize to {choice.width} × {choice.height}")

    def resize_with_upscaler(self, width: int, height: int, model_id: str) -> bool:
        """Upscale the photo with the engine (×2/3/4), then resample to exactly width x height; one
        undo step when the result arrives, nothing on Cancel or failure."""
        if not self._ready():
            return False
        doc = self.win.canvas.doc
        try:
            Resize(width, height).size(doc.width, doc.height)
        except GeometryError as exc:
            self.win.show_error(str(exc))
            return False
        scale = upscaler_scale(max(width / doc.width, height / doc.height))
        submitted = doc.image.copy()
        title = f"Resize to {width} × {height} (upscaler ×{scale})"

        def done(result: Result) -> None:
            if self.win.canvas.doc is not doc or not np.array_equal(doc.image, submitted):
                raise EngineError(f"{title}: the photo changed while the upscaler ran; run it again.")
            before = doc.snapshot()
            after = transformed_state(before, Resize(width, height))
            after.image = Resize(width, height, "auto").plane(result.image.astype(np.float32), "image")
            self._push(StateCommand(doc, before, after, title))

        return self._run(Task.UPSCALE, model_id, UpscaleRequest(image=submitted, scale=scale), title, done)

    # ---------------------------------------------------------------- canvas size / extend
    def canvas_size_dialog(self) -> None:
        if not self._ready():
            return
        doc = self.win.canvas.doc
        dlg = CanvasSizeDialog(doc.width, doc.height, parent=self.win)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            pad = dlg.pad()
            w, h = pad.size(doc.width, doc.height)
            self.apply(pad, f"Canvas size {w} × {h}")

    def _fill_model(self) -> tuple[str | None, str]:
        try:
            model_id = self.win.engines_dock.fill.model_id()
            return model_id, registry.get(Task.INPAINT, model_id).info.title
        except (AttributeError, EngineError, TypeError):
            return None, "default"

    def extend_dialog(self) -> None:
        if not self._ready():
            return
        doc = self.win.canvas.doc
        model_id, title = self._fill_model()
        dlg = CanvasSizeDialog(doc.width, doc.height, extend=True, fill_title=title, parent=self.win)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.extend_and_fill(dlg.pad(), model_id)

    def extend_and_fill(self, pad: Pad, model_id: str | None = None) -> bool:
        """Grow the canvas by ``pad`` (only additions) and fill the new area with the Fill engine:
        one undo step when the fill arrives; Cancel or a failure leaves the photo as it was."""
        if not self._ready():
            return False
        if min(pad.left, pad.top, pad.right, pad.bottom) < 0 or (pad.left + pad.top + pad.right + pad.bottom) == 0:
            self.win.show_error("Extend canvas adds pixels on at least one side (use Canvas size or Crop to remove).")
            return False
        doc = self.win.canvas.doc
        try:
            w2, h2 = pad.size(doc.width, doc.height)
        except GeometryError as exc:
            self.win.show_error(str(exc))
            return False
        if model_id is None:
            model_id = self._fill_model()[0]
        submitted = doc.image.copy()
        # contract: image float32 H2 x W2 x 3 in [0, 1]; mask float32 H2 x W2, 1 = the new area to fill
        # the sample-from area: the user's when painted, else the photo's band along the grown sides
        source = doc.sample_from()
        source = (Pad(pad.left, pad.top, pad.right, pad.bottom).plane(source, "coverage") if source is not None
                  else edge_source(doc.width, doc.height, pad))
        request = InpaintRequest(image=edge_extended(submitted, pad), mask=pad.new_area(doc.width, doc.height),
                                 source=source)
        title = f"Extend canvas to {w2} × {h2} and fill"

        def done(result: Result) -> None:
            if self.win.canvas.doc is not doc or not np.array_equal(doc.image, submitted):
                raise EngineError(f"{title}: the photo changed while the fill ran; run it again.")
            before = doc.snapshot()
            after = transformed_state(before, Pad(pad.left, pad.top, pad.right, pad.bottom))
            after.image = np.ascontiguousarray(result.image, dtype=np.float32)
            self._push(StateCommand(doc, before, after, title))

        return self._run(Task.INPAINT, model_id, request, title, done)

    def _run(self, task: Task, model_id: str | None, request, title: str, done) -> bool:
        try:
            engine = registry.get(task, model_id or "default")  # EngineError for an unknown model
            self._job = EngineJob(self.win.runner, engine, request, title, on_result=done,
                                  on_error=self.win.show_error,
                                  on_cancel=lambda: self.win._flash(f"{title}: cancelled; the photo is unchanged"),
                                  parent=self.win)
        except EngineError as exc:
            self.win.show_error(str(exc))
            return False
        self.win._flash(f"{title}…")
        return True
