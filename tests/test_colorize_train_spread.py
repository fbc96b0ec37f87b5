"""``train colorize --spread-mode soft`` (issue 20): the training spread input is exactly what the engine
feeds the bundled spread-input net at inference (the soft partition, and with 1 hint the fade to the
net's own 0-hint answer), on a crop of the photo as on the whole photo. The default (hard) mode is the
nearest-point partition the net was first trained on."""

from __future__ import annotations

import numpy as np
import pytest

from engines.colorize import spread
from engines.colorize.lab import rgb_to_lab
from engines.colorize.train import make_batch, training_spread, zero_hint_answers
from engines.core import registry
from engines.core.protocol import ColorizeRequest, Hint, RunContext, Task, drive

TOL_AB = 0.06  # ab units (of +-110): the same float32 arithmetic on both sides, except that training caches
# the 0-hint answer in fp16 (relative rounding 2^-11, at most 0.054 at |ab| 110; measured 0.0024 here)


def _photo(side=256):
    """A uint8 test photo with flat regions of different lightness and colour, and a gradient."""
    rng = np.random.default_rng(5)
    img = np.zeros((side, side, 3), np.float32)
    yy, xx = np.mgrid[:side, :side] / side
    img[...] = np.stack([0.3 + 0.5 * xx, 0.4 + 0.3 * yy, 0.6 - 0.3 * xx], -1)
    img[40:120, 30:200] = (0.8, 0.3, 0.2)
    img[150:230, 100:180] = (0.2, 0.25, 0.3)
    img += rng.normal(0, 0.01, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def _engine_spreads(photo, hints):
    """The spread planes (``H x W x 2``) the default engine passes its net, one per net call."""
    engine = registry.get(Task.COLORIZE, "default")
    module = engine.module_for("cpu", "float32")
    assert getattr(module, "spread_input", False), "the bundled default is a spread-input net"
    seen = []
    handle = module.register_forward_pre_hook(lambda m, args: seen.append(args[3]))
    try:
        drive(engine.run(ColorizeRequest(photo.astype(np.float32) / 255.0, tuple(hints)), RunContext()))
    finally:
        handle.remove()
    return module, [None if s is None else s[0].permute(1, 2, 0).numpy() for s in seen]


def _points(hints):
    ab = [rgb_to_lab(np.array(h.rgb, np.float32).reshape(1, 1, 3))[0, 0, 1:] for h in hints]
    return [((int(h.y), int(h.x)), v) for h, v in zip(hints, ab)]


@pytest.mark.parametrize("count", [1, 3])
def test_soft_training_spread_is_what_the_engine_feeds_the_net(count):
    photo = _photo()
    hints = [Hint(150.0, 80.0, (0.1, 0.3, 0.9), 3), Hint(180.0, 110.0, (0.9, 0.6, 0.1), 3),
             Hint(160.0, 130.0, (0.2, 0.8, 0.3), 3)][:count]
    module, seen = _engine_spreads(photo, hints)
    fed = seen[-1]  # with 1 hint the engine's 0-hint pass comes first
    assert fed is not None and np.abs(fed).max() > 5
    bases = zero_hint_answers(module, photo[None]).astype(np.float32)  # the engine's net = the frozen start
    # a 96² crop holding the hints, spread with the whole photo's side, as make_batch does
    y0, x0, c = 40, 100, 96
    crop = photo[y0:y0 + c, x0:x0 + c]
    L = rgb_to_lab(crop.astype(np.float32) / 255.0)[..., 0]
    pts = [((y - y0, x - x0), v) for (y, x), v in _points(hints)]
    assert all(0 <= y < c and 0 <= x < c for (y, x), _ in pts)
    ours = training_spread(L, pts, 256, "soft", bases[0, y0:y0 + c, x0:x0 + c]).transpose(1, 2, 0)
    assert np.abs(ours - fed[y0:y0 + c, x0:x0 + c]).max() < TOL_AB
    whole = training_spread(rgb_to_lab(photo.astype(np.float32) / 255.0)[..., 0], _points(hints), 256, "soft",
                            bases[0]).transpose(1, 2, 0)
    assert np.abs(whole - fed).max() < TOL_AB
    if count == 1:  # the fade reached the training input: far from the hint it is the 0-hint answer
        plain = training_spread(rgb_to_lab(photo.astype(np.float32) / 255.0)[..., 0], _points(hints), 256,
                                "soft").transpose(1, 2, 0)
        assert np.abs(plain - whole).max() > 5


def test_hard_mode_is_the_nearest_point_partition_and_make_batch_checks_its_inputs():
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (32, 32)).astype(np.float32)
    pts = [((3, 4), np.array([40.0, -20.0], np.float32)), ((20, 25), np.array([-30.0, 50.0], np.float32))]
    hard = training_spread(L, pts, 64).transpose(1, 2, 0)
    assert np.array_equal(hard, spread.spread_points(L, [p for p, _ in pts], np.stack([v for _, v in pts]), side=64))
    assert not training_spread(L, [], 64, "soft").any()
    with pytest.raises(ValueError, match="spread mode"):
        training_spread(L, pts, 64, "wavy")
    photos = (np.random.default_rng(1).random((2, 64, 64, 3)) * 255).astype(np.uint8)
    with pytest.raises(ValueError, match="bases"):
        make_batch(rng, photos, 32, 2, spread=True, spread_mode="soft")
    bases = np.zeros((2, 64, 64, 2), np.float16)
    spread_ab = make_batch(rng, photos, 32, 4, spread=True, many_frac=0.5, spread_mode="soft", bases=bases)[4]
    assert spread_ab.shape == (4, 2, 32, 32) and np.isfinite(spread_ab).all()
