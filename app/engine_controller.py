"""From the document to an engine and back: build a request from the layers, queue it on the worker,
apply the result as one undoable step.

A :class:`TaskAdapter` per task knows how to read the layers into a request and how to turn a
Result into undo commands; engines that land later add an adapter, nothing else changes here.
Requests copy the layers at submit time, so the user keeps painting while the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engines.core import EngineError, InpaintRequest, Result, Task, UpscaleRequest
from engines.core import registry

from .colorize_adapter import apply_colorize, build_colorize
from .synth_adapter import apply_synthesize, build_synthesize
from .latent_adapter import apply_latent, build_latent
from .commands import StateCommand, layer_change
from .document import Document, DocumentState, Layer
from .jobs import Job, JobRunner


@dataclass(frozen=True)
class TaskAdapter:
    task: Task
    verb: str  # "Upscale", "Fill"...
    build: Callable[[Document, dict], Any]  # (doc, options) -> request; raises EngineError when not ready
    apply: Callable[[Document, Any, Result, str], "list[QUndoCommand]"]  # (doc, request, result, title)


# ----------------------------------------------------------------------------- upscale
def _build_upscale(doc: Document, options: dict) -> UpscaleRequest:
    """The whole image, or ``options["region"]`` = (x, y, w, h) for a preview of part of it."""
    region = options.get("region")
    if region is not None:
        x, y, w, h = region
        image = doc.image[y : y + h, x : x + w].copy()
    else:
        image = doc.image.copy()
    return UpscaleRequest(image=image, scale=int(options.get("scale", 4)), tile=int(options.get("tile", 0)))


def _apply_upscale(doc: Document, req: UpscaleRequest, result: Result, title: str) -> list[QUndoCommand]:
    out = result.image
    h, w = out.shape[:2]
    sy, sx = h / doc.height, w / doc.width
    before = doc.snapshot()
    hints = tuple(type(p)(p.id, p.x * sx, p.y * sy, p.rgb, p.size) for p in before.hints)
    after = DocumentState(
        image=out.astype(np.float32),
        alpha=cv2.resize(before.alpha, (w, h), interpolation=cv2.INTER_LINEAR),
        mask=cv2.resize(before.mask, (w, h), interpolation=cv2.INTER_LINEAR),
        # class ids must never blend: nearest neighbour
        labels=cv2.resize(before.labels, (w, h), interpolation=cv2.INTER_NEAREST),
        hints=hints,
        latent=None,
        source=None if before.source is None else cv2.resize(before.source, (w, h), interpolation=cv2.INTER_LINEAR),
    )
    return [StateCommand(doc, before, after, title)]


# ----------------------------------------------------------------------------- inpaint
def _build_inpaint(doc: Document, options: dict) -> InpaintRequest:
    """The photo and the fill mask; the sample-from area when one is painted (None = the whole
    photo outside the hole; engines other than the texture fill ignore it) and ``options["seed"]``."""
    if doc.mask_bbox(0.5) is None:
        raise EngineError("Paint a mask over the region to fill first (mask brush, M).")
    source = doc.sample_from()
    if source is not None and not (source.astype(bool) & (doc.mask < 0.25)).any():
        raise EngineError("The sample-from area lies inside the area to fill: paint it where the fill may "
                          "take texture from (Shift+M), or clear it to sample from the whole photo.")
    return InpaintRequest(image=doc.image.copy(), mask=doc.mask.copy(), radius=float(options.get("radius", 5.0)),
                          source=source, seed=int(options.get("seed", 0)))


def _apply_inpaint(doc: Document, req: InpaintRequest, result: Result, title: str) -> list[QUndoCommand]:
    cmds = []
    image_cmd = layer_change(doc, Layer.IMAGE, result.image, title)
    if image_cmd is not None:
        cmds.append(image_cmd)
    mask_cmd = layer_change(doc, Layer.MASK, np.zeros_like(doc.mask), "Clear mask")
    if mask_cmd is not None:
        cmds.append(mask_cmd)
    return cmds


ADAPTERS: dict[Task, TaskAdapter] = {
    Task.UPSCALE: TaskAdapter(Task.UPSCALE, "Upscale", _build_upscale, _apply_upscale),
    Task.INPAINT: TaskAdapter(Task.INPAINT, "Fill", _build_inpaint, _apply_inpaint),
    Task.COLORIZE: TaskAdapter(Task.COLORIZE, "Colorize", build_colorize, apply_colorize),
    Task.SYNTHESIZE: TaskAdapter(Task.SYNTHESIZE, "Synthesize", build_synthesize, apply_synthesize),
    Task.LATENT: TaskAdapter(Task.LATENT, "Latent edit", build_latent, apply_latent),
}


class EngineController(QObject):
    """Runs engines for the current document through the single JobRunner."""

    message = Signal(str)  # for the status bar
    error = Signal(str)  # shown to the user
    preview_ready = Signal(object)  # float32 HxWx3 or None (cleared)
    # a preview of part of the image: (float32 hxwx3 at any resolution, (x, y, w, h) it covers)
    region_preview_ready = Signal(object, object)
    applied = Signal(str)

    def __init__(self, runner: JobRunner, undo: QUndoStack, get_doc: Callable[[], Document | None], parent=None):
        super().__init__(parent)
        self.runner = runner
        self.undo = undo
        self.get_doc = get_doc
        self._pending: dict[int, tuple[Document, TaskAdapter, Any, str, bool]] = {}
        self._regions: dict[int, tuple[int, int, int, int]] = {}  # preview job -> region it covers
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.preview.connect(self._on_preview)

    def run(self, task: Task, model_id: str, options: dict | None = None, preview: bool = False) -> int | None:
        """Queue an engine run on the current document; returns the job id (None if not started)."""
        doc = self.get_doc()
        if doc is None:
            self.error.emit("Open a photo first.")
            return None
        adapter = ADAPTERS.get(Task(task))
        try:
            if adapter is None:
                raise EngineError(f"The {Task(task).value} engine is not available yet.")
            engine = registry.get(task, model_id)
            request = adapter.build(doc, options or {})
        except EngineError as exc:
            if not preview:
                self.error.emit(str(exc))
            return None
        title = f"{adapter.verb} ({engine.info.title})"
        job = Job(engine=engine, request=request, kind="preview" if preview else "apply",
                  key=f"{task.value}-preview", label=title)
        job_id = self.runner.submit(job)
        self._pending[job_id] = (doc, adapter, request, title, preview)
        if preview and (options or {}).get("region") is not None:
            self._regions[job_id] = tuple(options["region"])
        return job_id

    def _on_finished(self, job_id: int, result: Result) -> None:
        entry = self._pending.pop(job_id, None)
        if entry is None:
            return
        doc, adapter, request, title, preview = entry
        region = self._regions.pop(job_id, None)
        if doc is not self.get_doc():
            return  # the document was closed meanwhile: nothing to apply to
        if preview and region is not None:
            self.region_preview_ready.emit(result.image, region)
            return
        if preview:
            self.preview_ready.emit(result.image)
            return
        if result.image is not None and adapter.task != Task.UPSCALE and result.image.shape[:2] != (doc.height, doc.width):
            self.error.emit(f"{title}: the photo changed size while the job ran; run it again.")
            return
        cmds = adapter.apply(doc, request, result, title)
        self.push_commands(cmds, title, result.seconds)

    def push_commands(self, cmds: "list[QUndoCommand]", title: str, seconds: float = 0.0) -> bool:
        """Push an engine result's commands as ONE undo step (a macro when several); False if empty."""
        self.preview_ready.emit(None)
        if not cmds:
            self.message.emit(f"{title}: nothing changed")
            return False
        if len(cmds) == 1:
            self.undo.push(cmds[0])
        else:
            self.undo.beginMacro(title)
            for c in cmds:
                self.undo.push(c)
            self.undo.endMacro()
        self.applied.emit(title)
        self.message.emit(f"{title}: done in {seconds:.2f} s" if seconds else f"{title}: done")
        return True

    def _on_failed(self, job_id: int, message: str) -> None:
        self._regions.pop(job_id, None)
        entry = self._pending.pop(job_id, None)
        if entry is not None and not entry[4]:
            self.error.emit(message)

    def _on_cancelled(self, job_id: int) -> None:
        self._regions.pop(job_id, None)
        entry = self._pending.pop(job_id, None)
        if entry is not None and not entry[4]:
            self.message.emit(f"{entry[3]}: cancelled")

    def _on_preview(self, job_id: int, image) -> None:
        if job_id in self._regions:
            return  # partial images of a region preview: wait for the whole region
        if job_id in self._pending:
            self.preview_ready.emit(image)
