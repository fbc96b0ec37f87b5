"""The canvas's area-filtered display levels (app/canvas/mipmap.py) and the zoomed-out view."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from app.canvas.mipmap import MipChain, half, level_for_scale
from app.document.document import Document, Layer


def _box_mean(a: np.ndarray) -> np.ndarray:
    """Reference: the rounded mean of 2 x 2 blocks, an odd edge replicated."""
    p = np.pad(a, ((0, a.shape[0] % 2), (0, a.shape[1] % 2), (0, 0)), mode="edge").astype(np.int32)
    return ((p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2] + 2) // 4).astype(np.uint8)


def test_half_is_the_2x2_box_mean_with_odd_edges():
    a = np.random.default_rng(0).integers(0, 256, (7, 9, 4), dtype=np.uint8)
    out = half(a)
    assert out.shape == (4, 5, 4)
    assert np.abs(out.astype(int) - _box_mean(a)).max() <= 1  # OpenCV's rounding, at most 1 level


def test_levels_halve_down_to_the_minimum_and_average():
    base = np.random.default_rng(1).integers(0, 256, (301, 517, 4), dtype=np.uint8)
    chain = MipChain(base)
    assert chain.levels[0] is base  # shared, not copied
    shapes = [lv.shape[:2] for lv in chain.levels]
    assert shapes[:3] == [(301, 517), (151, 259), (76, 130)]
    assert max(shapes[-1]) <= 32 < max(shapes[-2])
    for k in range(1, len(chain)):
        assert np.abs(chain.levels[k].astype(int) - _box_mean(chain.levels[k - 1]).astype(int)).max() <= 1
    # a pattern finer than the level is averaged out, not aliased: 1-px stripes -> flat grey
    stripes = np.zeros((64, 64, 4), np.uint8)
    stripes[:, ::2] = 255
    lv = MipChain(stripes).levels[1]
    assert lv.min() >= 127 and lv.max() <= 128


def test_rect_update_equals_a_full_rebuild():
    rng = np.random.default_rng(2)
    base = rng.integers(0, 256, (203, 333, 4), dtype=np.uint8)
    chain = MipChain(base)
    for x, y, w, h in [(0, 0, 1, 1), (5, 7, 13, 3), (321, 190, 12, 13), (100, 0, 1, 203), (17, 33, 90, 61)]:
        base[y:y + h, x:x + w] = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        chain.update((x, y, w, h))
    fresh = MipChain(base.copy())
    for k in range(len(chain)):
        np.testing.assert_array_equal(chain.levels[k], fresh.levels[k])


def test_level_choice_keeps_the_remaining_shrink_between_half_and_one():
    assert level_for_scale(1.0, 8) == 0
    assert level_for_scale(2.0, 8) == 0
    assert level_for_scale(0.75, 8) == 0
    assert level_for_scale(0.5, 8) == 1
    assert level_for_scale(0.19, 8) == 2  # drawn from 1/4, shrunk by 0.76
    assert level_for_scale(0.02, 8) == 5
    assert level_for_scale(0.001, 4) == 3  # clamped to the last level
    for s in np.linspace(0.03, 0.99, 50):
        k = level_for_scale(float(s), 10)
        assert 0.5 < s * 2 ** k <= 1.0 + 1e-9


def test_source_rect_covers_the_request_in_whole_level_pixels():
    chain = MipChain(np.zeros((100, 130, 4), np.uint8))
    image, src, covered = chain.source(2, QRectF(10, 21, 30, 40))
    assert image.width() == 33 and image.height() == 25
    assert (src.x(), src.y(), src.width(), src.height()) == (1, 4, 10, 13)
    assert (covered.x(), covered.y(), covered.width(), covered.height()) == (4, 16, 40, 52)
    assert covered.contains(QRectF(10, 21, 30, 40))


@pytest.fixture
def window(qtbot):
    from app.mainwindow import MainWindow

    win = MainWindow()
    win.quiet_errors = True
    qtbot.addWidget(win)
    win.resize(900, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.undo.setClean()


def _fine_stripes(h: int, w: int) -> np.ndarray:
    """Vertical 1-px black / white stripes: their true average at any low zoom is flat grey."""
    img = np.zeros((h, w, 3), np.float32)
    img[:, ::2] = 1.0
    return img


def test_zoomed_out_view_is_the_area_average_not_moire(window, qtbot):
    window.set_document(Document(_fine_stripes(1200, 1600)))
    canvas = window.canvas
    canvas.set_zoom(0.19)
    qtbot.wait(10)
    shot = canvas.grab().toImage()
    # the middle of the photo on screen: bilinear sampling of 1-px stripes gives bands from black
    # to white; the area-filtered levels give a grey within a few levels of 127.5
    c = canvas.image_to_widget(canvas.widget_to_image(canvas.rect().center()))
    vals = [shot.pixelColor(int(c.x()) + dx, int(c.y()) + dy).red() for dx in range(-20, 21, 3) for dy in (-5, 0, 5)]
    assert min(vals) >= 110 and max(vals) <= 145, (min(vals), max(vals))


def test_a_stroke_updates_the_levels_it_touches(window, qtbot):
    img = np.full((800, 1000, 3), 0.5, np.float32)
    doc = Document(img)
    window.set_document(doc)
    canvas = window.canvas
    chain = canvas._chains["mask"]
    assert all(not lv.any() for lv in chain.levels)
    doc.mask[100:140, 200:260] = 1.0
    doc.notify(Layer.MASK, (200, 100, 60, 40))
    fresh = MipChain(canvas._mask_rgba.copy())
    for k in range(len(chain)):
        np.testing.assert_array_equal(chain.levels[k], fresh.levels[k])
    assert chain.levels[2][25:35, 50:65, 3].min() > 0  # the painted block shows at 1/4
    assert not chain.levels[2][:20].any()  # and nothing else does
