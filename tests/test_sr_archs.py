"""SR architectures: detection from key names, hyper-parameters from shapes, strict loading."""

from __future__ import annotations

import random

import pytest
import torch

from engines.weights import detect_arch, load_model, save_safetensors
from engines.sr import archs
from engines.sr.archs import MSRResNet, RRDBNet, SRGANGenerator, SRVGGNetCompact


def _randomise(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for k, v in module.state_dict().items():
        if v.is_floating_point():
            t = torch.rand(v.shape, generator=gen) * 0.1 - 0.05
            if k.endswith("running_var"):
                t = t.abs() + 0.5
            sd[k] = t
        else:
            sd[k] = v.clone()
    return sd


def _configs(seed: int = 0):
    rnd = random.Random(seed)
    yield "msrresnet", MSRResNet(num_feat=rnd.choice([8, 16]), num_block=rnd.randint(1, 3), scale=4), {}
    yield "msrresnet", MSRResNet(num_feat=8, num_block=2, scale=3), {}
    yield "msrresnet", MSRResNet(num_feat=8, num_block=1, scale=2), {}
    for scale in (1, 2, 4):
        yield "rrdbnet", RRDBNet(num_feat=rnd.choice([8, 16]), num_block=rnd.randint(1, 3),
                                 num_grow_ch=rnd.choice([4, 8]), scale=scale), {}
    for scale in (2, 4):
        yield "srgan", SRGANGenerator(scale=scale, num_feat=8, num_block=rnd.randint(1, 5)), {}
    for scale in (2, 3, 4):
        yield "srvgg", SRVGGNetCompact(num_feat=rnd.choice([8, 16]), num_conv=rnd.randint(1, 4),
                                       upscale=scale), {}


def _hp_of(module) -> dict:
    if isinstance(module, RRDBNet):
        return dict(num_feat=module.conv_first.out_channels, num_block=len(module.body),
                    scale=module.scale)
    if isinstance(module, SRVGGNetCompact):
        return dict(num_feat=module.body[0].out_channels, num_conv=(len(module.body) - 3) // 2,
                    upscale=module.upscale)
    if isinstance(module, MSRResNet):
        return dict(num_feat=module.conv_first.out_channels, num_block=len(module.body),
                    scale=module.scale)
    return dict(num_block=module.num_block, scale=module.scale)


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_random_configs_round_trip(tmp_path, suffix):
    for i, (name, module, _) in enumerate(_configs(seed=1)):
        sd = _randomise(module, i)
        module.load_state_dict(sd)
        module.eval()
        path = tmp_path / f"m{i}{suffix}"
        if suffix == ".pth":
            torch.save(sd, path)
        else:
            save_safetensors(sd, path, half=False)
        loaded = load_model(path)
        assert loaded.arch.name == name, (i, name, loaded.arch.name)
        for key, value in _hp_of(module).items():
            assert loaded.hparams[key] == value, (name, key, loaded.hparams)
        scale = archs.model_scale(module)
        x = torch.rand(1, 3, 8, 12)
        with torch.no_grad():
            want, got = module(x), loaded.module(x)
        assert got.shape == (1, 3, 8 * scale, 12 * scale)
        torch.testing.assert_close(got, want)


def test_old_esrgan_keys_load():
    net = RRDBNet(num_feat=8, num_block=2, num_grow_ch=4, scale=4)
    sd = _randomise(net, 3)
    net.load_state_dict(sd)
    old = {}
    for k, v in sd.items():
        parts = k.split(".")
        if parts[0] == "body":
            old[f"model.1.sub.{parts[1]}.RDB{parts[2][3:]}.{parts[3]}.0.{parts[4]}"] = v
        else:
            head = {"conv_first": "model.0", "conv_body": "model.1.sub.2", "conv_up1": "model.3",
                    "conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}[parts[0]]
            old[f"{head}.{parts[1]}"] = v
    assert "model.1.sub.0.RDB1.conv1.0.weight" in old
    loaded = load_model(old)
    assert loaded.arch.name == "rrdbnet"
    assert archs.remap_esrgan(sd) is sd  # idempotent on new names
    x = torch.rand(1, 3, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), net(x))


def _zeros_like_official(module) -> dict[str, torch.Tensor]:
    return {k: torch.zeros_like(v) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("make, name, hp", [
    (lambda: RRDBNet(num_feat=64, num_block=23, num_grow_ch=32, scale=4), "rrdbnet",
     dict(num_feat=64, num_block=23, scale=4)),  # ESRGAN / Real-ESRGAN x4plus
    (lambda: RRDBNet(num_feat=64, num_block=23, num_grow_ch=32, scale=2), "rrdbnet",
     dict(num_feat=64, num_block=23, scale=2)),  # Real-ESRGAN x2plus (conv_first 12 in-channels)
    (lambda: RRDBNet(num_feat=64, num_block=6, num_grow_ch=32, scale=4), "rrdbnet",
     dict(num_feat=64, num_block=6, scale=4)),  # x4plus-anime-6B
    (lambda: SRVGGNetCompact(num_feat=64, num_conv=32, upscale=4), "srvgg",
     dict(num_feat=64, num_conv=32, upscale=4)),  # realesr-general-x4v3
    (lambda: SRVGGNetCompact(num_feat=64, num_conv=16, upscale=4), "srvgg",
     dict(num_feat=64, num_conv=16, upscale=4)),  # realesr-animevideov3
    (lambda: MSRResNet(num_feat=64, num_block=16, scale=4), "msrresnet",
     dict(num_feat=64, num_block=16, scale=4)),  # BasicSR MSRResNet x4
])
def test_official_shapes_load_strictly(make, name, hp):
    sd = _zeros_like_official(make())
    if name == "rrdbnet" and hp["scale"] == 2:
        assert sd["conv_first.weight"].shape == (64, 12, 3, 3)
    loaded = load_model(sd)
    assert loaded.arch.name == name
    for key, value in hp.items():
        assert loaded.hparams[key] == value


def test_srgan_official_shapes_without_batch_counters():
    sd = {k: v for k, v in _zeros_like_official(SRGANGenerator(scale=4)).items()
          if not k.endswith("num_batches_tracked")}
    assert len(sd) == 79  # as the data README lists for netG_epoch_4_100.pth
    assert sum(v.numel() for k, v in sd.items() if "running" not in k) == 734_092
    loaded = load_model(sd)
    assert loaded.arch.name == "srgan" and loaded.hparams["scale"] == 4


def test_wrong_shapes_are_refused():
    from engines.weights import WeightsError

    sd = _zeros_like_official(RRDBNet(num_feat=8, num_block=1, num_grow_ch=4))
    sd["conv_hr.weight"] = torch.zeros(8, 8, 5, 5)
    with pytest.raises(WeightsError, match="conv_hr"):
        load_model(sd)


def test_detection_is_unambiguous():
    for _, module, _ in _configs(seed=2):
        sd = _zeros_like_official(module)
        assert detect_arch(sd).name == {RRDBNet: "rrdbnet", SRVGGNetCompact: "srvgg",
                                        MSRResNet: "msrresnet", SRGANGenerator: "srgan"}[type(module)]


def test_leftthomas_srgan_loads(shared_data):
    for scale in (2, 4):
        loaded = load_model(shared_data / "weights" / "srgan" / f"netG_epoch_{scale}_100.pth")
        assert loaded.arch.name == "srgan" and loaded.hparams["scale"] == scale
        with torch.no_grad():
            out = loaded.module(torch.rand(1, 3, 16, 16))
        assert out.shape == (1, 3, 16 * scale, 16 * scale)
        assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
