"""A loaded latent model: generator (+ optional encoder) and the one pixel conversion.

Convention: the engine boundary is float32 ``H x W x 3`` in [0, 1]; the networks see
``B x 3 x S x S`` in [-1, 1] (S = the generator's size). :meth:`LatentModel.to_net` squashes any
aspect to S x S (area resize); callers crop to a square first when they care about aspect (the
editor does). ``z`` is ``B x nz`` in [-1, 1] (iGAN's uniform prior box).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch


@dataclass
class LatentModel:
    generator: torch.nn.Module  # DCGANGenerator, eval mode
    encoder: torch.nn.Module | None = None  # LatentEncoder, eval mode
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.generator = self.generator.float().eval().requires_grad_(False).to(self.device)
        if self.encoder is not None:
            self.encoder = self.encoder.float().eval().requires_grad_(False).to(self.device)

    @property
    def nz(self) -> int:
        return int(self.generator.nz)

    @property
    def size(self) -> int:
        return int(self.generator.size)

    def to_net(self, image: np.ndarray) -> torch.Tensor:
        """float32 H x W x 3 [0, 1] -> 1 x 3 x S x S in [-1, 1] on the model's device."""
        img = np.asarray(image, np.float32)
        s = self.size
        interp = cv2.INTER_AREA if min(img.shape[:2]) >= s else cv2.INTER_CUBIC
        small = np.clip(cv2.resize(np.ascontiguousarray(img), (s, s), interpolation=interp), 0.0, 1.0)
        return (torch.from_numpy(small.transpose(2, 0, 1).copy())[None] * 2.0 - 1.0).to(self.device)

    def render(self, z: torch.Tensor) -> torch.Tensor:
        """B x nz -> B x 3 x S x S in [-1, 1] (differentiable w.r.t. z)."""
        return self.generator(z)

    def sample_z(self, n: int, seed: int = 0) -> torch.Tensor:
        gen = torch.Generator().manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
        return (torch.rand(n, self.nz, generator=gen) * 2.0 - 1.0).to(self.device)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.encoder is None:
            raise ValueError("this latent model has no encoder")
        with torch.no_grad():
            return self.encoder(x).clamp(-1.0, 1.0)


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """B x 3 x S x S in [-1, 1] -> float32 B x S x S x 3 in [0, 1]."""
    return ((x.detach().float().clamp(-1, 1) + 1.0) * 0.5).permute(0, 2, 3, 1).cpu().numpy()
