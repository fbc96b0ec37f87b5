"""Partial convolution maths (vs a hand computation), the PConv U-Net and its checkpoint detection."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.core.protocol import Task
from engines.inpaint.arch import PConvUNet, build_pconv, level_widths
from engines.inpaint.pconv import PartialConv2d
from engines.weights import WeightsError, detect_arch, load_model


def _layer(in_ch: int, bias: float | None) -> PartialConv2d:
    layer = PartialConv2d(in_ch, 1, 3, 1, 0, bias=bias is not None)
    with torch.no_grad():
        layer.input_conv.weight.copy_(torch.arange(1, in_ch * 9 + 1, dtype=torch.float32).view(1, in_ch, 3, 3))
        if bias is not None:
            layer.input_conv.bias.fill_(bias)
    return layer


def test_partial_conv_matches_hand_computation_with_renormalisation():
    layer = _layer(1, bias=0.5)
    x = torch.arange(9, dtype=torch.float32).view(1, 1, 3, 3) + 1.0  # 1..9
    m = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1]], dtype=torch.float32).view(1, 1, 3, 3)
    out, new_mask = layer(x, m)
    w = np.arange(1, 10, dtype=np.float64)
    xs, ms = np.arange(1, 10, dtype=np.float64), m.flatten().numpy().astype(np.float64)
    expected = (w * xs * ms).sum() * 9.0 / ms.sum() + 0.5  # W^T(X.M) sum(1)/sum(M) + b
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == pytest.approx(expected, rel=1e-6)
    assert new_mask.item() == 1.0


def test_hole_window_gives_zero_output_and_zero_mask_even_with_bias():
    layer = _layer(1, bias=3.0)
    out, new_mask = layer(torch.randn(1, 1, 3, 3), torch.zeros(1, 1, 3, 3))
    assert out.item() == 0.0 and new_mask.item() == 0.0


def test_multichannel_counts_the_window_over_all_channels():
    layer = _layer(2, bias=None)
    x = torch.rand(1, 2, 3, 3)
    per_channel = torch.ones(1, 2, 3, 3)
    per_channel[0, 1, 0, :] = 0  # 3 of 18 entries are holes, only in channel 1
    out, _ = layer(x, per_channel)
    w = layer.input_conv.weight.detach().numpy()[0].astype(np.float64)
    expected = (w * x.numpy()[0] * per_channel.numpy()[0]).sum() * 18.0 / 15.0
    assert out.item() == pytest.approx(expected, rel=1e-5)
    # a 1-channel mask stands for the same mask on every channel
    one = torch.ones(1, 1, 3, 3)
    one[0, 0, 0, 0] = 0
    out1, _ = layer(x, one)
    out2, _ = layer(x, one.expand(1, 2, 3, 3).contiguous())
    assert out1.item() == pytest.approx(out2.item(), rel=1e-6)


def test_mask_update_grows_the_valid_region():
    layer = PartialConv2d(1, 1, 3, 1, 1)
    m = torch.zeros(1, 1, 7, 7)
    m[0, 0, 3, 3] = 1  # one valid pixel
    _, m1 = layer(torch.rand(1, 1, 7, 7), m)
    assert m1[0, 0].sum().item() == 9  # its 3x3 neighbourhood becomes valid
    _, m2 = layer(torch.rand(1, 1, 7, 7), m1)
    assert m2[0, 0].sum().item() == 25


def test_layer_keeps_no_state_between_calls():
    layer = _layer(1, bias=None)
    x = torch.rand(1, 1, 3, 3)
    a, _ = layer(x, torch.ones(1, 1, 3, 3))
    layer(x, torch.zeros(1, 1, 3, 3))
    b, _ = layer(x, torch.ones(1, 1, 3, 3))
    assert a.item() == b.item()
    assert set(layer.state_dict()) == {"input_conv.weight"}


def test_unet_shapes_and_multiple():
    net = PConvUNet(base=8, layers=5).eval()
    assert net.multiple == 32
    with torch.no_grad():
        y = net(torch.rand(2, 3, 64, 96), torch.ones(2, 1, 64, 96))
    assert y.shape == (2, 3, 64, 96)
    with pytest.raises(WeightsError, match="multiple of 32"):
        net(torch.rand(1, 3, 60, 64), torch.ones(1, 1, 60, 64))
    assert level_widths(64, 8) == [64, 128, 256, 512, 512, 512, 512, 512]


def test_paper_layout_keys_are_detected_and_built_from_shapes():
    sd = PConvUNet(base=8, layers=6).state_dict()
    # official files also carry the constant all-ones mask kernels: accepted and dropped
    sd = dict(sd)
    sd["enc_1.conv.mask_conv.weight"] = torch.ones(8, 3, 7, 7)
    sd["dec_1.conv.mask_conv.weight"] = torch.ones(3, 11, 3, 3)
    assert detect_arch(sd).name == "pconv_unet"
    loaded = load_model(sd, task=Task.INPAINT)
    assert loaded.hparams == {"base": 8, "layers": 6, "in_ch": 3}
    assert "enc_6.bn.running_var" in loaded.module.state_dict()
    net, hp = build_pconv(PConvUNet(base=64, layers=8).state_dict())
    assert hp["layers"] == 8 and net.enc_8.conv.input_conv.weight.shape == (512, 512, 3, 3)


def test_paper_widths_layout_matches_published_shapes():
    sd = PConvUNet(base=64, layers=7).state_dict()
    assert sd["enc_1.conv.input_conv.weight"].shape == (64, 3, 7, 7)
    assert sd["enc_2.conv.input_conv.weight"].shape == (128, 64, 5, 5)
    assert sd["enc_4.conv.input_conv.weight"].shape == (512, 256, 3, 3)
    assert sd["dec_7.conv.input_conv.weight"].shape == (512, 1024, 3, 3)
    assert sd["dec_4.conv.input_conv.weight"].shape == (256, 768, 3, 3)
    assert sd["dec_1.conv.input_conv.weight"].shape == (3, 67, 3, 3)
    assert "dec_1.conv.input_conv.bias" in sd and "enc_1.bn.weight" not in sd


def test_wrong_architecture_is_a_clear_error():
    sd = PConvUNet(base=8, layers=5).state_dict()
    with pytest.raises(WeightsError, match="inpaint"):
        load_model(sd, task=Task.UPSCALE)


def test_frozen_encoder_batchnorm_stays_in_eval_mode():
    net = PConvUNet(base=8, layers=4)
    net.freeze_enc_bn = True
    net.train()
    assert not net.enc_2.bn.training and net.dec_2.bn.training
    assert not any(p.requires_grad for p in net.enc_3.bn.parameters())
