"""The batch journal: one JSON object per line in ``<output>/.ganstudio-batch.jsonl``.

Each line is one state change of one source file (``"started"``, ``"done"``, ``"failed"``),
appended with a single ``write`` and fsynced before the run goes on, so after a kill -9 or a
power cut the file holds every completed line and at most one torn last line, which is ignored
(and cut off before the next append). The newest line of a source is its state.

Order that makes resuming safe: ``started`` (with the output name) is written *before* the output
is, ``done`` (with the output's sha256) *after* its atomic rename. So an output on disk that is
not ``done`` is ours to redo, and a ``done`` output is kept only if it still decodes and still
has the recorded checksum.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from ..atomic import fsync_directory

JOURNAL_NAME = ".ganstudio-batch.jsonl"
STARTED, DONE, FAILED = "started", "done", "failed"


# Lone surrogates: how Python spells the bytes of a file name that is not valid UTF-8
# (``bad-\xff.png`` is ``"bad-\udcff.png"``). UTF-8 cannot encode them, but JSON's ``\\uXXXX``
# escape can, and ``json.loads`` gives the same string back, so such names round-trip losslessly.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(text: str) -> str:
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class JournalBusy(OSError):
    """Another batch (this process or another) is writing to the same output folder."""


def _lock(fd: int, path: Path) -> None:
    """An exclusive advisory lock for as long as ``fd`` is open; the kernel drops it when the
    process dies (kill -9 included), so a crash never leaves the folder locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks here
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        raise JournalBusy(f"another batch is already writing to {path.parent}") from exc


class Journal:
    """Read the newest state of every source, append new states durably."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / JOURNAL_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self.torn_lines = 0
        self._fd: int | None = None
        self._load()

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        complete = data[: data.rfind(b"\n") + 1]  # a torn last line has no newline
        if len(complete) != len(data):
            self.torn_lines += 1
        for line in complete.splitlines():
            try:
                rec = json.loads(line)
                rel = rec["file"]
            except (ValueError, KeyError, TypeError):
                self.torn_lines += 1
                continue
            self.entries[rel] = rec

    def assigned_outputs(self) -> dict[str, str]:
        """Source -> output name for every source this journal has seen."""
        return {rel: rec["output"] for rel, rec in self.entries.items() if rec.get("output")}

    def open(self) -> None:
        """Open for appending; a torn last line is cut off first so the next line starts clean."""
        if self._fd is not None:
            return
        new = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd, self.path)
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":  # torn last line (rare): cut back to the last newline
                    data = self.path.read_bytes()
                    os.ftruncate(fd, data.rfind(b"\n") + 1)
            os.lseek(fd, 0, os.SEEK_END)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        if new:
            fsync_directory(self.path.parent)

    def record(self, rel: str, state: str, **fields: Any) -> dict[str, Any]:
        """Append ``{"file": rel, "state": state, ...}`` and fsync it; returns the record."""
        self.open()
        rec = {"file": rel, "state": state, "time": round(time.time(), 3), **fields}
        line = (_escape_surrogates(json.dumps(rec, ensure_ascii=False, sort_keys=True)) + "\n").encode("utf-8")
        assert self._fd is not None
        os.write(self._fd, line)  # one write: a crash leaves the whole line or a torn tail
        os.fsync(self._fd)
        self.entries[rel] = rec
        return rec

    def check_free(self) -> None:
        """Raise :class:`JournalBusy` if another batch holds this journal now."""
        if self._fd is not None or not self.path.exists():
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            _lock(fd, self.path)
        finally:
            os.close(fd)  # closing drops the probe's lock

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
