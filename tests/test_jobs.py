"""The job runner's contract: one worker, FIFO applies, latest-wins previews, signals on the UI thread."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import importlib.util
import logging
import sys
import threading
import time

import numpy as np
import pytest

from app.jobs import Job, JobRunner
from engines.core import (
    EngineError,
    EngineInfo,
    Preview,
    Progress,
    Result,
    RunContext,
    Task,
    UpscaleRequest,
)

TIMEOUT_MS = 5000


class FakeEngine:
    """A generator engine: ``steps`` progress events, a short sleep each, a cancel check each."""

    info = EngineInfo(id="fake", task=Task.UPSCALE, title="Fake", license="MIT")

    def __init__(self, steps=3, delay=0.0, fail=None, check_cancel=True, preview_every=0, done=None):
        self.steps = steps
        self.delay = delay
        self.fail = fail  # an exception raised after the first step
        self.check_cancel = check_cancel
        self.preview_every = preview_every
        self.done = done  # a threading.Event set just before returning
        self.threads: list[int] = []
        self.steps_run = 0
        self.contexts: list[RunContext] = []

    def run(self, request, ctx):
        self.threads.append(threading.get_ident())
        self.contexts.append(ctx)
        for step in range(self.steps):
            if self.check_cancel:
                ctx.cancel.raise_if_cancelled()
            if self.delay:
                time.sleep(self.delay)
            self.steps_run += 1
            if self.fail is not None:
                raise self.fail
            yield Progress(step + 1, self.steps, f"step {step + 1}")
            if self.preview_every and (step + 1) % self.preview_every == 0:
                yield Preview(np.full((2, 2, 3), step / self.steps, np.float32))
        if self.done is not None:
            self.done.set()
        return Result(image=np.full((4, 6, 3), request, np.float32))


class Recorder:
    """Every signal of a runner, in the order the UI thread received it."""

    def __init__(self, runner: JobRunner):
        self.events: list[tuple] = []
        self.threads: set[int] = set()
        for name in ("started", "progress", "preview", "finished", "failed", "cancelled"):
            getattr(runner, name).connect(self._make(name))
        runner.idle.connect(self._make("idle"))
        runner.busy_changed.connect(self._make("busy"))

    def _make(self, name):
        def record(*args):
            self.threads.add(threading.get_ident())
            self.events.append((name, *args))

        return record

    def of(self, job_id):
        return [e[0] for e in self.events if len(e) > 1 and e[0] != "busy" and e[1] == job_id]

    def ends(self, job_id):
        return [k for k in self.of(job_id) if k in ("finished", "failed", "cancelled")]


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.shutdown(timeout_s=2)


@pytest.fixture
def rec(runner):
    return Recorder(runner)


def run_until_idle(qtbot, runner, *jobs):
    with qtbot.waitSignal(runner.idle, timeout=TIMEOUT_MS):
        ids = [runner.submit(job) for job in jobs]
    return ids


def test_signals_arrive_in_strict_order(qtbot, runner):
    job = Job(FakeEngine(steps=1), 0.5, label="one")
    with qtbot.waitSignals(
        [
            (runner.started, "started"),
            (runner.progress, "progress"),
            (runner.finished, "finished"),
            (runner.idle, "idle"),
        ],
        order="strict",
        timeout=TIMEOUT_MS,
    ) as blocker:
        job_id = runner.submit(job)
    started, progress, finished = blocker.all_signals_and_args[:3]
    assert list(started.args) == [job_id, "one"]
    assert list(progress.args) == [job_id, 1.0, "step 1"]
    assert finished.args[0] == job_id
    result = finished.args[1]
    assert isinstance(result, Result) and result.image.shape == (4, 6, 3)
    assert float(result.image[0, 0, 0]) == 0.5


def test_full_event_sequence(qtbot, runner, rec):
    # 50 ms per step is slower than the progress throttle, so every progress arrives.
    (job_id,) = run_until_idle(qtbot, runner, Job(FakeEngine(steps=3, delay=0.05), 0.0))
    assert rec.of(job_id) == ["started", "progress", "progress", "progress", "finished"]
    fractions = [e[2] for e in rec.events if e[0] == "progress"]
    assert fractions == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert [e for e in rec.events if e[0] in ("busy", "idle")] == [
        ("busy", True), ("busy", False), ("idle",)
    ]
    assert not runner.is_busy and runner.pending_count == 0


def test_engine_runs_off_the_ui_thread_and_signals_arrive_on_it(qtbot, runner, rec):
    engine = FakeEngine(steps=2)
    run_until_idle(qtbot, runner, Job(engine, 0.0))
    ui = threading.get_ident()
    assert engine.threads and engine.threads[0] != ui
    assert rec.threads == {ui}


def test_runner_builds_a_context_with_the_job_token(qtbot, runner):
    engine = FakeEngine(steps=1)
    job = Job(engine, 0.0)
    run_until_idle(qtbot, runner, job)
    (ctx,) = engine.contexts
    assert isinstance(ctx, RunContext)
    assert ctx.device == "cpu"  # fake engine does not use torch
    assert job.ctx is ctx


def test_a_given_context_is_used_as_is(qtbot, runner):
    engine = FakeEngine(steps=1)
    ctx = RunContext(tile=64)
    run_until_idle(qtbot, runner, Job(engine, 0.0, ctx=ctx))
    assert engine.contexts == [ctx]


def test_apply_jobs_run_fifo_one_at_a_time(qtbot, runner, rec):
    active = []
    overlap = []

    class Tracking(FakeEngine):
        def run(self, request, ctx):
            active.append(request)
            overlap.append(len(active))
            result = yield from super().run(request, ctx)
            active.remove(request)
            return result

    engine = Tracking(steps=2, delay=0.01)
    ids = run_until_idle(qtbot, runner, *(Job(engine, v / 10, label=f"j{v}") for v in range(4)))
    started = [e[1] for e in rec.events if e[0] == "started"]
    finished = [e[1] for e in rec.events if e[0] == "finished"]
    assert started == ids and finished == ids
    assert max(overlap) == 1
    assert [e[2] for e in rec.events if e[0] == "started"] == ["j0", "j1", "j2", "j3"]


def test_cancel_running_job_stops_within_one_step(qtbot, runner, rec):
    engine = FakeEngine(steps=200, delay=0.02)
    with qtbot.waitSignal(runner.progress, timeout=TIMEOUT_MS):
        job_id = runner.submit(Job(engine, 0.0))
    with qtbot.waitSignal(runner.cancelled, timeout=TIMEOUT_MS) as blocker:
        steps_at_cancel = engine.steps_run
        assert runner.cancel(job_id)
    assert blocker.args == [job_id]
    assert engine.steps_run <= steps_at_cancel + 1
    assert rec.ends(job_id) == ["cancelled"]
    assert not runner.cancel(job_id)  # already over
    # The worker carries on with the next job.
    (next_id,) = run_until_idle(qtbot, runner, Job(FakeEngine(steps=1), 0.0))
    assert rec.ends(next_id) == ["finished"]


def test_engine_that_ignores_its_token_is_stopped_between_steps(qtbot, runner, rec):
    engine = FakeEngine(steps=200, delay=0.02, check_cancel=False)
    with qtbot.waitSignal(runner.progress, timeout=TIMEOUT_MS):
        job_id = runner.submit(Job(engine, 0.0))
    with qtbot.waitSignal(runner.cancelled, timeout=TIMEOUT_MS):
        steps_at_cancel = engine.steps_run
        runner.cancel(job_id)
    assert engine.steps_run <= steps_at_cancel + 1
    assert rec.ends(job_id) == ["cancelled"]


def test_cancel_queued_job_never_starts(qtbot, runner, rec):
    slow = Job(FakeEngine(steps=10, delay=0.02), 0.0)
    queued = Job(FakeEngine(steps=1), 0.0)
    with qtbot.waitSignal(runner.idle, timeout=TIMEOUT_MS):
        slow_id = runner.submit(slow)
        queued_id = runner.submit(queued)
        assert runner.pending_count >= 1
        assert runner.cancel(queued_id)
        assert rec.ends(queued_id) == ["cancelled"]  # at once, on the caller's thread
    assert rec.of(queued_id) == ["cancelled"]
    assert rec.ends(slow_id) == ["finished"]


def test_cancel_all_drains_the_queue(qtbot, runner, rec):
    with qtbot.waitSignal(runner.started, timeout=TIMEOUT_MS):
        ids = [runner.submit(Job(FakeEngine(steps=200, delay=0.02), 0.0)) for _ in range(3)]
    with qtbot.waitSignal(runner.idle, timeout=TIMEOUT_MS):
        runner.cancel_all()
    assert [rec.ends(i) for i in ids] == [["cancelled"]] * 3
    assert rec.of(ids[1]) == ["cancelled"] and rec.of(ids[2]) == ["cancelled"]
    assert runner.pending_count == 0 and not runner.is_busy


def test_previews_latest_wins(qtbot, runner, rec):
    engine = FakeEngine(steps=5, delay=0.02)
    jobs = [Job(engine, i / 10, kind="preview", key="inpaint-preview") for i in range(5)]
    ids = run_until_idle(qtbot, runner, *jobs)
    assert [job.generation for job in jobs] == [1, 2, 3, 4, 5]
    assert runner.latest_generation("inpaint-preview") == 5
    assert runner.latest_generation("other") == 0
    assert rec.ends(ids[-1]) == ["finished"]
    for job_id in ids[:-1]:
        assert rec.ends(job_id) == ["cancelled"]
    finished = [e for e in rec.events if e[0] == "finished"]
    assert len(finished) == 1 and float(finished[0][2].image[0, 0, 0]) == pytest.approx(0.4)


def test_previews_of_other_keys_and_applies_are_not_superseded(qtbot, runner, rec):
    engine = FakeEngine(steps=2, delay=0.01)
    ids = run_until_idle(
        qtbot,
        runner,
        Job(engine, 0.0, kind="preview", key="a"),
        Job(engine, 0.0, kind="preview", key="b"),
        Job(engine, 0.0),
        Job(engine, 0.0),
    )
    assert [rec.ends(i) for i in ids] == [["finished"]] * 4


def test_stale_preview_result_is_dropped_by_generation(qtbot, runner, rec):
    done = threading.Event()
    first = Job(FakeEngine(steps=1, done=done), 0.1, kind="preview", key="k")
    second = Job(FakeEngine(steps=1), 0.2, kind="preview", key="k")
    with qtbot.waitSignal(runner.idle, timeout=TIMEOUT_MS):
        first_id = runner.submit(first)
        # Block the UI thread (no event processing) until the first result is in the outbox,
        # then supersede it: its token was never cancelled, only its generation is old now.
        assert done.wait(5)
        time.sleep(0.2)
        assert not first.cancel_requested
        second_id = runner.submit(second)
        assert not first.cancel_requested
    assert rec.ends(first_id) == ["cancelled"]
    assert rec.ends(second_id) == ["finished"]
    assert [e[1] for e in rec.events if e[0] == "finished"] == [second_id]


def test_stale_preview_images_are_not_shown(qtbot, runner, rec):
    done = threading.Event()
    first = Job(FakeEngine(steps=2, preview_every=1, done=done), 0.0, kind="preview", key="k")
    with qtbot.waitSignal(runner.idle, timeout=TIMEOUT_MS):
        first_id = runner.submit(first)
        assert done.wait(5)
        time.sleep(0.2)
        runner.submit(Job(FakeEngine(steps=1), 0.0, kind="preview", key="k"))
    assert "preview" not in rec.of(first_id)


def test_previews_are_coalesced_to_the_newest(qtbot, runner, rec):
    engine = FakeEngine(steps=2, delay=0.05, preview_every=1)
    (job_id,) = run_until_idle(qtbot, runner, Job(engine, 0.0))
    images = [e[2] for e in rec.events if e[0] == "preview"]
    assert 1 <= len(images) <= 2 and images[-1].shape == (2, 2, 3)
    assert rec.of(job_id)[-1] == "finished"


def test_engine_error_fails_with_its_message(qtbot, runner, rec):
    engine = FakeEngine(steps=3, fail=EngineError("mask is 10x10 but the image is 20x20"))
    (job_id,) = run_until_idle(qtbot, runner, Job(engine, 0.0))
    assert rec.ends(job_id) == ["failed"]
    assert ("failed", job_id, "mask is 10x10 but the image is 20x20") in rec.events


def test_unexpected_exception_is_reported_and_the_worker_survives(qtbot, runner, rec, caplog):
    caplog.set_level(logging.ERROR, logger="app.jobs")
    broken = Job(FakeEngine(steps=3, fail=ValueError("boom")), 0.0, label="Broken")
    healthy = Job(FakeEngine(steps=1), 0.0)
    broken_id, healthy_id = run_until_idle(qtbot, runner, broken, healthy)
    (message,) = [e[2] for e in rec.events if e[0] == "failed"]
    assert message == "Unexpected error in Broken: ValueError: boom"
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    assert rec.ends(broken_id) == ["failed"] and rec.ends(healthy_id) == ["finished"]


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError("CUDA out of memory. Tried to allocate")])
def test_out_of_memory_is_reported_clearly(qtbot, runner, rec, error):
    (job_id,) = run_until_idle(qtbot, runner, Job(FakeEngine(fail=error), 0.0, label="Upscale"))
    (message,) = [e[2] for e in rec.events if e[0] == "failed"]
    assert message.startswith("Out of memory while running Upscale.")


def test_non_result_return_is_a_failure(qtbot, runner, rec):
    class Wrong(FakeEngine):
        def run(self, request, ctx):
            yield Progress(1, 1)
            return "not a result"

    (job_id,) = run_until_idle(qtbot, runner, Job(Wrong(), 0.0))
    assert rec.ends(job_id) == ["failed"]
    assert "expected Result" in [e for e in rec.events if e[0] == "failed"][0][2]


def test_progress_is_throttled_but_the_last_one_arrives(qtbot, runner, rec):
    engine = FakeEngine(steps=20000)
    t0 = time.monotonic()
    run_until_idle(qtbot, runner, Job(engine, 0.0))
    elapsed = time.monotonic() - t0
    fractions = [e[2] for e in rec.events if e[0] == "progress"]
    assert len(fractions) <= 30 * elapsed + 2
    assert fractions[-1] == 1.0


def test_shutdown_with_a_long_job_returns_promptly(qtbot, rec):
    runner = JobRunner()
    recorder = Recorder(runner)
    with qtbot.waitSignal(runner.started, timeout=TIMEOUT_MS):
        long_id = runner.submit(Job(FakeEngine(steps=10000, delay=0.01), 0.0))
    queued_id = runner.submit(Job(FakeEngine(steps=1), 0.0))
    t0 = time.monotonic()
    assert runner.shutdown() is True
    assert time.monotonic() - t0 < 2.0
    assert not runner._thread.is_alive()
    # Every job has its end signal once shutdown returns (the running one's was pumped).
    assert recorder.ends(long_id) == ["cancelled"] and recorder.ends(queued_id) == ["cancelled"]
    assert not runner.is_busy
    assert runner.shutdown(timeout_s=0.1) is True  # idempotent
    with pytest.raises(RuntimeError):
        runner.submit(Job(FakeEngine(), 0.0))


def test_submit_after_shutdown_raises(qtbot, runner):
    runner.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit(Job(FakeEngine(), 0.0))


def test_job_validation(qtbot, runner):
    with pytest.raises(ValueError):
        Job(FakeEngine(), 0.0, kind="batch")
    with pytest.raises(ValueError):
        Job(FakeEngine(), 0.0, kind="preview")  # no key
    assert Job(FakeEngine(), 0.0).label == "Fake"
    job = Job(FakeEngine(steps=1), 0.0)
    run_until_idle(qtbot, runner, job)
    with pytest.raises(ValueError):
        runner.submit(job)  # a Job runs once


@pytest.mark.skipif(
    importlib.util.find_spec("engines.classical") is None,
    reason="engines.classical (the bicubic engine) is not in the tree yet",
)
def test_real_bicubic_engine_through_the_runner(qtbot, runner, rec):
    from engines.core import get

    engine = get("upscale", "bicubic")
    image = np.random.default_rng(0).random((8, 10, 3), dtype=np.float32)
    (job_id,) = run_until_idle(qtbot, runner, Job(engine, UpscaleRequest(image=image, scale=2)))
    assert rec.ends(job_id) == ["finished"], rec.events
    result = [e[2] for e in rec.events if e[0] == "finished"][0]
    assert result.image.shape == (16, 20, 3)
    assert result.image.dtype == np.float32


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="bools are immortal from CPython 3.12")
def test_signal_emits_do_not_leak_references_to_true(qtbot, runner):
    # PySide6 6.12.0's Signal.emit steals a reference to True on CPython 3.11 (the interpreter
    # aborts at exit); the runner compensates. ~8 emits per job, 20 jobs.
    before = sys.getrefcount(True)
    run_until_idle(qtbot, runner, *(Job(FakeEngine(steps=2), 0.0) for _ in range(20)))
    assert sys.getrefcount(True) >= before - 10
