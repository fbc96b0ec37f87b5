"""Cancel and quit while an engine runs (issue 22): Cancel answers at once, quitting asks first.

- :meth:`JobControl.cancel` (the status bar's Cancel, Engines ▸ Cancel job) cancels every job and
  says "Cancelling…" in the status bar right away, with the Cancel button disabled, until the
  runner reports idle. Progress that was already on its way does not overwrite it.
- :meth:`JobControl.confirm_quit` asks *Quit anyway* / *Keep working* when a job is running.
- :meth:`JobControl.shut_down_for_quit` hides the window first and then cancels and waits for the
  worker (bounded), so a quitting window never sits frozen on the screen; the worker thread is a
  daemon, so one that does not stop in time cannot keep the process alive.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

CANCELLING = "Cancelling…"
QUIT_WAIT_S = 3.0  # after the window is hidden: engines check Cancel every layer / tile (< 1 s)


class JobControl(QObject):
    """Ties the runner, the status bar and the window together for Cancel and Quit."""

    def __init__(self, window: QWidget, runner, status) -> None:
        super().__init__(window)
        self.window, self.runner, self.status = window, runner, status
        self._label = ""
        self.cancelling = False
        self.cancel_requested_at: float | None = None  # perf_counter() of the last Cancel (bench)
        runner.started.connect(self._started)
        # queued: runs after the window's own progress slot, so "Cancelling…" stays on top
        runner.progress.connect(self._progress, Qt.ConnectionType.QueuedConnection)
        runner.idle.connect(self._idle)

    # ------------------------------------------------------------------ cancel
    def cancel(self) -> None:
        """Cancel the running job and everything queued; the status bar says so at once."""
        if not self.runner.is_busy:
            return
        self.cancel_requested_at = time.perf_counter()
        self.cancelling = True
        self.runner.cancel_all()
        if self.runner.is_busy:  # a running job ends at its next check (a layer, a tile)
            self._show_cancelling()

    def _show_cancelling(self) -> None:
        label = self._label or "Job"
        self.status.job_label.setText(f"{label}: {CANCELLING}")
        self.status.job_label.setVisible(True)
        self.status.cancel.setEnabled(False)
        self.status.cancel.setText(CANCELLING)

    def _started(self, _job_id: int, label: str) -> None:
        self._label = label
        if self.cancelling:  # a job submitted after Cancel is a new one
            self.cancelling = False
            self._reset_button()

    def _progress(self, *_args) -> None:
        if self.cancelling and self.runner.is_busy:
            self._show_cancelling()

    def _idle(self) -> None:
        self.cancelling = False
        self._reset_button()

    def _reset_button(self) -> None:
        self.status.cancel.setEnabled(True)
        self.status.cancel.setText("Cancel")

    # ------------------------------------------------------------------ quit
    def ask_quit(self, label: str) -> bool:
        """The question itself (tests replace it): True = quit anyway."""
        box = QMessageBox(QMessageBox.Icon.Question, "GAN Studio",
                          f"{label} is still running.\n\nQuit anyway? The job is cancelled and its "
                          "result is lost.", parent=self.window)
        quit_button = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep working", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is quit_button

    def confirm_quit(self) -> bool:
        """True when the window may close: nothing runs, or the user chose *Quit anyway*."""
        if not self.runner.is_busy:
            return True
        return self.ask_quit(self._label or "A job")

    def shut_down_for_quit(self) -> bool:
        """Hide the window, cancel, wait (bounded) for the worker; True when it stopped."""
        if self.runner.is_busy:
            self.window.hide()  # nothing frozen on screen while the worker finishes its step
        return self.runner.shutdown(timeout_s=QUIT_WAIT_S)
