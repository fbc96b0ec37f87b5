"""Issue 22 (D), results and previews: the status bar says what each engine job did and how long it
took; a preview hides the label overlay; Preview view shows the region at 100 % of the OUTPUT;
Upscale keeps the same part of the photo in view; a >100 MP upscale asks first; the Eraser on a
JPEG says what Save will do; a greyscale photo opens showing the photo; panels forget the last
photo; the latent pad paints in the chosen colour and its result stays on the photo until Apply
or Discard (one preview at a time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from latent_models import tiny_checkpoint
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from ramps import ramp

from app.feedback import LARGE_OUTPUT_MP, large_upscale_text
from app.tasks.summary import summarize
from engines.core import InpaintRequest, Result, Task, UpscaleRequest, registry
from engines.imageio import save_image

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier
SHOTS = Path("/work/notes/shots")  # looked at by hand when it exists (not part of the assertion)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    save_image(path, ramp(120, 160))
    return path


@pytest.fixture
def win(open_window, photo):
    return open_window(photo)


def _shot(widget, name: str) -> None:
    if SHOTS.is_dir():
        widget.grab().save(str(SHOTS / name))


def _use_upscaler(win, model_id="bicubic"):
    combo = win.engines_dock.upscale.model
    combo.setCurrentIndex(combo.findData(model_id))
    assert combo.currentData() == model_id


# ----------------------------------------------------------------------------- status bar sentences
def test_summaries_say_what_and_how_long():
    img = np.zeros((10, 20, 3), np.float32)
    up = summarize(Task.UPSCALE, UpscaleRequest(image=img, scale=4), Result(image=np.zeros((40, 80, 3)), seconds=3.21))
    assert up == "Upscaled ×4 to 80 × 40 in 3.2 s"
    mask = np.zeros((10, 20), np.float32)
    mask[:, :5] = 1  # a quarter of the photo
    fill = summarize(Task.INPAINT, InpaintRequest(image=img, mask=mask), Result(image=img, seconds=1.1))
    assert fill == "Filled 25 % of the photo in 1.1 s"


def test_upscale_says_what_it_did_in_the_status_bar(qtbot, win):
    _use_upscaler(win)
    win.engines_dock.upscale.scale.setCurrentIndex(0)  # ×2
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        win.engines_dock.run_upscale()
    assert win.status.currentMessage().startswith("Upscaled ×2 to 320 × 240")


# ----------------------------------------------------------------------------- labels under a preview
def test_a_preview_is_not_covered_by_the_label_overlay(qtbot, win):
    doc = win.canvas.doc
    win.canvas.actual_size()
    doc.labels[:] = 1  # every pixel labelled: the overlay covers the photo at 50 %
    doc.notify(__import__("app.document.document", fromlist=["Layer"]).Layer.LABELS, None)
    blue = np.zeros_like(doc.image)
    blue[..., 2] = 1.0
    win.canvas.set_preview(blue)  # e.g. a synthesized photo
    qtbot.wait(20)
    p = win.canvas.image_to_widget(QPointF(80, 60)).toPoint()
    c = win.canvas.grab().toImage().pixelColor(p)
    assert (c.red(), c.green(), c.blue()) == (0, 0, 255)  # the preview, not mixed with label colours
    win.canvas.set_preview(None)
    qtbot.wait(20)
    c = win.canvas.grab().toImage().pixelColor(p)
    assert (c.red(), c.green(), c.blue()) != tuple(int(round(v * 255)) for v in doc.image[60, 80])  # labels back


# ----------------------------------------------------------------------------- Preview view
def test_preview_view_shows_the_region_at_100_percent_of_the_output(qtbot, win):
    _use_upscaler(win)
    win.canvas.fit()
    shown = []
    win.engines.region_preview_ready.connect(lambda image, region: shown.append(image))
    with qtbot.waitSignal(win.engines.runner.finished, timeout=20000):
        win.engines_dock.preview_upscale()
    qtbot.wait(20)
    canvas = win.canvas
    assert canvas.device_zoom() == pytest.approx(4.0)  # one output pixel = one screen pixel
    x, y, w, h = canvas._preview[2]
    centre = canvas.image_to_widget(QPointF(x + w / 2, y + h / 2))
    assert abs(centre.x() - canvas.width() / 2) <= 1 and abs(centre.y() - canvas.height() / 2) <= 1
    banner = win.feedback.banner
    assert banner.isVisible() and "100 % of the output" in banner.text() and "×4" in banner.text()
    _shot(win, "qD_preview_view.png")
    # the screen shows the preview's own pixels one to one
    out = np.round(np.clip(shown[-1], 0, 1) * 255).astype(int)  # the upscaled region, RGB
    img = canvas.grab().toImage()
    for dx, dy in ((0, 0), (7, 3), (-5, 9)):
        wp = QPoint(int(centre.x()) + dx, int(centre.y()) + dy)
        ip = canvas.widget_to_image(QPointF(wp) + QPointF(0.5, 0.5))
        ox, oy = int((ip.x() - x) * 4), int((ip.y() - y) * 4)
        c = img.pixelColor(wp)
        assert np.abs(np.array([c.red(), c.green(), c.blue()]) - out[oy, ox]).max() <= 1
    win.set_tool("brush")  # any edit drops the preview, and the banner with it
    win.undo.push(__import__("app.document.commands", fromlist=["layer_change"]).layer_change(
        win.canvas.doc, __import__("app.document.document", fromlist=["Layer"]).Layer.IMAGE,
        np.zeros_like(win.canvas.doc.image), "Paint"))
    qtbot.wait(20)
    assert canvas._preview is None and not banner.isVisible()


# ----------------------------------------------------------------------------- view kept after Upscale
def test_upscale_keeps_the_same_part_of_the_photo_in_view(qtbot, win):
    _use_upscaler(win)
    win.engines_dock.upscale.scale.setCurrentIndex(0)  # ×2
    canvas = win.canvas
    canvas.set_zoom(3.0)
    centre = QPointF(canvas.width() / 2, canvas.height() / 2)
    before = canvas.widget_to_image(centre)
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        win.engines_dock.run_upscale()
    after = canvas.widget_to_image(centre)
    assert abs(after.x() - 2 * before.x()) < 1 and abs(after.y() - 2 * before.y()) < 1
    assert canvas.zoom == pytest.approx(1.5)
    win.undo.undo()  # and back
    again = canvas.widget_to_image(centre)
    assert abs(again.x() - before.x()) < 0.5 and abs(again.y() - before.y()) < 0.5


# ----------------------------------------------------------------------------- large upscale
def test_large_upscale_text():
    assert large_upscale_text(2000, 1500, 4, 0, 6.0, False) is None  # 48 MP
    text = large_upscale_text(3000, 2500, 4, 512, 6.0, False)  # 120 MP
    assert "12000 × 10000 pixels (120 MP)" in text and "30 tiles of 512 px" in text
    assert "about 12 min (rough figure" in text and LARGE_OUTPUT_MP == 100
    measured = large_upscale_text(3000, 2500, 4, 0, 1.0, True)
    assert "about 2 min (from this session's last run" in measured and "about 30 tiles of 512 px (tile size auto)" in measured


def test_upscale_over_100_mp_asks_and_cancel_runs_nothing(qtbot, tmp_path, open_window):
    path = tmp_path / "big.png"
    save_image(path, np.full((2600, 2600, 3), 0.5, np.float32))  # ×4 = 108 MP
    w = open_window(path)
    asked = []
    up = w.engines_dock.upscale
    up.confirm_large = lambda text: (asked.append(text), False)[1]
    _use_upscaler(w)
    assert up.run() is None
    assert len(asked) == 1 and "10400 × 10400" in asked[0]
    assert w.runner.cancel_all() is None and w.canvas.doc.size == (2600, 2600)
    up.scale.setCurrentIndex(0)  # ×2 = 27 MP: no question
    up.confirm_large = lambda text: pytest.fail("asked for a small upscale")
    job = up.run()
    assert job is not None
    w.runner.cancel(job)
    qtbot.waitUntil(lambda: not w.runner.is_busy, timeout=60000)  # no "still running" question on close


# ----------------------------------------------------------------------------- eraser on a JPEG
def _eraser_stroke(qtbot, w):
    w.set_tool("eraser")
    c = w.canvas
    c.actual_size()
    qtbot.mousePress(c, LEFT, NOMOD, c.image_to_widget(QPointF(20, 20)).toPoint())
    qtbot.mouseMove(c, c.image_to_widget(QPointF(60, 40)).toPoint())
    qtbot.mouseRelease(c, LEFT, NOMOD, c.image_to_widget(QPointF(60, 40)).toPoint())


def test_eraser_on_a_jpeg_says_what_save_does_once(qtbot, tmp_path, open_window):
    path = tmp_path / "photo.jpg"
    save_image(path, ramp(120, 160), quality=95)
    w = open_window(path)
    _eraser_stroke(qtbot, w)
    notice = getattr(w.feedback, "eraser_notice", None)
    assert notice is not None and notice.isVisible()
    assert "JPEG" in notice.text() and "white" in notice.text()
    _shot(w, "qD_eraser_jpeg_notice.png")
    notice.close()
    _eraser_stroke(qtbot, w)  # once: not again
    assert w.feedback.eraser_notice is notice


def test_eraser_on_a_png_says_nothing(qtbot, win):
    _eraser_stroke(qtbot, win)
    assert getattr(win.feedback, "eraser_notice", None) is None


# ----------------------------------------------------------------------------- greyscale
def test_greyscale_photo_opens_showing_the_photo(qtbot, tmp_path, open_window):
    grey = (np.linspace(0, 1, 90 * 120, dtype=np.float32).reshape(90, 120) * 255).astype(np.uint8)
    path = tmp_path / "grey.png"
    Image.fromarray(grey, "L").save(path)
    w = open_window(path)
    colorize = w.engines_dock.colorize
    colorize.model.setCurrentIndex(colorize.model.findData("baseline"))
    assert w.state.tool == "hint"
    qtbot.wait(1500)  # long enough for the automatic preview the editor used to start
    assert w.canvas._preview is None and colorize.preview_image() is None
    assert "shown as it is" in colorize.status.text()
    colorize.auto_button.click()  # the user asks for colours
    qtbot.waitUntil(lambda: w.canvas._preview is not None, timeout=15000)


# ----------------------------------------------------------------------------- panels and another photo
def test_panels_forget_the_last_photo(qtbot, win, tmp_path):
    dock = win.engines_dock
    synth, latent, colorize = dock.synth, dock.latent, dock.colorize
    synth.gallery.addItem("old candidate")
    synth.gallery.show()
    latent.z0 = np.zeros(8, np.float32)
    latent.region = (0, 0, 16, 16)
    latent.pad.strokes.color[10:20, 10:20] = (1, 0, 0, 1)
    latent.gallery.addItem("old")
    colorize.status.setText("Preview 160×120, 3 hints, 0.20 s")
    other = tmp_path / "other.png"
    save_image(other, ramp(100, 100))
    assert win.open_path(other)
    assert synth.gallery.count() == 0 and synth.gallery.isHidden()
    assert latent.z0 is None and latent.region is None and latent.gallery.count() == 0
    assert latent.pad.strokes.empty()
    assert "3 hints" not in colorize.status.text()


# ----------------------------------------------------------------------------- latent
@pytest.fixture
def latent_installed(tmp_path_factory):
    from engines.latent import engine as latent_engine
    from engines.latent.train import export_igan
    from engines.paths import user_data_dir

    ckpt = tiny_checkpoint(str(tmp_path_factory.getbasetemp() / "igan-tiny"))
    export_igan(ckpt, user_data_dir() / "models" / "latent" / "shapes.safetensors", figure_images=1)
    ids = latent_engine.register_models()
    yield ids
    for model_id in ids:
        registry.unregister(Task.LATENT, model_id)


def _pad_stroke(qtbot, pad, a, b):
    qtbot.mousePress(pad, LEFT, NOMOD, QPoint(*a))
    qtbot.mouseMove(pad, QPoint(*b))
    qtbot.mouseRelease(pad, LEFT, NOMOD, QPoint(*b))


def test_latent_pad_paints_in_the_chosen_colour(qtbot, win, latent_installed):
    latent = win.engines_dock.latent
    latent.reload_models()
    win.state.set_color(QColor(20, 60, 230))  # a blue swatch in the Palette dock
    _pad_stroke(qtbot, latent.pad, (60, 60), (120, 100))
    cov = latent.pad.strokes.color[..., 3] > 0.5
    assert cov.any()
    rgb = latent.pad.strokes.color[cov][:, :3].mean(axis=0)
    assert np.allclose(rgb, (20 / 255, 60 / 255, 230 / 255), atol=0.01)  # blue, not red


@pytest.mark.usefixtures("one_torch_thread")
def test_latent_result_stays_until_apply_or_discard(qtbot, win, latent_installed):
    latent = win.engines_dock.latent
    latent.reload_models()
    runner = win.runner
    messages = []
    win.engines.message.connect(messages.append)
    win.canvas.set_preview(np.zeros_like(win.canvas.doc.image))  # e.g. a synthesis preview
    with qtbot.waitSignal(runner.finished, timeout=20000):
        latent.project()
    assert win.canvas._preview is None  # one preview at a time: the synthesis one went
    _pad_stroke(qtbot, latent.pad, (60, 60), (120, 120))
    with qtbot.waitSignal(runner.finished, timeout=30000):
        latent.edit()
    assert win.canvas._preview is not None and latent.holds_preview()
    latent.morph.setValue(0)  # the pad shows the first morph frame...
    _pad_stroke(qtbot, latent.pad, (30, 30), (50, 40))  # ...and a pad stroke (an undo step)...
    assert win.canvas._preview is not None  # ...do not take the result off the photo
    _shot(win, "qD_latent_preview_stays.png")
    latent.discard()
    assert win.canvas._preview is None and latent.result is None and "discarded" in messages[-1]

    with qtbot.waitSignal(runner.finished, timeout=30000):
        latent.edit()
    count = win.undo.count()
    assert latent.apply()
    assert win.undo.count() == count + 1 and win.canvas._preview is None
    assert messages[-1].startswith("Latent edit applied to the 120 × 120 square at (20, 0)")
