"""A tiny iGAN model trained once per test session on the synthetic shapes domain (a few seconds)."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def tiny_checkpoint(root: str) -> Path:
    """Train (once) a 16-px generator + encoder under ``root``; returns its last.pt."""
    import torch

    from engines.latent.train import IganTrainConfig, train_igan

    torch.set_num_threads(1)
    cfg = IganTrainConfig(domain="shapes", out=str(Path(root) / "run"), size=16, nz=16, ngf=16, ndf=16, nef=16,
                          batch=24, steps=60, encoder_steps=60, n_shapes=256, lr=2e-3, augment=False, log_every=1000, save_every=1000)
    for _ in train_igan(cfg):
        pass
    return Path(cfg.out) / "last.pt"


def tiny_engine(root: str):
    from engines.latent.engine import LatentEngine
    from engines.latent.train import load_checkpoint_models

    g, e, _, _ = load_checkpoint_models(tiny_checkpoint(root))
    return LatentEngine.from_modules(g, e, model_id="tiny")
