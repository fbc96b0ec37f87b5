"""Suggested colours: ranked by the class head, only colours reachable at the point's lightness."""

from __future__ import annotations

import numpy as np
import torch

from engines.colorize import lab
from engines.colorize.archs import SIGGRAPHGenerator
from engines.colorize.suggest import suggest, suggestions_from_logits


def test_suggestions_are_sorted_reachable_and_follow_the_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1, (529, 4, 4))
    favourite = int(lab.ab_to_bin(np.array([20.0, 30.0])))
    logits[favourite, 1, 2] = 12.0
    unreachable = int(lab.ab_to_bin(np.array([100.0, -100.0])))  # not an sRGB colour at L = 60
    logits[unreachable, 1, 2] = 20.0
    out = suggestions_from_logits(logits, 60.0, u=0.6, v=0.3, k=6)
    assert len(out) == 6
    probs = [s.probability for s in out]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0 + 1e-9
    assert out[0].ab == (20.0, 30.0)
    assert all(lab.in_gamut(60.0, s.ab[0], s.ab[1]) for s in out)
    assert all(0 <= c <= 1 for s in out for c in s.rgb)
    back = lab.rgb_to_lab(np.array([[out[0].rgb]], np.float32))[0, 0]
    assert abs(back[0] - 60.0) < 0.5  # the swatch has the point's own lightness


def test_extreme_lightness_falls_back_to_grey():
    out = suggestions_from_logits(np.zeros((529, 2, 2)), 100.0, 0.1, 0.1, k=3)
    assert out and out[0].ab == (0.0, 0.0)


def test_suggest_runs_the_network_at_a_point():
    torch.manual_seed(0)
    net = SIGGRAPHGenerator(0.125).eval()
    img = np.random.default_rng(0).random((64, 96, 3)).astype(np.float32)
    out = suggest(net, img, (), 40.0, 20.0, k=5)
    assert 1 <= len(out) <= 5
    assert [s.probability for s in out] == sorted((s.probability for s in out), reverse=True)
