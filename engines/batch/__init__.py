"""Batch processing of a folder (docs/ARCHITECTURE.md rule 7): nothing the user made is lost.

- :mod:`.tasks`: how each task builds its request from a file (+ a side input such as a mask);
  a task that lands later adds one row to ``TASKS``.
- :mod:`.plan`: which files, and what each output is called (clashes resolved predictably).
- :mod:`.journal`: the JSON-lines journal in the output folder that makes a run resumable.
- :mod:`.metadata`: the record of what made a file (PNG text / XMP), and checksums.
- :mod:`.runner`: :class:`BatchRun`, a generator of per-file events with cancel and pause.
- :mod:`.progress`: the terminal progress bar with ETA; :mod:`.cli`: ``ganstudio batch``.

Qt-free: the Batch dialog of the editor drives the same generator on a QThread.
"""

from .plan import BatchOptions, BatchUsageError, PlanItem


def __getattr__(name: str):
    # The runner pulls in OpenCV and the image I/O: loaded on first use, so that building the
    # command-line parser (which imports .cli -> .plan) stays cheap.
    if name in ("BatchRun", "BatchSummary", "FileEvent", "PauseGate"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)


__all__ = [
    "BatchOptions", "BatchRun", "BatchSummary", "BatchUsageError", "FileEvent", "PauseGate",
    "PlanItem",
]
