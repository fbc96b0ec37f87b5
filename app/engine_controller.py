"""From the document to an engine and back: build a request from the layers, queue it on the worker,
apply the result as one undoable step.

A :class:`TaskAdapter` per task knows how to read the layers into a request and how to turn a
Result into undo commands; each task's build/apply pair lives in ``app/tasks/<task>/adapter.py``
and is listed in :data:`ADAPTERS`.
Requests copy the layers at submit time, so the user keeps painting while the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engines.core import EngineError, Result, Task
from engines.core import registry

from .document.document import Document
from .jobs import Job, JobRunner
from .tasks.colorize.adapter import apply_colorize, build_colorize
from .tasks.fill.adapter import apply_inpaint, build_inpaint
from .tasks.latent.adapter import apply_latent, build_latent
from .tasks.summary import summarize
from .tasks.synthesize.adapter import apply_synthesize, build_synthesize
from .tasks.upscale.adapter import apply_upscale, build_upscale


@dataclass(frozen=True)
class TaskAdapter:
    task: Task
    verb: str  # "Upscale", "Fill"...
    build: Callable[[Document, dict], Any]  # (doc, options) -> request; raises EngineError when not ready
    apply: Callable[[Document, Any, Result, str], "list[QUndoCommand]"]  # (doc, request, result, title)


ADAPTERS: dict[Task, TaskAdapter] = {
    Task.UPSCALE: TaskAdapter(Task.UPSCALE, "Upscale", build_upscale, apply_upscale),
    Task.INPAINT: TaskAdapter(Task.INPAINT, "Fill", build_inpaint, apply_inpaint),
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
            self.message.emit(summarize(adapter.task, request, result, preview=True))
            return
        if preview:
            self.preview_ready.emit(result.image)
            self.message.emit(summarize(adapter.task, request, result, preview=True))
            return
        if result.image is not None and adapter.task != Task.UPSCALE and result.image.shape[:2] != (doc.height, doc.width):
            self.error.emit(f"{title}: the photo changed size while the job ran; run it again.")
            return
        cmds = adapter.apply(doc, request, result, title)
        self.push_commands(cmds, title, result.seconds, summarize(adapter.task, request, result))

    def push_commands(self, cmds: "list[QUndoCommand]", title: str, seconds: float = 0.0,
                      summary: str = "") -> bool:
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
        if summary:  # "Upscaled ×4 to 640 × 480 in 3.2 s" (app/tasks/summary.py)
            self.message.emit(summary)
        else:
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
