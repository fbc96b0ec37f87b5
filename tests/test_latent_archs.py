"""DCGAN generator / discriminator / encoder: shapes, and save -> detect -> strict load round trips."""

from __future__ import annotations

import pytest
import torch

from engines.core.protocol import Task
from engines.latent.archs import DCGANDiscriminator, DCGANGenerator, LatentEncoder
from engines.weights import WeightsError, detect_arch, load_model, save_safetensors


@pytest.mark.parametrize("n_up,size", [(4, 64), (5, 128)])
def test_generator_shapes_and_range(n_up, size):
    g = DCGANGenerator(nz=100, ngf=8, n_up=n_up).eval()
    with torch.no_grad():
        y = g(torch.rand(2, 100) * 2 - 1)
    assert y.shape == (2, 3, size, size) and g.size == size
    assert float(y.abs().max()) <= 1.0


def test_encoder_and_discriminator_shapes():
    e = LatentEncoder(nz=32, nef=8, n_down=4).eval()
    d = DCGANDiscriminator(ndf=8, n_down=4, norm="none").eval()
    x = torch.rand(3, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        z = e(x)
        assert z.shape == (3, 32) and float(z.abs().max()) <= 1.0
        assert d(x).shape == (3,)


@pytest.mark.parametrize("prefix", ["", "netG."])
def test_official_layout_generator_detected_and_loaded(tmp_path, prefix):
    g = DCGANGenerator(nz=100, ngf=16, n_up=5)
    sd = {prefix + k: v for k, v in g.state_dict().items()}
    path = tmp_path / "netG.pth"
    torch.save(sd, path)
    loaded = load_model(path, task=Task.LATENT)
    assert loaded.arch.name == "dcgan-g"
    assert loaded.hparams == {"nz": 100, "ngf": 16, "nc": 3, "n_up": 5, "size": 128}
    for k, v in g.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[k], v)


def test_discriminator_and_encoder_detected(tmp_path):
    d = DCGANDiscriminator(ndf=8)
    e = LatentEncoder(nz=20, nef=8)
    assert detect_arch(d.state_dict()).name == "dcgan-d"
    assert detect_arch(e.state_dict()).name == "igan-encoder"
    save_safetensors(e.state_dict(), tmp_path / "e.safetensors", half=True)
    loaded = load_model(tmp_path / "e.safetensors", task=Task.LATENT)
    assert loaded.hparams["nz"] == 20 and loaded.module.size == 64


def test_generator_with_missing_layer_is_a_clear_error():
    sd = DCGANGenerator(nz=100, ngf=8).state_dict()
    del sd["main.3.weight"]
    with pytest.raises(WeightsError):
        load_model(sd, arch_name="dcgan-g")


def test_latent_generator_is_not_an_upscaler():
    sd = DCGANGenerator(nz=100, ngf=8).state_dict()
    with pytest.raises(WeightsError, match="not an upscale"):
        load_model(sd, task=Task.UPSCALE)
