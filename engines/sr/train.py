"""``ganstudio train sr``: a PSNR-oriented SRVGGNetCompact trained on BSDS500 train + test.

Degradation: the HR crop is downscaled with Pillow's antialiased bicubic (Keys a = -0.5, the same
kernel as MATLAB ``imresize``, which made the benchmark LR images) and quantised to 8 bits, as the
benchmark LR PNGs are. Loss: L1 on RGB in [0, 1]. Adam, cosine decay. The loop is a generator that
yields a progress dict every ``log_every`` steps and checks ``cancel`` every step; checkpoints
(fp32, with the optimiser) go to ``out/last.pt`` so a run can resume.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..core.cancel import CancelToken
from ..train_utils import append_log, cosine_lr, export_model, save_checkpoint
from ..train_data import load_training_photos, random_crop


@dataclass
class SRTrainConfig:
    data: str
    out: str
    scale: int = 4
    num_feat: int = 48
    num_conv: int = 12
    steps: int = 20000
    batch: int = 16
    lr_patch: int = 32  # LR crop side; HR crop is lr_patch * scale
    lr: float = 5e-4
    min_lr: float = 1e-6
    seed: int = 0
    threads: int = 1
    log_every: int = 100
    save_every: int = 500
    eval_dir: str = ""  # optional <sr>/Set5/x<scale> folder, for monitoring only (never selection)
    init: str = ""  # start from this checkpoint's tensors where the shapes match (e.g. x2 from x4)
    device: str = "cpu"  # cpu, cuda, cuda:N, mps (checked by the CLI's --device)


def make_pair(rng: np.random.Generator, photo: np.ndarray, scale: int, lr_patch: int) -> tuple[np.ndarray, np.ndarray]:
    """(LR uint8 p x p x 3, HR uint8 p*s x p*s x 3)."""
    hr = random_crop(rng, photo, lr_patch * scale)
    lr = np.asarray(Image.fromarray(hr).resize((lr_patch, lr_patch), Image.BICUBIC))
    return lr, hr


def _batch(rng, photos, cfg: SRTrainConfig):
    import torch

    lrs, hrs = [], []
    for _ in range(cfg.batch):
        lr, hr = make_pair(rng, photos[int(rng.integers(len(photos)))], cfg.scale, cfg.lr_patch)
        lrs.append(lr)
        hrs.append(hr)
    to = lambda a: torch.from_numpy(np.stack(a)).permute(0, 3, 1, 2).float().div_(255.0)  # noqa: E731
    return to(lrs), to(hrs)


def evaluate(model, eval_dir: Path, scale: int) -> float:
    """Mean PSNR-Y (border = scale) over ``eval_dir/LR`` vs ``HR``."""
    import torch

    from ..bench.metrics import psnr_y

    scores = []
    model.eval()
    with torch.no_grad():
        for lr_path in sorted((eval_dir / "LR").glob("*.png")):
            lr = np.asarray(Image.open(lr_path).convert("RGB"), dtype=np.float32) / 255.0
            hr = np.asarray(Image.open(eval_dir / "HR" / lr_path.name).convert("RGB"), dtype=np.float32) / 255.0
            x = torch.from_numpy(lr).permute(2, 0, 1)[None].to(next(model.parameters()).device)
            sr = model(x)[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy()
            scores.append(psnr_y(sr, hr, border=scale))
    model.train()
    return float(np.mean(scores)) if scores else float("nan")


def train(cfg: SRTrainConfig, cancel: CancelToken | None = None) -> Iterator[dict[str, Any]]:
    import torch
    import torch.nn.functional as F

    from .archs import SRVGGNetCompact

    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    photos = load_training_photos(Path(cfg.data), ("bsds500",))
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    model = SRVGGNetCompact(num_feat=cfg.num_feat, num_conv=cfg.num_conv, upscale=cfg.scale).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    step = 0
    ckpt = out / "last.pt"
    if cfg.init and not ckpt.is_file():
        src = torch.load(cfg.init, map_location="cpu", weights_only=True)["model"]
        own = model.state_dict()
        own.update({k: v for k, v in src.items() if k in own and own[k].shape == v.shape})
        model.load_state_dict(own)  # copies the CPU tensors onto the model's device
    if ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])  # Adam's moments follow the parameters' device
        step = int(state["step"])
    rng = np.random.default_rng(cfg.seed + step)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    t0, losses = time.perf_counter(), []
    while step < cfg.steps:
        if cancel is not None:
            cancel.raise_if_cancelled()
        lr_now = cosine_lr(step / cfg.steps, cfg.lr, cfg.min_lr)
        for group in opt.param_groups:
            group["lr"] = lr_now
        x, y = (t.to(device, non_blocking=True) for t in _batch(rng, photos, cfg))
        loss = F.l1_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % cfg.save_every == 0 or step == cfg.steps:
            save_checkpoint({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt)
        if step % cfg.log_every == 0 or step == cfg.steps:
            info: dict[str, Any] = {"step": step, "loss": float(np.mean(losses)), "lr": lr_now,
                                    "sec_per_step": (time.perf_counter() - t0) / len(losses)}
            if cfg.eval_dir and (step % cfg.save_every == 0 or step == cfg.steps):
                info["eval_psnr_y"] = evaluate(model, Path(cfg.eval_dir), cfg.scale)
            t0, losses = time.perf_counter(), []
            append_log(out, info)
            yield info


def export(ckpt: Path, dest: Path, half: bool = True) -> Path:
    """Write the model weights of a training checkpoint as (fp16) ``.safetensors``."""
    return export_model(ckpt, dest, half=half)
