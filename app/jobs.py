"""The one worker that owns the accelerator (docs/ARCHITECTURE.md rule 5).

A :class:`JobRunner` runs engine generators (``engine.run(request, ctx)``) one at a time on a single
Python worker thread. The UI thread only submits, cancels and receives signals; it never iterates
an engine, so it never runs a network.

Two kinds of jobs:

- ``"apply"`` jobs queue FIFO (a user pressed *Apply*: every one of them runs).
- ``"preview"`` jobs are *latest wins* per ``key`` (e.g. ``"inpaint-preview"``): a newer submission
  replaces a queued one for the same key and cancels the running one. Each preview gets a
  ``generation`` that increases per key; a result whose generation is older than the newest
  submitted for its key is dropped (it emits ``cancelled``, never ``finished``).

Threading model. The worker never emits the public signals itself. It appends events to an outbox
(a deque under a lock) and, when the outbox goes from empty to non-empty, emits the private
``_wake`` signal, which a queued connection turns into a call of :meth:`JobRunner._pump` on the
runner's own (UI) thread. ``_pump`` drains the outbox and emits the public signals there, so every
receiver runs on the UI thread whatever its connection type, one wake-up carries a whole burst of
events, and the generation / cancel checks happen where the newest state lives.

Every submitted job ends with exactly one of ``finished``, ``failed`` or ``cancelled``. ``started``
precedes ``progress``/``preview``, which precede the end; a job cancelled while still queued ends
with ``cancelled`` and never ``started``.

All public methods are meant to be called from the thread the runner lives in (the UI thread).
"""

from __future__ import annotations

import collections
import ctypes
import os
import itertools
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from engines.core.cancel import Cancelled, CancelToken
from engines.core.protocol import EngineError, Preview, Progress, Result, RunContext

log = logging.getLogger(__name__)

APPLY = "apply"
PREVIEW = "preview"
_KINDS = (APPLY, PREVIEW)

# At most this many progress signals per second per job reach the UI thread (the last one always
# does): an engine reporting every row of a 4k image would otherwise flood the event loop.
PROGRESS_RATE_HZ = 30.0


@dataclass(eq=False)
class Job:
    """What to run. ``job_id`` and ``generation`` are assigned by :meth:`JobRunner.submit`.

    Args:
        engine: an object with ``.info`` (EngineInfo) and ``.run(request, ctx)`` (a generator).
        request: the task's frozen request dataclass.
        ctx: the run context; ``None`` lets the runner build one on the worker from the engine's
            info (``engines.core.device.make_context``). A given ctx's ``cancel`` token becomes
            the job's token.
        kind: ``"apply"`` (FIFO, every job runs) or ``"preview"`` (latest wins per ``key``).
        key: the preview channel (required for previews), e.g. ``"inpaint-preview"``.
        label: shown in the UI and in error messages; defaults to the engine's title.
    """

    engine: Any
    request: Any
    ctx: RunContext | None = None
    kind: str = APPLY
    key: str = ""
    label: str = ""
    job_id: int = field(default=0, init=False)
    generation: int = field(default=0, init=False)
    _token: CancelToken = field(default_factory=CancelToken, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"job kind must be one of {_KINDS}, not {self.kind!r}")
        if self.kind == PREVIEW and not self.key:
            raise ValueError("a preview job needs a key (its latest-wins channel)")
        if not self.label:
            info = getattr(self.engine, "info", None)
            self.label = getattr(info, "title", "") or getattr(info, "id", "") or "job"
        if self.ctx is not None:
            self._token = self.ctx.cancel

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled


# Outbox event kinds (worker -> UI thread).
_STARTED, _PROGRESS, _PREVIEW, _FINISHED, _FAILED, _CANCELLED = range(6)
_TERMINAL = (_FINISHED, _FAILED, _CANCELLED)


class _Probe(QObject):
    ping = Signal()


_EMIT_STEALS_REF: bool | None = None


def _check_emit_refcount() -> None:
    """Detect PySide6 6.12.0's ``Signal.emit`` refcount bug (on the UI thread, before the worker).

    On CPython < 3.12 that release returns ``True`` from ``emit()`` without a new reference, so
    every Python-side emit drops ``True``'s refcount by one and the interpreter aborts with
    "bool_dealloc: deallocating True or False" after a few thousand emits (or at exit).
    Fixed releases and immortal bools (3.12+) measure a delta of 0 and are left alone.
    """
    global _EMIT_STEALS_REF
    if _EMIT_STEALS_REF is not None:
        return
    probe, n = _Probe(), 8
    before = sys.getrefcount(True)
    for _ in range(n):
        probe.ping.emit()
    delta = sys.getrefcount(True) - before
    if delta == -n:
        for _ in range(n):  # give back what the probe took
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
        log.warning("PySide6 %s steals a reference in Signal.emit; compensating", _pyside_version())
    _EMIT_STEALS_REF = delta == -n
    probe.deleteLater()


def _pyside_version() -> str:
    import PySide6

    return getattr(PySide6, "__version__", "?")


def _emit(signal: Any, *args: Any) -> None:
    returned = signal.emit(*args)
    if _EMIT_STEALS_REF and returned is not None:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(returned))


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")  # never import torch here just to classify an error
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if isinstance(oom_type, type) and isinstance(exc, oom_type):
        return True
    # Older torch builds and MPS raise a plain RuntimeError("... out of memory ...").
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _release_accelerator_cache() -> None:
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # pragma: no cover - best effort after an OOM
        log.debug("could not empty the CUDA cache", exc_info=True)


def _leave_a_core_for_the_ui(engine: Any = None) -> None:
    """Engines' thread pools (OpenCV, torch intra-op) get all cores but one.

    With every core busy in the worker, the UI thread waits for a core and strokes stutter; one
    core less costs an engine little on a desktop and keeps painting fluid while it runs. Called
    when the runner starts and again before each job: torch is imported by the first engine that
    needs it (on the worker), and its pool would otherwise take every core for that first job.
    """
    if getattr(getattr(engine, "info", None), "uses_torch", False) and "torch" not in sys.modules:
        import torch  # noqa: F401 - the engine imports it next anyway; cap its pool first
    workers = max(1, (os.cpu_count() or 2) - 1)
    try:
        import cv2

        cv2.setNumThreads(workers)
    except ImportError:  # pragma: no cover - cv2 is a dependency
        pass
    torch = sys.modules.get("torch")  # only when already imported: starting the app stays cheap
    if torch is not None and torch.get_num_threads() > workers:
        torch.set_num_threads(workers)


class JobRunner(QObject):
    """A single worker thread with a queue; results, progress and errors arrive as signals."""

    started = Signal(int, str)  # job_id, label
    progress = Signal(int, float, str)  # job_id, fraction in [0, 1], message
    preview = Signal(int, object)  # job_id, float32 HxWx3 image
    finished = Signal(int, object)  # job_id, engines.core.Result
    failed = Signal(int, str)  # job_id, message for the user
    cancelled = Signal(int)  # job_id
    idle = Signal()  # nothing queued, nothing running
    busy_changed = Signal(bool)

    _wake = Signal()  # worker -> UI thread: the outbox has events

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._generations: dict[str, int] = {}
        self._jobs: dict[int, Job] = {}  # UI side: submitted, end signal not emitted yet
        # Where the next job computes (Preferences): "auto", "cpu", "cuda:N", "mps". A str swap is
        # atomic; the worker reads it once per job, when it builds the job's context.
        self.device = "auto"

        # Shared with the worker; every access holds self._cond.
        self._cond = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._stopping = False
        self._outbox: collections.deque[tuple] = collections.deque()
        self._wake_pending = False

        self._shut_down = False
        _check_emit_refcount()
        _leave_a_core_for_the_ui()
        self._wake.connect(self._pump, Qt.ConnectionType.QueuedConnection)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._thread = threading.Thread(target=self._work, name="ganstudio-jobs", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public API (UI thread)

    @property
    def is_busy(self) -> bool:
        """True while any submitted job has not emitted its end signal."""
        return bool(self._jobs)

    @property
    def pending_count(self) -> int:
        """Jobs queued and not started yet."""
        with self._cond:
            return len(self._queue)

    def latest_generation(self, key: str) -> int:
        """The generation of the newest preview submitted for ``key`` (0 if none)."""
        return self._generations.get(key, 0)

    def submit(self, job: Job) -> int:
        """Queue ``job`` and return its id. Raises RuntimeError after :meth:`shutdown`."""
        if self._shut_down:
            raise RuntimeError("the job runner has been shut down")
        if job.job_id:
            raise ValueError(f"job {job.job_id} was already submitted; build a new Job")
        job.job_id = next(self._ids)
        replaced: Job | None = None
        with self._cond:
            if job.kind == PREVIEW:
                job.generation = self._generations.get(job.key, 0) + 1
                self._generations[job.key] = job.generation
                for index, queued in enumerate(self._queue):
                    if queued.kind == PREVIEW and queued.key == job.key:
                        # The newer preview takes the superseded one's place in the queue.
                        replaced = queued
                        self._queue[index] = job
                        break
                else:
                    self._queue.append(job)
                running = self._running
                if running is not None and running.kind == PREVIEW and running.key == job.key:
                    running._token.cancel()
            else:
                self._queue.append(job)
            self._cond.notify()
        was_busy = self.is_busy
        self._jobs[job.job_id] = job
        if not was_busy:
            _emit(self.busy_changed, True)
        if replaced is not None:
            replaced._token.cancel()
            self._end(replaced, self.cancelled, replaced.job_id)
        return job.job_id

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job; False if it is unknown or already over.

        A queued job emits ``cancelled`` now; a running one stops at its next step and emits
        ``cancelled`` then (or its result is discarded if it was already on the way).
        """
        job = self._jobs.get(job_id)
        if job is None:
            return False
        job._token.cancel()
        with self._cond:
            try:
                self._queue.remove(job)
            except ValueError:
                return True  # running (or its end is in the outbox): the worker reports it
        self._end(job, self.cancelled, job.job_id)
        return True

    def cancel_all(self) -> None:
        """Cancel the running job and drain the queue; each job emits ``cancelled``."""
        with self._cond:
            drained = list(self._queue)
            self._queue.clear()
            running = self._running
        if running is not None:
            running._token.cancel()
        for job in drained:
            job._token.cancel()
        for job in drained:
            self._end(job, self.cancelled, job.job_id)

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Cancel everything and join the worker. Idempotent; True when the worker has ended.

        Events the worker left behind (the running job's ``cancelled``) are delivered before this
        returns when called on the runner's thread, e.g. from ``aboutToQuit``.
        """
        if not self._shut_down:
            self._shut_down = True
            self.cancel_all()
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
        self._thread.join(timeout_s)
        joined = not self._thread.is_alive()
        if not joined:
            log.warning("job worker did not stop within %.1f s; leaving it (daemon thread)", timeout_s)
        if QThread.currentThread() == self.thread():
            self._pump()
        return joined

    # ------------------------------------------------------------------ UI-thread side

    def _end(self, job: Job, signal: Any, *args: Any) -> None:
        """Emit a job's end signal once, then the busy/idle transitions."""
        if self._jobs.pop(job.job_id, None) is None:
            return
        _emit(signal, *args)
        if not self._jobs:
            _emit(self.busy_changed, False)
            _emit(self.idle)

    def _is_stale(self, job: Job) -> bool:
        return job.kind == PREVIEW and job.generation < self._generations.get(job.key, 0)

    @Slot()
    def _pump(self) -> None:
        with self._cond:
            batch = list(self._outbox)
            self._outbox.clear()
            self._wake_pending = False
        # Only the newest preview image of a job within one burst is worth painting.
        last_preview: dict[int, int] = {}
        for index, (kind, job, _payload) in enumerate(batch):
            if kind == _PREVIEW:
                last_preview[job.job_id] = index
        for index, (kind, job, payload) in enumerate(batch):
            if job.job_id not in self._jobs:
                continue  # already ended (e.g. cancelled while queued)
            if kind == _STARTED:
                _emit(self.started, job.job_id, job.label)
            elif kind == _PROGRESS:
                fraction, message = payload
                _emit(self.progress, job.job_id, fraction, message)
            elif kind == _PREVIEW:
                if last_preview[job.job_id] == index and not self._is_stale(job):
                    _emit(self.preview, job.job_id, payload)
            elif kind == _FINISHED:
                if self._is_stale(job) or job.cancel_requested:
                    self._end(job, self.cancelled, job.job_id)
                else:
                    self._end(job, self.finished, job.job_id, payload)
            elif kind == _FAILED:
                if self._is_stale(job):  # nobody waits for a superseded preview's error
                    self._end(job, self.cancelled, job.job_id)
                else:
                    self._end(job, self.failed, job.job_id, payload)
            elif kind == _CANCELLED:
                self._end(job, self.cancelled, job.job_id)

    # ------------------------------------------------------------------ worker thread

    def _post(self, kind: int, job: Job, payload: Any = None) -> None:
        with self._cond:
            self._outbox.append((kind, job, payload))
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            _emit(self._wake)
        except RuntimeError:  # the runner's C++ object is gone (application torn down)
            log.debug("job runner deleted; dropping worker events", exc_info=True)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:  # stopping and nothing left
                    return
                job = self._queue.popleft()
                self._running = job
            try:
                self._execute(job)
            except BaseException:  # the worker must outlive any job
                log.exception("job worker error while running %s", job.label)
                self._post(_FAILED, job, f"Unexpected error in {job.label}: worker failure")
            finally:
                with self._cond:
                    self._running = None

    def _execute(self, job: Job) -> None:
        if job._token.cancelled:
            self._post(_CANCELLED, job)
            return
        self._post(_STARTED, job)
        try:
            _leave_a_core_for_the_ui(job.engine)
            result = self._drive(job)
        except Cancelled:
            self._post(_CANCELLED, job)
        except EngineError as exc:
            self._post(_FAILED, job, str(exc) or f"{job.label} failed")
        except Exception as exc:  # noqa: BLE001 - reported to the user, logged with traceback
            if _is_out_of_memory(exc):
                _release_accelerator_cache()
                log.warning("out of memory in %s: %s", job.label, exc)
                self._post(
                    _FAILED,
                    job,
                    f"Out of memory while running {job.label}. Try a smaller image or tile size, "
                    "close other programs using the GPU, or run on the CPU.",
                )
            else:
                log.exception("unexpected error in %s", job.label)
                self._post(
                    _FAILED, job, f"Unexpected error in {job.label}: {type(exc).__name__}: {exc}"
                )
        else:
            self._post(_FINISHED, job, result)

    def _context(self, job: Job) -> RunContext:
        if job.ctx is not None:
            return job.ctx
        try:
            from engines.core.device import make_context
        except ModuleNotFoundError as exc:
            if exc.name != "engines.core.device":
                raise
            return RunContext(cancel=job._token)
        return make_context(job.engine.info, cancel=job._token, device=self.device)

    def _drive(self, job: Job) -> Result:
        """Iterate the engine's generator here, on the worker; returns its Result."""
        token = job._token
        job.ctx = ctx = self._context(job)
        token.raise_if_cancelled()
        gen = job.engine.run(job.request, ctx)
        if isinstance(gen, Result):  # a plain function, not a generator: accept its answer
            token.raise_if_cancelled()
            return gen
        interval = 1.0 / PROGRESS_RATE_HZ
        last_sent = float("-inf")
        held: Progress | None = None  # newest progress not sent yet (throttled)
        try:
            while True:
                # Also stops engines that forget to check their token between steps.
                token.raise_if_cancelled()
                try:
                    event = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                if isinstance(event, Progress):
                    now = time.monotonic()
                    if now - last_sent >= interval:
                        self._post(_PROGRESS, job, (event.fraction, event.message))
                        last_sent, held = now, None
                    else:
                        held = event
                elif isinstance(event, Preview):
                    self._post(_PREVIEW, job, event.image)
        finally:
            try:
                gen.close()
            except Exception:  # noqa: BLE001 - a broken cleanup must not hide the real outcome
                log.warning("error while closing the %s generator", job.label, exc_info=True)
        token.raise_if_cancelled()  # cancelled while the last step ran: discard the result
        if not isinstance(result, Result):
            raise EngineError(
                f"{job.label}: engine returned {type(result).__name__}, expected Result"
            )
        if held is not None:
            self._post(_PROGRESS, job, (held.fraction, held.message))
        return result
