"""The Image menu through the real window: crop tool, rotate, flip, resize, canvas size, extend + fill.
Each is one undo step that keeps mask, labels and hints on the same photo content."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from app.mainwindow import MainWindow
from engines.geometry import Pad, Resize, Rotate
from engines.imageio import save_image

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def win(qtbot, tmp_path):
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:60, 0:80].astype(np.float32)
    img = np.stack([x / 80, y / 60, 0.3 + 0.2 * rng.random((60, 80), dtype=np.float32)], axis=2)
    path = tmp_path / "p.png"
    save_image(path, img)
    w = MainWindow()
    w.quiet_errors = True
    w.resize(1100, 800)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(path)
    w.canvas.actual_size()
    doc = w.canvas.doc
    doc.mask[10:20, 50:60] = 1.0  # a marked region on all three layers, around the same spot
    doc.labels[10:20, 50:60] = 4
    doc.add_hint(doc.new_hint(55.5, 15.5, (1.0, 0.0, 0.0)))
    yield w
    w.undo.setClean()
    w.close()
    w.deleteLater()


def _aligned(doc) -> None:
    """Mask, labels and the hint still mark the same place."""
    ys, xs = np.nonzero(doc.mask > 0.5)
    lys, lxs = np.nonzero(doc.labels == 4)
    assert len(xs) > 0
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (lxs.min(), lxs.max(), lys.min(), lys.max())
    (hint,) = doc.hints
    assert xs.min() <= hint.x <= xs.max() + 1 and ys.min() <= hint.y <= ys.max() + 1


def test_image_menu_lists_the_operations(win):
    menu = win.findChild(type(win.menuBar().actions()[0].menu()), "image_menu")
    texts = [a.text().replace("&", "") for a in menu.actions() if a.text()]
    for want in ("Crop", "Rotate 90° clockwise", "Flip horizontal", "Resize image…", "Canvas size…",
                 "Extend canvas + fill…"):
        assert want in texts


@pytest.mark.parametrize("action", ["rotate_cw", "rotate_ccw", "rotate_180", "flip_h", "flip_v"])
def test_rotate_and_flip_keep_layers_aligned_and_undo_exactly(win, action):
    doc = win.canvas.doc
    before = doc.snapshot()
    win.actions_by_id[action].trigger()
    assert win.undo.count() == 1
    if action in ("rotate_cw", "rotate_ccw"):
        assert (doc.width, doc.height) == (60, 80)
    assert not np.array_equal(doc.mask, before.mask) or doc.mask.shape != before.mask.shape
    _aligned(doc)
    win.undo.undo()
    np.testing.assert_array_equal(doc.image, before.image)
    np.testing.assert_array_equal(doc.labels, before.labels)
    assert doc.hints == list(before.hints)
    win.undo.redo()
    _aligned(doc)


def test_rotating_four_times_is_the_identity(win):
    doc = win.canvas.doc
    before = doc.snapshot()
    for _ in range(4):
        win.actions_by_id["rotate_cw"].trigger()
    np.testing.assert_array_equal(doc.image, before.image)
    assert doc.hints[0].x == pytest.approx(before.hints[0].x) and doc.hints[0].y == pytest.approx(before.hints[0].y)


def test_crop_tool_drag_then_enter(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("crop")
    canvas = win.canvas
    pt = lambda x, y: canvas.image_to_widget(QPointF(x, y)).toPoint()  # noqa: E731
    qtbot.mousePress(canvas, LEFT, NOMOD, pt(40, 5))
    qtbot.mouseMove(canvas, pt(60, 15))
    qtbot.mouseMove(canvas, pt(70, 25))
    qtbot.mouseRelease(canvas, LEFT, NOMOD, pt(70, 25))
    assert (doc.width, doc.height) == (80, 60)  # nothing changes before Enter
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert (doc.width, doc.height) == (30, 20)
    _aligned(doc)
    assert doc.hints[0].x == pytest.approx(15.5) and doc.hints[0].y == pytest.approx(10.5)
    win.undo.undo()
    assert (doc.width, doc.height) == (80, 60)


def test_crop_escape_leaves_the_photo(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("crop")
    tool = win.tools["crop"]
    canvas = win.canvas
    qtbot.mousePress(canvas, LEFT, NOMOD, canvas.image_to_widget(QPointF(5, 5)).toPoint())
    qtbot.mouseRelease(canvas, LEFT, NOMOD, canvas.image_to_widget(QPointF(30, 30)).toPoint())
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert tool.rect is None
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert (doc.width, doc.height) == (80, 60) and win.undo.count() == 0


def test_crop_aspect_preset_holds_while_dragging(qtbot, win):
    win.image_ops.set_crop_aspect(1.0)
    tool = win.tools["crop"]
    canvas = win.canvas
    qtbot.mousePress(canvas, LEFT, NOMOD, canvas.image_to_widget(QPointF(2, 2)).toPoint())
    qtbot.mouseMove(canvas, canvas.image_to_widget(QPointF(50, 30)).toPoint())
    qtbot.mouseRelease(canvas, LEFT, NOMOD, canvas.image_to_widget(QPointF(50, 30)).toPoint())
    assert tool.rect.width() == pytest.approx(tool.rect.height(), abs=1.0)


def test_canvas_size_transparent_border(win):
    doc = win.canvas.doc
    assert win.image_ops.apply(Pad(left=10, top=0, right=10, bottom=5, pad_alpha=0.0), "Canvas size")
    assert (doc.width, doc.height) == (100, 65)
    assert doc.alpha[0, 0] == 0.0 and doc.alpha[30, 50] == 1.0 and doc.has_transparency
    _aligned(doc)


def test_extend_canvas_and_fill_is_one_undo_step(qtbot, win):
    doc = win.canvas.doc
    before = doc.snapshot()
    assert win.image_ops.extend_and_fill(Pad(right=16, bottom=8), "telea")
    assert (doc.width, doc.height) == (80, 60)  # nothing until the fill arrives
    qtbot.waitUntil(lambda: doc.width == 96, timeout=30000)
    assert doc.height == 68 and win.undo.count() == 1
    np.testing.assert_array_equal(doc.image[:60, :80], before.image)  # the photo itself is untouched
    border = doc.image[:60, 80:]
    # the new border continues the photo (a gradient in x / y): close to the photo's right edge colour
    assert np.abs(border.mean(axis=(0, 1)) - before.image[:, -8:].mean(axis=(0, 1))).max() < 0.15
    assert doc.alpha.min() == 1.0
    _aligned(doc)
    win.undo.undo()
    assert (doc.width, doc.height) == (80, 60)


def test_extend_cancelled_changes_nothing(qtbot, win):
    doc = win.canvas.doc
    assert win.image_ops.extend_and_fill(Pad(left=30), "texture")
    win.runner.cancel_all()
    qtbot.waitUntil(lambda: not win.runner.is_busy, timeout=30000)
    assert (doc.width, doc.height) == (80, 60) and win.undo.count() == 0


def test_resize_with_and_without_the_upscaler(qtbot, win):
    doc = win.canvas.doc
    assert win.image_ops.apply(Resize(40, 30), "Resize")
    assert (doc.width, doc.height) == (40, 30) and set(np.unique(doc.labels)) <= {-1, 4}
    _aligned(doc)
    win.undo.undo()
    assert win.image_ops.resize_with_upscaler(200, 150, "ganstudio-sr-x4")
    qtbot.waitUntil(lambda: doc.width == 200, timeout=60000)
    assert doc.height == 150 and win.undo.count() == 1
    _aligned(doc)


def test_geometry_refused_while_a_job_runs(qtbot, win):
    assert win.image_ops.extend_and_fill(Pad(right=40), "texture")
    assert not win.image_ops.apply(Rotate(1), "Rotate")
    win.runner.cancel_all()
    qtbot.waitUntil(lambda: not win.runner.is_busy, timeout=30000)


def test_edge_source_is_the_band_along_grown_sides():
    from app.image_ops.menu import edge_source

    src = edge_source(100, 50, Pad(left=10, bottom=4))
    assert src.shape == (54, 110)
    assert src[0, 10:25].min() == 1.0 and src[0, 25:].max() == 0.0  # 1.5 x 10 px from the left edge
    assert src[44:50, 10:].min() == 1.0 and src[50:].max() == 0.0  # 6 px above the new bottom border
    assert src[:, :10].max() == 0.0  # never inside the new area
