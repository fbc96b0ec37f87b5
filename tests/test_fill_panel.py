"""The Fill panel (issue 19, user control): the sample-from area painted with the mask tools (its own
layer, its own colour, undoable, sent to the engine), Variations (one cancellable job, three
candidates, one picked = one undo step) and the method list.

The texture engine here uses Telea as its structure guide (no network to load) on small photos, so
every fill takes a fraction of a second on the CPU.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from app.document.document import Document, Layer
from app.mainwindow import MainWindow
from app.widgets.model_list import listed_infos
from app.tools.base import ToolEvent
from engines.core import registry
from engines.core.protocol import EngineInfo, InpaintRequest, Input, Progress, RunContext, Task, drive
from engines.imageio import save_image
from engines.inpaint.texture import TextureFillEngine, texture_info

TEX_ID = "texture-apptest"
SLOW_ID = "texture-slowtest"


def _photo(h: int = 48, w: int = 64) -> np.ndarray:
    """Left half red, right half blue, with a little texture so patches differ."""
    rng = np.random.default_rng(0)
    img = np.zeros((h, w, 3), np.float32)
    img[:, : w // 2] = (0.85, 0.15, 0.1)
    img[:, w // 2 :] = (0.1, 0.2, 0.85)
    img += rng.normal(0, 0.04, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 1)


class _SlowTexture(TextureFillEngine):
    """Stands in for a big photo: steps until cancelled (checks its token like a real engine)."""

    def run(self, request, ctx):
        for i in range(2000):
            ctx.cancel.raise_if_cancelled()
            yield Progress(i, 2000, "searching")
            time.sleep(0.005)
        return (yield from super().run(request, ctx))


@pytest.fixture
def engines():
    registry.get(Task.INPAINT, "telea")  # builtins first, so they do not replace ours later
    info = texture_info(TEX_ID, "Telea (test)")
    registry.register(info, lambda: TextureFillEngine(info, ""))
    slow = texture_info(SLOW_ID, "slow (test)")
    registry.register(slow, lambda: _SlowTexture(slow, ""))
    yield
    for mid in (TEX_ID, SLOW_ID):
        registry.unregister(Task.INPAINT, mid)


@pytest.fixture
def win(qtbot, tmp_path, engines):
    path = tmp_path / "halves.png"
    save_image(path, _photo())
    w = MainWindow()
    w.quiet_errors = True
    w.resize(1000, 760)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(path)
    dock = w.engines_dock
    dock.refresh_models()
    dock.inpaint_model.setCurrentIndex(dock.inpaint_model.findData(TEX_ID))
    w.set_tool("mask")
    yield w
    w.engines_dock.fill.discard_variations()
    qtbot.waitUntil(lambda: not w.runner.is_busy, timeout=20000)
    w.undo.setClean()
    w.close()
    w.deleteLater()


def _drag(tool, points, button=Qt.MouseButton.LeftButton):
    """A stroke through image points with ``tool`` (press, moves, release)."""
    def ev(x, y, b=button, bs=button):
        return ToolEvent(x, y, b, bs, Qt.KeyboardModifier.NoModifier, QPointF(x, y))
    tool.press(ev(*points[0]))
    for p in points[1:]:
        tool.move(ev(*p, b=Qt.MouseButton.NoButton))
    tool.release(ev(*points[-1], bs=Qt.MouseButton.NoButton))


def _rect(win, layer_target: str, x0, y0, x1, y1):
    """The rectangle tool on the fill mask or the sample-from area."""
    win.engines_dock.fill.paint_target(layer_target)
    win.set_tool("mask_rect")
    _drag(win.tools["mask_rect"], [(x0, y0), (x1, y1)])


# ----------------------------------------------------------------------------- sample-from area
def test_sample_from_stroke_paints_its_own_layer_in_its_own_colour_and_undoes(win):
    doc, fill = win.canvas.doc, win.engines_dock.fill
    fill.paint_target("source")
    assert win.state.mask_target == "source" and win.actions_by_id["mask_source"].isChecked()
    assert fill.paint_source.isChecked()
    count = win.undo.count()
    _drag(win.tools["mask"], [(8, 10), (20, 10), (20, 30)])
    assert doc.source.max() == 1.0 and not doc.mask.any(), "the stroke painted the sample-from area only"
    assert win.undo.count() == count + 1
    assert win.undo.text(win.undo.index() - 1) == "Paint sample-from area"
    painted = doc.source.copy()
    # shown in the sample-from colour, not the mask's
    assert win.canvas._source_any and not win.canvas._mask_any
    y, x = np.argwhere(painted == 1.0)[0]
    r, g, b, a = win.canvas._source_rgba[y, x]
    assert a > 0 and g > r and g > b
    win.undo.undo()
    assert not doc.source.any()
    win.undo.redo()
    np.testing.assert_array_equal(doc.source, painted)
    # the right button erases it, one more undo step
    _drag(win.tools["mask"], [(8, 10), (20, 10), (20, 30)], button=Qt.MouseButton.RightButton)
    assert win.undo.text(win.undo.index() - 1) == "Erase sample-from area"
    assert doc.source.max() < painted.max()
    win.undo.undo()
    np.testing.assert_array_equal(doc.source, painted)
    # back to the fill mask: Shift+M's action toggles it
    win.actions_by_id["mask_source"].trigger()
    assert win.state.mask_target == "fill" and fill.paint_fill.isChecked()
    _drag(win.tools["mask"], [(40, 20), (44, 24)])
    assert doc.mask.any()
    np.testing.assert_array_equal(doc.source, painted)


def test_sample_from_line_and_clear_are_undoable(qtbot, win):
    doc, fill = win.canvas.doc, win.engines_dock.fill
    assert "whole photo" in fill.source_line.text() and not fill.source_clear.isEnabled()
    _rect(win, "source", 0, 0, 32, 48)
    assert win.undo.text(win.undo.index() - 1) == "Add rectangle sample-from area"
    qtbot.waitUntil(lambda: "painted" in fill.source_line.text())
    assert "50 %" in fill.source_line.text() and fill.source_clear.isEnabled()
    painted = doc.source.copy()
    fill.source_clear.click()
    assert not doc.source.any() and win.undo.text(win.undo.index() - 1) == "Clear sample-from area"
    qtbot.waitUntil(lambda: "whole photo" in fill.source_line.text())
    win.undo.undo()
    np.testing.assert_array_equal(doc.source, painted)
    # the Mask menu's operations follow the target: invert the sample-from area
    win.mask_op("invert")
    assert win.undo.text(win.undo.index() - 1) == "Invert sample-from area"
    np.testing.assert_allclose(doc.source, 1.0 - painted)
    assert not doc.mask.any()


def test_fill_request_carries_the_sample_from_area_and_the_engine_honours_it(qtbot, win):
    doc = win.canvas.doc
    _rect(win, "fill", 40, 16, 56, 32)  # a hole in the blue half
    _rect(win, "source", 0, 0, 30, 48)  # texture may only come from the red half
    assert doc.mask.any() and doc.source.any()
    hole = doc.mask > 0
    image, mask = doc.image.copy(), doc.mask.copy()
    with qtbot.waitSignal(win.engines.applied, timeout=30000):
        job_id = win.engines_dock.run_inpaint()
        assert job_id is not None
        request = win.engines._pending[job_id][2]
    np.testing.assert_array_equal(request.source, (doc.source >= 0.5).astype(np.float32))
    assert request.source.dtype == np.float32 and request.source.shape == hole.shape and request.seed == 0
    engine = registry.get(Task.INPAINT, TEX_ID)
    from_red = drive(engine.run(InpaintRequest(image, mask, source=request.source), RunContext())).image
    anywhere = drive(engine.run(InpaintRequest(image, mask), RunContext())).image
    np.testing.assert_allclose(doc.image, from_red, atol=1e-6)
    # texture from the red half only: redder than a fill from the blue surroundings
    assert from_red[hole][:, 0].mean() > anywhere[hole][:, 0].mean() + 0.1
    assert not doc.mask.any() and doc.source.any(), "Fill clears the hole; the sample-from area stays"
    # without a sample-from area the request says "default" (None)
    win.undo.undo()
    win.engines_dock.fill.clear_source()
    with qtbot.waitSignal(win.engines.applied, timeout=30000):
        job_id = win.engines_dock.run_inpaint()
        assert win.engines._pending[job_id][2].source is None
    np.testing.assert_allclose(doc.image, anywhere, atol=1e-6)


def test_sample_from_inside_the_hole_only_is_refused_with_a_message(win):
    errors = []
    win.engines.error.connect(errors.append)
    _rect(win, "fill", 10, 10, 30, 30)
    _rect(win, "source", 12, 12, 28, 28)
    assert win.engines_dock.run_inpaint() is None
    assert errors and "sample-from" in errors[-1]


def test_snapshot_keeps_the_sample_from_area():
    doc = Document(_photo(8, 8))
    doc.source[2:4, 2:4] = 1.0
    state = doc.snapshot()
    doc.source[:] = 0
    doc.restore(state)
    assert doc.source[2:4, 2:4].all() and doc.source.sum() == 4
    assert doc.sample_from() is not None
    doc.restore(Document(_photo(8, 8)).snapshot())
    assert not doc.source.any() and doc.sample_from() is None


# ----------------------------------------------------------------------------- variations
def _wait_variations(qtbot, fill):
    qtbot.waitUntil(lambda: not fill.variations_running, timeout=60000)


def test_variations_show_three_candidates_and_picking_one_is_one_undo_step(qtbot, win):
    doc, fill = win.canvas.doc, win.engines_dock.fill
    _rect(win, "fill", 38, 14, 56, 34)
    before, mask = doc.image.copy(), doc.mask.copy()
    count = win.undo.count()
    job_id = fill.variations()
    assert job_id is not None and fill.variations_running and fill.variations_button.text() == "Stop"
    assert fill.variations_box.isVisible() and fill.gallery.count() == 3
    _wait_variations(qtbot, fill)
    assert fill.variations_button.text() == "Variations"
    items = [fill.gallery.item(i) for i in range(fill.gallery.count())]
    data = [it.data(Qt.ItemDataRole.UserRole) for it in items]
    assert [d[0] for d in data] == [0, 1, 2], "seeds 0, 1, 2"
    images = [d[1] for d in data]
    assert any(not np.array_equal(images[0], im) for im in images[1:]), "the seeds give different fills"
    for im in images:
        np.testing.assert_array_equal(im[mask == 0], before[mask == 0])
    # nothing changed yet; the first one is shown on the photo as a preview
    np.testing.assert_array_equal(doc.image, before)
    assert win.undo.count() == count and win.canvas._preview is not None
    # a click previews another; Use applies it
    fill.gallery.setCurrentItem(items[2])
    from app.canvas.mipmap import RGB  # the display buffer's channel order (B, G, R on little-endian)

    shown = win.canvas._preview[1][..., list(RGB)]
    np.testing.assert_array_equal(shown, np.round(np.clip(images[2], 0, 1) * 255).astype(np.uint8))
    assert fill.use_variation()
    assert win.undo.count() == count + 1, "fill and mask clear are one undo step"
    assert win.undo.text(win.undo.index() - 1).startswith("Fill variation 3")
    hole = mask > 0
    np.testing.assert_array_equal(doc.image[hole], images[2][hole])
    np.testing.assert_array_equal(doc.image[~hole], before[~hole])
    assert not doc.mask.any() and not fill.variations_box.isVisible() and fill.gallery.count() == 0
    assert win.canvas._preview is None
    win.undo.undo()
    np.testing.assert_array_equal(doc.image, before)
    np.testing.assert_array_equal(doc.mask, mask)
    win.undo.redo()
    np.testing.assert_array_equal(doc.image[hole], images[2][hole])


def test_variations_use_the_sample_from_area(qtbot, win):
    doc, fill = win.canvas.doc, win.engines_dock.fill
    _rect(win, "fill", 40, 16, 56, 32)
    _rect(win, "source", 0, 0, 30, 48)
    fill.variations()
    _wait_variations(qtbot, fill)
    hole = doc.mask >= 0.5
    for i in range(3):
        image = fill.gallery.item(i).data(Qt.ItemDataRole.UserRole)[1]
        assert image[hole][:, 0].mean() > 0.25, "texture from the red half (blue around: red ~0.1)"


def test_variations_can_be_stopped_and_change_nothing(qtbot, win):
    doc, fill, dock = win.canvas.doc, win.engines_dock.fill, win.engines_dock
    dock.inpaint_model.setCurrentIndex(dock.inpaint_model.findData(SLOW_ID))
    _rect(win, "fill", 38, 14, 56, 34)
    before, count = doc.image.copy(), win.undo.count()
    progress = []
    win.runner.progress.connect(lambda jid, f, msg: progress.append(msg))
    with qtbot.waitSignal(win.runner.cancelled, timeout=20000) as blocker:
        job_id = fill.variations()
        qtbot.waitUntil(lambda: bool(progress), timeout=20000)
        assert "variation 1 of 3" in progress[-1]
        fill.variations_button.click()  # "Stop"
    assert blocker.args == [job_id]
    assert not fill.variations_running and fill.variations_button.text() == "Variations"
    assert not fill.variations_box.isVisible(), "nothing finished: no gallery left"
    np.testing.assert_array_equal(doc.image, before)
    assert win.undo.count() == count and doc.mask.any()


def test_variations_of_a_closed_photo_are_not_applied(qtbot, win, tmp_path):
    fill = win.engines_dock.fill
    _rect(win, "fill", 38, 14, 56, 34)
    fill.variations()
    _wait_variations(qtbot, fill)
    assert fill.gallery.count() == 3
    path = tmp_path / "other.png"
    save_image(path, _photo())
    win.undo.setClean()
    assert win.open_path(path)
    assert fill.gallery.count() == 0 and not fill.variations_box.isVisible()
    assert not fill.use_variation()


def test_variations_need_a_mask(win):
    errors = []
    win.engines.error.connect(errors.append)
    assert win.engines_dock.fill.variations() is None
    assert errors and "mask" in errors[-1].lower()


# ----------------------------------------------------------------------------- method list
def test_method_list_is_whatever_inpaint_engines_are_registered(win):
    combo = win.engines_dock.inpaint_model
    ids = [combo.itemData(i) for i in range(combo.count())]
    assert ids == [i.id for i in listed_infos(registry.infos(Task.INPAINT))]
    assert {"telea", "ns", TEX_ID} <= set(ids)
    if any(i.id == "default" for i in registry.infos(Task.INPAINT)):
        assert ids[0] == "default" and "texture" not in ids, "default first; the model it stands for once"
    info = EngineInfo(id="fsr-apptest", task=Task.INPAINT, title="FSR (test)", license="test",
                      inputs=(Input.IMAGE, Input.MASK))
    registry.register(info, lambda: None)
    try:
        win.engines_dock.refresh_models()
        assert combo.findData("fsr-apptest") >= 0
        assert combo.model_id() == TEX_ID, "the choice is kept"
    finally:
        registry.unregister(Task.INPAINT, "fsr-apptest")
    win.engines_dock.refresh_models()
    assert combo.findData("fsr-apptest") < 0


def test_method_note_says_which_methods_use_sample_from(win):
    dock = win.engines_dock
    assert "Uses Sample from" in dock.fill.method_note.text()
    dock.inpaint_model.setCurrentIndex(dock.inpaint_model.findData("telea"))
    assert "Ignores Sample from" in dock.fill.method_note.text() or "No texture fill" in dock.fill.method_note.text()


def test_variations_are_discarded_when_the_mask_changes(qtbot, win):
    doc, fill = win.canvas.doc, win.engines_dock.fill
    _rect(win, "fill", 38, 14, 56, 34)
    before = doc.image.copy()
    fill.variations()
    _wait_variations(qtbot, fill)
    assert fill.gallery.count() == 3
    _rect(win, "fill", 4, 4, 12, 12)  # another hole: the candidates no longer match
    assert fill.gallery.count() == 0 and not fill.variations_box.isVisible()
    assert not fill.use_variation()
    np.testing.assert_array_equal(doc.image, before)
    # a sample-from stroke does not make them stale
    fill.variations()
    _wait_variations(qtbot, fill)
    _rect(win, "source", 0, 0, 20, 20)
    assert fill.gallery.count() == 3
