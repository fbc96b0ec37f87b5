"""DCGAN generator / discriminator (Radford et al. 2016, the PyTorch example's ``main.N`` layout) and
the iGAN encoder that inverts the generator.

Tensor contracts:
- ``DCGANGenerator(z)``: ``z`` float ``B x nz`` (iGAN: uniform in [-1, 1]) -> ``B x nc x S x S`` in
  [-1, 1] (tanh), ``S = 4 * 2**n_up`` (64 for 4 up-samplings, 128 for 5).
- ``DCGANDiscriminator(x)``: ``B x nc x S x S`` in [-1, 1] -> ``B`` logits (or critic scores).
- ``LatentEncoder(x)``: ``B x nc x S x S`` in [-1, 1] -> ``B x nz`` in [-1, 1] (tanh: the prior's box).

Key layout of the generator is the official DCGAN example's (``main.0`` ConvTranspose nz->8f,
BatchNorm, ReLU, ..., ConvTranspose f->nc, Tanh), so checkpoints trained elsewhere in that layout
(``netG.`` prefixes are stripped by canonicalize) are detected from their keys and load unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from ..core.protocol import Task
from ..weights.arch import ArchSpec, register_arch
from ..weights.errors import WeightsError


class DCGANGenerator(nn.Module):
    """Args:
        nz: latent size (iGAN: 100).
        ngf: width of the last hidden layer; the first has ``ngf * 2**(n_up - 1)`` channels.
        nc: output channels (3).
        n_up: stride-2 up-samplings after the 4x4 seed (4 -> 64 px, 5 -> 128 px).
    """

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, n_up: int = 4) -> None:
        super().__init__()
        self.nz, self.ngf, self.nc, self.n_up = nz, ngf, nc, n_up
        ch = ngf * 2 ** (n_up - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    @property
    def size(self) -> int:
        return 4 * 2 ** self.n_up

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class DCGANDiscriminator(nn.Module):
    """The mirror of the generator. ``norm="batch"`` is DCGAN's; ``"none"`` for WGAN-GP (the
    gradient penalty is per sample, which batch statistics would couple)."""

    def __init__(self, ndf: int = 64, nc: int = 3, n_down: int = 4, norm: str = "batch") -> None:
        super().__init__()
        self.ndf, self.nc, self.n_down, self.norm = ndf, nc, n_down, norm
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for _ in range(n_down - 1):
            layers.append(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm != "batch"))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(ch * 2))
            layers.append(nn.LeakyReLU(0.2, True))
            ch *= 2
        layers.append(nn.Conv2d(ch, 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).reshape(x.shape[0])


class LatentEncoder(nn.Module):
    """Image -> z: stride-2 convs down to 4x4, then a linear layer and tanh (z stays in the box).

    Args: nz, nef (first width, doubled per level), nc, n_down (4 for 64 px, 5 for 128 px).
    """

    def __init__(self, nz: int = 100, nef: int = 32, nc: int = 3, n_down: int = 4) -> None:
        super().__init__()
        self.nz, self.nef, self.nc, self.n_down = nz, nef, nc, n_down
        layers: list[nn.Module] = []
        ch_in, ch = nc, nef
        for i in range(n_down):
            layers.append(nn.Conv2d(ch_in, ch, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(nn.LeakyReLU(0.2, True))
            ch_in, ch = ch, ch * 2
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(ch_in * 16, nz)

    @property
    def size(self) -> int:
        return 4 * 2 ** self.n_down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(self.features(x).flatten(1)))


# ----------------------------------------------------------------------------- detection / building


def _conv_weights(sd, prefix: str) -> list[tuple[int, torch.Tensor]]:
    """(index, weight) of the 4-D ``<prefix>.N.weight`` tensors in layer order."""
    out = []
    for key, value in sd.items():
        m = re.fullmatch(re.escape(prefix) + r"\.(\d+)\.weight", key)
        if m and value.ndim == 4:
            out.append((int(m.group(1)), value))
    return sorted(out, key=lambda kv: kv[0])


def _is_generator(sd) -> bool:
    convs = _conv_weights(sd, "main")
    if len(convs) < 3 or any(k.startswith(("features.", "fc.")) for k in sd):
        return False
    first, last = convs[0][1], convs[-1][1]
    # ConvTranspose weights are (in, out, k, k): the first takes nz 1x1 inputs, the last gives RGB/grey
    return first.shape[2:] == (4, 4) and last.shape[1] in (1, 3) and last.shape[0] > 1 and "main.1.weight" in sd


def _is_discriminator(sd) -> bool:
    convs = _conv_weights(sd, "main")
    return len(convs) >= 3 and convs[0][1].shape[1] in (1, 3) and convs[-1][1].shape[0] == 1


def _is_encoder(sd) -> bool:
    return "fc.weight" in sd and "features.0.weight" in sd


def build_generator(sd) -> tuple[DCGANGenerator, dict[str, Any]]:
    convs = _conv_weights(sd, "main")
    nz, top = int(convs[0][1].shape[0]), int(convs[0][1].shape[1])
    n_up = len(convs) - 1
    ngf, nc = int(convs[-1][1].shape[0]), int(convs[-1][1].shape[1])
    if top != ngf * 2 ** (n_up - 1):
        raise WeightsError(f"DCGAN generator widths do not halve per layer ({top} -> {ngf} over {n_up} levels)")
    hp = {"nz": nz, "ngf": ngf, "nc": nc, "n_up": n_up, "size": 4 * 2 ** n_up}
    return DCGANGenerator(nz, ngf, nc, n_up), hp


def build_discriminator(sd) -> tuple[DCGANDiscriminator, dict[str, Any]]:
    convs = _conv_weights(sd, "main")
    ndf, nc = int(convs[0][1].shape[0]), int(convs[0][1].shape[1])
    norm = "batch" if any(k.endswith("running_mean") for k in sd) else "none"
    hp = {"ndf": ndf, "nc": nc, "n_down": len(convs) - 1, "norm": norm}
    return DCGANDiscriminator(ndf, nc, len(convs) - 1, norm), hp


def build_encoder(sd) -> tuple[LatentEncoder, dict[str, Any]]:
    convs = _conv_weights(sd, "features")
    nef, nc = int(convs[0][1].shape[0]), int(convs[0][1].shape[1])
    nz = int(sd["fc.weight"].shape[0])
    hp = {"nz": nz, "nef": nef, "nc": nc, "n_down": len(convs)}
    return LatentEncoder(nz, nef, nc, len(convs)), hp


register_arch(ArchSpec(name="dcgan-g", task=Task.LATENT, detect=_is_generator, build=build_generator,
                       required_keys=("main.0.weight", "main.1.weight", "main.1.running_mean")))
register_arch(ArchSpec(name="dcgan-d", task=Task.LATENT, detect=_is_discriminator, build=build_discriminator,
                       required_keys=("main.0.weight",)))
register_arch(ArchSpec(name="igan-encoder", task=Task.LATENT, detect=_is_encoder, build=build_encoder,
                       required_keys=("features.0.weight", "fc.weight", "fc.bias")))
