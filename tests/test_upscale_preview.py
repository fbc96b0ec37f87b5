"""Upscale panel: a preview of the visible region (latest wins, not in the document) and the card line."""

from __future__ import annotations

import numpy as np
import pytest

from app.mainwindow import MainWindow
from engines.imageio import save_image


@pytest.fixture
def win(qtbot, tmp_path):
    y, x = np.mgrid[0:300, 0:400].astype(np.float32)
    path = tmp_path / "ramp.png"
    save_image(path, np.stack([x / 400, y / 300, 0.5 + 0 * x], axis=2))
    w = MainWindow()
    w.quiet_errors = True
    w.resize(900, 700)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(path)
    yield w
    w.undo.setClean()
    w.close()
    w.deleteLater()


def test_visible_rect_follows_zoom(win):
    win.canvas.fit()
    assert win.canvas.visible_image_rect() == (0, 0, 400, 300)
    win.canvas.set_zoom(4.0)
    x, y, w, h = win.canvas.visible_image_rect()
    assert w < 400 and h < 300 and 0 <= x and x + w <= 400 and y + h <= 300


def test_preview_of_the_view_is_shown_in_place_and_not_applied(qtbot, win):
    panel = win.engines_dock
    panel.upscale_model.setCurrentIndex(panel.upscale_model.findData("bicubic"))
    win.canvas.fit()
    before = win.canvas.doc.image.copy()
    with qtbot.waitSignal(win.engines.region_preview_ready, timeout=20000) as blocker:
        assert panel.preview_upscale() is not None
    image, region = blocker.args
    x, y, w, h = region
    assert (w, h) == (256, 256), "the centre of the view, capped at the preview size"
    assert (x, y) == ((400 - 256) // 2, (300 - 256) // 2)
    assert image.shape == (h * 4, w * 4, 3)
    qtbot.waitUntil(lambda: win.canvas._preview is not None)
    assert win.canvas._preview[2] == region
    np.testing.assert_array_equal(win.canvas.doc.image, before)
    assert win.undo.count() == 0, "a preview is not an edit"


def test_model_card_line_shows_license(win):
    panel = win.engines_dock
    panel.upscale_model.setCurrentIndex(panel.upscale_model.findData("default"))
    assert panel.upscale_card.text(), "the default model says its scale and licence"
