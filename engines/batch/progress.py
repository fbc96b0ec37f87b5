"""The terminal side of ``ganstudio batch``: a one-line progress bar with rate and ETA on a
terminal, plain lines when the output is a file or a pipe (logs stay readable)."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from ..readable import readable
from .runner import FileEvent


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """Feed it every :class:`FileEvent`; it redraws at most ``rate_hz`` times a second.

    ETA = time per file processed in this run (files kept from an earlier run don't count) times
    the files left, counting the current file's fraction.
    """

    def __init__(self, stream: TextIO | None = None, rate_hz: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total = 0
        self.finished = 0
        self.kept = 0
        self.fraction = 0.0
        self.current = ""
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._interval = 1.0 / rate_hz

    def eta_seconds(self) -> float | None:
        processed = self.finished - self.kept + self.fraction
        if processed <= 0:
            return None
        per_file = (time.monotonic() - self.started) / processed
        return per_file * max(0.0, self.total - self.finished - self.fraction)

    def line(self, width: int = 80) -> str:
        eta = self.eta_seconds()
        elapsed = time.monotonic() - self.started
        rate = (self.finished - self.kept) / elapsed if elapsed > 0 else 0.0
        tail = f" {self.finished}/{self.total}  {rate:.2f} img/s  ETA {format_duration(eta) if eta is not None else '--:--'}"
        name = f"  {self.current}" if self.current else ""
        bar_w = max(10, min(40, width - len(tail) - 24))
        done = (self.finished + self.fraction) / self.total if self.total else 1.0
        filled = int(round(bar_w * min(1.0, done)))
        text = f"[{'#' * filled}{'-' * (bar_w - filled)}]{tail}{name}"
        return text[: width - 1]

    def _draw(self, force: bool = False) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self._interval:
            return
        self._last_draw = now
        width = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r\x1b[K" + readable(self.line(width)))
        self.stream.flush()

    def _print(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(readable(text) + "\n")  # names that are not UTF-8: \xNN, never a crash
        self.stream.flush()

    def update(self, ev: FileEvent) -> None:
        if ev.kind == "plan":
            self.total = ev.total
            self.started = time.monotonic()
            for note in ev.notes:
                self._print(f"warning: {note}")
        elif ev.kind == "kept":
            self.kept += 1
        elif ev.kind == "start":
            self.current, self.fraction = ev.rel, 0.0
        elif ev.kind == "progress":
            self.fraction = ev.fraction
        elif ev.kind == "failed":
            self.fraction = 0.0
            self._print(f"FAILED {ev.rel}: {ev.message}")
        elif ev.kind == "done":
            self.fraction = 0.0
            for note in ev.notes:
                self._print(f"note: {ev.rel}: {note}")
            if not self.tty:
                self._print(f"done {ev.rel} -> {ev.output} ({ev.seconds:.2f} s)")
        self.finished = ev.finished
        self._draw(force=ev.kind in ("plan", "done", "failed"))

    def close(self) -> None:
        if self.tty:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
