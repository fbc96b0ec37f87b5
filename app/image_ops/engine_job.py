"""Run one engine on the worker and hand its Result (and its progress) to callbacks.

Used where the request is built from a snapshot rather than from the document as it is when the job
ends (extend + fill works on the larger canvas, resize-with-upscaler on the whole photo before
resampling, the Fill section's variations on the photo and hole as they were): the caller builds
the request itself, and only ``on_result`` changes anything, so a failure or Cancel changes nothing.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject

from engines.core import EngineError, Result

from ..jobs import Job, JobRunner


class EngineJob(QObject):
    """One submitted job; deletes its connections when the job ends, whatever the end."""

    def __init__(self, runner: JobRunner, engine, request, label: str,
                 on_result: Callable[[Result], None], on_error: Callable[[str], None],
                 on_cancel: Callable[[], None] = lambda: None,
                 on_progress: Callable[[float, str], None] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.on_result, self.on_error, self.on_cancel = on_result, on_error, on_cancel
        self.on_progress = on_progress
        self.job_id = runner.submit(Job(engine=engine, request=request, label=label))
        runner.finished.connect(self._finished)
        runner.failed.connect(self._failed)
        runner.cancelled.connect(self._cancelled)
        if on_progress is not None:
            runner.progress.connect(self._progress)

    def _done(self) -> None:
        slots = [(self.runner.finished, self._finished), (self.runner.failed, self._failed),
                 (self.runner.cancelled, self._cancelled)]
        if self.on_progress is not None:
            slots.append((self.runner.progress, self._progress))
        for signal, slot in slots:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.deleteLater()

    def _progress(self, job_id: int, fraction: float, message: str) -> None:
        if job_id == self.job_id:
            self.on_progress(fraction, message)

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
