"""PConv engine: polarity, context window and padding, hole-only compositing, alpha / 16-bit, cards."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engines.core import registry
from engines.core.protocol import EngineError, EngineInfo, InpaintRequest, Input, RunContext, Task, drive
from engines.imageio import load_image, save_image
from engines.inpaint import window as win
from engines.inpaint.engine import PConvEngine, model_id_for, register_models, to_network


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    import torch

    from engines.inpaint.arch import PConvUNet
    from engines.weights import save_safetensors

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    save_safetensors(PConvUNet(base=4, layers=4).state_dict(), path, half=True)
    return path


@pytest.fixture
def engine(tiny_weights):
    info = EngineInfo(id="pconv-tiny", task=Task.INPAINT, title="tiny", license="test",
                      inputs=(Input.IMAGE, Input.MASK), uses_torch=True)
    return PConvEngine(info, tiny_weights)


def _run(engine, image, mask):
    return drive(engine.run(InpaintRequest(image=image, mask=mask), RunContext()))


def test_polarity_conversion_happens_once():
    image = np.full((4, 4, 3), 0.75, np.float32)
    fill = np.zeros((4, 4), bool)
    fill[1, 2] = True  # user: 1 = fill
    x, valid = to_network(image, fill)
    assert valid[1, 2] == 0 and valid.sum() == 15  # PConv: 1 = valid
    assert np.all(x[1, 2] == 0) and np.allclose(x[0, 0], 0.5)  # [-1, 1], holes zeroed


def test_valid_pixels_untouched_and_hole_changed(engine):
    rng = np.random.default_rng(0)
    image = rng.random((70, 90, 3), dtype=np.float32)
    mask = np.zeros((70, 90), np.float32)
    mask[20:40, 30:60] = 1.0
    mask[40, 30:60] = 0.5  # soft brush edge: a feathered blend
    out = _run(engine, image, mask).image
    assert out.dtype == np.float32 and out.shape == image.shape
    assert np.array_equal(out[mask == 0], image[mask == 0])  # bit-exact
    assert not np.allclose(out[20:40, 30:60], image[20:40, 30:60])
    # the half-painted row is the midpoint of the original and the full-weight prediction
    assert not np.array_equal(out[40, 30:60], image[40, 30:60])


def test_composite_weights_exactly():
    image = np.zeros((2, 2, 3), np.float32)
    pred = np.ones((2, 2, 3), np.float32)
    weight = np.array([[0, 0.25], [1, 0]], np.float32)
    out = win.composite(image, pred, weight)
    assert out[0, 0, 0] == 0 and out[0, 1, 0] == 0.25 and out[1, 0, 0] == 1 and out[1, 1, 0] == 0


def test_pad_and_crop_to_multiple():
    a = np.arange(5 * 7 * 3, dtype=np.float32).reshape(5, 7, 3)
    padded, size = win.pad_to_multiple(a, 4)
    assert padded.shape == (8, 8, 3) and size == (5, 7)
    assert np.array_equal(win.crop_to(padded, size), a)
    assert padded[5, 0, 0] == a[3, 0, 0]  # reflected, not zeros
    same, _ = win.pad_to_multiple(np.zeros((8, 8), np.float32), 4)
    assert same.shape == (8, 8)


def test_context_window_contains_hole_and_is_a_multiple_when_it_fits():
    fill = np.zeros((600, 800), bool)
    fill[100:140, 500:530] = True
    w = win.context_window(fill, 64)
    assert w.y0 <= 100 and w.y1 >= 140 and w.x0 <= 500 and w.x1 >= 530
    assert w.height % 64 == 0 and w.width % 64 == 0
    assert 0 <= w.y0 and w.y1 <= 600 and 0 <= w.x0 and w.x1 <= 800
    edge = np.zeros((50, 60), bool)
    edge[0:5, 55:60] = True  # small image: the window is the image, padding does the rest
    we = win.context_window(edge, 64)
    assert (we.y0, we.y1, we.x0, we.x1) == (0, 50, 0, 60)


def test_odd_sizes_and_large_holes_use_the_downscaled_path(engine, monkeypatch):
    import engines.inpaint.engine as mod

    monkeypatch.setattr(mod, "WORK_SIDE", 64)
    rng = np.random.default_rng(1)
    image = rng.random((101, 203, 3), dtype=np.float32)
    mask = np.zeros((101, 203), np.float32)
    mask[10:90, 20:180] = 1
    result = _run(engine, image, mask)
    assert result.extras["work_scale"] < 1.0
    assert np.array_equal(result.image[mask == 0], image[mask == 0])
    assert np.isfinite(result.image).all() and result.image.min() >= 0 and result.image.max() <= 1


def test_hole_depth_is_the_distance_to_known_pixels_not_the_hole_size():
    stroke = np.zeros((200, 200), bool)
    stroke[98:103, 10:190] = True  # long, 5 px thick: shallow
    blob = np.zeros((200, 200), bool)
    blob[40:160, 40:160] = True  # 120 px square: ~60 deep at its centre
    assert win.hole_depth(stroke) <= 3.5
    assert 40 <= win.hole_depth(blob) <= 60
    assert win.hole_depth(np.zeros((8, 8), bool)) == 0.0
    assert win.depth_scale(stroke, 45) == 1.0 and win.depth_scale(blob, 0) == 1.0
    assert win.depth_scale(blob, 45) == pytest.approx(45 / win.hole_depth(blob))
    assert win.depth_scale(blob, 1, min_factor=0.25) == 0.25


def test_deep_holes_are_filled_from_a_downscaled_window_when_the_card_says_so(engine):
    rng = np.random.default_rng(4)
    image = rng.random((256, 256, 3), dtype=np.float32)
    mask = np.zeros((256, 256), np.float32)
    mask[60:196, 60:196] = 1  # 68 px to its centre, ~53 at the 95th percentile
    assert _run(engine, image, mask).extras["work_scale"] == 1.0  # default: off
    engine.max_hole_depth = 34.0
    result = _run(engine, image, mask)
    assert result.extras["work_scale"] == pytest.approx(34.0 / win.hole_depth(mask > 0), abs=1e-3)
    assert result.extras["work_scale"] < 0.7
    assert np.array_equal(result.image[mask == 0], image[mask == 0])  # known pixels stay full-res
    thin = np.zeros((256, 256), np.float32)
    thin[120:126, 20:236] = 1
    assert _run(engine, image, thin).extras["work_scale"] == 1.0


def test_empty_full_and_bad_masks(engine):
    image = np.random.default_rng(2).random((32, 32, 3), dtype=np.float32)
    out = _run(engine, image, np.zeros((32, 32), np.float32)).image
    assert np.array_equal(out, image)
    with pytest.raises(EngineError, match="whole image"):
        _run(engine, image, np.ones((32, 32), np.float32))
    with pytest.raises(EngineError, match="mask is 16x16"):
        _run(engine, image, np.ones((16, 16), np.float32))


def test_cancel_stops_the_run(engine):
    ctx = RunContext()
    ctx.cancel.cancel()
    image = np.random.default_rng(3).random((32, 32, 3), dtype=np.float32)
    mask = np.zeros((32, 32), np.float32)
    mask[4:8, 4:8] = 1
    with pytest.raises(Exception) as info:
        drive(engine.run(InpaintRequest(image=image, mask=mask), ctx))
    assert "cancel" in type(info.value).__name__.lower() or "cancel" in str(info.value).lower()


def test_alpha_and_16_bit_survive_a_fill(engine, tmp_path):
    rng = np.random.default_rng(4)
    rgb = (rng.integers(0, 65536, (40, 50, 3)) / 65535.0).astype(np.float32)
    alpha = np.linspace(0, 1, 40 * 50, dtype=np.float32).reshape(40, 50)
    src = tmp_path / "in16.png"
    save_image(src, rgb, alpha=alpha, bit_depth=16)
    loaded = load_image(src)
    assert loaded.bit_depth == 16 and loaded.alpha is not None
    mask = np.zeros((40, 50), np.float32)
    mask[10:20, 10:30] = 1
    out = _run(engine, loaded.rgb, mask).image
    dst = tmp_path / "out16.png"
    save_image(dst, out, alpha=loaded.alpha, bit_depth=loaded.bit_depth)
    back = load_image(dst)
    assert back.bit_depth == 16
    assert np.array_equal(back.alpha, loaded.alpha)
    assert np.array_equal(back.rgb[mask == 0], loaded.rgb[mask == 0])  # every 16-bit value kept


def test_cards_register_pconv_ids_and_default(tiny_weights, tmp_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "tiny.safetensors").write_bytes(tiny_weights.read_bytes())
    (folder / "tiny.json").write_text(json.dumps({"id": "tiny", "file": "tiny.safetensors", "task": "inpaint",
                                                  "title": "Tiny", "size_multiple": 16}))
    (folder / "sr.json").write_text(json.dumps({"id": "x", "file": "tiny.safetensors", "task": "upscale"}))
    (folder / "broken.json").write_text("{not json")
    assert register_models([folder]) == ["pconv-tiny"]
    try:
        engine = registry.get(Task.INPAINT, "pconv-tiny")
        assert engine.info.size_multiple == 16 and engine.info.uses_torch
    finally:
        registry._ENGINES.pop((Task.INPAINT, "pconv-tiny"), None)
        registry._INSTANCES.pop((Task.INPAINT, "pconv-tiny"), None)
    assert model_id_for("pconv-x") == "pconv-x" and model_id_for("x") == "pconv-x"


def test_flip_average_is_the_mean_of_both_predictions(tiny_weights):
    info = EngineInfo(id="pconv-tiny", task=Task.INPAINT, title="tiny", license="test",
                      inputs=(Input.IMAGE, Input.MASK), uses_torch=True)
    plain, flipped = PConvEngine(info, tiny_weights), PConvEngine(info, tiny_weights, flip_average=True)
    rng = np.random.default_rng(5)
    image = rng.random((32, 48, 3), dtype=np.float32)
    fill = np.zeros((32, 48), bool)
    fill[8:20, 10:30] = True
    a = plain.predict(image, fill)
    b = plain.predict(image[:, ::-1].copy(), fill[:, ::-1].copy())[:, ::-1]
    np.testing.assert_allclose(flipped.predict(image, fill), np.clip(0.5 * (a + b), 0, 1), atol=2e-3)
