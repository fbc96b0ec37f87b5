"""Constrained edits in latent space (iGAN section 3.2): find z near z0 whose G(z) satisfies the
user's strokes, from many starts at once, and keep the best few as candidates.

Constraint maps are at the generator's size S (the engine resizes the strokes):
- colour: ``color`` 1 x 3 x S x S target in [-1, 1] and ``color_w`` 1 x 1 x S x S coverage in [0, 1];
  cost = coverage-weighted MSE between the *blurred* G(z) and the stroke colour (a stroke says
  "this colour around here", not "these exact pixels");
- sketch: ``sketch`` 1 x 1 x S x S edge strength in [0, 1]; cost = distance between HOG-like
  oriented-edge features of G(z) and of the sketch, in the cells the sketch touches;
- keep: ``keep_w`` 1 x 1 x S x S in [0, 1], 1 = keep G(z0) here; cost = weighted MSE to G(z0);
- prior: ``z_weight * mean((z - z0)^2)`` keeps the edit near the projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator

import torch
import torch.nn.functional as F

from .model import LatentModel

CELL = 4  # px per edge-feature cell at 64 px (HOG cells of the paper scaled to the 64-px output)
BINS = 4  # unsigned orientations: 0, 45, 90, 135 degrees


@dataclass
class Constraints:
    color: torch.Tensor | None = None
    color_w: torch.Tensor | None = None
    sketch: torch.Tensor | None = None
    keep_w: torch.Tensor | None = None
    z_weight: float = 0.05
    color_weight: float = 1.0
    sketch_weight: float = 1.0
    keep_weight: float = 1.0

    @property
    def empty(self) -> bool:
        no_color = self.color_w is None or float(self.color_w.sum()) <= 0
        no_sketch = self.sketch is None or float(self.sketch.sum()) <= 0
        return no_color and no_sketch


@dataclass
class Candidate:
    z: torch.Tensor  # 1 x nz
    image: torch.Tensor  # 1 x 3 x S x S in [-1, 1]
    cost: float


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding (B x C x H x W)."""
    radius = max(1, int(math.ceil(2.5 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def edge_features(grey: torch.Tensor, cell: int = CELL) -> torch.Tensor:
    """HOG-like features: B x 1 x H x W (any range) -> B x BINS x H/cell x W/cell, each cell's
    orientation histogram of gradient magnitude, L2-normalised per cell (contrast-invariant)."""
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=grey.dtype, device=grey.device)
    g = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    gx = F.conv2d(g, kx.view(1, 1, 3, 3))
    gy = F.conv2d(g, kx.t().contiguous().view(1, 1, 3, 3))
    mag = torch.sqrt(gx * gx + gy * gy + 1e-6)
    theta = torch.atan2(gy, gx)
    # soft unsigned binning: cos^2 of the angle difference (period pi), clipped at 0
    centres = torch.arange(BINS, dtype=grey.dtype, device=grey.device).view(1, BINS, 1, 1) * (math.pi / BINS)
    weights = torch.cos(theta - centres).pow(2).mul(2).sub(1).clamp_min(0)  # = max(0, cos(2 d))
    hist = F.avg_pool2d(weights * mag, cell)
    return hist / (hist.pow(2).sum(dim=1, keepdim=True).sqrt() + 0.05)


def _grey(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


class EditCost:
    """The total cost per sample (B) of images ``x`` (B x 3 x S x S in [-1, 1]) and latents ``z``."""

    def __init__(self, c: Constraints, z0: torch.Tensor, ref: torch.Tensor) -> None:
        self.c, self.z0, self.ref = c, z0, ref  # ref: G(z0), 1 x 3 x S x S
        self.sketch_feat = self.sketch_cells = None
        if c.sketch is not None and float(c.sketch.sum()) > 0:
            self.sketch_feat = edge_features(c.sketch)
            self.sketch_cells = (F.max_pool2d(c.sketch, CELL) > 0.05).float()

    def parts(self, x: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        c = self.c
        out: dict[str, torch.Tensor] = {"z": (z - self.z0).pow(2).mean(dim=1)}
        if c.color_w is not None and c.color is not None and float(c.color_w.sum()) > 0:
            err = (gaussian_blur(x, 1.0) - c.color).pow(2).sum(dim=1, keepdim=True)
            out["color"] = (err * c.color_w).sum(dim=(1, 2, 3)) / c.color_w.sum()
        if self.sketch_feat is not None:
            diff = (edge_features(_grey(x)) - self.sketch_feat).pow(2).sum(dim=1, keepdim=True)
            out["sketch"] = (diff * self.sketch_cells).sum(dim=(1, 2, 3)) / self.sketch_cells.sum().clamp_min(1)
        if c.keep_w is not None and float(c.keep_w.sum()) > 0:
            err = (x - self.ref).pow(2).sum(dim=1, keepdim=True)
            out["keep"] = (err * c.keep_w).sum(dim=(1, 2, 3)) / c.keep_w.sum()
        return out

    def __call__(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        p = self.parts(x, z)
        c = self.c
        total = c.z_weight * p["z"]
        for name, weight in (("color", c.color_weight), ("sketch", c.sketch_weight), ("keep", c.keep_weight)):
            if name in p:
                total = total + weight * p[name]
        return total


def stroke_color_error(x: torch.Tensor, c: Constraints) -> float:
    """Mean absolute colour error (0..1 units per channel) of image 1 x 3 x S x S [-1, 1] at the
    colour strokes (coverage-weighted, blurred like the cost), for reports and benches."""
    if c.color is None or c.color_w is None or float(c.color_w.sum()) <= 0:
        return 0.0
    err = (gaussian_blur(x, 1.0) - c.color).abs().mean(dim=1, keepdim=True) * 0.5
    return float((err * c.color_w).sum() / c.color_w.sum())


def edit(model: LatentModel, z0: torch.Tensor, constraints: Constraints, starts: int = 64, iterations: int = 40,
         keep: int = 16, lr: float = 0.05, spread: float = 0.5, seed: int = 0, preview_every: int = 10,
         ) -> Generator[tuple[int, int, torch.Tensor | None], None, list[Candidate]]:
    """Multi-start Adam: ``starts`` latents (z0 itself, then z0 + uniform noise of +-``spread``,
    clipped to the box), ``iterations`` steps, candidates ranked by cost (best first, ``keep`` of
    them). Yields ``(step, total, best image or None)`` after every iteration (cancel point)."""
    with torch.no_grad():
        ref = model.render(z0)
    cost = EditCost(constraints, z0, ref)
    noise = model.sample_z(max(1, starts), seed) * spread
    noise[0] = 0.0
    z = (z0 + noise).clamp(-1.0, 1.0).clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for step in range(1, iterations + 1):
        opt.zero_grad(set_to_none=True)
        losses = cost(model.render(z), z)
        losses.sum().backward()
        opt.step()
        with torch.no_grad():
            z.clamp_(-1.0, 1.0)
        preview = None
        if step % preview_every == 0:
            with torch.no_grad():
                preview = model.render(z[int(losses.argmin())][None])
        yield step, iterations, preview
    with torch.no_grad():
        images = model.render(z)
        final = cost(images, z)
    order = torch.argsort(final)[: max(1, keep)]
    return [Candidate(z[i][None].detach().clone(), images[i][None].clone(), float(final[i])) for i in order.tolist()]
