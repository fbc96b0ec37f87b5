"""Run one engine on the worker for an Image-menu operation and hand its Result to a callback.

Used where the request is not built from the document as it is (extend + fill works on the larger
canvas, resize-with-upscaler on the whole photo before resampling): the operation builds the
request itself, and only ``on_result`` changes the document, so a failure or Cancel changes nothing.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject

from engines.core import EngineError, Result, Task, registry

from ..jobs import Job, JobRunner


class EngineJob(QObject):
    """One submitted job; deletes its connections when the job ends, whatever the end."""

    def __init__(self, runner: JobRunner, task: Task, model_id: str | None, request, label: str,
                 on_result: Callable[[Result], None], on_error: Callable[[str], None],
                 on_cancel: Callable[[], None] = lambda: None, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.on_result, self.on_error, self.on_cancel = on_result, on_error, on_cancel
        engine = registry.get(task, model_id or "default")  # raises EngineError for an unknown model
        self.job_id = runner.submit(Job(engine=engine, request=request, label=label))
        runner.finished.connect(self._finished)
        runner.failed.connect(self._failed)
        runner.cancelled.connect(self._cancelled)

    def _done(self) -> None:
        for signal, slot in ((self.runner.finished, self._finished), (self.runner.failed, self._failed),
                             (self.runner.cancelled, self._cancelled)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.deleteLater()

    def _finished(self, job_id: int, result: Result) -> None:
        if job_id != self.job_id:
            return
        self._done()
        try:
            self.on_result(result)
        except EngineError as exc:
            self.on_error(str(exc))

    def _failed(self, job_id: int, message: str) -> None:
        if job_id == self.job_id:
            self._done()
            self.on_error(message)

    def _cancelled(self, job_id: int) -> None:
        if job_id == self.job_id:
            self._done()
            self.on_cancel()
