"""Colorization refinements (issue 20): the bench's colourfulness and hint-error metrics and grid, the
geodesic (edge-aware) spread, annealed-mean decoding of the class head, and the hint-colour fix."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from engines.bench import colorize as bench
from engines.colorize.lab import AB_GRID, bin_to_ab, join_ab, rgb_to_lab
from engines.colorize import refine
from engines.colorize.refine import annealed_mean, geodesic_nearest, geodesic_spread, prior_ab, refine_ab
from engines.core import registry
from engines.core.protocol import ColorizeRequest, Hint, RunContext, Task, drive
from engines.train_data import default_data_root


def _two_tone(h=64, w=64):
    """Left half dark (L 20), right half light (L 80)."""
    L = np.full((h, w), 20.0, np.float32)
    L[:, w // 2:] = 80.0
    return L


def _smooth_photo(seed=0, side=256):
    base = np.random.default_rng(seed).random((4, 4, 3)).astype(np.float32)
    return cv2.resize(base, (side, side), interpolation=cv2.INTER_CUBIC).clip(0, 1)


# ----------------------------------------------------------------------------- metrics


def test_colourfulness_of_grey_is_zero_and_of_colour_is_known():
    grey = np.full((8, 8, 3), 0.4, np.float32)
    assert bench.colourfulness(grey) == 0.0
    red = np.zeros((8, 8, 3), np.float32)
    red[..., 0] = 1.0  # rg = 255, yb = 127.5, no spread: M = 0.3 * hypot(255, 127.5)
    assert abs(bench.colourfulness(red) - 0.3 * np.hypot(255, 127.5)) < 1e-6
    assert abs(bench.colourfulness_ratio(red, red) - 1.0) < 1e-9
    assert bench.colourfulness_ratio(grey, red) == 0.0
    assert bench.colourfulness_ratio(red, grey) == bench.colourfulness(red)  # grey truth counts as M = 1


def test_hint_errors_read_the_output_over_the_hints_patch():
    img = np.full((32, 32, 3), 0.5, np.float32)
    img[10:13, 20:23] = (0.8, 0.2, 0.2)
    hint_here = Hint(21.0, 11.0, (0.8, 0.2, 0.2), 3)  # centre of that 3 x 3 patch
    assert bench.hint_errors(img, [hint_here])[0] < 1e-3
    grey_hint = Hint(5.0, 5.0, (0.8, 0.2, 0.2), 3)
    want = np.linalg.norm(rgb_to_lab(np.array([[[0.8, 0.2, 0.2]]], np.float32))[0, 0]
                          - rgb_to_lab(np.array([[[0.5, 0.5, 0.5]]], np.float32))[0, 0])
    assert abs(bench.hint_errors(img, [grey_hint])[0] - want) < 1e-3
    assert bench.hint_errors(img, []).size == 0


def test_rows_carry_colourfulness_and_hint_error_and_the_grid_is_written(tmp_path):
    imgs = [_smooth_photo(i) for i in range(2)]
    rows = bench.run_bench(imgs, ["baseline"], "fixture", counts=(0, 10))
    assert rows[0].colourfulness_ratio == 0.0 and rows[0].hint_error is None  # grey without hints
    assert rows[1].colourfulness_ratio > 0.5 and 0 <= rows[1].hint_error < 6
    assert "colour" in bench.HEADER and "-" in bench.format_row(rows[0])
    path = bench.grid(imgs, ["baseline"], tmp_path / "g.png", photos=2)
    w, h = Image.open(path).size
    assert (w, h) == (256 * (len(bench.GRID_COUNTS) + 2), 18 + 2 * 256)


def test_cli_json_has_the_new_figures_and_a_grid(tmp_path):
    from engines.cli import main

    data = tmp_path / "set"
    data.mkdir()
    for i in range(2):
        Image.fromarray((_smooth_photo(i) * 255).round().astype(np.uint8)).save(data / f"{i}.png")
    out = tmp_path / "out" / "c.json"
    assert main(["bench", "colorize", "--data", str(data), "--json", str(out), "--models", "baseline"]) == 0
    doc = json.loads(out.read_text())
    assert {"colourfulness_ratio", "hint_error"} <= set(doc["rows"][0])
    assert doc["rows"][0]["hint_error"] is None and doc["rows"][-1]["hint_error"] >= 0
    assert (out.parent / doc["grid"]).is_file() and doc["grid"] == "c-grid.png"


# ----------------------------------------------------------------------------- geodesic spread


def test_geodesic_nearest_stops_at_a_strong_lightness_edge():
    L = _two_tone()
    # point 0 on the dark side 2 px from the edge, point 1 at the far right of the light side
    _, idx = geodesic_nearest(L, [(32, 29), (32, 63)])
    assert (idx[:, :32] == 0).all() and (idx[:, 32:] == 1).all()


def test_geodesic_spread_chooses_one_hint_never_a_mix():
    L = np.full((64, 64), 50.0, np.float32)
    hints = [Hint(10.0, 32.0, (1.0, 0.0, 0.0), 1), Hint(54.0, 32.0, (0.0, 0.0, 1.0), 1)]
    ab = geodesic_spread(L, hints, (64, 64))
    want = rgb_to_lab(np.array([[h.rgb for h in hints]], np.float32))[0, :, 1:]
    flat = ab.reshape(-1, 2)
    assert (np.isclose(flat, want[0], atol=1e-3).all(1) | np.isclose(flat, want[1], atol=1e-3).all(1)).all()
    assert np.allclose(ab[32, 5], want[0], atol=1e-3) and np.allclose(ab[32, 60], want[1], atol=1e-3)


def test_texture_does_not_wall_but_an_edge_does():
    rng = np.random.default_rng(0)
    L = (50 + rng.uniform(-1, 1, (64, 64))).astype(np.float32)  # shading below the floor: free
    d, _ = geodesic_nearest(L, [(32, 32)])
    assert d.max() < 0.8  # about the Euclidean distance (in image widths)


def test_baseline_engine_walls_off_the_other_side():
    L = _two_tone()
    rgb = np.repeat((L / 100.0)[..., None], 3, axis=2).astype(np.float32)  # grey photo with an L edge
    hints = (Hint(29.0, 32.0, (0.9, 0.1, 0.1), 1), Hint(63.0, 32.0, (0.1, 0.2, 0.9), 1))
    out = drive(registry.get(Task.COLORIZE, "baseline").run(ColorizeRequest(rgb, hints), RunContext()))
    lab = rgb_to_lab(out.image)
    assert (lab[:, 36:, 2] < -10).all()  # the light side is blue (b < 0), though the red hint is 3 px away
    assert (lab[:, :28, 1] > 10).all()


# ----------------------------------------------------------------------------- class-head prior


@pytest.mark.parametrize("index", [0, 264, 300, AB_GRID * AB_GRID - 1])
def test_annealed_mean_of_a_one_hot_logit_is_that_bins_centre(index):
    logits = np.full((AB_GRID * AB_GRID, 3, 5), -30.0, np.float32)
    logits[index] = 30.0
    ab = annealed_mean(logits)
    assert ab.shape == (3, 5, 2) and np.allclose(ab, bin_to_ab(index), atol=1e-4)


def test_annealed_mean_sharpens_towards_the_mode():
    logits = np.zeros((AB_GRID * AB_GRID, 1, 1), np.float32)
    logits[300] = 2.0  # a mild peak: the plain mean (T = 1) stays nearer grey than the annealed one
    a1 = np.linalg.norm(annealed_mean(logits, T=1.0))
    a038 = np.linalg.norm(annealed_mean(logits, T=0.38))
    assert a038 > a1
    assert prior_ab(logits.repeat(4, 1).repeat(4, 2), 16).shape == (16, 16, 2)
    with pytest.raises(ValueError):
        annealed_mean(np.zeros((313, 2, 2)))


def test_with_zero_hints_the_default_is_not_grey_on_a_known_photo():
    folder = default_data_root() / "photos" / "bsds500" / "train"
    if not folder.is_dir():
        pytest.skip("shared data not found")
    img = bench.load_set(folder, 1)[0]
    out = drive(registry.get(Task.COLORIZE, "default").run(ColorizeRequest(img, ()), RunContext()))
    assert bench.colourfulness(out.image) > 5.0  # grey would be 0
    assert bench.colourfulness_ratio(out.image, img) > 0.2


# ----------------------------------------------------------------------------- hint colour fix


def test_refine_puts_a_hints_colour_at_its_point_softly_and_not_across_an_edge():
    L = _two_tone(128, 128)
    ab = np.zeros((128, 128, 2), np.float32)  # a grey network answer
    hint = Hint(50.0, 64.0, (0.6, 0.1, 0.1), 3)  # dark side, 14 px from the edge
    want = rgb_to_lab(np.array([[hint.rgb]], np.float32))[0, 0, 1:]
    out = refine_ab(L, ab, [hint], (128, 128), prior_weight=0.0)
    # from grey (Delta E about 61 in ab) to about 8: the guided filter that hides seams takes a little
    # of the peak; on the nets' own small residuals the bench measures hint errors below 1
    assert np.linalg.norm(out[63:66, 49:52].reshape(-1, 2).mean(0) - want) < 10
    # a soft falloff, not a dot: 5 px away still most of the colour, and it fades with distance
    assert np.linalg.norm(out[64, 45]) > 0.6 * np.linalg.norm(want)
    assert np.linalg.norm(out[64, 5]) < np.linalg.norm(out[64, 45])
    assert np.abs(out[:, 70:]).max() < 1.0  # nothing past the strong L edge


def test_default_engine_keeps_hint_colours_within_6_delta_e():
    imgs = [_smooth_photo(i) for i in range(2)]
    engine = registry.get(Task.COLORIZE, "default")
    from engines.colorize.hints import random_hints_from_image

    errs = []
    for i, img in enumerate(imgs):
        hints = tuple(random_hints_from_image(np.random.default_rng(i), img, 10, 3))
        out = drive(engine.run(ColorizeRequest(img, hints), RunContext()))
        errs.extend(bench.hint_errors(out.image, hints))
    assert np.mean(errs) <= 6.0, errs
    assert join_ab(np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.float32)).shape == (4, 4, 3)


def test_refine_gain_without_hints_and_no_whole_photo_tint_from_one_hint():
    from engines.colorize import refine

    L = np.full((32, 32), 50.0, np.float32)
    ab = np.full((32, 32, 2), 4.0, np.float32)
    assert np.allclose(refine_ab(L, ab, [], (32, 32)), 4.0 * refine.ZERO_HINT_GAIN)
    assert np.allclose(refine_ab(L, ab, [], (32, 32), gain=1.6), 6.4)
    # one hint: no share of the nearest-hint answer (it would paint the whole photo); only the soft fix
    one = refine_ab(L, ab, [Hint(2.0, 2.0, (0.1, 0.2, 0.9), 1)], (32, 32), fix_radius=0.0)
    assert np.allclose(one, ab)
    two = refine_ab(L, ab, [Hint(2.0, 2.0, (0.1, 0.2, 0.9), 1), Hint(29.0, 29.0, (0.9, 0.2, 0.1), 1)], (32, 32),
                    fix_radius=0.0)
    assert not np.allclose(two, ab)


# ----------------------------------------------------------------------------- chroma detail gain, share by cost


def test_detail_gain_spreads_colours_apart_around_the_photos_mean():
    from engines.colorize import refine

    L = np.full((32, 32), 50.0, np.float32)
    ab = np.zeros((32, 32, 2), np.float32)
    ab[:, :16] = (10.0, 20.0)
    ab[:, 16:] = (2.0, 4.0)  # mean (6, 12)
    out = refine_ab(L, ab, [], (32, 32))
    g = refine.DETAIL_GAIN_0
    assert np.allclose(out[:, :16], (6 + 4 * g, 12 + 8 * g), atol=1e-4)
    assert np.allclose(out[:, 16:], (6 - 4 * g, 12 - 8 * g), atol=1e-4)
    assert np.allclose(out.reshape(-1, 2).mean(0), (6.0, 12.0), atol=1e-4)  # the cast is kept
    assert np.allclose(refine_ab(L, ab, [], (32, 32), detail_gain=1.0), ab)


def test_nearest_hints_share_falls_with_geodesic_cost():
    L = np.full((64, 64), 50.0, np.float32)
    ab = np.zeros((64, 64, 2), np.float32)
    blue = (0.1, 0.2, 0.9)  # four hints: the full share (it ramps up over the first MIX_FULL_AT)
    hints = [Hint(4.0, 32.0, (0.9, 0.1, 0.1), 1), Hint(59.0, 32.0, blue, 1), Hint(59.0, 8.0, blue, 1),
             Hint(59.0, 56.0, blue, 1)]
    out = refine_ab(L, ab, hints, (64, 64), mix=1.0, share_d0=0.15, fix_radius=0.0, detail_gain=1.0)
    want = rgb_to_lab(np.array([[hints[0].rgb]], np.float32))[0, 0, 1:]
    near, far = np.linalg.norm(out[32, 4]), np.linalg.norm(out[32, 28])  # 24 px = cost 0.375 away
    assert near > 0.95 * np.linalg.norm(want)  # at the hint: its colour
    assert 0.2 * np.linalg.norm(want) < far < 0.5 * near  # farther: less of it, the net's (grey) answer more
    # it is one hint's colour (the red one's hue) on its side, not a mix with the blue one, farther than
    # 2 x refine.SEAM_SMOOTH (the guided filter's reach, 16 px) from the cells' border (x ~ 31.5; nearer
    # it the two ramp into each other: cos 0.998 at x 20, 0.87 at x 28)
    cos = out[32, 14] @ want / (np.linalg.norm(out[32, 14]) * np.linalg.norm(want))
    assert cos > 0.999



# ----------------------------------------------------------------------------- grey gate, 0 -> 1 hint


def _peaked_logits(ab_peak, h=8, w=8, height=12.0):
    """Class logits (529 x h x w) peaked at the bin nearest ``ab_peak``."""
    centres = bin_to_ab(np.arange(AB_GRID * AB_GRID))
    k = int(np.argmin(np.linalg.norm(centres - np.asarray(ab_peak, np.float32), axis=1)))
    logits = np.zeros((AB_GRID * AB_GRID, h, w), np.float32)
    logits[k] = height
    return logits


def test_grey_mass_reads_the_heads_confidence_in_grey():
    from engines.colorize.refine import grey_mass

    assert grey_mass(_peaked_logits((0.0, 0.0)), 32).min() > 0.99
    assert grey_mass(_peaked_logits((40.0, 50.0)), 32).max() < 0.01
    assert grey_mass(np.zeros((AB_GRID * AB_GRID, 4, 4), np.float32), 16).max() < 0.02  # flat: 5 of 529 bins
    with pytest.raises(ValueError):
        grey_mass(np.zeros((313, 2, 2), np.float32), 8)


def test_grey_stays_grey_without_hints_where_the_head_says_grey():
    """A statue the net tints slightly brown, next to colourful grass: without hints the detail gain
    lifts the grass but leaves the statue where the net put it (within 0.5 of ab), not browner."""
    L = np.full((32, 32), 50.0, np.float32)
    ab = np.zeros((32, 32, 2), np.float32)
    ab[:, :16] = (2.0, 9.0)  # the statue: a faint brown cast
    ab[:, 16:] = (-30.0, 40.0)  # grass
    logits = np.concatenate([_peaked_logits((0.0, 0.0), 8, 4), _peaked_logits((-30.0, 40.0), 8, 4)], axis=2)
    gated = refine_ab(L, ab, [], (32, 32), logits)
    plain = refine_ab(L, ab, [], (32, 32), logits, neutral_radius=0.0)
    statue = np.s_[:, 2:12]  # away from the bilinear seam of the 4-px logits grid
    assert np.abs(gated[statue] - ab[statue]).max() < 0.5
    # ungated, the same gain pushes the statue far from grey (its deviation from the mean x DETAIL_GAIN_0)
    assert np.abs(plain[statue] - ab[statue]).max() > 20.0
    grass = np.s_[:, 20:30]
    mean = ab.reshape(-1, 2).mean(0)
    assert np.linalg.norm(gated[grass] - ab[grass], axis=-1).min() > 10.0  # the colourful side is amplified
    assert np.allclose(gated[grass].reshape(-1, 2).mean(0) - mean,
                       refine.DETAIL_GAIN_0 * (ab[grass].reshape(-1, 2).mean(0) - mean), atol=0.5)


def test_one_hint_gain_sits_between_none_and_many():
    """The gain no longer drops from DETAIL_GAIN_0 straight to the many-hint value at the first hint."""
    assert refine.DETAIL_GAIN_0 > refine.DETAIL_GAIN_1 > refine.DETAIL_GAIN_HINTS >= 1.0


def test_the_default_gain_never_falls_as_hints_are_added_from_two():
    """From 2 hints the gain is DETAIL_GAIN_HINTS up to 10, then rises by DETAIL_GAIN_SLOPE per doubling."""
    gains = [refine.detail_gain_for(n) for n in (2, 5, 10, 20, 30, 50, 100)]
    assert gains[0] == gains[2] == refine.DETAIL_GAIN_HINTS
    assert all(b >= a for a, b in zip(gains, gains[1:]))
    assert np.isclose(gains[3], refine.DETAIL_GAIN_HINTS + refine.DETAIL_GAIN_SLOPE)
    assert refine.detail_gain_for(0) == refine.DETAIL_GAIN_0 and refine.detail_gain_for(1) == refine.DETAIL_GAIN_1


def test_one_hint_borrows_the_zero_hint_answers_detail_but_not_where_its_head_says_grey():
    """With ab0 (the net without hints) and 1 hint: out = ab + ZERO_DETAIL[0] x (1 - p_grey0) x (ab0 - its
    mean), the hinted answer's own deviations not gained; a statue the 0-hint head calls grey gets none."""
    L = np.full((32, 32), 50.0, np.float32)
    ab = np.zeros((32, 32, 2), np.float32)
    ab[:, 16:] = (5.0, 5.0)  # the hinted answer
    ab0 = np.zeros((32, 32, 2), np.float32)
    ab0[:, :16] = (2.0, 9.0)  # statue: faint brown
    ab0[:, 16:] = (-10.0, 20.0)  # grass
    logits0 = np.concatenate([_peaked_logits((0.0, 0.0), 8, 4), _peaked_logits((-30.0, 40.0), 8, 4)], axis=2)
    hint = [Hint(28.0, 28.0, (0.5, 0.5, 0.5), 1)]
    out = refine_ab(L, ab, hint, (32, 32), logits0, fix_radius=0.0, ab0=ab0, logits0=logits0)
    k = refine.ZERO_DETAIL[0]
    mean0 = ab0.reshape(-1, 2).mean(0)
    grass, statue = np.s_[:, 20:30], np.s_[:, 2:12]
    assert np.allclose(out[grass], ab[grass] + k * (ab0[grass] - mean0), atol=0.05)
    assert np.abs(out[statue] - ab[statue]).max() < 0.1
    # without ab0: the old gated gain on the answer's own deviations
    old = refine_ab(L, ab, hint, (32, 32), logits0, fix_radius=0.0)
    assert not np.allclose(old, out)
    # many hints: ab0 is not used
    many = [Hint(float(x), float(y), (0.5, 0.5, 0.5), 1) for x in (4, 12, 20, 28) for y in (4, 28)]
    assert np.allclose(refine_ab(L, ab, many, (32, 32), fix_radius=0.0, ab0=ab0),
                       refine_ab(L, ab, many, (32, 32), fix_radius=0.0))
    with pytest.raises(ValueError):
        refine_ab(L, ab, hint, (32, 32), ab0=ab0[:16])



def test_refine_stops_a_hint_harder_at_a_moderate_edge_than_the_baselines_spread():
    """REFINE_EDGE_LAMBDA (3) > EDGE_LAMBDA (1): across a moderate L step (12) the refine's nearest-hint
    share and hint fix carry less of a hint's colour than with the baseline's cost."""
    L = np.full((64, 64), 50.0, np.float32)
    L[:, 32:] = 62.0
    ab = np.zeros((64, 64, 2), np.float32)
    hints = [Hint(16.0, 16.0, (0.8, 0.2, 0.2), 1), Hint(16.0, 48.0, (0.8, 0.2, 0.2), 1)]
    strong = refine_ab(L, ab, hints, (64, 64), mix=1.0, share_d0=0.15, detail_gain=1.0)
    weak = refine_ab(L, ab, hints, (64, 64), mix=1.0, share_d0=0.15, detail_gain=1.0, edge_lambda=1.0)
    across = np.s_[40:60, 36:60]  # past the edge, away from both hints
    assert np.linalg.norm(strong[across], axis=-1).mean() < 0.9 * np.linalg.norm(weak[across], axis=-1).mean()
