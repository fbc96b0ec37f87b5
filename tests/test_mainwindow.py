"""Drive the real main window: open, paint, undo/redo, engines through the worker, cancel, quit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtWidgets import QMessageBox

from app.document.document import UNLABELED
from app.jobs import Job
from app.mainwindow import MainWindow
from engines.core import Progress, Result, Task
from engines.core.protocol import EngineInfo
from engines.imageio import save_image

ROOT = Path(__file__).resolve().parents[1]
LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NOMOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def photo(tmp_path) -> Path:
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:120, 0:160].astype(np.float32)
    img = np.stack([x / 160, y / 120, 0.3 + 0.1 * rng.random((120, 160), dtype=np.float32)], axis=2)
    path = tmp_path / "photo.png"
    save_image(path, img)
    return path


@pytest.fixture
def win(open_window, photo):
    return open_window(photo, (1200, 800), actual_size=True)  # 1 image pixel = 1 widget pixel


def widget_point(win, x, y) -> QPoint:
    return win.canvas.image_to_widget(QPointF(x, y)).toPoint()


def drag(qtbot, win, points, button=LEFT, modifier=NOMOD):
    canvas = win.canvas
    qtbot.mousePress(canvas, button, modifier, widget_point(win, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, widget_point(win, *p))
    qtbot.mouseRelease(canvas, button, modifier, widget_point(win, *points[-1]))


def test_open_shows_photo_and_title(win, photo):
    assert win.canvas.doc.size == (160, 120)
    assert photo.name in win.windowTitle()
    assert win.status.size_label.text().startswith("160 × 120")


def test_brush_stroke_undo_redo(qtbot, win):
    doc = win.canvas.doc
    original = doc.image.copy()
    win.set_tool("brush")
    win.state.set_size(10)
    win.state.set_hardness(1.0)
    drag(qtbot, win, [(20, 60), (60, 60), (100, 60)])
    assert win.undo.count() == 1, "one stroke = one undo item"
    painted = doc.image.copy()
    c = win.state.color
    np.testing.assert_allclose(painted[60, 60], [c.redF(), c.greenF(), c.blueF()], atol=1e-6)
    np.testing.assert_array_equal(painted[10, 10], original[10, 10])
    assert "•" in win.windowTitle()
    win.undo.undo()
    np.testing.assert_array_equal(doc.image, original)
    win.undo.redo()
    np.testing.assert_array_equal(doc.image, painted)
    assert win.state.recent_colors and win.state.recent_colors[0].rgb() == c.rgb()


def test_escape_aborts_stroke(qtbot, win):
    doc = win.canvas.doc
    original = doc.image.copy()
    win.set_tool("brush")
    qtbot.mousePress(win.canvas, LEFT, NOMOD, widget_point(win, 20, 20))
    qtbot.mouseMove(win.canvas, widget_point(win, 80, 40))
    assert not np.array_equal(doc.image, original)
    qtbot.keyClick(win.canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(win.canvas, LEFT, NOMOD, widget_point(win, 80, 40))
    np.testing.assert_array_equal(doc.image, original)
    assert win.undo.count() == 0


def test_bracket_keys_change_brush_size(qtbot, win):
    size = win.state.size
    win.actions_by_id["brush_larger"].trigger()
    assert win.state.size > size
    win.actions_by_id["brush_smaller"].trigger()
    win.actions_by_id["brush_smaller"].trigger()
    assert win.state.size < size


def test_mask_brush_right_button_erases(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("mask")
    win.state.set_size(20)
    drag(qtbot, win, [(40, 40), (80, 40)])
    assert doc.mask[40, 60] == pytest.approx(1.0)
    drag(qtbot, win, [(50, 40), (70, 40)], button=RIGHT)
    assert doc.mask[40, 60] == 0.0 and doc.mask[40, 33] > 0.5
    assert win.undo.count() == 2


def test_rect_and_lasso_mask_then_invert(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("mask_rect")
    drag(qtbot, win, [(10, 10), (30, 20), (50, 30)])
    assert doc.mask[20, 30] == 1.0 and doc.mask[60, 100] == 0.0
    win.set_tool("mask_lasso")
    drag(qtbot, win, [(100, 60), (140, 60), (140, 100), (100, 100)])
    assert doc.mask[80, 120] == 1.0
    win.actions_by_id["mask_invert"].trigger()
    assert doc.mask[80, 120] == 0.0 and doc.mask[5, 150] == 1.0
    win.undo.undo()
    assert doc.mask[80, 120] == 1.0


def test_hint_points_place_move_delete(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("hint")
    qtbot.mouseClick(win.canvas, LEFT, NOMOD, widget_point(win, 30, 30))
    assert len(doc.hints) == 1
    drag(qtbot, win, [(30, 30), (50, 45), (70, 60)])
    assert (round(doc.hints[0].x), round(doc.hints[0].y)) == (70, 60)
    qtbot.mouseClick(win.canvas, RIGHT, NOMOD, widget_point(win, 70, 60))
    assert doc.hints == []
    win.undo.undo()
    assert len(doc.hints) == 1
    win.undo.undo()
    assert round(doc.hints[0].x) == 30


def test_label_brush_and_fill(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("label")
    win.state.set_label(2)
    win.state.set_size(8)
    drag(qtbot, win, [(0, 50), (159, 50)])
    assert doc.labels[50, 80] == 2
    win.set_tool("label_fill")
    win.state.set_label(5)
    qtbot.mouseClick(win.canvas, LEFT, NOMOD, widget_point(win, 10, 10))
    assert doc.labels[10, 10] == 5 and doc.labels[100, 10] == UNLABELED and doc.labels[50, 80] == 2


def test_colour_picker(qtbot, win):
    doc = win.canvas.doc
    win.set_tool("picker")
    qtbot.mouseClick(win.canvas, LEFT, NOMOD, widget_point(win, 100, 20))
    c = win.state.color
    assert abs(c.redF() - doc.image[20, 100, 0]) < 1 / 255 + 1e-6


def test_bicubic_upscale_through_worker_is_one_undo_step(qtbot, win):
    doc = win.canvas.doc
    doc.mask[10:20, 10:20] = 1.0
    panel = win.engines_dock
    panel.upscale_model.setCurrentIndex(panel.upscale_model.findData("bicubic"))
    panel.upscale_scale.setCurrentIndex(panel.upscale_scale.findData(2))
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        panel.upscale_button.click()
    assert doc.size == (320, 240)
    assert doc.mask.shape == (240, 320) and doc.mask[30, 30] > 0.9
    assert win.undo.count() == 1
    win.undo.undo()
    assert doc.size == (160, 120)


def test_telea_fill_through_worker(qtbot, win):
    doc = win.canvas.doc
    doc.image[50:60, 50:60] = 1.0  # a white blotch to remove
    before = doc.image.copy()
    win.set_tool("mask_rect")
    drag(qtbot, win, [(48, 48), (62, 62)])
    panel = win.engines_dock
    panel.inpaint_model.setCurrentIndex(panel.inpaint_model.findData("telea"))
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        panel.inpaint_button.click()
    assert doc.image[55, 55].max() < 0.9, "the blotch was filled from its surroundings"
    np.testing.assert_array_equal(doc.image[0:40, 0:40], before[0:40, 0:40])
    assert doc.mask.max() == 0.0, "the mask is cleared once filled"
    win.undo.undo()  # one step undoes fill + mask clear
    np.testing.assert_array_equal(doc.image, before)
    assert doc.mask[55, 55] == 1.0


def test_fill_without_mask_says_what_to_do(qtbot, win):
    messages = []
    win.engines.error.connect(messages.append)
    win.engines_dock.inpaint_button.click()
    assert messages and "mask" in messages[0].lower()


class SlowEngine:
    info = EngineInfo(id="slow-test", task=Task.UPSCALE, title="Slow test engine", license="test")

    def run(self, request, ctx):
        for i in range(1000):
            ctx.cancel.raise_if_cancelled()
            time.sleep(0.01)
            yield Progress(i, 1000, "working")
        return Result(image=request)


def test_cancel_long_job_from_status_bar(qtbot, win):
    job_id = win.runner.submit(Job(engine=SlowEngine(), request=None, label="Slow"))
    qtbot.waitUntil(lambda: win.status.cancel.isVisible(), timeout=5000)
    with qtbot.waitSignal(win.runner.cancelled, timeout=5000) as blocker:
        win.status.cancel.click()
    assert blocker.args == [job_id]
    qtbot.waitUntil(lambda: not win.status.cancel.isVisible(), timeout=5000)


def test_quit_with_a_job_running_returns_promptly(qtbot, win):
    win.runner.submit(Job(engine=SlowEngine(), request=None, label="Slow"))
    qtbot.waitUntil(lambda: win.runner.is_busy, timeout=5000)
    t0 = time.perf_counter()
    assert win.close()
    assert time.perf_counter() - t0 < 3.0
    with pytest.raises(RuntimeError):
        win.runner.submit(Job(engine=SlowEngine(), request=None, label="Slow"))


def test_close_with_unsaved_edits_asks(qtbot, win, monkeypatch):
    win.set_tool("brush")  # a change of the photo (a mask-only edit does not ask: test_file_feedback.py)
    drag(qtbot, win, [(20, 20), (40, 40)])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert not win.close(), "Cancel keeps the window and the edits"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert win.close()


def test_save_keeps_file_and_marks_clean(qtbot, win, tmp_path):
    win.set_tool("brush")
    drag(qtbot, win, [(20, 20), (40, 40)])
    out = tmp_path / "out.png"
    assert win._write(out, mark_clean=True)
    assert win.undo.isClean() and "•" not in win.windowTitle()
    from engines.imageio import load_image

    np.testing.assert_allclose(load_image(out).rgb, win.canvas.doc.image, atol=0.5 / 255 + 1e-6)


def test_open_corrupt_file_keeps_current_document(qtbot, win, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    errors = []
    monkey = win.show_error
    win.show_error = lambda m: errors.append(m)
    doc = win.canvas.doc
    assert not win.open_path(bad)
    win.show_error = monkey
    assert win.canvas.doc is doc
    assert errors and "broken.png" in errors[0]


def test_wheel_zooms_about_the_cursor(qtbot, win):
    canvas = win.canvas
    pos = QPointF(300, 200)
    before = canvas.widget_to_image(pos)
    ev = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton, NOMOD,
                     Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(ev)
    assert canvas.zoom == pytest.approx(1.2)
    after = canvas.widget_to_image(pos)
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()), abs=1e-6)


def test_middle_button_pans(qtbot, win):
    canvas = win.canvas
    off = QPointF(canvas.offset)
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, NOMOD, QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(150, 130))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, NOMOD, QPoint(150, 130))
    assert canvas.offset.x() - off.x() == pytest.approx(50) and canvas.offset.y() - off.y() == pytest.approx(30)
    assert win.undo.count() == 0


def test_status_bar_shows_pixel_and_colour(qtbot, win):
    qtbot.mouseMove(win.canvas, widget_point(win, 10.25, 20.25))  # inside pixel (10, 20) whatever the offset
    text = win.status.pixel.text()
    assert "x 10" in text and "y 20" in text and "RGB" in text


def test_drop_opens_file(qtbot, win, tmp_path):
    other = tmp_path / "other.png"
    save_image(other, np.full((30, 40, 3), 0.5, np.float32))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    ev = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, LEFT, NOMOD)
    win.dropEvent(ev)
    assert win.canvas.doc.size == (40, 30)
    assert str(other) in win.settings.recent_files()


def test_compare_view_toggles(qtbot, win):
    win.actions_by_id["compare"].setChecked(True)
    assert win.canvas.comparing
    win.actions_by_id["compare"].setChecked(False)
    assert not win.canvas.comparing


def test_settings_and_geometry_are_remembered(qtbot, photo):
    w = MainWindow()
    qtbot.addWidget(w)
    w.state.set_size(77)
    w.resize(900, 700)
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.state.size == 77
    assert w2.settings.path == w.settings.path
    assert str(w2.settings.path).startswith(os.environ["GANSTUDIO_SETTINGS"].rsplit("/", 1)[0])
    w2.close()


def test_screenshot_command(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "app.main", "--screenshot", str(out), str(ROOT / "resources/samples/astronaut.png")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(out) as im:
        assert im.size[0] >= 1000 and im.size[1] >= 600
        # the photo is on screen: the centre is not the empty canvas grey
        centre = im.convert("RGB").getpixel((im.size[0] // 2, im.size[1] // 2))
        assert centre != (58, 58, 62)


def test_restored_dock_layout_leaves_no_stray_tab_bar(qtbot):
    from PySide6.QtWidgets import QTabBar

    first = MainWindow()
    first.resize(1200, 800)
    first.show()
    qtbot.waitExposed(first)
    first.close()
    again = MainWindow()
    again.resize(1200, 800)
    again.show()
    qtbot.waitExposed(again)
    menu_bottom = again.menuBar().geometry().bottom()
    stray = [bar for bar in again.findChildren(QTabBar)
             if bar.isVisible() and bar.mapTo(again, bar.rect().topLeft()).y() <= menu_bottom]
    assert stray == [], "a tab bar is drawn over the menu bar after restoring the layout"
    again.close()


def test_upscale_models_listed_once_with_the_default_first(win):
    combo = win.engines_dock.upscale_model
    ids = [combo.itemData(i) for i in range(combo.count())]
    assert ids[0] == "default" and {"bicubic", "lanczos"} <= set(ids)
    from engines.core import registry

    target = next(i.alias_of for i in registry.infos(Task.UPSCALE) if i.id == "default")
    assert target and target not in ids, "the model behind 'default' is not listed twice"
