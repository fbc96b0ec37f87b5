"""``ganstudio train inpaint``: a PConv U-Net trained on BSDS500 train + test and facades photos.

Each step: random crops (flip, 90° rotation) of preloaded uint8 photos, one irregular mask per crop
from a random hole-ratio bucket (:mod:`.masks`). Loss (see :mod:`.losses`): 1 L_valid + 6 L_hole +
0.1 TV, plus optional PatchGAN hinge + feature matching (``adv_weight``, ``fm_weight``; 0 = off).
Adam, cosine decay; the last ``finetune_frac`` of the run freezes the encoder's BatchNorm at a lower
learning rate as the paper does. Progress is ``max(step / steps, elapsed / max_minutes)`` so a CPU run
finishes on time. The loop is a generator yielding a progress dict every ``log_every`` steps and checks
``cancel`` every step; ``out/last.pt`` (fp32, optimiser, step, elapsed) makes a run resumable.

Network range: image in ``[-1, 1]`` multiplied by the valid mask; mask 1 = valid.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.cancel import CancelToken
from ..train_utils import append_log, cosine_lr, export_model, save_checkpoint
from ..train_data import load_training_photos, random_crop
from .masks import random_bucket_mask


@dataclass
class InpaintTrainConfig:
    data: str
    out: str
    base: int = 24
    layers: int = 7
    crop: int = 256
    batch: int = 4
    steps: int = 20000
    max_minutes: float = 0.0  # 0 = no wall-time budget
    lr: float = 2e-4
    finetune_lr: float = 5e-5
    finetune_frac: float = 0.15
    hole_weight: float = 6.0
    valid_weight: float = 1.0
    tv_weight: float = 0.1
    adv_weight: float = 0.0
    fm_weight: float = 0.0
    disc_width: int = 32
    seed: int = 0
    threads: int = 1
    device: str = "cpu"  # cpu, cuda, cuda:N, mps (checked by the CLI's --device)
    log_every: int = 50
    save_every: int = 200
    sets: tuple[str, ...] = ("bsds500", "facades")
    init: str = ""  # a checkpoint to start a *new* run from (its weights only: new optimiser and schedule)


def make_batch(rng: np.random.Generator, photos: list[np.ndarray], cfg: InpaintTrainConfig):
    """(gt ``N x 3 x S x S`` in [-1, 1], valid ``N x 1 x S x S`` 1 = valid)."""
    import torch

    imgs, valids = [], []
    for _ in range(cfg.batch):
        photo = photos[int(rng.integers(len(photos)))]
        imgs.append(random_crop(rng, photo, cfg.crop))
        valids.append(1.0 - random_bucket_mask(rng, cfg.crop, cfg.crop))
    gt = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    valid = torch.from_numpy(np.stack(valids))[:, None]
    return gt, valid


def _progress(step: int, elapsed: float, cfg: InpaintTrainConfig) -> float:
    p = step / cfg.steps
    if cfg.max_minutes > 0:
        p = max(p, elapsed / (cfg.max_minutes * 60.0))
    return min(p, 1.0)


def _lr_at(progress: float, cfg: InpaintTrainConfig) -> float:
    split = 1.0 - cfg.finetune_frac
    if progress < split:
        return cosine_lr(progress / split, cfg.lr, cfg.finetune_lr)
    t = (progress - split) / max(cfg.finetune_frac, 1e-9)
    return cosine_lr(t, cfg.finetune_lr, 0.1 * cfg.finetune_lr)


def train(cfg: InpaintTrainConfig, cancel: CancelToken | None = None) -> Iterator[dict[str, Any]]:
    import torch

    from .arch import PConvUNet
    from .losses import PatchDiscriminator, feature_matching, l1_hole_valid, tv_hole

    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    photos = [p for p in load_training_photos(Path(cfg.data), tuple(cfg.sets)) if min(p.shape[:2]) >= cfg.crop]
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    model = PConvUNet(cfg.base, cfg.layers).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    use_adv = cfg.adv_weight > 0 or cfg.fm_weight > 0
    disc = PatchDiscriminator(cfg.disc_width).to(device) if use_adv else None
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999)) if disc is not None else None
    step, elapsed, finetune = 0, 0.0, False
    ckpt = out / "last.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        finetune = bool(state.get("finetune", False))
        if finetune:  # rebuild the optimiser over the unfrozen parameters, as when it switched
            model.freeze_enc_bn = True
            model.train()
            opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.finetune_lr)
        opt.load_state_dict(state["opt"])
        if disc is not None and "disc" in state:
            disc.load_state_dict(state["disc"])
            opt_d.load_state_dict(state["opt_d"])
        step, elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
    elif cfg.init:  # e.g. an adversarial fine-tune of an L1-trained model
        state = torch.load(cfg.init, map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(state.get("model", state))
        except RuntimeError as exc:
            raise ValueError(f"--init {cfg.init} does not match --base {cfg.base} --layers {cfg.layers}: {exc}") from None
        if disc is not None and "disc" in state:  # continue an adversarial run: keep its critic too
            try:
                disc.load_state_dict(state["disc"])
            except RuntimeError:
                pass  # a different --disc width: that critic starts fresh
    rng = np.random.default_rng(cfg.seed + step)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    model.train()
    t_start, t_log, logs = time.perf_counter() - elapsed, time.perf_counter(), []

    def save() -> None:
        state = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                 "elapsed": time.perf_counter() - t_start, "finetune": finetune}
        if disc is not None:
            state.update(disc=disc.state_dict(), opt_d=opt_d.state_dict())
        save_checkpoint(state, ckpt)

    while True:
        progress = _progress(step, time.perf_counter() - t_start, cfg)
        if progress >= 1.0:
            break
        if cancel is not None:
            cancel.raise_if_cancelled()
        if not finetune and progress >= 1.0 - cfg.finetune_frac:
            finetune = True
            model.freeze_enc_bn = True
            model.train()
            opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.finetune_lr)
        lr_now = _lr_at(progress, cfg)
        for group in opt.param_groups:
            group["lr"] = lr_now
        gt, valid = (t.to(device, non_blocking=True) for t in make_batch(rng, photos, cfg))
        pred = model(gt * valid, valid)
        comp = valid * gt + (1 - valid) * pred
        l_hole, l_valid = l1_hole_valid(pred, gt, valid)
        l_tv = tv_hole(comp, valid)
        loss = cfg.hole_weight * l_hole + cfg.valid_weight * l_valid + cfg.tv_weight * l_tv
        rec: dict[str, float] = {"hole": l_hole.item(), "valid": l_valid.item(), "tv": l_tv.item()}
        if disc is not None:
            hole = 1 - valid
            for p in disc.parameters():
                p.requires_grad_(False)
            f_fake, logit_fake = disc(comp, hole)
            loss = loss - cfg.adv_weight * logit_fake.mean()
            if cfg.fm_weight > 0:
                with torch.no_grad():
                    f_real, _ = disc(gt, hole)
                loss = loss + cfg.fm_weight * feature_matching(f_fake, f_real)
            for p in disc.parameters():
                p.requires_grad_(True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if disc is not None:
            _, logit_real = disc(gt, 1 - valid)
            _, logit_fake = disc(comp.detach(), 1 - valid)
            d_loss = torch.relu(1 - logit_real).mean() + torch.relu(1 + logit_fake).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            rec["d"] = d_loss.item()
        rec["loss"] = loss.item()
        logs.append(rec)
        step += 1
        if step % cfg.save_every == 0:
            save()
        if step % cfg.log_every == 0:
            now = time.perf_counter()
            info: dict[str, Any] = {"step": step, "lr": lr_now, "progress": round(progress, 4),
                                    "finetune": finetune, "elapsed_s": round(now - t_start, 1),
                                    "sec_per_step": round((now - t_log) / len(logs), 4)}
            info.update({k: round(float(np.mean([r[k] for r in logs])), 5) for k in logs[0]})
            t_log, logs = now, []
            append_log(out, info)
            yield info
    save()
    info = {"step": step, "done": True, "elapsed_s": round(time.perf_counter() - t_start, 1)}
    append_log(out, info)
    yield info


def export(ckpt: Path, dest: Path, half: bool = True) -> Path:
    """Write the generator weights of a training checkpoint as (fp16) ``.safetensors``."""
    return export_model(ckpt, dest, half=half)
