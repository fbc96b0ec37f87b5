"""Morph frames G((1 - t) z0 + t z1), t = 0..1 (iGAN's interpolation sequence; the transfer step
tracks motion and colour through them)."""

from __future__ import annotations

import numpy as np
import torch

from .model import LatentModel, to_numpy


def morph_frames(model: LatentModel, z0: torch.Tensor, z1: torch.Tensor, n: int = 16) -> np.ndarray:
    """float32 n x S x S x 3 in [0, 1]; frame 0 is G(z0), frame n-1 is G(z1)."""
    n = max(2, int(n))
    t = torch.linspace(0.0, 1.0, n, device=z0.device).view(n, 1)
    with torch.no_grad():
        return to_numpy(model.render((1.0 - t) * z0 + t * z1))
