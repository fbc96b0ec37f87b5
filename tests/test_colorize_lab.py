"""Colour pipeline: Lab round trip, full-resolution L kept, reachable-only gamut, ab bins."""

from __future__ import annotations

import cv2
import numpy as np

from engines.colorize import lab


def _photo(h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random((h // 8, w // 8, 3)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)  # fine detail the ab path must not blur
    return np.clip(img, 0, 1)


def test_lab_round_trip_is_exact_enough():
    img = _photo()
    back = lab.lab_to_rgb(lab.rgb_to_lab(img))
    assert np.abs(back - img).max() < 1e-4  # exact maths: 16-bit photos survive
    L = lab.rgb_to_lab(img)[..., 0]
    assert L.min() >= 0 and L.max() <= 100


def test_full_resolution_L_is_kept_when_ab_comes_from_a_small_plane():
    img = _photo(240, 320)
    full = lab.rgb_to_lab(img)
    small_ab = cv2.resize(full[..., 1:], (32, 32), interpolation=cv2.INTER_AREA)  # a low-res prediction
    out = lab.join_ab(full[..., 0], small_ab)
    assert out.shape == img.shape and out.dtype == np.float32
    L_out = lab.rgb_to_lab(out)[..., 0]
    mse = float(np.mean((L_out - full[..., 0]) ** 2))
    psnr_L = 10 * np.log10(100.0 ** 2 / mse)
    assert psnr_L > 45.0, psnr_L  # the detail lives in L; a blurred L would be < 35 dB here
    blurred = cv2.resize(cv2.resize(full[..., 0], (32, 32), interpolation=cv2.INTER_AREA), (320, 240))
    assert 10 * np.log10(100.0 ** 2 / np.mean((blurred - full[..., 0]) ** 2)) < 35.0


def test_gamut_panel_offers_only_reachable_colours():
    for L in (20.0, 50.0, 85.0):
        rgb, ok = lab.gamut_image(L, size=64)
        assert 0.05 < ok.mean() < 0.9
        a, b = lab.ab_grid_coords(64)
        linear = lab.lab_to_linear_rgb(np.dstack([np.full_like(a, L), a, b]))
        assert np.all(linear[ok] > -2e-3) and np.all(linear[ok] < 1 + 2e-3)
        assert np.all(rgb[~ok] == 0)
        # what the panel shows for a reachable (a, b) converts back to that colour (no clipping)
        back = lab.rgb_to_lab(rgb)
        assert np.abs(back[ok][:, 1:] - np.stack([a[ok], b[ok]], -1)).max() < 1.5
    assert not lab.in_gamut(50, 100, 100) and lab.in_gamut(53.24, 80.09, 67.2)


def test_panel_coordinates_round_trip():
    for a, b in [(0, 0), (-60, 35), (100, -100)]:
        x, y = lab.panel_xy(a, b, 128)
        assert np.allclose(lab.ab_at_panel(x, y, 128), (a, b))


def test_in_gamut_bins():
    bins = lab.in_gamut_bins()
    assert 250 <= len(bins) <= 320  # the official hull (from ImageNet statistics) has 313
    assert lab.ab_to_bin(np.array([0.0, 0.0])) in bins
    assert lab.ab_to_bin(np.array([-110.0, -110.0])) not in bins
    assert np.allclose(lab.bin_to_ab(lab.ab_to_bin(np.array([[30.0, -20.0]]))), [[30.0, -20.0]])


def test_grey_detection():
    assert lab.is_grey(np.repeat(_photo()[..., :1], 3, axis=2))
    assert not lab.is_grey(_photo())
