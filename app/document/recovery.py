"""Crash recovery: the editor writes the open document to a recovery file now and then.

The core (``write_recovery``/``read_recovery``/``RecoveryFiles``) uses no Qt; ``Autosaver``
is a thin QTimer wrapper.

File format: one uncompressed ``.npz`` (``np.savez``) holding each layer as an array plus a
small JSON header. Uncompressed on purpose: a 4000 x 3000 document is ~250 MB of float32
layers, and zlib over that costs seconds on the UI thread where a plain write costs a fraction
of that (disk bandwidth). Loading never unpickles (``allow_pickle=False``).

Files are named ``autosave-<pid>-<n>.npz``: a file whose pid is no longer running was left by
a session that crashed; the next start offers it back. (A recycled pid can hide such a file
until that process ends; rare, and nothing is deleted because of it.)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ..settings import AUTOSAVE_INTERVAL, Settings
from .document import Document, DocumentState, HintPoint, ImageMeta
from engines import paths
from engines.atomic import atomic_path

FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^autosave-(\d+)-(\d+)\.npz$")
_HINT_COLUMNS = 7  # id, x, y, r, g, b, size


class RecoveryError(ValueError):
    """A recovery file that cannot be read back (truncated, damaged, or not ours)."""


def recovery_dir() -> Path:
    return paths.user_state_dir() / "recovery"


def legacy_recovery_dir() -> Path:
    """Where versions before the state folder wrote recovery files (still offered, never written)."""
    return paths.user_data_dir() / "recovery"


# ---------------------------------------------------------------------------- write / read
def write_recovery(doc: Document, path: str | os.PathLike, timestamp: float | None = None) -> Path:
    """Write every layer of ``doc`` and its ImageMeta to ``path`` atomically."""
    path = Path(path)
    meta = doc.meta
    header = {
        "version": FORMAT_VERSION,
        "timestamp": time.time() if timestamp is None else float(timestamp),
        "path": None if meta.path is None else str(meta.path),
        "format": meta.format,
        "bit_depth": meta.bit_depth,
        "had_alpha": meta.had_alpha,
        "notes": list(meta.notes),
    }
    hints = np.array(
        [[h.id, h.x, h.y, *h.rgb, h.size] for h in doc.hints], np.float64
    ).reshape(-1, _HINT_COLUMNS)
    arrays = {
        "header": np.array(json.dumps(header)),
        "image": doc.image,
        "alpha": doc.alpha,
        "mask": doc.mask,
        "labels": doc.labels,
        "hints": hints,
    }
    if doc.latent is not None:
        arrays["latent"] = doc.latent
    if doc.source.any():  # the sample-from area of a fill, when one is painted
        arrays["source"] = doc.source
    if meta.exif is not None:
        arrays["exif"] = np.frombuffer(meta.exif, np.uint8)
    if meta.icc_profile is not None:
        arrays["icc"] = np.frombuffer(meta.icc_profile, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    # atomic_path: temp + fsync + rename, so a crash mid-write keeps the previous file whole.
    with atomic_path(path, suffix=".tmp") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # a file object: savez would append ".npz" to a bare path
    return path


def _open(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise RecoveryError(f"recovery file {path} is damaged or incomplete ({e})") from None


def _header(npz, path: Path) -> dict:
    header = json.loads(str(npz["header"][()]))
    if not isinstance(header, dict) or header.get("version") != FORMAT_VERSION:
        raise RecoveryError(f"recovery file {path} has an unknown format version")
    return header


def _meta(header: dict, npz) -> ImageMeta:
    return ImageMeta(
        path=None if header["path"] is None else Path(header["path"]),
        format=str(header["format"]),
        bit_depth=int(header["bit_depth"]),
        exif=npz["exif"].tobytes() if "exif" in npz.files else None,
        icc_profile=npz["icc"].tobytes() if "icc" in npz.files else None,
        had_alpha=bool(header["had_alpha"]),
        notes=tuple(header["notes"]),
    )


def recovery_info(path: str | os.PathLike) -> tuple[ImageMeta, float]:
    """Just the meta and timestamp (cheap: the layers are not read), for a "restore?" list."""
    path = Path(path)
    try:
        with _open(path) as npz:
            header = _header(npz, path)
            return _meta(header, npz), float(header["timestamp"])
    except RecoveryError:
        raise
    except Exception as e:  # noqa: BLE001 - any decode problem means the same thing to the user
        raise RecoveryError(f"recovery file {path} is damaged or incomplete ({type(e).__name__}: {e})") from None


def read_recovery(path: str | os.PathLike) -> tuple[DocumentState, ImageMeta, float]:
    """Read a recovery file back: ``(state, meta, timestamp)``; RecoveryError when unusable."""
    path = Path(path)
    try:
        with _open(path) as npz:
            header = _header(npz, path)
            image = npz["image"]
            h, w = image.shape[:2]
            state = DocumentState(
                image=image,
                alpha=npz["alpha"],
                mask=npz["mask"],
                labels=npz["labels"],
                hints=tuple(_hint(row) for row in npz["hints"]),
                latent=npz["latent"] if "latent" in npz.files else None,
                source=npz["source"] if "source" in npz.files else None,
            )
            meta = _meta(header, npz)
            timestamp = float(header["timestamp"])
    except RecoveryError:
        raise
    except Exception as e:  # noqa: BLE001 - zip CRC errors, missing keys, bad JSON, truncation...
        raise RecoveryError(f"recovery file {path} is damaged or incomplete ({type(e).__name__}: {e})") from None
    if image.ndim != 3 or image.shape[2] != 3 or any(
        a.shape != (h, w) for a in (state.alpha, state.mask, state.labels)
    ) or (state.source is not None and state.source.shape != (h, w)):
        raise RecoveryError(f"recovery file {path} has layers of different sizes")
    return state, meta, timestamp


def _hint(row: np.ndarray) -> HintPoint:
    if row.shape != (_HINT_COLUMNS,):
        raise ValueError(f"hint row has {row.shape} values")
    rgb = (float(row[3]), float(row[4]), float(row[5]))
    return HintPoint(int(row[0]), float(row[1]), float(row[2]), rgb, int(row[6]))


# ---------------------------------------------------------------------------- the folder
def pid_running(pid: int) -> bool:
    """Is a process with this id alive? (Used to tell a crashed session's files from live ones.)"""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass(frozen=True)
class RecoveryFile:
    path: Path
    pid: int
    mtime: float


class RecoveryFiles:
    """The recovery folder: new names for this session, leftovers of dead sessions."""

    _counter = itertools.count(1)  # per process: one file per open document

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else recovery_dir()
        # files an older version left in the data folder are still offered after an upgrade
        legacy = legacy_recovery_dir() if folder is None else None
        self.extra_folders = [legacy] if legacy is not None and legacy != self.folder else []

    def new_path(self) -> Path:
        return self.folder / f"autosave-{os.getpid()}-{next(self._counter)}.npz"

    def all(self) -> list[RecoveryFile]:
        out = []
        for folder in (self.folder, *self.extra_folders):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                m = _NAME_RE.match(p.name)
                if m and p.is_file():
                    with contextlib.suppress(OSError):
                        out.append(RecoveryFile(p, int(m.group(1)), p.stat().st_mtime))
        return sorted(out, key=lambda f: f.mtime, reverse=True)

    def leftovers(self) -> list[RecoveryFile]:
        """Files from sessions that are not running any more, newest first."""
        me = os.getpid()
        return [f for f in self.all() if f.pid != me and not pid_running(f.pid)]

    def discard(self, path: str | os.PathLike) -> None:
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


# ---------------------------------------------------------------------------- Qt wrapper
MIN_INTERVAL_S = 5


class Autosaver(QObject):
    """Writes the document to its recovery file every ``interval_s`` when it changed.

    ``doc`` is a Document, or a callable returning the current one (or None), for a window
    whose canvas swaps documents on File > Open; the autosaver follows the swap by itself.

    Runs on the UI thread: a 4000 x 3000 document (~290 MB of layers) takes about 0.9 s to
    write (measured on a dev box; uncompressed, so bound by disk speed). That pause happens
    once per interval (60 s by default) and only when something changed since the last write;
    a worker thread would need a snapshot copy of the same size, so we keep it simple.
    A stroke in progress is saved as far as it got; that is fine for recovery.
    """

    saved = Signal(str)  # path
    failed = Signal(str)  # message (disk full, permissions): reported, never raised into Qt

    def __init__(self, doc: Document | Callable[[], Document | None] | None, settings: Settings | None = None,
                 parent: QObject | None = None, *, files: RecoveryFiles | None = None,
                 interval_s: int | None = None):
        super().__init__(parent)
        if interval_s is None:
            interval_s = settings.get(AUTOSAVE_INTERVAL) if settings is not None else AUTOSAVE_INTERVAL.default
        self._provider = doc if callable(doc) else (lambda: doc)
        self._files = files or RecoveryFiles()
        self.path = self._files.new_path()
        self._doc: Document | None = None
        self._changes = 0  # bumped by the document listener
        self._saved_changes = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave)
        self._follow(self._provider(), pending=False)
        if interval_s > 0:  # 0 turns autosave off
            self._timer.start(max(MIN_INTERVAL_S, int(interval_s)) * 1000)

    @property
    def timer(self) -> QTimer:
        return self._timer

    def reset(self) -> None:
        """A new document was opened (or closed): drop the old recovery file, start over."""
        self._files.discard(self.path)
        self._follow(self._provider(), pending=False)

    def _follow(self, doc: Document | None, pending: bool) -> None:
        if self._doc is not None:
            self._doc.remove_listener(self._on_change)
        self._doc = doc
        if doc is not None:
            doc.add_listener(self._on_change)
        # pending: the document may have been edited before we listened; write it if modified.
        self._saved_changes = 0
        self._changes = 1 if pending else 0

    def _on_change(self, layer, rect) -> None:
        self._changes += 1

    def autosave(self) -> bool:
        """The timer slot. Returns True when a file was written."""
        current = self._provider()
        if current is not self._doc:
            self._follow(current, pending=True)
        doc = self._doc
        if doc is None:
            return False
        if not doc.modified:
            # Saved by the user since: the file on disk is the newer copy; a recovery file
            # would only offer an older state after a crash.
            self._files.discard(self.path)
            self._saved_changes = self._changes
            return False
        if self._changes == self._saved_changes:
            return False
        try:
            write_recovery(doc, self.path)
        except OSError as e:
            self.failed.emit(f"Could not write the recovery file {self.path}: {e}")
            return False
        self._saved_changes = self._changes
        self.saved.emit(str(self.path))
        return True

    def clean_exit(self) -> None:
        """The user closed the document or quit normally: nothing to recover."""
        self._timer.stop()
        self._follow(None, pending=False)
        self._provider = lambda: None
        self._files.discard(self.path)


__all__ = [
    "Autosaver", "RecoveryError", "RecoveryFile", "RecoveryFiles", "pid_running", "read_recovery",
    "recovery_dir", "recovery_info", "write_recovery",
]
