"""Colorization networks: the official port's key names and shapes load unchanged; width inference."""

from __future__ import annotations

import pytest
import torch

from engines.colorize.archs import ECCVGenerator, SIGGRAPHGenerator
from engines.weights import WeightsError, load_model, save_safetensors

# (key, shape) pairs of the official SIGGRAPH17 checkpoint (richzhang/colorization siggraph17.py)
SIGGRAPH17_KEYS = {
    "model1.0.weight": (64, 4, 3, 3), "model1.2.weight": (64, 64, 3, 3), "model1.4.running_mean": (64,),
    "model2.2.weight": (128, 128, 3, 3), "model2.4.weight": (128,),
    "model3.4.weight": (256, 256, 3, 3), "model3.6.running_var": (256,),
    "model4.0.weight": (512, 256, 3, 3), "model5.4.weight": (512, 512, 3, 3), "model6.6.bias": (512,),
    "model7.4.weight": (512, 512, 3, 3),
    "model8up.0.weight": (512, 256, 4, 4), "model3short8.0.weight": (256, 256, 3, 3),
    "model8.1.weight": (256, 256, 3, 3), "model8.3.weight": (256, 256, 3, 3), "model8.5.running_mean": (256,),
    "model9up.0.weight": (256, 128, 4, 4), "model2short9.0.weight": (128, 128, 3, 3),
    "model9.1.weight": (128, 128, 3, 3), "model9.3.weight": (128,),
    "model10up.0.weight": (128, 128, 4, 4), "model1short10.0.weight": (128, 64, 3, 3),
    "model10.1.weight": (128, 128, 3, 3),
    "model_class.0.weight": (529, 256, 1, 1), "model_out.0.weight": (2, 128, 1, 1), "model_out.0.bias": (2,),
}
ECCV16_KEYS = {
    "model1.0.weight": (64, 1, 3, 3), "model1.2.weight": (64, 64, 3, 3), "model1.4.running_mean": (64,),
    "model3.6.weight": (256,), "model5.4.weight": (512, 512, 3, 3), "model8.0.weight": (512, 256, 4, 4),
    "model8.2.weight": (256, 256, 3, 3), "model8.6.weight": (313, 256, 1, 1), "model_out.weight": (2, 313, 1, 1),
}


def _official_like(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A state dict as the official (pre-0.4.1) files hold it: no num_batches_tracked."""
    return {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}


def test_full_width_siggraph17_has_the_official_keys_and_loads_unchanged():
    sd = _official_like(SIGGRAPHGenerator(1.0))
    for key, shape in SIGGRAPH17_KEYS.items():
        assert tuple(sd[key].shape) == shape, key
    assert "model_out.0.weight" in sd and not any(k.startswith("upsample4") for k in sd)
    params = sum(v.numel() for k, v in sd.items() if "running" not in k)
    assert 34.0e6 < params < 34.3e6  # the port's generator: about 34.2 M parameters
    loaded = load_model(sd)
    assert loaded.arch.name == "siggraph17" and loaded.hparams == {"width": 1.0, "classes": 529}


def test_full_width_eccv16_has_the_official_keys_and_is_detected():
    sd = _official_like(ECCVGenerator(1.0))
    for key, shape in ECCV16_KEYS.items():
        assert tuple(sd[key].shape) == shape, key
    assert "model_out.bias" not in sd  # the official expectation layer has no bias
    loaded = load_model(sd)
    assert loaded.arch.name == "eccv16" and loaded.hparams["width"] == 1.0


@pytest.mark.parametrize("width", [0.125])
def test_reduced_width_round_trips_through_safetensors(tmp_path, width):
    torch.manual_seed(0)
    net = SIGGRAPHGenerator(width).eval()
    path = tmp_path / "w.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    loaded = load_model(path, task="colorize")
    assert loaded.hparams["width"] == width
    L = torch.rand(1, 1, 64, 64) * 100
    ab = torch.zeros(1, 2, 64, 64)
    mask = torch.zeros(1, 1, 64, 64)
    with torch.no_grad():
        a1, c1 = net(L, ab, mask)
        a2, c2 = loaded.module(L, ab, mask)
    assert torch.allclose(a1, a2) and torch.allclose(c1, c2)
    assert a1.shape == (1, 2, 64, 64) and c1.shape == (1, 529, 16, 16)
    assert float(a1.abs().max()) <= 110.0


def test_eccv16_output_is_ab_at_input_size():
    net = ECCVGenerator(0.125).eval()
    with torch.no_grad():
        ab = net(torch.rand(1, 1, 64, 48) * 100)
    assert ab.shape == (1, 2, 64, 48)


def test_a_broken_checkpoint_is_named():
    sd = _official_like(SIGGRAPHGenerator(0.125))
    del sd["model3short8.0.weight"]
    with pytest.raises(WeightsError, match="model3short8"):
        load_model(sd)
