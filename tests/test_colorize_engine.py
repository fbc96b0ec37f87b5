"""Colorize engines: contract (shape, range, full-resolution L, 16-bit precision), hints, errors,
cancel, registration from cards, the baseline, ECCV16 weights in the user's folder."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from engines.colorize import lab
from engines.colorize.archs import ECCVGenerator, SIGGRAPHGenerator
from engines.colorize.baseline import BaselineColorizer
from engines.colorize.engine import register_models
from engines.core import registry
from engines.core.cancel import Cancelled
from engines.core.protocol import ColorizeRequest, EngineError, Hint, Progress, RunContext, Task, drive
from engines.weights import save_safetensors


def _photo(h=120, w=160, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random((6, 8, 3)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + rng.normal(0, 0.02, img.shape).astype(np.float32), 0, 1)


@pytest.fixture
def tiny_model(tmp_path):
    torch.manual_seed(0)
    net = SIGGRAPHGenerator(0.125)
    folder = tmp_path / "w"
    save_safetensors(net.state_dict(), folder / "tiny-colorize.safetensors", half=True)
    (folder / "tiny-colorize.json").write_text(json.dumps({
        "id": "tiny-colorize", "file": "tiny-colorize.safetensors", "title": "Tiny", "task": "colorize",
        "default": True, "arch": "siggraph17", "license": "test"}))
    ids = register_models([folder])
    assert ids == ["tiny-colorize", "default"]
    yield registry.get(Task.COLORIZE, "default")
    register_models()  # the bundled default back


def _L(img):
    return lab.rgb_to_lab(img)[..., 0]


def test_contract_shape_range_and_full_resolution_L(tiny_model):
    img = _photo()
    events = []
    result = drive(tiny_model.run(ColorizeRequest(img, (Hint(20, 30, (1, 0, 0), 3),)), RunContext()), events.append)
    out = result.image
    assert out.shape == img.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert any(isinstance(e, Progress) for e in events)
    assert result.extras["ab"].shape == (160, 160, 2)  # 160 px image: the net runs at 160²
    assert result.extras["class_logits"].shape == (529, 40, 40)
    in_gamut = lab.in_gamut(_L(img), *np.moveaxis(lab.rgb_to_lab(out)[..., 1:], -1, 0))
    err = (_L(out) - _L(img))[in_gamut]
    assert 10 * np.log10(100 ** 2 / np.mean(err ** 2)) > 60  # L is the photo's own, not the net's


def test_16_bit_precision_survives(tiny_model):
    ramp = (np.arange(4096, dtype=np.float32) / 4095.0 * 0.5 + 0.25).reshape(64, 64)
    img = np.repeat(np.round(ramp * 65535)[..., None] / 65535, 3, axis=2).astype(np.float32)
    out = drive(BaselineColorizer().run(ColorizeRequest(img), RunContext())).image
    assert np.abs(out - img).max() < 1e-4  # no hints: grey stays exactly that grey, finer than 8 bits


def test_hints_change_the_result_and_bad_hints_are_errors(tiny_model):
    img = _photo()
    plain = drive(tiny_model.run(ColorizeRequest(img), RunContext())).image
    hinted = drive(tiny_model.run(ColorizeRequest(img, (Hint(80, 60, (0, 0.8, 0), 9),)), RunContext())).image
    assert np.abs(plain - hinted).max() > 1e-3
    with pytest.raises(EngineError, match="outside"):
        drive(tiny_model.run(ColorizeRequest(img, (Hint(500, 5, (1, 0, 0)),)), RunContext()))
    with pytest.raises(EngineError, match="colour"):
        drive(tiny_model.run(ColorizeRequest(img, (Hint(5, 5, (2, 0, 0)),)), RunContext()))
    with pytest.raises(EngineError, match="float32"):
        drive(tiny_model.run(ColorizeRequest((img * 255).astype(np.uint8)), RunContext()))


def test_cancel_stops_the_run(tiny_model):
    ctx = RunContext()
    gen = tiny_model.run(ColorizeRequest(_photo()), ctx)
    next(gen)
    ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        drive(gen)


def test_baseline_spreads_hints_by_region():
    img = np.full((64, 64, 3), 0.3, np.float32)
    img[:, 32:] = 0.8  # two regions of different lightness
    grey = drive(BaselineColorizer().run(ColorizeRequest(img), RunContext())).image
    assert np.allclose(grey, img, atol=1e-4)
    red, blue = (0.8, 0.2, 0.2), (0.2, 0.3, 0.9)
    hints = (Hint(10, 10, red, 3), Hint(50, 50, blue, 3))
    out = drive(BaselineColorizer().run(ColorizeRequest(img, hints), RunContext())).image
    ab = lab.rgb_to_lab(out)[..., 1:]
    assert ab[40, 5, 0] > 20  # the dark left half takes the red hint everywhere, even far from it
    assert ab[5, 60, 1] < -20  # the bright right half takes the blue one
    assert np.allclose(_L(out), _L(img), atol=0.05)


def test_registry_knows_the_baseline_and_the_bundled_default():
    ids = {i.id for i in registry.infos(Task.COLORIZE)}
    assert "baseline" in ids
    default = [i for i in registry.infos(Task.COLORIZE) if i.id == "default"]
    if default:
        assert default[0].alias_of in ids


def test_eccv16_weights_in_the_user_folder_are_auto_colorize(tmp_path, monkeypatch):
    from engines.paths import user_data_dir

    folder = user_data_dir() / "models" / "colorize"
    folder.mkdir(parents=True)
    save_safetensors(ECCVGenerator(0.125).state_dict(), folder / "eccv16-small.safetensors", half=False)
    try:
        assert "eccv16-small" in register_models()
        engine = registry.get(Task.COLORIZE, "eccv16-small")
        assert engine.info.title.startswith("Auto colorize")
        out = drive(engine.run(ColorizeRequest(_photo(64, 64), (Hint(5, 5, (1, 0, 0)),)), RunContext())).image
        assert out.shape == (64, 64, 3)
    finally:
        registry.unregister(Task.COLORIZE, "eccv16-small")


def test_bundled_default_card_is_complete_and_small():
    from engines.paths import BUNDLED_WEIGHTS

    cards = [json.loads(p.read_text()) for p in sorted(BUNDLED_WEIGHTS.glob("*.json"))]
    cards = [c for c in cards if c.get("task") == "colorize"]
    assert len(cards) >= 1 and sum(bool(c.get("default")) for c in cards) == 1
    for card in cards:
        weights = BUNDLED_WEIGHTS / card["file"]
        assert card["arch"] == "siggraph17"
        assert weights.stat().st_size <= 20 * 1024 * 1024
        for key in ("data", "command", "steps", "wall_minutes", "width", "metrics", "sha256"):
            assert key in card, key
        assert (BUNDLED_WEIGHTS / card["card"]).is_file()
    default = next(c for c in cards if c.get("default"))
    info = next(i for i in registry.infos(Task.COLORIZE) if i.id == "default")
    assert info.alias_of == default["id"]
