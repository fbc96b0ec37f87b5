"""The PConv U-Net of Liu et al. (ECCV 2018), in the layout of the public PyTorch checkpoints.

Keys: ``enc_i.conv.input_conv.weight`` (+ ``enc_i.bn.*`` for i >= 2), ``dec_i.conv.input_conv.weight``
(+ ``dec_i.bn.*`` for i >= 2, ``dec_1.conv.input_conv.bias``). ``*.mask_conv.weight`` (constant
ones) in official files is dropped by :func:`remap_pconv`. Encoder: kernels 7, 5, 5, 3, 3... with
stride 2, ReLU, BatchNorm except on the first layer. Decoder: nearest x2 upsampling of features and
mask, concatenation with the encoder skip (features and mask; the last one is the input image and
its mask), partial conv 3x3, BatchNorm + LeakyReLU 0.2, except the last layer (bias, no BN, no
activation).

Widths: ``base, 2 base, 4 base, 8 base, 8 base, ...`` (the paper: base 64, 7 or 8 levels). Both are
inferred from shapes/keys when building from a checkpoint.

Tensor contract of :meth:`PConvUNet.forward`: ``image N x 3 x H x W`` in the network's input range
(ours: ``[-1, 1]``), ``mask N x 1 x H x W`` (or ``N x 3 x H x W``) **1 = valid**; H and W multiples of
``2 ** layers``. Returns ``N x 3 x H x W`` in the same range (not clipped; callers composite).
"""

from __future__ import annotations

import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.protocol import Task
from ..weights import ArchSpec, WeightsError, register_arch
from .pconv import PartialConv2d

StateDict = dict[str, torch.Tensor]
ENC_KERNELS = (7, 5, 5)  # then 3


class PConvBlock(nn.Module):
    """Partial conv -> optional BatchNorm -> optional activation (``relu`` / ``leaky`` / None)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, bn: bool, act: str | None,
                 bias: bool = False) -> None:
        super().__init__()
        self.conv = PartialConv2d(in_ch, out_ch, kernel, stride, kernel // 2, bias=bias)
        self.bn = nn.BatchNorm2d(out_ch) if bn else None
        self.act = act

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, m = self.conv(x, mask)
        if self.bn is not None:
            h = self.bn(h)
        if self.act == "relu":
            h = F.relu(h)
        elif self.act == "leaky":
            h = F.leaky_relu(h, 0.2)
        return h, m


def level_widths(base: int, layers: int) -> list[int]:
    return [base * min(2 ** i, 8) for i in range(layers)]


class PConvUNet(nn.Module):
    def __init__(self, base: int = 64, layers: int = 7, in_ch: int = 3) -> None:
        super().__init__()
        if layers < 4:
            raise WeightsError(f"PConv U-Net needs at least 4 levels, not {layers}")
        self.base, self.layers, self.in_ch = base, layers, in_ch
        self.freeze_enc_bn = False
        widths = level_widths(base, layers)
        # Attribute names are the checkpoint's key prefixes (enc_1..enc_L, dec_L..dec_1); the lists
        # below hold the same modules in the order forward() uses them.
        self.encoders: list[PConvBlock] = []
        self.decoders: list[PConvBlock] = []  # dec_L first
        prev = in_ch
        for i, w in enumerate(widths, start=1):
            k = ENC_KERNELS[i - 1] if i <= len(ENC_KERNELS) else 3
            block = PConvBlock(prev, w, k, 2, bn=i > 1, act="relu")
            self.add_module(f"enc_{i}", block)
            self.encoders.append(block)
            prev = w
        for i in range(layers, 0, -1):
            skip = widths[i - 2] if i > 1 else in_ch
            up = widths[i - 1]
            if i == 1:  # back to RGB: bias, no BatchNorm, no activation
                block = PConvBlock(up + skip, in_ch, 3, 1, bn=False, act=None, bias=True)
            else:
                block = PConvBlock(up + skip, skip, 3, 1, bn=True, act="leaky")
            self.add_module(f"dec_{i}", block)
            self.decoders.append(block)

    @property
    def multiple(self) -> int:
        return 2 ** self.layers

    def train(self, mode: bool = True) -> "PConvUNet":
        """The paper's fine-tuning stage freezes the encoder's BatchNorm (eval mode, no grads)."""
        super().train(mode)
        if mode and self.freeze_enc_bn:
            for block in self.encoders[1:]:
                bn = block.bn
                bn.eval()
                for p in bn.parameters():
                    p.requires_grad_(False)
        return self

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hgt, wid = image.shape[-2:]
        if hgt % self.multiple or wid % self.multiple:
            raise WeightsError(f"PConv U-Net input must be a multiple of {self.multiple}, got {wid}x{hgt}")
        feats, masks = [image], [mask]
        h, m = image, mask
        for block in self.encoders:
            h, m = block(h, m)
            feats.append(h)
            masks.append(m)
        feats.pop()  # the bottleneck is not a skip
        masks.pop()
        for block in self.decoders:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            m = F.interpolate(m, scale_factor=2, mode="nearest")
            skip_h, skip_m = feats.pop(), masks.pop()
            h_in = torch.cat([h, skip_h], 1)
            # Per-channel mask of the concatenation (views expanded to each part's channel count).
            m_in = torch.cat([m.expand(-1, h.shape[1], -1, -1), skip_m.expand(-1, skip_h.shape[1], -1, -1)], 1)
            h, m = block(h_in, m_in)
        return h


# ----------------------------------------------------------------------------- checkpoint handling

_ENC = re.compile(r"^enc_(\d+)\.conv\.input_conv\.weight$")


def remap_pconv(sd: dict) -> dict:
    """Drop the constant all-ones ``mask_conv`` kernels of official files (idempotent)."""
    return {k: v for k, v in sd.items() if ".mask_conv." not in k}


def _detect_pconv(sd: StateDict) -> bool:
    return ("enc_1.conv.input_conv.weight" in sd and "dec_1.conv.input_conv.weight" in sd
            and "enc_2.bn.running_mean" in sd and "dec_2.conv.input_conv.weight" in sd)


def build_pconv(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    layers = len({int(m.group(1)) for k in sd for m in [_ENC.match(k)] if m})
    w1 = tuple(sd["enc_1.conv.input_conv.weight"].shape)
    if len(w1) != 4 or w1[2] != 7:
        raise WeightsError(f"enc_1 of a PConv U-Net is a 7x7 conv, found shape {w1}")
    hp = {"base": int(w1[0]), "layers": layers, "in_ch": int(w1[1])}
    return PConvUNet(**hp), hp


PCONV = register_arch(ArchSpec(
    name="pconv_unet", task=Task.INPAINT, detect=_detect_pconv, build=build_pconv, remap=remap_pconv,
    required_keys=("enc_1.conv.input_conv.weight", "enc_2.conv.input_conv.weight", "enc_2.bn.running_mean",
                   "dec_2.conv.input_conv.weight", "dec_1.conv.input_conv.weight",
                   "dec_1.conv.input_conv.bias"),
))
