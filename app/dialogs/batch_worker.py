"""The Batch dialog's worker: a QThread that drives ``engines.batch.BatchRun.run()`` and reports
each event as a Qt signal (received on the UI thread), with before/after thumbnails made here,
off the UI thread.

Pause and cancel go straight to the run's :class:`PauseGate` / :class:`CancelToken` (thread-safe);
progress within a file is throttled so a tiled engine can't flood the event loop.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QThread, Signal

from engines.batch import BatchRun
from engines.safe_read import open_regular

from ..qt_names import to_qt

log = logging.getLogger(__name__)

THUMB = 96  # thumbnail edge (pixels)
PROGRESS_RATE_HZ = 20.0


def thumbnail(path: Path | None, edge: int = THUMB) -> np.ndarray | None:
    """uint8 h x w x 4 RGBA, upright, fitting ``edge``; ``None`` when the file can't be read.
    Pillow's draft mode decodes big JPEGs at 1/8 size, so this stays cheap for large photos."""
    if path is None:
        return None
    from PIL import Image, ImageOps

    try:
        # regular files only: a failed FIFO or /dev/zero link would block or fill memory here
        with open_regular(path) as f, Image.open(f) as im:
            im.draft("RGB", (edge * 2, edge * 2))
            im = ImageOps.exif_transpose(im)
            im.thumbnail((edge, edge))
            return np.asarray(im.convert("RGBA")).copy()
    except Exception:  # noqa: BLE001 - a thumbnail is decoration: the file's real error is reported
        return None


class BatchWorker(QThread):
    """Runs one batch. Signals arrive on the UI thread (queued across threads)."""

    event = Signal(object)  # engines.batch.FileEvent
    thumbnails = Signal(str, object, object)  # source rel, before RGBA or None, after RGBA or None
    summary = Signal(object)  # engines.batch.BatchSummary, once at the end
    error = Signal(str)  # the run could not start or broke: a message for the user

    def __init__(self, run: BatchRun, parent=None) -> None:
        super().__init__(parent)
        self.batch = run

    def pause(self) -> None:
        self.batch.gate.pause()

    def resume(self) -> None:
        self.batch.gate.resume()

    def cancel(self) -> None:
        self.batch.cancel.cancel()
        self.batch.gate.resume()  # a paused run must wake up to stop

    def run(self) -> None:  # QThread entry point, on the worker thread
        gen = None
        try:
            gen = self.batch.run()
            interval, last = 1.0 / PROGRESS_RATE_HZ, 0.0
            while True:
                try:
                    ev = next(gen)
                except StopIteration as stop:
                    self.summary.emit(stop.value)
                    return
                if ev.kind == "progress" and ev.fraction < 1.0:  # a file's last step always shows
                    now = time.monotonic()
                    if now - last < interval:
                        continue
                    last = now
                self.event.emit(ev)
                if ev.kind in ("done", "kept", "failed"):
                    # to_qt: a str signal argument would lose bytes of a name that is not UTF-8
                    self.thumbnails.emit(to_qt(ev.rel), thumbnail(ev.source), thumbnail(ev.output))
        except Exception as exc:  # noqa: BLE001 - the dialog shows it; the editor keeps running
            log.exception("batch run failed")
            self.error.emit(str(exc) or type(exc).__name__)
        finally:
            if gen is not None:
                gen.close()
