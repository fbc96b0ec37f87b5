"""Hint planes: user hints to network planes; the paper's synthetic hint distribution."""

from __future__ import annotations

import numpy as np

from engines.colorize import hints as H
from engines.colorize.lab import rgb_to_lab
from engines.core.protocol import Hint


def test_synthetic_counts_are_geometric_and_often_zero():
    rng = np.random.default_rng(0)
    counts = np.array([H.sample_count(rng) for _ in range(8000)])
    assert abs(np.mean(counts == 0) - 1 / 8) < 0.02
    assert abs(counts.mean() - 7.0) < 0.5
    assert counts.min() == 0


def test_synthetic_hints_are_patch_means_and_the_mask_marks_them():
    rng = np.random.default_rng(1)
    ab_true = rng.normal(0, 30, (2, 64, 64)).astype(np.float32)
    sizes = []
    for _ in range(200):
        ab, mask = H.synthetic_hints(rng, ab_true, count=1)
        ys, xs = np.nonzero(mask[0])
        assert len(ys) > 0
        side = ys.max() - ys.min() + 1
        assert side == xs.max() - xs.min() + 1 and len(ys) == side * side  # one square patch
        sizes.append(side)
        patch = ab_true[:, ys.min():ys.max() + 1, xs.min():xs.max() + 1].reshape(2, -1).mean(1)
        assert np.allclose(ab[:, ys[0], xs[0]], patch, atol=1e-4)
        assert np.all(ab[:, mask[0] == 0] == 0)
    assert min(sizes) == 1 and max(sizes) == 9


def test_zero_count_gives_empty_planes():
    ab, mask = H.synthetic_hints(np.random.default_rng(0), np.ones((2, 16, 16), np.float32), count=0)
    assert not ab.any() and not mask.any()


def test_user_hints_map_to_network_planes():
    red = (0.9, 0.1, 0.1)
    ab, mask = H.hints_to_planes([Hint(100.0, 50.0, red, 4)], (200, 400), (64, 64))
    ys, xs = np.nonzero(mask[0])
    assert abs(xs.mean() + 0.5 - 100.5 * 64 / 400) < 1.0 and abs(ys.mean() + 0.5 - 50.5 * 64 / 200) < 1.0
    want = rgb_to_lab(np.array([[red]], np.float32))[0, 0, 1:]
    assert np.allclose(ab[:, ys[0], xs[0]], want, atol=1e-3)


def test_random_hints_from_image_take_true_colours():
    img = np.zeros((32, 32, 3), np.float32)
    img[:, :16] = (1, 0, 0)
    img[:, 16:] = (0, 0, 1)
    hs = H.random_hints_from_image(np.random.default_rng(0), img, 20, size=1)
    for h in hs:
        assert h.rgb == tuple(img[int(h.y), int(h.x)])
