"""Run a batch: a generator of per-file events, with cancel, pause, a journal and resume.

``BatchRun(in_dir, out_dir, options).run()`` yields :class:`FileEvent` s and returns a
:class:`BatchSummary`. Between files (and between an engine's tiles) it honours a
:class:`PauseGate` and a :class:`CancelToken`. Files are processed by ``options.jobs`` worker
threads (decode, engine, encode); engines that use torch run one at a time behind a lock, so one
accelerator never holds two networks' activations. Only the generator's thread writes the journal.

Per file: decode (a bad file fails alone, with its reason) -> side input (mask) -> request ->
engine (out of memory: retry with smaller tiles, then fail that file) -> alpha resized to the
output -> atomic save with EXIF, ICC, bit depth and the record of what made it -> sha256.
A full disk (ENOSPC) stops the run after that file: the rest would fail the same way, and the same
command resumes once there is space.
"""

from __future__ import annotations

import collections
import concurrent.futures
import errno
import logging
import os
import queue
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generator

import cv2
import numpy as np

from ..atomic import temp_prefix
from ..core.cancel import Cancelled, CancelToken
from ..core.protocol import EngineError, Progress, Result, Task, drive
from ..imageio import ImageLoadError, ImageSaveError, load_image, save_image
from ..imageio._common import format_megapixels
from ..readable import readable
from ..tiling import MIN_TILE, is_out_of_memory
from . import metadata
from .journal import DONE, FAILED, STARTED, Journal, JournalBusy
from .plan import (
    FORMATS,
    BatchOptions,
    BatchUsageError,
    PlanItem,
    find_side_input,
    plan_outputs,
    scan_inputs,
)
from .tasks import TaskSpec, engines_for, spec_for

log = logging.getLogger(__name__)

FIRST_RETRY_TILE = 512  # after an out-of-memory with an automatic tile, try this, then halve
# Results above this are refused per file before running: the engine and the encoder each hold
# the whole output as float32 (12 bytes/pixel), so 400 MP already needs ~10 GB.
MAX_OUTPUT_PIXELS = 400_000_000


@dataclass(frozen=True)
class FileEvent:
    """One thing that happened. ``kind``:

    - ``"plan"``: the run starts (``total`` files; ``notes`` = scan warnings);
    - ``"kept"``: a previous run's output is still valid (decoded, checksum matches): not redone;
    - ``"start"`` / ``"progress"`` (``fraction`` within the file) / ``"done"`` / ``"failed"``
      (``message`` says why) for each file processed now.
    ``finished`` counts files settled so far (kept + done + failed), for the overall bar.
    """

    kind: str
    rel: str = ""
    total: int = 0
    finished: int = 0
    fraction: float = 0.0
    message: str = ""
    source: Path | None = None
    output: Path | None = None
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class BatchSummary:
    total: int = 0
    done: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False
    stopped: str = ""  # why the run stopped early (disk full), "" otherwise
    outputs: dict[str, Path] = field(default_factory=dict)  # source -> output, done or kept

    @property
    def complete(self) -> bool:
        return not self.failed and not self.cancelled and not self.stopped \
            and len(self.done) + len(self.kept) == self.total


class PauseGate:
    """Open = running. Workers wait at the gate between files and engine steps while it is
    closed; a cancel wakes them (they raise ``Cancelled``)."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def wait(self, cancel: CancelToken) -> None:
        while not self._open.wait(0.05):
            cancel.raise_if_cancelled()
        cancel.raise_if_cancelled()


class FileFailed(Exception):
    """One file could not be processed; ``str()`` is the reason for the user."""

    def __init__(self, message: str, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full


@dataclass(frozen=True)
class _Outcome:
    input_sha256: str
    side_sha256: str
    output_sha256: str
    notes: tuple[str, ...]
    seconds: float


def _is_disk_full(exc: BaseException) -> bool:
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 8:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def check_writable(folder: Path) -> None:
    """Raise BatchUsageError unless a file can be created in ``folder`` (read-only folder or disk,
    no permission)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".ganstudio-write-test-", dir=folder)
    except OSError as exc:
        reason = "permission denied" if exc.errno in (errno.EACCES, errno.EPERM) else \
            "the disk is read-only" if exc.errno == errno.EROFS else (exc.strerror or str(exc))
        raise BatchUsageError(f"cannot write to the output folder {folder}: {reason}") from exc
    os.close(fd)
    os.unlink(name)


class BatchRun:
    """One batch run over ``in_dir`` into ``out_dir``. Call :meth:`prepare` (raises
    :class:`BatchUsageError`) or let :meth:`run` call it."""

    def __init__(
        self,
        in_dir: str | Path,
        out_dir: str | Path,
        options: BatchOptions,
        cancel: CancelToken | None = None,
        gate: PauseGate | None = None,
        redo: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        self.in_dir = Path(in_dir)
        self.out_dir = Path(out_dir)
        self.options = options
        self.cancel = cancel or CancelToken()
        self.gate = gate or PauseGate()
        self.redo = set(redo)
        self.items: list[PlanItem] = []
        self.warnings: list[str] = []
        self.spec: TaskSpec | None = None
        self.engine: Any = None
        self.journal: Journal | None = None
        self._engine_lock = threading.Lock()
        self._events: queue.Queue = queue.Queue()

    # ------------------------------------------------------------------ preparing
    def prepare(self) -> list[PlanItem]:
        o = self.options
        if not self.in_dir.is_dir():
            raise BatchUsageError(f"input folder not found: {self.in_dir}")
        try:
            task = Task(o.task)
            self.spec = spec_for(task)
        except (ValueError, EngineError):
            raise BatchUsageError(f"unknown task '{o.task}'") from None
        if not engines_for(task):
            raise BatchUsageError(f"no {task.value} engine is installed yet")
        from ..core import registry

        try:
            self.engine = registry.get(task, o.model)
        except EngineError as exc:
            raise BatchUsageError(str(exc)) from None
        if o.format not in FORMATS:
            raise BatchUsageError(f"unknown format '{o.format}' (use {', '.join(FORMATS)})")
        if o.jobs < 1:
            raise BatchUsageError("--jobs must be at least 1")
        if not 1 <= o.quality <= 100:
            raise BatchUsageError("--quality must be 1-100")
        if self.spec.side_required and o.masks is None:
            raise BatchUsageError(f"the {task.value} task needs --masks DIR (one {self.spec.side_input} per photo)")
        if o.masks is not None and not Path(o.masks).is_dir():
            raise BatchUsageError(f"masks folder not found: {o.masks}")
        in_real = self.in_dir.resolve()
        if self.out_dir.resolve() == in_real:
            raise BatchUsageError("the output folder must differ from the input folder (inputs are never overwritten)")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchUsageError(f"cannot create the output folder {self.out_dir}: {exc.strerror or exc}") from exc
        check_writable(self.out_dir)
        scan = scan_inputs(self.in_dir, o.recursive, exclude=self.out_dir)
        self.warnings = list(scan.warnings)
        self.journal = Journal(self.out_dir)
        try:
            self.journal.check_free()
        except JournalBusy as exc:
            raise BatchUsageError(str(exc)) from None
        self.items = plan_outputs(scan.files, self.in_dir, self.out_dir, o.format, o.overwrite,
                                  self.journal.assigned_outputs())
        return self.items

    def _params(self) -> dict[str, Any]:
        assert self.spec is not None
        o = self.options
        return {**o.task_params(self.spec.params), "format": o.format, "quality": o.quality}

    # ------------------------------------------------------------------ running
    def run(self) -> Generator[FileEvent, None, BatchSummary]:
        if self.journal is None:
            self.prepare()
        assert self.journal is not None and self.spec is not None
        summary = BatchSummary(total=len(self.items), warnings=list(self.warnings))
        record = metadata.make_record(self.options.task, self.engine, self._params())
        total = len(self.items)
        yield FileEvent("plan", total=total, notes=tuple(self.warnings))
        journal = self.journal
        try:
            journal.open()
        except JournalBusy as exc:
            raise BatchUsageError(str(exc)) from None
        finished = 0
        to_do: collections.deque[PlanItem] = collections.deque()
        try:
            for item in self.items:
                self._remove_stale_temporaries(item)
                if item.rel not in self.redo and self._still_valid(item, record):
                    finished += 1
                    summary.kept.append(item.rel)
                    summary.outputs[item.rel] = self.out_dir / item.output_rel
                    yield FileEvent("kept", item.rel, total, finished, 1.0, "done in an earlier run",
                                    item.source, self.out_dir / item.output_rel)
                else:
                    to_do.append(item)
                if self.cancel.cancelled:
                    summary.cancelled = True
                    return summary
            yield from self._process_all(to_do, record, summary, finished)
            return summary
        finally:
            journal.close()

    def _process_all(self, to_do, record, summary: BatchSummary, finished: int):
        total = len(self.items)
        inflight: dict[str, concurrent.futures.Future] = {}
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.options.jobs,
                                                     thread_name_prefix="ganstudio-batch")
        base = {"task": record["task"], "model": record["model"],
                "model_sha256": record["model_sha256"], "params": record["params"]}
        try:
            while to_do or inflight:
                while (to_do and len(inflight) < self.options.jobs and not summary.stopped
                       and not self.cancel.cancelled and not self.gate.paused):
                    item = to_do.popleft()
                    assert self.journal is not None
                    self.journal.record(item.rel, STARTED, output=item.output_rel, **base)
                    yield FileEvent("start", item.rel, total, finished, 0.0, "", item.source,
                                    self.out_dir / item.output_rel)
                    fut = pool.submit(self._process, item, record)
                    fut.add_done_callback(lambda f, it=item: self._events.put(("end", it, f)))
                    inflight[item.rel] = fut
                if not inflight:
                    if summary.stopped or self.cancel.cancelled:
                        break
                    try:
                        self.gate.wait(self.cancel)  # paused with nothing running
                    except Cancelled:
                        break
                    continue
                kind, item, payload = self._events.get()
                if kind == "progress":
                    if item.rel in inflight:
                        fraction, message = payload
                        yield FileEvent("progress", item.rel, total, finished, fraction, message,
                                        item.source, self.out_dir / item.output_rel)
                    continue
                inflight.pop(item.rel, None)
                output = self.out_dir / item.output_rel
                try:
                    outcome: _Outcome = payload.result()
                except Cancelled:
                    continue  # stays "started" in the journal: redone on resume
                except Exception as exc:  # noqa: BLE001 - FileFailed, or a bug: this file fails alone
                    if not isinstance(exc, FileFailed):
                        log.error("unexpected error on %s", item.rel, exc_info=exc)
                        exc = FileFailed(f"{item.rel}: unexpected error: {type(exc).__name__}: {exc}",
                                         disk_full=_is_disk_full(exc))
                    finished += 1
                    message = readable(exc)  # a name that is not UTF-8 shows as \xNN in messages
                    self.journal.record(item.rel, FAILED, output=item.output_rel, error=message, **base)
                    summary.failed.append((item.rel, message))
                    if exc.disk_full:
                        summary.stopped = "the disk is full: free some space and run the same command again to resume"
                    yield FileEvent("failed", item.rel, total, finished, 1.0, message, item.source, None)
                    continue
                finished += 1
                self.journal.record(item.rel, DONE, output=item.output_rel,
                                    input_sha256=outcome.input_sha256, side_sha256=outcome.side_sha256,
                                    output_sha256=outcome.output_sha256, seconds=round(outcome.seconds, 3),
                                    notes=list(outcome.notes), **base)
                summary.done.append(item.rel)
                summary.outputs[item.rel] = output
                _return_freed_memory()
                yield FileEvent("done", item.rel, total, finished, 1.0, "", item.source, output,
                                outcome.notes, outcome.seconds)
        finally:
            if inflight:  # the consumer stopped early (closed the generator) or an error
                self.cancel.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        settled = len(summary.done) + len(summary.kept) + len(summary.failed)
        summary.cancelled = self.cancel.cancelled and settled < total
        return summary

    # ------------------------------------------------------------------ resume checks
    def _remove_stale_temporaries(self, item: PlanItem) -> None:
        """Temporary files of a write killed before its rename (hidden names ``.<output>.*``)."""
        out = self.out_dir / item.output_rel
        if not out.parent.is_dir():
            return
        for tmp in out.parent.glob(f"{glob_escape(temp_prefix(out.name))}*"):
            try:
                tmp.unlink()
            except OSError:
                pass

    def _still_valid(self, item: PlanItem, record: dict[str, Any]) -> bool:
        assert self.journal is not None
        rec = self.journal.entries.get(item.rel)
        if not rec or rec.get("state") != DONE or rec.get("output") != item.output_rel:
            return False
        if any(rec.get(k) != record[k] for k in ("task", "model", "model_sha256", "params")):
            return False
        out = self.out_dir / item.output_rel
        try:
            if metadata.file_sha256(out) != rec.get("output_sha256"):
                return False
            if metadata.file_sha256(item.source) != rec.get("input_sha256"):
                return False
            side = self._side_path(item)
            if (metadata.file_sha256(side) if side else "") != rec.get("side_sha256", ""):
                return False
            load_image(out, max_pixels=None)  # decodes: a checksum of a broken file is no proof
        except (OSError, EngineError):
            return False
        return True

    def _side_path(self, item: PlanItem) -> Path | None:
        assert self.spec is not None
        if not self.spec.side_input or self.options.masks is None:
            return None
        return find_side_input(Path(self.options.masks), item.rel)

    # ------------------------------------------------------------------ one file (worker thread)
    def _process(self, item: PlanItem, record: dict[str, Any]) -> _Outcome:
        assert self.spec is not None
        started = time.perf_counter()
        self.gate.wait(self.cancel)
        try:
            src = load_image(item.source)
            input_sha = metadata.file_sha256(item.source)
        except ImageLoadError as exc:
            raise FileFailed(str(exc)) from exc
        except OSError as exc:
            raise FileFailed(f"Cannot read {item.source.name}: {exc.strerror or exc}") from exc
        notes = list(src.notes)
        side, side_sha = None, ""
        side_path = self._side_path(item)
        if self.spec.side_input and self.options.masks is not None:
            if side_path is None:
                if self.spec.side_required:
                    raise FileFailed(f"no {self.spec.side_input} for {item.rel} in {self.options.masks} "
                                     f"(expected the same name, e.g. {Path(item.rel).stem}.png)")
            else:
                try:
                    side = load_image(side_path)
                    side_sha = metadata.file_sha256(side_path)
                except (ImageLoadError, OSError) as exc:
                    raise FileFailed(f"{self.spec.side_input}: {exc}") from exc
        try:
            request = self.spec.build(src, side, self.options.task_params(self.spec.params))
        except EngineError as exc:
            raise FileFailed(f"{item.rel}: {exc}") from exc
        h, w = src.rgb.shape[:2]
        scale = int(getattr(request, "scale", 1) or 1)
        if w * h * scale * scale > MAX_OUTPUT_PIXELS:
            raise FileFailed(f"{item.rel}: the result would be {w * scale}x{h * scale} "
                             f"({format_megapixels(w * h * scale * scale)}), above the "
                             f"{format_megapixels(MAX_OUTPUT_PIXELS)} limit; use a smaller scale")
        result, run_notes = self._run_engine(request, item)
        notes += run_notes
        rgb = result.image
        if rgb is None:
            raise FileFailed(f"{item.rel}: the engine returned no image")
        alpha = src.alpha
        if alpha is not None and alpha.shape != rgb.shape[:2]:
            # the alpha follows the image's new size (upscaling); linear keeps soft edges soft
            alpha = cv2.resize(alpha, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        out = self.out_dir / item.output_rel
        png = out.suffix.lower() == ".png"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.cancel.raise_if_cancelled()
            notes += save_image(
                out, rgb, alpha=alpha, bit_depth=src.bit_depth, exif=src.exif,
                icc_profile=src.icc_profile, quality=self.options.quality,
                text=metadata.png_text(record) if png else None,
                xmp=None if png else metadata.xmp_packet(record),
            )
            output_sha = metadata.file_sha256(out)
        except (ImageSaveError, OSError) as exc:
            message = str(exc) if isinstance(exc, ImageSaveError) else \
                f"Cannot save {out.name}: {exc.strerror or exc}"
            raise FileFailed(message, disk_full=_is_disk_full(exc)) from exc
        return _Outcome(input_sha, side_sha, output_sha, tuple(notes), time.perf_counter() - started)

    def _run_engine(self, request: Any, item: PlanItem) -> tuple[Result, list[str]]:
        """Drive the engine; on out-of-memory retry with smaller tiles, then fail the file."""
        from ..core.device import make_context

        info = self.engine.info
        first = int(getattr(request, "tile", 0) or 0)
        tiles = [first]
        if info.supports_tiling and hasattr(request, "tile"):
            t = min(first or FIRST_RETRY_TILE, FIRST_RETRY_TILE if not first else first // 2)
            while t >= MIN_TILE * 2:
                tiles.append(t)
                t //= 2
        notes: list[str] = []

        def on_event(event: object) -> None:
            if isinstance(event, Progress):
                self._events.put(("progress", item, (event.fraction, event.message)))
            self.gate.wait(self.cancel)  # pause between steps/tiles

        lock = self._engine_lock if info.uses_torch else _NO_LOCK
        for attempt, tile in enumerate(tiles):
            req = replace(request, tile=tile) if attempt and hasattr(request, "tile") else request
            try:
                ctx = make_context(info, cancel=self.cancel, tile=tile, device=self.options.device)
                with lock:
                    result = drive(self.engine.run(req, ctx), on_event)
                if attempt:
                    notes.append(f"ran out of memory; finished with {tile} px tiles")
                return result, notes
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes this file's message
                oom = is_out_of_memory(exc) or "out of memory" in str(exc).lower()
                if oom and attempt + 1 < len(tiles):
                    _release_accelerator()
                    continue
                if oom:
                    raise FileFailed(f"{item.rel}: out of memory (even with the smallest tiles); "
                                     "try a smaller image or a classical engine") from exc
                if isinstance(exc, EngineError):
                    raise FileFailed(f"{item.rel}: {exc}") from exc
                raise FileFailed(f"{item.rel}: unexpected error in {info.title}: "
                                 f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _release_accelerator() -> None:
    import sys

    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # pragma: no cover - best effort
        pass


def _return_freed_memory() -> None:
    """Give freed heap pages back to the OS after each file (glibc only).

    Each photo allocates and frees hundreds of MB (decode, network activations, encode); glibc
    keeps the freed arenas, so a long batch's RSS creeps up by ~30 % with no leak at all
    (measured: 364 → 477 MB over 100 photos; flat at 257 MB with this trim).
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        pass


def rss_mb() -> float:
    """Current resident set size (MiB) from /proc (Linux); the peak from getrusage elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)
