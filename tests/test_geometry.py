"""engines/geometry: every operation moves pixels and points to the same place, labels never blend."""

import numpy as np
import pytest

from engines.geometry import (
    Crop, Flip, GeometryError, Pad, Resize, Rotate, crop_for_aspect, pads_for_aspect,
)


def _marked(w=7, h=5):
    """A photo that is black except one white pixel at (x=5, y=1), and that pixel's centre."""
    img = np.zeros((h, w, 3), np.float32)
    img[1, 5] = 1.0
    return img, (5.5, 1.5)


def _where(img):
    ys, xs = np.nonzero(img[..., 0] > 0.5)
    assert len(xs) == 1
    return xs[0] + 0.5, ys[0] + 0.5


@pytest.mark.parametrize("op", [Rotate(1), Rotate(2), Rotate(3), Rotate(4), Flip(True), Flip(False),
                                Crop(2, 0, 4, 3), Pad(3, 1, 0, 2, fill=(0, 0, 0)),
                                Pad(-2, 0, 1, -1, fill=(0, 0, 0))])
def test_points_follow_pixels(op):
    img, (x, y) = _marked()
    out = op.plane(img, "image")
    assert (out.shape[1], out.shape[0]) == op.size(7, 5)
    assert op.point(x, y, 7, 5) == pytest.approx(_where(out))


def test_rotate_quarter_turns_are_clockwise_and_compose():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    cw = Rotate(1).plane(a, "coverage")
    assert cw.shape == (4, 3)
    assert cw[0, -1] == a[0, 0]  # the top-left corner goes to the top-right
    np.testing.assert_array_equal(Rotate(3).plane(cw, "coverage"), a)
    np.testing.assert_array_equal(Rotate(1).plane(Rotate(1).plane(a, "coverage"), "coverage"), Rotate(2).plane(a, "coverage"))


def test_resize_labels_stay_class_ids():
    labels = np.zeros((40, 40), np.int32)
    labels[:, 20:] = 7
    labels[:5, :5] = -1
    for size in ((13, 13), (97, 61)):
        out = Resize(*size, method="lanczos").plane(labels, "labels")
        assert out.dtype == np.int32 and out.shape == size[::-1]
        assert set(np.unique(out)) <= {-1, 0, 7}


def test_resize_image_stays_in_range_and_shrinks_with_area():
    rng = np.random.default_rng(0)
    img = rng.random((64, 64, 3)).astype(np.float32)
    big = Resize(200, 200, "lanczos").plane(img, "image")
    assert big.min() >= 0.0 and big.max() <= 1.0
    # 2x2 area shrink of a checkerboard is flat grey (no aliasing)
    checker = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)[..., None].repeat(3, 2)
    small = Resize(32, 32).plane(checker, "image")
    assert np.abs(small - 0.5).max() < 1e-6


def test_pad_fills_new_area_and_reports_it():
    img = np.full((4, 5, 3), 0.25, np.float32)
    pad = Pad(left=2, top=0, right=1, bottom=3, fill=(1.0, 0.0, 0.0), pad_alpha=0.0)
    out = pad.plane(img, "image")
    assert out.shape == (7, 8, 3)
    np.testing.assert_array_equal(out[0, 0], [1, 0, 0])
    np.testing.assert_array_equal(out[0:4, 2:7], img)
    alpha = pad.plane(np.ones((4, 5), np.float32), "coverage", alpha=True)
    assert alpha[0, 0] == 0.0 and alpha[1, 3] == 1.0
    labels = pad.plane(np.zeros((4, 5), np.int32), "labels")
    assert labels[6, 0] == -1 and labels[0, 2] == 0
    new = pad.new_area(5, 4)
    assert new.sum() == 8 * 7 - 5 * 4 and new[0:4, 2:7].max() == 0


def test_aspect_helpers():
    p = pads_for_aspect(400, 300, 16 / 9)
    assert (400 + p.left + p.right) / 300 == pytest.approx(16 / 9, abs=0.01) and p.top == p.bottom == 0
    assert p.left == p.right or abs(p.left - p.right) == 1
    c = crop_for_aspect(400, 300, 1.0)
    assert (c.w, c.h, c.x, c.y) == (300, 300, 50, 0)


@pytest.mark.parametrize("op", [Crop(0, 0, 0, 3), Crop(5, 0, 5, 3), Resize(0, 10), Pad(-7, 0, 0, 0)])
def test_impossible_requests_raise_a_clear_error(op):
    with pytest.raises(GeometryError):
        op.size(7, 5)
