"""Differentiable augmentation for GANs on small data (in the spirit of Zhao et al. 2020,
"Differentiable Augmentation for Data-Efficient GAN Training"): the same random translation,
colour jitter and cutout are applied to real and generated batches before the discriminator, and
they are differentiable, so G learns through them. Images are B x 3 x S x S in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def colour(x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
    b = x.shape[0]
    r = lambda: torch.rand(b, 1, 1, 1, generator=g).to(x.device)  # noqa: E731
    x = x + (r() - 0.5) * 0.5  # brightness +-0.25 (in [-1, 1] units: +-12 %)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r() * 2.0) + mean  # saturation x0..2
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (r() + 0.5) + mean  # contrast x0.5..1.5


def translation(x: torch.Tensor, ratio: float = 0.125, g: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, zero (mid-grey) padded."""
    b, _, h, w = x.shape
    sx, sy = int(w * ratio + 0.5), int(h * ratio + 0.5)
    dx = torch.randint(-sx, sx + 1, (b,), generator=g)
    dy = torch.randint(-sy, sy + 1, (b,), generator=g)
    padded = F.pad(x, (sx, sx, sy, sy))
    rows = (torch.arange(h).view(1, h) + sy - dy.view(b, 1)).to(x.device)  # b x h
    cols = (torch.arange(w).view(1, w) + sx - dx.view(b, 1)).to(x.device)  # b x w
    idx_b = torch.arange(b, device=x.device).view(b, 1, 1)
    out = padded.permute(0, 2, 3, 1)[idx_b, rows.view(b, h, 1), cols.view(b, 1, w)]
    return out.permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5, g: torch.Generator | None = None) -> torch.Tensor:
    """Zero one random square of side ``ratio`` x size per image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h - ch + 1, (b, 1, 1), generator=g)
    ox = torch.randint(0, w - cw + 1, (b, 1, 1), generator=g)
    yy = torch.arange(h).view(1, h, 1)
    xx = torch.arange(w).view(1, 1, w)
    keep = ~((yy >= oy) & (yy < oy + ch) & (xx >= ox) & (xx < ox + cw))
    return x * keep[:, None].to(x.device, x.dtype)


def diff_augment(x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
    return cutout(translation(colour(x, g), g=g), g=g)
