"""Training losses: the paper's L1 hole/valid + total variation, and a PatchGAN term replacing VGG.

Liu et al.: L = 1 L_valid + 6 L_hole + 0.05 L_perceptual + 120 (L_style_out + L_style_comp) + 0.1 L_tv.
The perceptual/style terms need ImageNet VGG-16 weights, which we cannot obtain, so we replace them
by a PatchGAN adversarial loss (hinge) plus discriminator feature matching (weight configurable,
possibly 0). Tensors: ``out``, ``gt`` ``N x 3 x H x W`` (any common range); ``valid``
``N x 1 x H x W`` with **1 = valid** (PConv polarity).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def l1_hole_valid(out: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L_hole, L_valid), each normalised by the number of elements of ``gt`` as in the paper."""
    diff = (out - gt).abs()
    return ((1 - valid) * diff).mean(), (valid * diff).mean()


def tv_hole(comp: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Total variation of the composited image on the 1-pixel dilation of the hole region P."""
    hole = 1 - valid
    region = F.max_pool2d(hole, 3, 1, 1)  # 1-pixel dilation
    dx = (comp[..., :, 1:] - comp[..., :, :-1]).abs() * region[..., :, 1:] * region[..., :, :-1]
    dy = (comp[..., 1:, :] - comp[..., :-1, :]).abs() * region[..., 1:, :] * region[..., :-1, :]
    return dx.mean() + dy.mean()


class PatchDiscriminator(nn.Module):
    """A small 70x70-style PatchGAN (spectral norm, LeakyReLU 0.2); returns features + logits."""

    def __init__(self, width: int = 32, in_ch: int = 4) -> None:
        super().__init__()
        sn = nn.utils.spectral_norm
        chans = [in_ch, width, width * 2, width * 4, width * 8]
        self.blocks = nn.ModuleList(
            sn(nn.Conv2d(chans[i], chans[i + 1], 4, 2 if i < 3 else 1, 1)) for i in range(4)
        )
        self.head = sn(nn.Conv2d(chans[-1], 1, 4, 1, 1))

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        h = torch.cat([image, hole], 1)
        feats = []
        for block in self.blocks:
            h = F.leaky_relu(block(h), 0.2)
            feats.append(h)
        return feats, self.head(h)


def feature_matching(fake: list[torch.Tensor], real: list[torch.Tensor]) -> torch.Tensor:
    return sum(F.l1_loss(f, r.detach()) for f, r in zip(fake, real)) / len(fake)
