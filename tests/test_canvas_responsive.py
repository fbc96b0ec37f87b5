"""Issue 22 (C): the UI stays responsive — strokes end without copying their bounding box, Cancel
answers at once and ends the job, quitting with a job running asks and does not freeze."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from app.canvas.painting import TILE, Stroke, StrokePatch, paint_color, paint_one, set_label
from app.document.commands import PatchCommand
from app.document.document import Document, Layer


def _figure_eight(stroke: Stroke, w: int, h: int, radius: float, n: int = 60) -> None:
    pts = [(w / 2 + 0.4 * w * math.cos(t), h / 2 + 0.2 * h * math.sin(2 * t)) for t in np.linspace(0, 2 * math.pi, n)]
    stroke.dab(*pts[0], radius, 0.7)
    for p in pts[1:]:
        stroke.line_to(*p, radius, 0.7)


@pytest.mark.parametrize("layer, compose, opacity", [
    (Layer.IMAGE, paint_color((0.9, 0.1, 0.2)), 0.6),
    (Layer.MASK, paint_one, 1.0),
    (Layer.LABELS, set_label(4), 1.0),
])
def test_stroke_patches_undo_and_redo_exactly_across_overlapping_strokes(layer, compose, opacity):
    rng = np.random.default_rng(3)
    doc = Document(rng.random((3 * TILE + 31, 5 * TILE + 7, 3), dtype=np.float32))
    stack = QUndoStack()
    states = [doc.layer_array(layer).copy()]
    for k, radius in enumerate((9.0, 23.0)):
        stroke = Stroke(doc, layer, compose, opacity)
        _figure_eight(stroke, doc.width - 40 * k, doc.height, radius)
        rect, before, after = stroke.commit()
        assert isinstance(before, StrokePatch) and before.shape == doc.layer_array(layer)[rect[1]:rect[1] + rect[3], rect[0]:rect[0] + rect[2]].shape
        # the patches are what a bbox copy would have been
        x, y, w, h = rect
        np.testing.assert_array_equal(np.asarray(after), doc.layer_array(layer)[y:y + h, x:x + w])
        np.testing.assert_array_equal(np.asarray(before), states[-1][y:y + h, x:x + w])
        stack.push(PatchCommand(doc, layer, rect, before, after, "Brush"))
        states.append(doc.layer_array(layer).copy())
    for want in (states[1], states[0]):
        stack.undo()
        np.testing.assert_array_equal(doc.layer_array(layer), want)
    for want in (states[1], states[2]):
        stack.redo()
        np.testing.assert_array_equal(doc.layer_array(layer), want)


def test_a_stroke_that_changes_nothing_commits_nothing():
    doc = Document(np.zeros((300, 300, 3), np.float32))
    doc.mask[:] = 1.0
    stroke = Stroke(doc, Layer.MASK, paint_one)
    _figure_eight(stroke, 300, 300, 12.0)
    assert stroke.commit() is None


# ----------------------------------------------------------------------------- tiling: cheaper blend


def _blend_everywhere(image, fn, scale, tile, overlap):
    """Reference: every tile blended over its whole area (the weighted running mean, no fast path)."""
    from engines import tiling

    h, w = image.shape[:2]
    overlap = max(0, min(int(overlap), tile // 2))
    if tile >= h and tile >= w:
        overlap = 0
    out, wsum = None, np.zeros((h * scale, w * scale), np.float32)
    for t in tiling.plan_tiles(h, w, tile, overlap):
        r = fn(image[t.y:t.y + t.h, t.x:t.x + t.w])[: t.h * scale, : t.w * scale].astype(np.float32)
        out = np.zeros((h * scale, w * scale, r.shape[2]), np.float32) if out is None else out
        wts = tiling.tile_weights(t, scale, overlap)
        ys, xs = slice(t.y * scale, (t.y + t.h) * scale), slice(t.x * scale, (t.x + t.w) * scale)
        total = wsum[ys, xs] + wts
        frac = np.divide(wts, total, out=np.zeros_like(wts), where=total > 0)
        region = out[ys, xs]
        delta = np.subtract(r, region)
        delta *= frac[:, :, None]
        region += delta
        wsum[ys, xs] = total
    return out


@pytest.mark.parametrize("h, w, tile, overlap, scale", [
    (100, 130, 32, 8, 1), (97, 61, 40, 12, 2), (64, 200, 48, 16, 4), (50, 50, 64, 8, 3), (33, 180, 32, 31, 2),
])
def test_tiling_fast_path_is_bit_exact_to_blending_everywhere(h, w, tile, overlap, scale):
    from engines import tiling
    from engines.core.cancel import CancelToken

    from tests.generators import run_to_end

    rng = np.random.default_rng(h * w)
    image = rng.random((h, w, 3), dtype=np.float32)
    calls = iter(range(10_000))

    def fn(patch):  # each tile differs (a network's tile-dependent output), so overlaps really blend
        k = next(calls)
        up = np.repeat(np.repeat(patch, scale, 0), scale, 1)
        return up * (1.0 + 0.01 * k) + 0.003 * k

    got, _ = run_to_end(tiling.run_tiled(image, fn, scale, tile, overlap, CancelToken()))
    calls = iter(range(10_000))
    np.testing.assert_array_equal(got, _blend_everywhere(image, fn, scale, tile, overlap))


# ----------------------------------------------------------------------------- cancel within a layer


def test_sr_cancel_is_checked_before_every_layer_and_the_hooks_go_away():
    from engines.core import UpscaleRequest, registry
    from engines.core.cancel import Cancelled, CancelToken
    from engines.core.device import make_context
    from engines.core.protocol import Progress

    engine = registry.get("upscale", "default").engine_for(4)
    module = engine._module_for("cpu", "float32")
    token = CancelToken()
    ctx = make_context(engine.info, cancel=token, device="cpu")
    layers = [m for m in module.modules() if next(m.children(), None) is None]
    ran = []
    def spy_hook(m, _inputs, _output):  # returns None: the output is left alone
        ran.append(m)
        if len(ran) == 3:  # the third layer cancels: the fourth must not run, and no tile completes
            token.cancel()

    spy = [m.register_forward_hook(spy_hook) for m in layers]
    try:
        gen = engine.run(UpscaleRequest(np.random.default_rng(0).random((300, 300, 3), dtype=np.float32), scale=4), ctx)
        events = []
        with pytest.raises(Cancelled):
            for ev in gen:
                events.append(ev)
    finally:
        for h in spy:
            h.remove()
    assert len(ran) == 3
    assert not [e for e in events if isinstance(e, Progress) and e.fraction > 0]
    assert all(not m._forward_pre_hooks for m in module.modules())  # nothing left on the shared module


def test_sr_on_the_cpu_uses_small_tiles_unless_asked():
    from engines.core import UpscaleRequest, registry
    from engines.core.device import make_context
    from engines.sr.engine import CPU_TILE

    from tests.generators import result_of

    engine = registry.get("upscale", "default")
    img = np.random.default_rng(1).random((40, 48, 3), dtype=np.float32)
    res = result_of(engine.run(UpscaleRequest(img, scale=4), make_context(engine.info, device="cpu")))
    assert res.extras["tile"] <= CPU_TILE
    res = result_of(engine.run(UpscaleRequest(img, scale=4, tile=640), make_context(engine.info, device="cpu")))
    assert res.extras["tile"] == 640


# ----------------------------------------------------------------------------- Cancel and Quit in the window


class _SlowEngine:
    """Steps of 10 ms, checking Cancel between them (a well-behaved engine)."""

    def __init__(self):
        from engines.core.protocol import EngineInfo, Task

        self.info = EngineInfo(id="slow", task=Task.UPSCALE, title="Slow job", license="MIT")

    def run(self, request, ctx):
        import time as _time

        from engines.core.protocol import Progress, Result

        for i in range(3000):
            ctx.cancel.raise_if_cancelled()
            _time.sleep(0.01)
            yield Progress(i + 1, 3000, f"step {i + 1}")
        return Result(image=np.zeros((2, 2, 3), np.float32))


@pytest.fixture
def win(qtbot):
    from app.mainwindow import MainWindow

    w = MainWindow()
    w.quiet_errors = True
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.runner.cancel_all()
    w.undo.setClean()


def _start_slow_job(win, qtbot):
    from app.jobs import Job

    with qtbot.waitSignal(win.runner.progress, timeout=10_000):
        job_id = win.runner.submit(Job(engine=_SlowEngine(), request=None))
    return job_id


def test_cancel_says_cancelling_at_once_then_ends_the_job(win, qtbot):
    job_id = _start_slow_job(win, qtbot)
    assert win.status.cancel.isVisible() and win.status.cancel.isEnabled()
    with qtbot.waitSignal(win.runner.cancelled, timeout=10_000) as blocker:
        win.status.cancel.click()
        # before any event is processed: the answer is synchronous
        assert "Cancelling…" in win.status.job_label.text()
        assert not win.status.cancel.isEnabled()
    assert blocker.args == [job_id]
    qtbot.waitUntil(lambda: not win.runner.is_busy)
    assert not win.status.job_label.isVisible()
    assert win.status.cancel.isEnabled() and win.status.cancel.text() == "Cancel"  # ready for the next job


def test_progress_arriving_after_cancel_does_not_hide_cancelling(win, qtbot):
    _start_slow_job(win, qtbot)
    win.job_control.cancel()
    win.runner.progress.emit(999, 0.5, "tile 3/6")  # a progress already on its way
    win._job_progress(999, 0.5, "tile 3/6")
    qtbot.wait(20)
    if win.runner.is_busy:
        assert "Cancelling…" in win.status.job_label.text()


def test_quit_with_a_job_running_asks_and_keep_working_keeps_it(win, qtbot, monkeypatch):
    _start_slow_job(win, qtbot)
    asked = []
    monkeypatch.setattr(win.job_control, "ask_quit", lambda label: asked.append(label) or False)
    win.close()
    assert asked == ["Slow job"]
    assert win.isVisible() and win.runner.is_busy  # Keep working: nothing stopped


def test_quit_anyway_hides_then_stops_the_worker(win, qtbot, monkeypatch):
    _start_slow_job(win, qtbot)
    monkeypatch.setattr(win.job_control, "ask_quit", lambda label: True)
    hidden_before_wait = []
    real_shutdown = win.runner.shutdown
    monkeypatch.setattr(win.runner, "shutdown", lambda timeout_s=10.0: (hidden_before_wait.append(not win.isVisible()), real_shutdown(timeout_s))[1])
    win.close()
    assert hidden_before_wait == [True]
    assert not win.runner._thread.is_alive()
    assert not win.runner.is_busy


def test_quit_with_nothing_running_does_not_ask(win, monkeypatch):
    monkeypatch.setattr(win.job_control, "ask_quit", lambda label: pytest.fail("asked with no job"))
    win.close()
    assert not win.isVisible()
