"""Projecting a photo onto the generator's manifold: z0 = argmin_z |G(z) - x|.

Three methods (iGAN section 3.1): ``encoder`` (one pass of the inverting network), ``optimize``
(Adam on z from random starts, the best start kept) and ``hybrid`` (the encoder's z as the start
of the same optimisation). Each is a generator yielding ``(step, total, best_image or None)``
after every iteration and returning a :class:`Projection`; the caller checks cancel between yields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator

import torch

from .model import LatentModel

METHODS = ("encoder", "optimize", "hybrid")


@dataclass
class Projection:
    z: torch.Tensor  # 1 x nz in [-1, 1]
    image: torch.Tensor  # 1 x 3 x S x S in [-1, 1]
    loss: float  # mean squared error in [-1, 1] units
    method: str
    steps: int


def reconstruction_loss(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample loss (B): pixel MSE plus a small term on local gradients, which keeps edges
    where pixel MSE alone is content with a blur."""
    pix = (fake - target).pow(2).mean(dim=(1, 2, 3))
    gx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    gy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    grad = (gx(fake) - gx(target)).pow(2).mean(dim=(1, 2, 3)) + (gy(fake) - gy(target)).pow(2).mean(dim=(1, 2, 3))
    return pix + 0.25 * grad


def project(model: LatentModel, target: torch.Tensor, method: str = "hybrid", steps: int = 40,
            starts: int = 8, lr: float = 0.05, seed: int = 0, preview_every: int = 10,
            ) -> Generator[tuple[int, int, torch.Tensor | None], None, Projection]:
    """Project ``target`` (1 x 3 x S x S in [-1, 1]).

    ``starts``: random starts for ``optimize``; ``hybrid`` uses the encoder's z plus
    ``starts - 1`` jittered copies of it (at most), so both optimise the same batch size.
    """
    if method not in METHODS:
        raise ValueError(f"projection method must be one of {', '.join(METHODS)}, not {method!r}")
    if method in ("encoder", "hybrid") and model.encoder is None:
        raise ValueError("this latent model has no encoder: use the 'optimize' projection")
    if method == "optimize":
        z = model.sample_z(max(1, starts), seed)
    else:
        z_enc = model.encode(target)
        if method == "encoder" or steps <= 0:
            with torch.no_grad():
                img = model.render(z_enc)
                loss = float(reconstruction_loss(img, target)[0])
            return Projection(z_enc, img, loss, "encoder", 0)
        jitter = (model.sample_z(max(1, starts), seed) * 0.1).to(z_enc.device)
        jitter[0] = 0.0  # the encoder's own guess is always one of the starts
        z = (z_enc + jitter).clamp(-1.0, 1.0)
    z = z.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr, betas=(0.9, 0.999))
    batch_target = target.expand(z.shape[0], -1, -1, -1)
    # best-so-far per start: Adam may overshoot, and the result must never be worse than a start
    # (so hybrid is never worse than encoder-only)
    best_loss = torch.full((z.shape[0],), float("inf"), device=z.device)
    best_z = z.detach().clone()
    for step in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        losses = reconstruction_loss(model.render(z), batch_target)
        with torch.no_grad():
            better = losses < best_loss
            best_loss = torch.where(better, losses, best_loss)
            best_z[better] = z[better]
        losses.sum().backward()
        opt.step()
        with torch.no_grad():
            z.clamp_(-1.0, 1.0)  # stay inside the prior's box
        preview = None
        if step % preview_every == 0:
            with torch.no_grad():
                preview = model.render(z[int(losses.argmin())][None])
        yield step, steps, preview  # every iteration, so the caller can cancel between them
    with torch.no_grad():
        losses = reconstruction_loss(model.render(z), batch_target)
        better = losses < best_loss
        best_loss = torch.where(better, losses, best_loss)
        best_z[better] = z[better]
        best = int(best_loss.argmin())
        z_best = best_z[best][None].clone()
        img = model.render(z_best)
    return Projection(z_best, img, float(best_loss[best]), method, steps)
