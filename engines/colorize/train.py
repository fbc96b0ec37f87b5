"""``ganstudio train colorize``: a reduced-width SIGGRAPH17 generator trained by us.

Data: BSDS500 ``train`` + ``test`` and ``facades/train`` photos only (``engines.train_data``
applies the held-out rule: BSDS500 ``val`` = CBSD68's source is never read). Each photo is
resized once to the network's 256² (as inference sees it); training takes random ``crop``²
crops of those, flipped / rotated, so the fully convolutional net runs at 256² at inference.

Per sample: Lab (OpenCV float), paper-style synthetic hints (:mod:`.hints`), then
loss = Huber(ab) / 11 (the official training's 10 x Huber on ab/110 with delta 1/110, in ab units)
+ cross-entropy of the class head on the 23 x 23 quantised ab of 4 x 4-averaged true colours.
Adam, cosine decay; the loop is a generator yielding a progress dict every ``log_every`` steps and
checking ``cancel`` every step; ``out/last.pt`` (fp32 + optimiser) makes a run resumable, and
``minutes`` stops it cleanly at a wall-clock budget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.cancel import CancelToken
from ..train_utils import append_log, save_checkpoint, cosine_lr as _cosine
from ..train_data import load_training_photos
from .hints import many_count, synthetic_hints
from .spread import spread_input, spread_points
from .lab import AB_MAX, AB_STEP, AB_GRID, NET_SIZE, rgb_to_lab

TRAIN_SETS = ("bsds500", "facades")


@dataclass
class ColorizeTrainConfig:
    data: str
    out: str
    width: float = 0.25
    crop: int = 64
    batch: int = 16
    steps: int = 10000
    lr: float = 1e-3
    min_lr: float = 1e-5
    class_weight: float = 1.0
    seed: int = 0
    threads: int = 1
    device: str = "cpu"  # cpu, cuda, cuda:N, mps (checked by the CLI's --device)
    minutes: float = 0.0  # total training wall time (over resumes); 0 = no limit. The cosine decay
    # follows whichever of steps or minutes runs out first, so a time-boxed run still anneals.
    log_every: int = 50
    save_every: int = 250
    eval_dir: str = ""  # optional folder of held-out photos for monitoring only (never selection)
    eval_images: int = 8
    # our extensions (off = the paper's recipe): the net also sees the hints spread over regions
    # of similar lightness (archs.SIGGRAPHGenerator(spread_input=True)); a fraction of samples get
    # a dense, uniformly placed hint set (log-uniform 1..200 points) besides the paper's geometric
    # count; init starts a new run from another run's weights (4 -> 6 input channels: the two new
    # ones start at zero, so the start is exactly that model)
    spread_input: bool = False
    many_frac: float = 0.0
    init: str = ""
    # how the spread input is built: "hard" (the nearest-point partition the bundled net was first trained
    # on; old commands reproduce) or "soft" (issue 20: exactly what the engine feeds the net at inference,
    # spread.spread_input: the soft partition and, with up to FADE_UPTO hints, the fade to the net's 0-hint
    # answer, computed once per photo with the frozen starting model and cached as out/base_ab.npy)
    spread_mode: str = "hard"


def cosine_lr(cfg: ColorizeTrainConfig, step: int, wall_seconds: float) -> float:
    progress = step / cfg.steps
    if cfg.minutes:
        progress = max(progress, wall_seconds / (cfg.minutes * 60))
    return _cosine(min(1.0, progress), cfg.lr, cfg.min_lr)


def prepare_photos(photos: list[np.ndarray], size: int = NET_SIZE) -> np.ndarray:
    """uint8 ``N x size x size x 3``: every photo resized (area) to the network's square."""
    return np.stack([cv2.resize(p, (size, size), interpolation=cv2.INTER_AREA) for p in photos])


SPREAD_MODES = ("hard", "soft")


def zero_hint_answers(model, photos: np.ndarray) -> np.ndarray:
    """float16 ``N x size x size x 2``: ``model``'s ab without hints on each (already network-size)
    photo, as the engine computes its 0-hint pass (:func:`.engine.predict`, eval mode, no grad): what
    the soft training spread fades to with up to ``FADE_UPTO`` hints."""
    from .engine import predict

    was_training = model.training
    model.eval()
    try:
        out = np.empty(photos.shape[:3] + (2,), np.float16)
        for i, photo in enumerate(photos):
            L = rgb_to_lab(np.asarray(photo, np.float32) / 255.0)[..., 0]
            out[i] = predict(model, L, (), photos.shape[1])[0]
    finally:
        model.train(was_training)
    return out


def training_spread(L: np.ndarray, points: list, size: int, mode: str = "hard",
                    base: np.ndarray | None = None) -> np.ndarray:
    """The spread input (``2 x c x c``) of one training crop: ``L`` ``c x c``, ``points`` the sample's
    hints ``((y, x), ab)`` in crop pixels, ``size`` the whole photo's side (so a crop spreads as the
    photo would). ``mode`` "hard": the nearest-point partition; "soft": :func:`.spread.spread_input`,
    what the engine feeds the net, with ``base`` (``c x c x 2``, the crop of the 0-hint answer; it
    fades to it with up to ``FADE_UPTO`` points, as in the engine)."""
    values = np.array([v for _, v in points], np.float32).reshape(-1, 2)
    pts = [pt for pt, _ in points]
    if mode == "soft":
        ab = spread_input(L, pts, values, size, base)
    elif mode == "hard":
        ab = spread_points(L, pts, values, side=size)
    else:
        raise ValueError(f"spread mode must be one of {SPREAD_MODES}, got {mode!r}")
    return ab.transpose(2, 0, 1)


def make_batch(rng: np.random.Generator, photos: np.ndarray, crop: int, batch: int,
               spread: bool = False, many_frac: float = 0.0, spread_mode: str = "hard",
               bases: np.ndarray | None = None):
    """(L ``N x 1 x c x c``, hint ab ``N x 2``, hint mask ``N x 1``, true ab ``N x 2``, spread ab
    ``N x 2`` (zeros unless ``spread``)) numpy float32. ``spread_mode`` "soft" needs ``bases``
    (:func:`zero_hint_answers` of ``photos``), cropped and flipped with each sample."""
    if spread and spread_mode == "soft" and bases is None:
        raise ValueError("the soft spread mode needs the photos' 0-hint answers (bases)")
    n, size = photos.shape[0], photos.shape[1]
    Ls, habs, masks, abs_, spreads = [], [], [], [], []
    for _ in range(batch):
        i = int(rng.integers(n))
        img = photos[i]
        y, x = (int(v) for v in rng.integers(0, size - crop + 1, size=2))
        c = img[y : y + crop, x : x + crop]
        base = None if bases is None else bases[i, y : y + crop, x : x + crop]
        if rng.random() < 0.5:
            c = c[:, ::-1]
            base = None if base is None else base[:, ::-1]
        lab = rgb_to_lab(np.ascontiguousarray(c, dtype=np.float32) / 255.0).transpose(2, 0, 1)
        points: list = []
        if many_frac > 0 and rng.random() < many_frac:
            hab, mask = synthetic_hints(rng, lab[1:], count=many_count(rng), uniform=True, points=points)
        else:
            hab, mask = synthetic_hints(rng, lab[1:], points=points)
        if spread:  # spread as over the whole 256² photo (side = size), so crops match inference
            spreads.append(training_spread(lab[0], points, size, spread_mode,
                                           None if base is None else base.astype(np.float32)))
        else:
            spreads.append(np.zeros_like(lab[1:]))
        Ls.append(lab[:1])
        abs_.append(lab[1:])
        habs.append(hab)
        masks.append(mask)
    return np.stack(Ls), np.stack(habs), np.stack(masks), np.stack(abs_), np.stack(spreads)


def class_targets(ab_true, factor: int = 4):
    """Class-grid index (``N x H/4 x W/4`` int64) of the 4 x 4-averaged true ab (torch in, torch out)."""
    import torch
    import torch.nn.functional as F

    ab = F.avg_pool2d(ab_true, factor)
    q = torch.clamp(torch.round((ab + AB_MAX) / AB_STEP), 0, AB_GRID - 1).long()
    return q[:, 0] * AB_GRID + q[:, 1]


def losses(model, L, hab, mask, ab_true, class_weight: float = 1.0, spread=None):
    import torch.nn.functional as F

    pred, logits = model(L, hab, mask, spread)
    reg = F.smooth_l1_loss(pred, ab_true, beta=1.0) / 11.0
    ce = F.cross_entropy(logits, class_targets(ab_true))
    return reg + class_weight * ce, reg, ce


def evaluate(model, photos: list[np.ndarray], counts=(0, 10), seed: int = 123) -> dict[str, float]:
    """Mean RGB PSNR at 256² with ``counts`` random true-colour hints (monitoring only)."""
    from ..bench.colorize import psnr_rgb
    from .engine import colorize_array

    rng = np.random.default_rng(seed)
    out: dict[str, float] = {}
    was_training = model.training
    model.eval()
    try:
        for n in counts:
            scores = []
            for photo in photos:
                from .hints import random_hints_from_image

                img = photo
                hints = random_hints_from_image(rng, img, n)
                pred = colorize_array(model, img, hints)
                scores.append(psnr_rgb(pred, img))
            out[f"eval_psnr_{n}"] = float(np.mean(scores))
    finally:
        model.train(was_training)
    return out


def _eval_photos(folder: str, count: int) -> list[np.ndarray]:
    paths = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in (".png", ".jpg"))[:count]
    out = []
    for p in paths:
        img = cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        out.append(cv2.resize(img, (NET_SIZE, NET_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0)
    return out


def load_init(model, path: str) -> None:
    """Load another run's generator weights into ``model``; a 4-input ``model1.0.weight`` going
    into a spread-input (6-channel) model gets zero weights for the two new channels. A
    ``.safetensors`` file (e.g. a bundled fp16 export) is read as fp32."""
    import torch

    if str(path).endswith(".safetensors"):
        from ..weights.files import read_state_dict

        sd = {k: v.float() if v.is_floating_point() else v for k, v in read_state_dict(path).items()}
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        sd = dict(state.get("model", state))
    first = sd.get("model1.0.weight")
    want = model.model1[0].weight
    if first is not None and first.shape[1] < want.shape[1] and first.shape[0] == want.shape[0]:
        grown = torch.zeros_like(want)
        grown[:, : first.shape[1]] = first
        sd["model1.0.weight"] = grown
    try:
        model.load_state_dict(sd)
    except RuntimeError as exc:
        raise ValueError(f"--init {path} does not match this model (--width, spread input): {exc}") from None


def train(cfg: ColorizeTrainConfig, cancel: CancelToken | None = None) -> Iterator[dict[str, Any]]:
    import torch

    from .archs import SIGGRAPHGenerator

    if cfg.spread_mode not in SPREAD_MODES:
        raise ValueError(f"spread mode must be one of {SPREAD_MODES}, got {cfg.spread_mode!r}")
    if cfg.crop % 8:
        raise ValueError(f"crop must be a multiple of 8 (the net subsamples 3 times), got {cfg.crop}")
    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    photos = prepare_photos(load_training_photos(Path(cfg.data), TRAIN_SETS))
    eval_photos = _eval_photos(cfg.eval_dir, cfg.eval_images) if cfg.eval_dir else []
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    model = SIGGRAPHGenerator(width=cfg.width, spread_input=cfg.spread_input).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    step, wall = 0, 0.0
    ckpt = out / "last.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, wall = int(state["step"]), float(state.get("wall", 0.0))
    elif cfg.init:
        load_init(model, cfg.init)
    bases = None
    if cfg.spread_input and cfg.spread_mode == "soft":  # the frozen starting model's 0-hint answers, once
        cached = out / "base_ab.npy"
        if cached.is_file():
            bases = np.load(cached)
        if bases is None or bases.shape != photos.shape[:3] + (2,):
            if ckpt.is_file():
                raise ValueError(f"{cached} is missing or does not match the photos; the soft spread's base "
                                 "comes from the starting model, which a resumed run no longer has")
            yield {"step": step, "stage": f"0-hint answers of {len(photos)} photos (soft spread base)"}
            bases = zero_hint_answers(model, photos)
            np.save(cached, bases)
    rng = np.random.default_rng(cfg.seed + step)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    model.train()
    t0, hist, t_wall = time.perf_counter(), [], time.perf_counter()

    def save() -> None:
        save_checkpoint({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                         "wall": wall + time.perf_counter() - t_wall, "config": asdict(cfg)}, ckpt)

    while step < cfg.steps:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if cfg.minutes and wall + time.perf_counter() - t_wall > cfg.minutes * 60:
            save()
            yield {"step": step, "stopped": "time budget reached"}
            return
        lr_now = cosine_lr(cfg, step, wall + time.perf_counter() - t_wall)
        for group in opt.param_groups:
            group["lr"] = lr_now
        L, hab, mask, ab, spread = (torch.from_numpy(a).to(device, non_blocking=True) for a in make_batch(
            rng, photos, cfg.crop, cfg.batch, cfg.spread_input, cfg.many_frac, cfg.spread_mode, bases))
        loss, reg, ce = losses(model, L, hab, mask, ab, cfg.class_weight, spread)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hist.append((float(loss.detach()), float(reg.detach()), float(ce.detach())))
        step += 1
        if step % cfg.save_every == 0 or step == cfg.steps:
            save()
        if step % cfg.log_every == 0 or step == cfg.steps:
            m = np.mean(hist, axis=0)
            info: dict[str, Any] = {"step": step, "loss": float(m[0]), "huber": float(m[1]), "ce": float(m[2]),
                                    "lr": lr_now, "sec_per_step": (time.perf_counter() - t0) / len(hist),
                                    "wall_min": (wall + time.perf_counter() - t_wall) / 60}
            if eval_photos and (step % cfg.save_every == 0 or step == cfg.steps):
                info.update(evaluate(model, eval_photos))
            t0, hist = time.perf_counter(), []
            append_log(out, info)
            yield info


def export(ckpt: Path, dest: Path, half: bool = True) -> Path:
    """Write the generator weights of a training checkpoint as (fp16) ``.safetensors``."""
    import torch

    from ..weights.files import half_where_fits, save_safetensors

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    sd = state["model"]
    if half:  # a BatchNorm running variance of the deep blocks can exceed fp16's 65504: fp32 there
        sd = half_where_fits(sd)
    save_safetensors(sd, dest, half=False)
    return dest
