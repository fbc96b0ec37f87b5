"""``ganstudio batch ... --cluster ray[:ADDRESS]``: the same batch run, its files processed by Ray
actors on one machine or many (issue 23).

Only the executor changes. :class:`ClusterBatchRun` is a :class:`~.runner.BatchRun`: the plan, the
output names, the journal, the resume checks and every journal line are the runner's, written by
this process (the *driver*) alone. What moves to the actors is the per-file work between
"started" and "done": decode -> side input -> engine -> encode, done by the runner's own
``_process`` in a private temporary folder of the actor, so outputs are byte-identical to a
single-process run. The encoded file comes back as bytes and the driver writes it with the usual
temporary file + fsync + atomic rename, then journals ``done``.

Data paths:

- default: the driver reads each input (and its mask) and sends the bytes through Ray's object
  store; the outputs come back the same way. Works with any cluster; the driver's disk and
  network carry every byte.
- ``shared=True`` (``--shared``): IN (and the masks folder) are on storage every node sees at the
  same path; actors read inputs by path. Outputs still come back as bytes, so the driver alone
  ever writes into OUT.

Faults: an actor that dies (its process killed, its node lost) loses only the file it held; that
file is queued again for another actor (at most ``MAX_ATTEMPTS`` times, then it fails with the
reason) and a replacement actor is started. A driver killed is a run interrupted: the same
command resumes from the journal. Cancel kills the actors; files in flight stay "started" and are
redone on resume. Each actor returns freed heap to the OS after every file (``malloc_trim``).

Ray is imported only here, and only when a cluster run starts: the editor and plain ``batch``
never load it.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..atomic import atomic_write_bytes
from ..core.cancel import Cancelled
from ..readable import readable
from . import metadata
from .journal import DONE, FAILED, STARTED
from .plan import BatchOptions, BatchUsageError, PlanItem
from .progress import ProgressBar
from .runner import BatchRun, BatchSummary, FileEvent, FileFailed, _is_disk_full, _return_freed_memory, rss_mb

log = logging.getLogger(__name__)

RSS_WARMUP = 10  # files before an actor's memory is taken as its steady state
MAX_ATTEMPTS = 3  # a file whose actor dies this many times fails (a file that kills its worker)
START_TIMEOUT_S = 600.0  # actors must report in within this (model load on a cold node)
WAIT_SLICE_S = 0.2  # how often the driver looks at cancel / pause while files are in flight
INSTALL_HINT = "pip install 'ganstudio[cluster]'"


# ---------------------------------------------------------------------------- connecting
def parse_cluster(spec: str) -> str | None:
    """``ray`` -> ``None`` (a local instance on this machine); ``ray:auto`` -> ``"auto"``;
    ``ray:HOST:PORT`` -> ``"HOST:PORT"``. Anything else is a usage error."""
    kind, _, address = (spec or "").strip().partition(":")
    if kind != "ray":
        raise BatchUsageError(f"unknown cluster '{spec}' (use ray, ray:auto or ray:HOST:PORT)")
    if not _:
        return None
    if not address:
        raise BatchUsageError("--cluster ray: needs an address after the colon (ray:auto or ray:HOST:PORT)")
    return address


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def import_ray(local: bool):
    """Import Ray with its telemetry off; a local instance binds to loopback only."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if local:
        # Ray's own switch for "this node's address is 127.0.0.1" (read when Ray is imported)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise BatchUsageError(f"--cluster needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def connect(address: str | None, workers: int) -> tuple[Any, bool, float]:
    """Ray, whether this call started it (then the run shuts it down), and the seconds it took.

    A Ray already initialised in this process (tests, the bench, a notebook) is used as it is."""
    t0 = time.perf_counter()
    ray = import_ray(local=address is None)
    if ray.is_initialized():
        return ray, False, 0.0
    try:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
        where = "start a local Ray instance" if address is None else f"join the Ray cluster at {address}"
        raise BatchUsageError(f"cannot {where}: {type(exc).__name__}: {exc}") from None
    return ray, True, time.perf_counter() - t0


# ---------------------------------------------------------------------------- the actor
class BatchWorker:
    """One Ray actor: loads the engine once, then processes many files in a private folder.

    Turned into an actor with ``ray.remote(...)(BatchWorker)`` by the driver; plain Python
    otherwise (the tests of the per-file path need no Ray)."""

    def __init__(self, options: BatchOptions, in_dir: str | None, masks_dir: str | None) -> None:
        import tempfile

        from ..core import registry
        from ..core.protocol import Task
        from .tasks import spec_for

        sweep_private_folders()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-"))
        self.shared = in_dir is not None
        masks = Path(masks_dir) if (self.shared and masks_dir) else \
            (self.tmp / "masks" if options.masks is not None else None)
        local = dataclasses.replace(options, masks=masks)
        self.run = BatchRun(Path(in_dir) if self.shared else self.tmp / "in", self.tmp / "out", local)
        self.run.spec = spec_for(Task(options.task))
        self.run.engine = registry.get(Task(options.task), options.model)
        self.files = 0

    def describe(self, params: dict[str, Any]) -> dict[str, Any]:
        """Who this actor is, and the weights it loaded (checked against the driver's)."""
        import socket

        record = metadata.make_record(self.run.options.task, self.run.engine, params)
        return {"pid": os.getpid(), "host": socket.gethostname(), "model_sha256": record["model_sha256"],
                "rss_mb": rss_mb()}

    def rss(self) -> float:
        return rss_mb()

    def process(self, rel: str, output_rel: str, data: bytes | None, side_rel: str | None,
                side_data: bytes | None, record: dict[str, Any]) -> dict[str, Any]:
        """One file: the runner's ``_process`` on a private copy; the output comes back as bytes."""
        run = self.run
        written: list[Path] = []
        try:
            source = run.in_dir / rel
            if data is not None:
                _write_private(source, data)
                written.append(source)
            if side_rel is not None and side_data is not None and run.options.masks is not None:
                side = Path(run.options.masks) / side_rel
                _write_private(side, side_data)
                written.append(side)
            out = run.out_dir / output_rel
            written.append(out)
            try:
                outcome = run._process(PlanItem(rel=rel, source=source, output_rel=output_rel), record)
            except FileFailed as exc:
                return {"ok": False, "message": str(exc), "disk_full": exc.disk_full}
            except Exception as exc:  # noqa: BLE001 - a bug in one file: that file fails alone
                return {"ok": False, "message": f"{rel}: unexpected error: {type(exc).__name__}: {exc}",
                        "disk_full": _is_disk_full(exc)}
            result = {"ok": True, "data": out.read_bytes(), "input_sha256": outcome.input_sha256,
                      "side_sha256": outcome.side_sha256, "output_sha256": outcome.output_sha256,
                      "notes": list(outcome.notes), "seconds": outcome.seconds}
        finally:
            for p in written:
                try:
                    p.unlink()
                except OSError:
                    pass
            while not run._events.empty():  # tile progress nobody reads here: don't let it pile up
                run._events.get_nowait()
            self.files += 1
            _return_freed_memory()
        result["rss_mb"] = rss_mb()  # after the trim: what the actor keeps between files
        return result

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


PRIVATE_PREFIX = "ganstudio-batch-worker-"


def sweep_private_folders(tmp_root: str | None = None) -> list[Path]:
    """Remove the private folders of actors that died on this node (killed mid-file, their node
    restarted): ``ganstudio-batch-worker-<pid>-*`` whose process is gone. Returns those removed."""
    import shutil
    import tempfile

    removed = []
    for folder in Path(tmp_root or tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}*-*"):
        pid_text = folder.name[len(PRIVATE_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # alive (or not ours to signal): keep
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# ---------------------------------------------------------------------------- the driver
@dataclass
class WorkerStats:
    name: str
    host: str = ""
    pid: int = 0
    files: int = 0
    busy_s: float = 0.0
    started: float = field(default_factory=time.monotonic)
    alive: bool = True
    rss_first_mb: float = 0.0  # after its first file
    rss_warm_mb: float = 0.0  # after RSS_WARMUP files (the model loaded, pools filled)
    rss_last_mb: float = 0.0

    def files_per_s(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.files / elapsed if elapsed > 0 else 0.0


@dataclass
class _Slot:
    actor: Any
    stats: WorkerStats


class ClusterBatchRun(BatchRun):
    """A :class:`BatchRun` whose files are processed by Ray actors (see the module's docstring).

    ``address``: ``None`` for a local instance (``workers`` CPUs), ``"auto"`` or ``"HOST:PORT"``
    to join a cluster; a Ray already initialised in this process is used as it is."""

    def __init__(self, in_dir, out_dir, options: BatchOptions, *, address: str | None = None,
                 workers: int | None = None, shared: bool = False, **kwargs: Any) -> None:
        super().__init__(in_dir, out_dir, options, **kwargs)
        self.address = address
        self.workers = workers
        self.shared = shared
        self.ray: Any = None
        self.started_ray = False
        self.startup_s = 0.0  # connecting + actors up (model loaded) before the first file
        self.connect_s = 0.0  # of which starting / joining Ray
        self.bytes_in = 0  # sent to the actors (inputs and masks)
        self.bytes_out = 0  # results received
        self.stats: list[WorkerStats] = []
        self.lost_workers = 0
        self._slots: dict[str, _Slot] = {}
        self._inflight: dict[Any, tuple[PlanItem, str]] = {}
        self._spawned = 0
        self._initial = 1
        self.notes: list[str] = []

    def prepare(self) -> list[PlanItem]:
        if self.workers is not None and self.workers < 1:
            raise BatchUsageError("--workers must be at least 1")
        return super().prepare()

    # ------------------------------------------------------------------ actors
    def _actor_class(self):
        ray = self.ray
        gpus = float(ray.cluster_resources().get("GPU", 0))
        opts: dict[str, Any] = {"num_cpus": 1, "max_restarts": 0, "max_task_retries": 0}
        if gpus >= 1:
            opts["num_gpus"] = 1
        return ray.remote(**opts)(BatchWorker)

    def _spawn(self, cls) -> tuple[str, Any]:
        name = f"w{self._spawned}"
        self._spawned += 1
        in_dir = str(self.in_dir.resolve()) if self.shared else None
        masks = str(Path(self.options.masks).resolve()) if (self.shared and self.options.masks) else None
        return name, cls.remote(self.options, in_dir, masks)

    def _start_workers(self, params: dict[str, Any], model_sha256: str) -> None:
        t0 = time.perf_counter()
        self.ray, self.started_ray, self.connect_s = connect(self.address, self.workers or default_workers())
        ray = self.ray
        n = self.workers or (int(ray.cluster_resources().get("GPU", 0))
                             or max(1, int(ray.cluster_resources().get("CPU", 1)) - (0 if self.started_ray else 1)))
        kind = "GPU" if ray.cluster_resources().get("GPU", 0) >= 1 else "CPU"
        room = int(ray.cluster_resources().get(kind, 0))  # the whole cluster; busy ones free up later
        if room < 1:
            raise BatchUsageError(f"the Ray cluster has no {kind} for a batch worker")
        if n > room:
            self.notes.append(f"asked for {n} workers, the cluster has {room} {kind}s: using {room}")
            n = room
        self._cls = self._actor_class()
        self._initial = n
        pending = dict(self._spawn(self._cls) for _ in range(n))
        refs = {name: actor.describe.remote(params) for name, actor in pending.items()}
        for name, actor in pending.items():
            try:
                info = ray.get(refs[name], timeout=START_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - the model is missing on that node, Ray failed...
                self._kill_all(list(pending.values()))
                raise BatchUsageError(f"a batch worker could not start: {_ray_reason(exc)}") from None
            if info["model_sha256"] != model_sha256:
                self._kill_all(list(pending.values()))
                raise BatchUsageError(f"the worker on {info['host']} has other weights for model "
                                      f"'{self.options.model}' than this machine: install the same model there")
            stats = WorkerStats(name, info["host"], info["pid"])
            self.stats.append(stats)
            self._slots[name] = _Slot(actor, stats)
        self.startup_s = time.perf_counter() - t0

    def _replace(self, name: str) -> str | None:
        """A lost actor's replacement; at most twice as many replacements as workers in all."""
        slot = self._slots.pop(name, None)
        if slot is not None:
            slot.stats.alive = False
        if self._spawned >= 3 * self._initial:
            return None
        new, actor = self._spawn(self._cls)
        stats = WorkerStats(new)
        self.stats.append(stats)
        self._slots[new] = _Slot(actor, stats)
        return new

    def actor_of(self, rel: str) -> Any:
        """The actor processing ``rel`` now, or None (tests kill it)."""
        for item, name in self._inflight.values():
            if item.rel == rel and name in self._slots:
                return self._slots[name].actor
        return None

    def _kill_all(self, actors: list[Any]) -> None:
        for actor in actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _shutdown(self) -> None:
        if self.ray is None:
            return
        live = [s.actor for s in self._slots.values()]
        if not self._inflight:  # a clean end: let each actor remove its private folder first
            try:
                self.ray.wait([a.close.remote() for a in live], num_returns=len(live), timeout=10)
            except Exception:  # noqa: BLE001 - best effort
                pass
        self._kill_all(live)  # kill also stops files in flight (cancel, Ctrl+C)
        self._slots.clear()
        self._inflight.clear()
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False

    # ------------------------------------------------------------------ payloads
    def _payload(self, item: PlanItem) -> tuple[bytes | None, str | None, bytes | None] | None:
        """(input bytes, side name, side bytes) to send, or None when the driver cannot read them
        as plain files (missing, FIFO, no permission): then the runner's own checks fail the file
        here, with the same message a single-process run gives."""
        side = self._side_path(item)
        side_rel = None
        if side is not None:
            side_rel = str(PurePosixPath(*side.relative_to(Path(self.options.masks)).parts))
        if side is None and self.spec is not None and self.spec.side_required and self.options.masks is not None:
            return None  # no mask: the runner says so, naming the user's masks folder
        if self.shared:
            return None, side_rel, None
        try:
            data = _read_regular(item.source)
            side_data = _read_regular(side) if side is not None else None
        except OSError:
            return None
        return data, side_rel, side_data

    # ------------------------------------------------------------------ the loop
    def _process_all(self, to_do, record, summary: BatchSummary, finished: int):
        total = len(self.items)
        base = {"task": record["task"], "model": record["model"],
                "model_sha256": record["model_sha256"], "params": record["params"]}
        pending: collections.deque[PlanItem] = collections.deque(to_do)
        attempts: collections.Counter[str] = collections.Counter()
        if not pending:
            return summary
        ray_errors: tuple[type, ...] = ()
        try:
            self._start_workers(record["params"], record["model_sha256"])
            ray = self.ray
            from ray.exceptions import RayError, RayTaskError

            ray_errors = (RayError,)
            idle = list(self._slots)
            while pending or self._inflight:
                while (pending and idle and not summary.stopped and not self.cancel.cancelled
                       and not self.gate.paused):
                    name = idle.pop(0)
                    if name not in self._slots:
                        continue
                    item = pending.popleft()
                    if not attempts[item.rel]:
                        self.journal.record(item.rel, STARTED, output=item.output_rel, **base)
                    payload = self._payload(item)
                    if payload is None:  # unreadable here: the runner fails it with its message
                        idle.insert(0, name)
                        yield FileEvent("start", item.rel, total, finished, 0.0, "", item.source,
                                        self.out_dir / item.output_rel)
                        try:
                            outcome = self._process(item, record)
                            result = {"ok": True, "local": True, "input_sha256": outcome.input_sha256,
                                      "side_sha256": outcome.side_sha256, "output_sha256": outcome.output_sha256,
                                      "notes": list(outcome.notes), "seconds": outcome.seconds}
                        except FileFailed as exc:
                            result = {"ok": False, "message": str(exc), "disk_full": exc.disk_full}
                        except Cancelled:
                            continue  # stays "started": redone on resume, as in the runner
                        finished, event = self._settle(item, result, base, summary, finished, None)
                        yield event
                        continue
                    data, side_rel, side_data = payload
                    self.bytes_in += len(data or b"") + len(side_data or b"")
                    ref = self._slots[name].actor.process.remote(item.rel, item.output_rel, data, side_rel,
                                                                 side_data, record)
                    self._inflight[ref] = (item, name)
                    attempts[item.rel] += 1
                    yield FileEvent("start", item.rel, total, finished, 0.0, "", item.source,
                                    self.out_dir / item.output_rel)
                if not self._inflight:
                    if summary.stopped or self.cancel.cancelled:
                        break
                    if pending and not self._slots:
                        summary.stopped = "every batch worker was lost; run the same command again to resume"
                        break
                    time.sleep(WAIT_SLICE_S)  # paused with nothing running
                    continue
                ready, _ = ray.wait(list(self._inflight), num_returns=1, timeout=WAIT_SLICE_S)
                if self.cancel.cancelled:
                    break
                if not ready:
                    continue
                ref = ready[0]
                item, name = self._inflight.pop(ref)
                try:
                    result = ray.get(ref)
                except RayTaskError as exc:  # raised inside process(): a bug, this file fails
                    result = {"ok": False, "message": f"{item.rel}: unexpected error: {_ray_reason(exc)}",
                              "disk_full": False}
                except RayError as exc:  # the actor died (killed, out of memory, node lost)
                    self.lost_workers += 1
                    new = self._replace(name)
                    if new is not None:
                        idle.append(new)
                    log.warning("batch worker %s lost while on %s: %s", name, item.rel, _ray_reason(exc))
                    if attempts[item.rel] < MAX_ATTEMPTS:
                        pending.appendleft(item)  # again, on another actor
                        continue
                    result = {"ok": False, "disk_full": False,
                              "message": f"{item.rel}: its batch worker was lost {attempts[item.rel]} times "
                                         f"(last: {_ray_reason(exc)})"}
                else:
                    idle.append(name)
                finished, event = self._settle(item, result, base, summary, finished, name)
                yield event
        except ray_errors as exc:  # the cluster itself went away (the head node lost)
            summary.stopped = f"the Ray cluster failed: {_ray_reason(exc)}; run the same command again to resume"
        finally:
            self._shutdown()
        settled = len(summary.done) + len(summary.kept) + len(summary.failed)
        summary.cancelled = self.cancel.cancelled and settled < total
        return summary

    def _settle(self, item: PlanItem, result: dict[str, Any], base: dict[str, Any], summary: BatchSummary,
                finished: int, worker: str | None) -> tuple[int, FileEvent]:
        """Write a returned output atomically, then journal it: the runner's order exactly."""
        total = len(self.items)
        output = self.out_dir / item.output_rel
        if result.get("ok") and not result.get("local"):
            try:
                data = result["data"]
                if hashlib.sha256(data).hexdigest() != result["output_sha256"]:
                    raise FileFailed(f"{item.rel}: the result was damaged on its way back from the worker")
                try:
                    output.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_bytes(output, data)
                except OSError as exc:
                    raise FileFailed(f"Cannot save {output.name}: {exc.strerror or exc}",
                                     disk_full=_is_disk_full(exc)) from exc
            except FileFailed as exc:
                result = {"ok": False, "message": str(exc), "disk_full": exc.disk_full}
        finished += 1
        if not result.get("ok"):
            message = readable(result["message"])
            self.journal.record(item.rel, FAILED, output=item.output_rel, error=message, **base)
            summary.failed.append((item.rel, message))
            if result.get("disk_full"):
                summary.stopped = "the disk is full: free some space and run the same command again to resume"
            return finished, FileEvent("failed", item.rel, total, finished, 1.0, message, item.source, None)
        self.journal.record(item.rel, DONE, output=item.output_rel, input_sha256=result["input_sha256"],
                            side_sha256=result["side_sha256"], output_sha256=result["output_sha256"],
                            seconds=round(result["seconds"], 3), notes=list(result["notes"]), **base)
        summary.done.append(item.rel)
        summary.outputs[item.rel] = output
        if worker is not None and worker in self._slots:
            st = self._slots[worker].stats
            st.files += 1
            st.busy_s += result["seconds"]
            rss = float(result.get("rss_mb", 0.0))
            st.rss_first_mb = st.rss_first_mb or rss
            if st.files == RSS_WARMUP:
                st.rss_warm_mb = rss
            st.rss_last_mb = rss
        if not result.get("local"):
            self.bytes_out += len(result.get("data") or b"")
        return finished, FileEvent("done", item.rel, total, finished, 1.0, "", item.source, output,
                                   tuple(result["notes"]), result["seconds"])

    def summary_lines(self) -> list[str]:
        """The end-of-run lines about the workers (the CLI prints them after the summary)."""
        if not self.stats:
            return []
        parts = [f"{s.name}@{s.host or '?'} {s.files} files" for s in self.stats]
        lines = [f"cluster: {note}" for note in self.notes]
        lines.append(f"cluster: start-up {self.startup_s:.1f} s; workers: " + ", ".join(parts))
        if self.lost_workers:
            lines.append(f"cluster: {self.lost_workers} worker(s) lost during the run; their files were redone")
        return lines

    def worker_line(self) -> str:
        live = [s for s in self.stats if s.alive]
        return "  ".join(f"{s.name} {s.files_per_s():.2f}/s" for s in live)


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file; OSError for anything else (a FIFO would block the driver)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 22)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _ray_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = next((line for line in text if line.strip()), type(exc).__name__)
    return f"{type(exc).__name__}: {first[:200]}"



class ClusterProgress(ProgressBar):
    """The usual progress line and ETA, plus files/s per worker."""

    def __init__(self, stream, run: ClusterBatchRun) -> None:
        super().__init__(stream)
        self.run = run

    def line(self, width: int = 80) -> str:
        workers = self.run.worker_line()
        if not workers:
            return super().line(width)
        return f"{super().line(max(40, width - len(workers) - 3))} | {workers}"[: width - 1]
