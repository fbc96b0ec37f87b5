"""Super-resolution networks, written from the papers; key names and shapes match the official files.

Every network maps ``float32 N x 3 x H x W`` RGB in ``[0, 1]`` to ``N x 3 x H*s x W*s`` (roughly in
``[0, 1]``; callers clip). Hyper-parameters are inferred from checkpoint shapes by the ``build_*``
functions, and each architecture registers an :class:`ArchSpec` that recognises it by key names:

- ``msrresnet``: BasicSR MSRResNet (SRResNet without BatchNorm), keys ``conv_first``,
  ``body.N.conv1/2``, ``upconv1/2``, ``conv_hr``, ``conv_last``.
- ``srgan``: leftthomas/SRGAN generator, keys ``block1`` ... ``block8`` (PReLU, BatchNorm,
  output ``(tanh + 1) / 2``).
- ``rrdbnet``: ESRGAN / Real-ESRGAN RRDBNet, new keys (``conv_first``, ``body.N.rdbK.convM``, ...);
  the original ESRGAN keys (``model.0``, ``model.1.sub.N.RDBk.convM.0``, ...) are remapped.
  Scale 2 and 1 models see a pixel-unshuffled input (Real-ESRGAN x2plus).
- ``srvgg``: Real-ESRGAN SRVGGNetCompact (realesr-animevideov3, realesr-general-x4v3).
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.protocol import Task
from ..weights import ArchSpec, WeightsError, register_arch

StateDict = dict[str, torch.Tensor]


def _shape(sd: StateDict, key: str) -> tuple[int, ...]:
    if key not in sd:
        raise WeightsError(f"checkpoint lacks '{key}'")
    return tuple(sd[key].shape)


def _indices(sd: StateDict, pattern: str) -> list[int]:
    """Sorted distinct integers captured by ``pattern`` (one group) over the keys."""
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in sd for m in [rx.match(k)] if m})


# ============================================================================ MSRResNet (BasicSR)


class ResidualBlockNoBN(nn.Module):
    """conv-ReLU-conv plus identity (EDSR style: BatchNorm removed, it hurts SR)."""

    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNet(nn.Module):
    """Modified SRResNet (BasicSR): residual body, pixel-shuffle upsampling, bilinear skip.

    Args:
        num_in_ch / num_out_ch: image channels (3).
        num_feat: feature width (64 in the paper).
        num_block: residual blocks (16).
        scale: 2, 3 or 4 (x4 is two x2 pixel-shuffle stages).
    """

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_block: int = 16, scale: int = 4) -> None:
        super().__init__()
        if scale not in (2, 3, 4):
            raise WeightsError(f"MSRResNet supports scale 2, 3 or 4, not {scale}")
        self.scale = scale
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat) for _ in range(num_block)])
        if scale == 4:
            self.upconv1 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
            self.upconv2 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
        else:
            self.upconv1 = nn.Conv2d(num_feat, num_feat * scale * scale, 3, 1, 1)
            self.upconv2 = None
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lrelu = lambda t: F.leaky_relu(t, 0.1)  # noqa: E731 - BasicSR uses slope 0.1 here
        feat = lrelu(self.conv_first(x))
        out = self.body(feat)
        if self.upconv2 is not None:
            out = lrelu(F.pixel_shuffle(self.upconv1(out), 2))
            out = lrelu(F.pixel_shuffle(self.upconv2(out), 2))
        else:
            out = lrelu(F.pixel_shuffle(self.upconv1(out), self.scale))
        out = self.conv_last(lrelu(self.conv_hr(out)))
        base = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return out + base


def build_msrresnet(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    num_feat, num_in_ch = _shape(sd, "conv_first.weight")[:2]
    num_out_ch = _shape(sd, "conv_last.weight")[0]
    num_block = len(_indices(sd, r"^body\.(\d+)\.conv1\.weight$"))
    if "upconv2.weight" in sd:
        scale = 4
    else:
        ratio = _shape(sd, "upconv1.weight")[0] // num_feat
        scale = int(round(math.sqrt(ratio)))
    hp = dict(num_in_ch=num_in_ch, num_out_ch=num_out_ch, num_feat=num_feat, num_block=num_block,
              scale=scale)
    return MSRResNet(**hp), hp


def _detect_msrresnet(sd: StateDict) -> bool:
    return all(k in sd for k in ("conv_first.weight", "body.0.conv1.weight", "upconv1.weight",
                                 "conv_hr.weight", "conv_last.weight"))


# ============================================================================ SRGAN (leftthomas)


class SRGANResidualBlock(nn.Module):
    """conv-BN-PReLU-conv-BN plus identity (Ledig et al. 2017, Fig. 4)."""

    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(num_feat)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_feat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class UpsampleBlock(nn.Module):
    """conv to 4x channels, PixelShuffle(2), PReLU: one x2 stage."""

    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(num_feat, num_feat * 4, 3, padding=1)
        self.prelu = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(F.pixel_shuffle(self.conv(x), 2))


class SRGANGenerator(nn.Module):
    """The leftthomas/SRGAN generator, with its module names (``block1`` .. ``block{n+3}``).

    Args:
        scale: a power of two (log2(scale) upsample blocks).
        num_feat: width (64). num_block: residual blocks (5 in leftthomas' release).
    Output is ``(tanh(x) + 1) / 2``, so already in [0, 1].
    """

    def __init__(self, scale: int = 4, num_feat: int = 64, num_block: int = 5) -> None:
        super().__init__()
        steps = int(round(math.log2(scale)))
        if scale < 2 or 2 ** steps != scale:
            raise WeightsError(f"SRGAN generator needs a power-of-two scale, not {scale}")
        self.scale = scale
        self.num_block = num_block
        self.block1 = nn.Sequential(nn.Conv2d(3, num_feat, 9, padding=4), nn.PReLU())
        # The checkpoint names its stages block1..block8; keep that layout for any depth.
        for i in range(num_block):
            self.add_module(f"block{i + 2}", SRGANResidualBlock(num_feat))
        self.add_module(f"block{num_block + 2}",
                        nn.Sequential(nn.Conv2d(num_feat, num_feat, 3, padding=1), nn.PReLU()))
        self.add_module(f"block{num_block + 3}", nn.Sequential(
            *[UpsampleBlock(num_feat) for _ in range(steps)], nn.Conv2d(num_feat, 3, 9, padding=4)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.block1(x)
        feat = head
        for i in range(self.num_block + 1):
            feat = self._modules[f"block{i + 2}"](feat)
        out = self._modules[f"block{self.num_block + 3}"](head + feat)
        return (torch.tanh(out) + 1) / 2


def build_srgan(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    num_feat = _shape(sd, "block1.0.weight")[0]
    num_block = len(_indices(sd, r"^block(\d+)\.conv1\.weight$"))
    tail = f"block{num_block + 3}"
    steps = len(_indices(sd, rf"^{tail}\.(\d+)\.conv\.weight$"))
    hp = dict(scale=2 ** steps, num_feat=num_feat, num_block=num_block)
    return SRGANGenerator(**hp), hp


def _detect_srgan(sd: StateDict) -> bool:
    return ("block1.0.weight" in sd and "block2.conv1.weight" in sd and "block2.bn1.running_mean" in sd
            and len(_shape(sd, "block1.0.weight")) == 4)


# ============================================================================ RRDBNet (ESRGAN)


class ResidualDenseBlock(nn.Module):
    """Five densely connected convs; each sees the block input and all earlier outputs.

    Args:
        num_feat: block in/out width (64). num_grow_ch: channels each of conv1-4 adds (32).
    """

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        g = num_grow_ch
        self.conv1 = nn.Conv2d(num_feat, g, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + g, g, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * g, g, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * g, g, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * g, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        x1 = lrelu(self.conv1(x))
        x2 = lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x  # residual scaled by 0.2: keeps the very deep net stable (ESRGAN 3.2)


class RRDB(nn.Module):
    """Residual-in-residual dense block: three RDBs, outer residual also scaled by 0.2."""

    def __init__(self, num_feat: int, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """ESRGAN generator (Wang et al. 2018); Real-ESRGAN's x2/x1 variant pixel-unshuffles the input.

    The trunk always upsamples x4 (two nearest x2 + conv stages); for ``scale`` 2 (1) the input is
    first pixel-unshuffled by 2 (4), so ``conv_first`` sees 4x (16x) the channels.

    Args:
        num_in_ch / num_out_ch: image channels (3). num_feat: width (64).
        num_block: RRDBs (23 for x4plus, 6 for anime-6B). num_grow_ch: dense growth (32).
        scale: 1, 2 or 4.
    """

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_block: int = 23, num_grow_ch: int = 32, scale: int = 4) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise WeightsError(f"RRDBNet supports scale 1, 2 or 4, not {scale}")
        self.scale = scale
        self.unshuffle = {4: 1, 2: 2, 1: 4}[scale]
        self.conv_first = nn.Conv2d(num_in_ch * self.unshuffle ** 2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        if self.unshuffle > 1:  # input H, W must be multiples of self.unshuffle
            x = F.pixel_unshuffle(x, self.unshuffle)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(lrelu(self.conv_hr(feat)))


_OLD_RDB = re.compile(r"^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$")
_OLD_SIMPLE = {"model.0": "conv_first", "model.3": "conv_up1", "model.6": "conv_up2",
               "model.8": "conv_hr", "model.10": "conv_last"}


def remap_esrgan(sd: dict) -> dict:
    """Original ESRGAN key names -> ours; a dict already in our names comes back unchanged.

    ``model.1.sub.N.RDBk.convM.0`` -> ``body.N.rdbk.convM``; ``model.1.sub.<last>`` (the conv after
    the blocks) -> ``conv_body``; ``model.0/3/6/8/10`` -> ``conv_first/up1/up2/hr/last``.
    """
    if "model.0.weight" not in sd:
        return sd
    blocks = _indices(sd, r"^model\.1\.sub\.(\d+)\.RDB\d\.")
    trunk = f"model.1.sub.{len(blocks)}."
    out = {}
    for key, value in sd.items():
        m = _OLD_RDB.match(key)
        if m:
            n, k, conv, kind = m.groups()
            out[f"body.{n}.rdb{k}.conv{conv}.{kind}"] = value
            continue
        if key.startswith(trunk):
            out["conv_body." + key[len(trunk):]] = value
            continue
        head, _, kind = key.rpartition(".")
        out[f"{_OLD_SIMPLE[head]}.{kind}" if head in _OLD_SIMPLE else key] = value
    return out


def build_rrdbnet(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    num_feat, in_ch = _shape(sd, "conv_first.weight")[:2]
    num_out_ch = _shape(sd, "conv_last.weight")[0]
    num_grow_ch = _shape(sd, "body.0.rdb1.conv1.weight")[0]
    num_block = len(_indices(sd, r"^body\.(\d+)\.rdb1\.conv1\.weight$"))
    # RGB in; the pixel-unshuffle factor shows in conv_first's input channels (3, 12 or 48).
    by_channels = {3: 4, 12: 2, 48: 1}
    if in_ch not in by_channels:
        raise WeightsError(f"RRDBNet conv_first takes {in_ch} channels; expected 3, 12 or 48 (RGB)")
    hp = dict(num_in_ch=3, num_out_ch=num_out_ch, num_feat=num_feat, num_block=num_block,
              num_grow_ch=num_grow_ch, scale=by_channels[in_ch])
    return RRDBNet(**hp), hp


def _detect_rrdbnet(sd: StateDict) -> bool:
    return all(k in sd for k in ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight",
                                 "conv_up1.weight", "conv_up2.weight", "conv_last.weight"))


# ============================================================================ SRVGGNetCompact


class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN's compact VGG-style net: a plain conv/PReLU stack, then pixel shuffle, plus the
    nearest-upsampled input (so the body only learns the residual).

    Args:
        num_in_ch / num_out_ch: image channels (3). num_feat: width (64).
        num_conv: body convs between the first and the last (16 for animevideov3, 32 general-x4v3).
        upscale: output scale.
    ``body`` alternates conv and PReLU(num_feat): ``body.0`` conv, ``body.1`` PReLU, ..., last conv
    to ``num_out_ch * upscale**2``.
    """

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_conv: int = 16, upscale: int = 4) -> None:
        super().__init__()
        self.upscale = upscale
        layers: list[nn.Module] = [nn.Conv2d(num_in_ch, num_feat, 3, 1, 1), nn.PReLU(num_feat)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.PReLU(num_feat)]
        layers.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        out = F.pixel_shuffle(out, self.upscale)
        return out + F.interpolate(x, scale_factor=self.upscale, mode="nearest")


def build_srvgg(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    convs = [i for i in _indices(sd, r"^body\.(\d+)\.weight$") if len(sd[f"body.{i}.weight"].shape) == 4]
    num_feat, num_in_ch = _shape(sd, "body.0.weight")[:2]
    last = convs[-1]
    out_ch = _shape(sd, f"body.{last}.weight")[0]
    num_out_ch = num_in_ch
    upscale = int(round(math.sqrt(out_ch / num_out_ch)))
    if upscale * upscale * num_out_ch != out_ch:
        raise WeightsError(f"SRVGG last conv has {out_ch} channels, not 3 x scale^2")
    hp = dict(num_in_ch=num_in_ch, num_out_ch=num_out_ch, num_feat=num_feat,
              num_conv=len(convs) - 2, upscale=upscale)
    return SRVGGNetCompact(**hp), hp


def _detect_srvgg(sd: StateDict) -> bool:
    return ("body.0.weight" in sd and "body.1.weight" in sd and len(sd["body.0.weight"].shape) == 4
            and len(sd["body.1.weight"].shape) == 1 and "conv_first.weight" not in sd)


# ============================================================================ registration

MSRRESNET = register_arch(ArchSpec(
    name="msrresnet", task=Task.UPSCALE, detect=_detect_msrresnet, build=build_msrresnet,
    required_keys=("conv_first.weight", "body.0.conv1.weight", "upconv1.weight", "conv_hr.weight",
                   "conv_last.weight"),
))
SRGAN = register_arch(ArchSpec(
    name="srgan", task=Task.UPSCALE, detect=_detect_srgan, build=build_srgan,
    required_keys=("block1.0.weight", "block2.conv1.weight", "block2.bn1.running_mean",
                   "block7.0.weight", "block8.0.conv.weight"),
))
RRDBNET = register_arch(ArchSpec(
    name="rrdbnet", task=Task.UPSCALE, detect=_detect_rrdbnet, build=build_rrdbnet,
    remap=remap_esrgan,
    required_keys=("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight",
                   "conv_up1.weight", "conv_up2.weight", "conv_hr.weight", "conv_last.weight"),
))
SRVGG = register_arch(ArchSpec(
    name="srvgg", task=Task.UPSCALE, detect=_detect_srvgg, build=build_srvgg,
    required_keys=("body.0.weight", "body.1.weight"),
))


def model_scale(module: nn.Module) -> int:
    """The native scale of one of these networks."""
    return int(getattr(module, "scale", getattr(module, "upscale", 1)))


def size_multiple(module: nn.Module) -> int:
    """Input H, W must be multiples of this (pixel-unshuffle input of RRDBNet x2/x1)."""
    return int(getattr(module, "unshuffle", 1))
