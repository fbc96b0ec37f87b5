"""The spread-hints input (our SIGGRAPH17 extension): spreading, the 6-channel net, training
batches, starting from a 4-channel run, and the engine feeding it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engines.colorize.archs import SIGGRAPHGenerator, build_siggraph17, _detect_siggraph17
from engines.colorize.engine import predict, register_models
from engines.colorize.spread import spread_hints, spread_points
from engines.colorize.train import load_init, make_batch
from engines.core import registry
from engines.core.protocol import ColorizeRequest, Hint, RunContext, Task, drive
from engines.weights import save_safetensors


def _two_tone(h=32, w=32):
    """Left half dark (L 20), right half light (L 80)."""
    L = np.full((h, w), 20.0, np.float32)
    L[:, w // 2:] = 80.0
    return L


def test_no_points_spread_grey():
    assert not spread_points(_two_tone(), [], np.zeros((0, 2))).any()


def test_a_lightness_edge_walls_off_a_hint_nearer_in_distance():
    L = _two_tone()
    # red-ish hint on the dark side near the edge, blue-ish hint far right on the light side
    ab = spread_points(L, [(16, 14), (16, 31)], np.array([[60, 20], [-10, -50]], np.float32))
    assert np.allclose(ab[:, :16], [60, 20])  # all of the dark half
    assert np.allclose(ab[:, 16:], [-10, -50])  # the light half, though column 16 is 2 px from the red hint


def test_side_sets_the_distance_scale_so_a_crop_spreads_like_the_whole_photo():
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (64, 64)).astype(np.float32)
    points, values = [(5, 7), (40, 50), (60, 3)], rng.uniform(-80, 80, (3, 2)).astype(np.float32)
    whole = spread_points(L, points, values, side=64)
    crop = spread_points(L[:32, :32], [(5, 7)], values[:1], side=64)
    assert np.allclose(crop, values[0])  # one point: everything takes it
    # the same two points inside a crop, with the whole photo's side, choose as the whole photo does
    two = spread_points(L[:48, :56], points[:2], values[:2], side=64)
    two_whole = spread_points(L, points[:2], values[:2], side=64)[:48, :56]
    assert np.array_equal(two, two_whole)
    assert whole.shape == (64, 64, 2)


def test_spread_hints_maps_image_coordinates_to_the_plane():
    L = _two_tone(16, 16)
    ab = spread_hints(L, [Hint(95.0, 40.0, (0.0, 0.0, 1.0), 3)], (64, 128))  # right side of the photo
    assert ab[0, 0, 1] < -50  # blue: b strongly negative, everywhere (one hint)


def test_six_channel_state_dicts_are_detected_and_built_as_spread_models():
    net = SIGGRAPHGenerator(0.125, spread_input=True)
    sd = net.state_dict()
    assert sd["model1.0.weight"].shape[1] == 6 and _detect_siggraph17(sd)
    built, meta = build_siggraph17(sd)
    assert built.spread_input and meta["spread_input"]
    assert not build_siggraph17(SIGGRAPHGenerator(0.125).state_dict())[0].spread_input
    with pytest.raises(ValueError, match="spread"):
        net(torch.zeros(1, 1, 16, 16), torch.zeros(1, 2, 16, 16), torch.zeros(1, 1, 16, 16))


def test_init_from_a_four_channel_run_starts_exactly_at_that_model(tmp_path):
    torch.manual_seed(0)
    old = SIGGRAPHGenerator(0.125).eval()
    torch.save({"model": old.state_dict()}, tmp_path / "last.pt")
    new = SIGGRAPHGenerator(0.125, spread_input=True)
    load_init(new, str(tmp_path / "last.pt"))
    new.eval()
    L, ab, mask = torch.rand(2, 1, 32, 32) * 100, torch.rand(2, 2, 32, 32) * 50, torch.rand(2, 1, 32, 32).round()
    spread = torch.rand(2, 2, 32, 32) * 200 - 100
    with torch.no_grad():
        assert torch.equal(new(L, ab, mask, spread)[0], old(L, ab, mask)[0])
    with pytest.raises(ValueError, match="does not match"):
        load_init(SIGGRAPHGenerator(0.25), str(tmp_path / "last.pt"))


def test_training_batches_carry_the_spread_of_their_own_hints():
    rng = np.random.default_rng(3)
    photos = (np.random.default_rng(1).random((2, 64, 64, 3)) * 255).astype(np.uint8)
    L, hab, mask, ab, spread = make_batch(rng, photos, 32, 6, spread=True, many_frac=0.5)
    assert spread.shape == ab.shape == hab.shape == (6, 2, 32, 32)
    for i in range(6):
        m = mask[i, 0] > 0
        if m.any():  # somewhere a hint's centre holds exactly its value in both planes
            centre = np.isclose(spread[i], hab[i]).all(axis=0) & m
            assert centre.any()
        else:
            assert not spread[i].any()
    off = make_batch(np.random.default_rng(3), photos, 32, 2)[4]
    assert not off.any()


def test_engine_feeds_the_spread_to_a_spread_model(tmp_path):
    torch.manual_seed(0)
    net = SIGGRAPHGenerator(0.125, spread_input=True).eval()
    with torch.no_grad():  # make the output depend on the spread channels only
        net.model1[0].weight[:, :4] = 0
    L = np.full((40, 40), 50.0, np.float32)
    hints = [Hint(5.0, 5.0, (1.0, 0.0, 0.0), 3)]
    with_hint, _ = predict(net, L, hints, 40)
    without, _ = predict(net, L, [], 40)
    assert np.abs(with_hint - without).max() > 1e-3  # the spread reached the net
    folder = tmp_path / "w"
    save_safetensors(net.state_dict(), folder / "spready.safetensors", half=False)
    (folder / "spready.json").write_text(json.dumps({
        "id": "spready", "file": "spready.safetensors", "title": "Spread", "task": "colorize", "arch": "siggraph17",
        "license": "test"}))
    assert register_models([folder]) == ["spready"]
    engine = registry.get(Task.COLORIZE, "spready")
    img = np.full((40, 40, 3), 0.5, np.float32)
    out = drive(engine.run(ColorizeRequest(img, tuple(hints)), RunContext()))
    assert out.image.shape == img.shape
