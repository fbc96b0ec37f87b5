"""LaMa: the FFC ResNet inpainting generator of Suvorov et al. (WACV 2022), in the official key layout.

Written for GAN Studio from the paper and the published configuration (``configs/training/big-lama.yaml``
with the ``ffc_resnet_075`` generator of github.com/advimman/lama); the parameter names and shapes
are those of the authors' checkpoint (``best.ckpt``, keys under ``generator.``) so that it loads
strictly. ``big-lama``: input 4 channels (RGB x (1 - mask) and the mask), output 3, ``ngf`` 64,
3 stride-2 downsamplings, 18 residual blocks at 512 channels whose convolutions are *fast Fourier
convolutions* with 3/4 of the channels in the global (spectral) branch, no local Fourier unit,
reflect padding everywhere, sigmoid output in [0, 1].

Layout of ``model`` (an ``nn.Sequential``; parameter-free layers keep their index):

- ``model.0`` reflect pad 3, ``model.1`` FFC 7x7 ``input_nc -> ngf`` (local only) + BN + ReLU;
- ``model.2 .. model.{1+D}``: FFC 3x3 stride 2 doubling the width; the last one splits its output
  into local and global channels (the residual blocks' ratio);
- ``model.{2+D} .. model.{1+D+B}``: residual blocks ``conv1``, ``conv2`` (each FFC + BN + ReLU on
  both branches, ``x + conv2(conv1(x))`` per branch);
- then a layer concatenating ``[local, global]``; per upsampling: ConvTranspose 3x3 stride 2,
  BN, ReLU; reflect pad 3, conv 7x7 ``ngf -> output_nc``, sigmoid.

An FFC (Chi et al. 2020) has four paths: ``convl2l`` / ``convl2g`` / ``convg2l`` (ordinary convs,
from local or global input channels to local or global output channels) and ``convg2g``, the
spectral transform: 1x1 conv halving the width + BN + ReLU, then the Fourier unit (real FFT over
H and W with orthonormal scaling, real and imaginary parts interleaved per channel, 1x1 conv + BN +
ReLU in the frequency domain, inverse FFT), added to its input and projected back by a 1x1 conv.
A path whose input or output has no channels does not exist (no keys).

Tensor contract of :meth:`LamaGenerator.forward`: ``N x input_nc x H x W`` (``H``, ``W`` multiples
of ``2 ** n_downsampling``; the engine pads), returns ``N x output_nc x H x W`` in [0, 1].
"""

from __future__ import annotations

import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.protocol import Task
from ..weights import ArchSpec, WeightsError, register_arch

StateDict = dict[str, torch.Tensor]
PREFIX = "generator."  # the generator's keys inside the authors' Lightning checkpoint
BIG_LAMA = {"input_nc": 4, "output_nc": 3, "ngf": 64, "n_downsampling": 3, "n_blocks": 18, "ratio_g": 0.75}


def _global_channels(channels: int, ratio: float) -> int:
    return int(channels * ratio)  # the official split: int() of the product, the rest is local


class FourierUnit(nn.Module):
    """1x1 conv + BN + ReLU on the (real, imaginary) spectrum of ``rfft2`` (orthonormal)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(channels * 2, channels * 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(channels * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        spec = torch.fft.rfftn(x.float(), dim=(-2, -1), norm="ortho")
        # channel k's real part is channel 2k, its imaginary part 2k + 1
        z = torch.stack((spec.real, spec.imag), dim=2).reshape(n, 2 * c, h, spec.shape[-1]).to(x.dtype)
        z = F.relu(self.bn(self.conv_layer(z)))
        z = z.reshape(n, c, 2, h, z.shape[-1]).float()
        out = torch.fft.irfftn(torch.complex(z[:, :, 0], z[:, :, 1]), s=(h, w), dim=(-2, -1), norm="ortho")
        return out.to(x.dtype)


class SpectralTransform(nn.Module):
    """The global-to-global path: ``conv2(y + fu(y))`` with ``y = relu(bn(conv1x1(x)))``."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        half = out_ch // 2
        self.conv1 = nn.Sequential(nn.Conv2d(in_ch, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(True))
        self.fu = FourierUnit(half)
        self.conv2 = nn.Conv2d(half, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        return self.conv2(y + self.fu(y))


class FFC(nn.Module):
    """Fast Fourier convolution from ``(in_l, in_g)`` to ``(out_l, out_g)`` channels."""

    def __init__(self, in_l: int, in_g: int, out_l: int, out_g: int, kernel: int, stride: int = 1,
                 padding: int = 0) -> None:
        super().__init__()

        def conv(cin: int, cout: int) -> nn.Conv2d | None:
            if cin == 0 or cout == 0:
                return None
            return nn.Conv2d(cin, cout, kernel, stride, padding, bias=False, padding_mode="reflect")

        self.convl2l = conv(in_l, out_l)
        self.convl2g = conv(in_l, out_g)
        self.convg2l = conv(in_g, out_l)
        if stride != 1 and in_g and out_g:
            raise WeightsError("a strided spectral transform is not part of LaMa's generator")
        self.convg2g = SpectralTransform(in_g, out_g) if in_g and out_g else None
        self.out_l, self.out_g = out_l, out_g

    @staticmethod
    def _sum(*parts: torch.Tensor | None) -> torch.Tensor | None:
        found = [p for p in parts if p is not None]
        if not found:
            return None
        total = found[0]
        for p in found[1:]:
            total = total + p
        return total

    def forward(self, x):
        x_l, x_g = x

        def path(module, inp):
            return module(inp) if module is not None and inp is not None else None

        out_l = self._sum(path(self.convl2l, x_l), path(self.convg2l, x_g)) if self.out_l else None
        out_g = self._sum(path(self.convl2g, x_l), path(self.convg2g, x_g)) if self.out_g else None
        return out_l, out_g


class FFCBlock(nn.Module):
    """FFC, then BatchNorm and ReLU on each branch that has channels (``bn_l`` / ``bn_g``)."""

    def __init__(self, in_l: int, in_g: int, out_l: int, out_g: int, kernel: int, stride: int = 1,
                 padding: int = 0) -> None:
        super().__init__()
        self.ffc = FFC(in_l, in_g, out_l, out_g, kernel, stride, padding)
        self.bn_l = nn.BatchNorm2d(out_l) if out_l else None
        self.bn_g = nn.BatchNorm2d(out_g) if out_g else None

    def forward(self, x):
        if isinstance(x, torch.Tensor):
            x = (x, None)
        out_l, out_g = self.ffc(x)
        if out_l is not None:
            out_l = F.relu(self.bn_l(out_l))
        if out_g is not None:
            out_g = F.relu(self.bn_g(out_g))
        return out_l, out_g


class FFCResBlock(nn.Module):
    def __init__(self, local: int, glob: int) -> None:
        super().__init__()
        self.conv1 = FFCBlock(local, glob, local, glob, 3, 1, 1)
        self.conv2 = FFCBlock(local, glob, local, glob, 3, 1, 1)

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return tuple(a + b if a is not None else None for a, b in zip(x, y))


class ConcatBranches(nn.Module):
    def forward(self, x):
        return torch.cat([t for t in x if t is not None], dim=1)


class LamaGenerator(nn.Module):
    """FFCResNetGenerator with LaMa's settings; hyper-parameters as in the official config."""

    def __init__(self, input_nc: int = 4, output_nc: int = 3, ngf: int = 64, n_downsampling: int = 3,
                 n_blocks: int = 18, ratio_g: float = 0.75, max_features: int = 1024) -> None:
        super().__init__()
        if n_downsampling < 1 or n_blocks < 0:
            raise WeightsError(f"LaMa needs >= 1 downsampling and >= 0 blocks, not {n_downsampling}/{n_blocks}")
        self.hparams = {"input_nc": input_nc, "output_nc": output_nc, "ngf": ngf,
                        "n_downsampling": n_downsampling, "n_blocks": n_blocks, "ratio_g": ratio_g,
                        "max_features": max_features}
        self.n_downsampling = n_downsampling

        def width(mult: float) -> int:
            return min(max_features, int(ngf * mult))

        layers: list[nn.Module] = [nn.ReflectionPad2d(3), FFCBlock(input_nc, 0, ngf, 0, 7)]
        for i in range(n_downsampling):
            cin, cout = width(2 ** i), width(2 ** (i + 1))
            out_g = _global_channels(cout, ratio_g) if i == n_downsampling - 1 else 0
            layers.append(FFCBlock(cin, 0, cout - out_g, out_g, 3, 2, 1))
        dim = width(2 ** n_downsampling)
        glob = _global_channels(dim, ratio_g)
        layers += [FFCResBlock(dim - glob, glob) for _ in range(n_blocks)]
        layers.append(ConcatBranches())
        for i in range(n_downsampling):
            cin, cout = width(2 ** (n_downsampling - i)), width(2 ** (n_downsampling - i) / 2)
            layers += [nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1), nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    @property
    def multiple(self) -> int:
        return 2 ** self.n_downsampling

    size_multiple = multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % self.multiple or w % self.multiple:
            raise WeightsError(f"LaMa input must be a multiple of {self.multiple}, got {w}x{h}")
        return self.model(x)


# ----------------------------------------------------------------------------- checkpoint handling

_DOWN = re.compile(r"^model\.(\d+)\.ffc\.")
_BLOCK = re.compile(r"^model\.(\d+)\.conv1\.ffc\.convl2l\.weight$")
_CONVT = re.compile(r"^model\.(\d+)\.weight$")


def remap_lama(sd: dict) -> dict:
    """The generator's keys of a training checkpoint (``generator.`` prefix; the discriminator,
    loss networks and evaluators dropped). A dict without the prefix comes back unchanged."""
    if not any(k.startswith(PREFIX) for k in sd):
        return sd
    return {k[len(PREFIX):]: v for k, v in sd.items() if k.startswith(PREFIX)}


def _detect_lama(sd: StateDict) -> bool:
    return ("model.1.ffc.convl2l.weight" in sd and "model.1.bn_l.running_mean" in sd
            and any(_BLOCK.match(k) for k in sd)
            and any(k.endswith(".conv1.ffc.convg2g.fu.conv_layer.weight") for k in sd))


def _shape(sd: StateDict, key: str) -> tuple[int, ...]:
    if key not in sd:
        raise WeightsError(f"LaMa checkpoint lacks '{key}'")
    return tuple(sd[key].shape)


def build_lama(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    """Infer every hyper-parameter from shapes; :class:`WeightsError` for what LaMa cannot be."""
    first = _shape(sd, "model.1.ffc.convl2l.weight")
    if len(first) != 4 or first[2:] != (7, 7):
        raise WeightsError(f"model.1 of a LaMa generator is a 7x7 convolution, found shape {first}")
    if any(k.startswith("model.1.ffc.convl2g.") for k in sd):
        raise WeightsError("this FFC generator has a global branch in its first layer; LaMa's has none")
    ngf, input_nc = int(first[0]), int(first[1])
    blocks = sorted(int(m.group(1)) for k in sd for m in [_BLOCK.match(k)] if m)
    if not blocks:
        raise WeightsError("LaMa checkpoint has no FFC residual blocks (model.<i>.conv1.ffc.*)")
    n_blocks = len(blocks)
    downs = sorted({int(m.group(1)) for k in sd for m in [_DOWN.match(k)] if m} - {1})
    n_down = len(downs)
    if downs != list(range(2, 2 + n_down)) or blocks != list(range(2 + n_down, 2 + n_down + n_blocks)):
        raise WeightsError(f"LaMa layer indices do not follow the official layout (downsampling at {downs}, "
                           f"blocks at {blocks[:3]}...)")
    b = blocks[0]
    local = _shape(sd, f"model.{b}.conv1.ffc.convl2l.weight")[0]
    glob = _shape(sd, f"model.{b}.conv1.ffc.convl2g.weight")[0]
    dim = local + glob
    ratio = glob / dim
    if _global_channels(dim, ratio) != glob:  # float round trip; never true for the published ratios
        ratio = (glob + 0.5) / dim
    max_features = 1024 if dim == ngf * 2 ** n_down else dim
    out_key = f"model.{2 + n_down + n_blocks + 1 + 3 * n_down + 1}.weight"
    out = _shape(sd, out_key)
    if len(out) != 4 or out[1] != ngf:
        raise WeightsError(f"{out_key} of a LaMa generator maps {ngf} channels to RGB, found shape {out}")
    hp = {"input_nc": input_nc, "output_nc": int(out[0]), "ngf": ngf, "n_downsampling": n_down,
          "n_blocks": n_blocks, "ratio_g": ratio, "max_features": max_features}
    return LamaGenerator(**hp), {**hp, "ratio_g": round(ratio, 4)}


def _required_keys() -> tuple[str, ...]:
    return ("model.1.ffc.convl2l.weight", "model.1.bn_l.running_mean", "model.2.ffc.convl2l.weight",
            "model.5.conv1.ffc.convl2l.weight", "model.5.conv1.ffc.convg2g.fu.conv_layer.weight",
            "model.5.conv2.bn_g.weight")


LAMA = register_arch(ArchSpec(name="lama", task=Task.INPAINT, detect=_detect_lama, build=build_lama,
                              remap=remap_lama, required_keys=_required_keys()))
