"""Training the facades segmentation net to survive photos that are not CMP crops (issue 20).

The CMP Facades photos are rectified, cropped to one building and shot in daylight, so a net that
only sees them learns "windows are ~12 px at 128²" and "this is what the colours look like"; on a
modern building with a dense grid of small windows it labelled 3.4 % window. Here every training
sample is a random *view* of a facades/train pair (:func:`random_view`):

- **scale** 0.5-2x (log-uniform) of the working size ``base`` (the facade's side when the whole
  photo is segmented: the card's ``work_side``) — zoomed out the frame beyond the photo is
  mirrored (photo and labels alike: a facade usually goes on past the frame);
- **aspect** 1/1.8-1.8x, a small **rotation** (<= 4 deg) and a **perspective** warp (each corner of
  the view moved by up to 15 % of its side): one homography, so the labels move exactly with the
  photo (nearest neighbour);
- **colour**: hue turned about the grey axis (<= 35 deg), saturation x0.4-1.6, contrast x0.6-1.4,
  brightness x0.6-1.4, gamma 0.7-1.4; **blur** (Gaussian sigma 0.3-1.6 px at the working size)
  and a little sensor noise.

``zoom_out_frac`` (default 0: off) draws that share of the non-plain views at a scale log-uniform in
``ZOOM_OUT_RANGE`` (0.3-0.7) instead, so the net sees more facades that fill only part of the view
inside their mirrored surroundings (a photo of a whole street front, a building seen from afar);
everything else about those views (aspect, rotation, perspective, placement, flip) is unchanged.

One sample in five keeps the plain geometry (the whole photo at the working size) so the
in-domain result does not pay for the rest. The loss is cross-entropy with class weights
``(frequency / median) ** -0.5`` from the training labels (clipped to 0.25-4): mIoU averages
classes, and door / blind / deco / pillar were never predicted by the unweighted first model.

The GPU kit (:mod:`engines.gpukit.trainers.segment`) draws the same views batched on the device
(:func:`engines.gpukit.trainers.segment.segment_views`).

``ganstudio train segment`` runs it (``--no-views`` the first trainer), as does
``python -m engines.spade.segment_train``; ``--export`` writes the fp16 ``.safetensors`` of the EMA
weights and its card.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from ..core.protocol import CancelToken

N_CLASSES = 12

# augmentation ranges (shared with the GPU kit's segment_views)
SCALE_RANGE = (0.5, 2.0)
ASPECT_MAX = 1.8
ROTATE_DEG = 4.0
PERSPECTIVE = 0.15
PLAIN_SHARE = 0.2
ZOOM_OUT_RANGE = (0.3, 0.7)  # the scales of the extra zoomed-out views (``zoom_out_frac``)


@dataclass
class RobustSegmentConfig:
    data: str
    out: str
    crop: int = 128  # training view side
    base: int = 128  # a whole facade's side at scale 1 (= the card's work_side)
    width: int = 16
    levels: int = 5
    batch: int = 16
    steps: int = 6000
    minutes: float = 0.0
    lr: float = 1e-3
    min_lr: float = 1e-5
    ema: float = 0.998
    init: str = ""  # warm start: a facades-segnet .safetensors (tensors of matching shape are taken)
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    log_every: int = 50
    save_every: int = 200
    zoom_out_frac: float = 0.0  # share of the non-plain views drawn at ZOOM_OUT_RANGE scales
    holdout: int = 0  # the last N facades/train pairs are left out (a selection split for choosing)
    keep_every: int = 0  # also keep a copy of the checkpoint every N steps (step_N.pt) to choose from


# ----------------------------------------------------------------------------- views


def view_homography(rng: np.random.Generator, src_hw: tuple[int, int], crop: int, base: int,
                    plain: bool = False, zoom_out_frac: float = 0.0) -> np.ndarray:
    """3 x 3 float64 homography from source pixel coordinates to a ``crop``² view (see module
    docstring for the ranges). ``plain``: the whole source at ``base`` (scale 1, no warp);
    ``zoom_out_frac``: the share of views whose scale comes from ``ZOOM_OUT_RANGE``."""
    if not 0.0 <= zoom_out_frac <= 1.0:
        raise ValueError(f"zoom_out_frac must be in [0, 1], got {zoom_out_frac}")
    h, w = src_hw
    if plain:
        s, a, rot, persp = 1.0, 1.0, 0.0, 0.0
    else:
        # (no draw when the option is off: the views of a seed stay what they were)
        lo, hi = ZOOM_OUT_RANGE if zoom_out_frac > 0 and rng.random() < zoom_out_frac else SCALE_RANGE
        s = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        a = math.exp(rng.uniform(-math.log(ASPECT_MAX), math.log(ASPECT_MAX))) if rng.random() < 0.5 else 1.0
        rot = math.radians(rng.uniform(-ROTATE_DEG, ROTATE_DEG))
        persp = rng.uniform(0, PERSPECTIVE) if rng.random() < 0.6 else 0.0
    sx, sy = base * s * math.sqrt(a) / w, base * s / math.sqrt(a) / h
    fw, fh = w * sx, h * sy  # the facade's size in the view
    # where the facade sits: the view stays inside it when it is larger, else it lies in the view
    ox = rng.uniform(min(0.0, crop - fw), max(0.0, crop - fw)) if fw != crop else 0.0
    oy = rng.uniform(min(0.0, crop - fh), max(0.0, crop - fh)) if fh != crop else 0.0
    A = np.array([[sx, 0, ox], [0, sy, oy], [0, 0, 1]], np.float64)
    c = crop / 2
    R = np.array([[math.cos(rot), -math.sin(rot), c - c * math.cos(rot) + c * math.sin(rot)],
                  [math.sin(rot), math.cos(rot), c - c * math.sin(rot) - c * math.cos(rot)], [0, 0, 1]])
    M = R @ A
    if persp > 0:
        corners = np.float32([[0, 0], [crop, 0], [crop, crop], [0, crop]])
        moved = corners + rng.uniform(-persp, persp, size=(4, 2)).astype(np.float32) * crop
        M = cv2.getPerspectiveTransform(corners, moved).astype(np.float64) @ M
    return M


def random_view(rng: np.random.Generator, photo: np.ndarray, labels: np.ndarray, crop: int, base: int,
                plain: bool | None = None, zoom_out_frac: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 crop x crop x 3, uint8 crop x crop) view of a uint8 H x W x 3 photo and its uint8
    H x W ids, geometry only (photometric changes: :func:`photometric`)."""
    if plain is None:
        plain = rng.random() < PLAIN_SHARE
    M = view_homography(rng, photo.shape[:2], crop, base, plain, zoom_out_frac)
    lab = cv2.warpPerspective(labels, M, (crop, crop), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
    # shrink first with area averaging so a zoomed-out view is not aliased, then warp ~1:1; the
    # photo is mirrored out before the shrink so the mirror line stays where the labels' is
    shrink = min(1.0, math.sqrt(abs(np.linalg.det(M[:2, :2]))))
    src = photo
    if shrink < 0.9:
        pad = min(photo.shape[:2]) - 1
        big = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        size = (max(8, round(big.shape[1] * shrink)), max(8, round(big.shape[0] * shrink)))
        src = cv2.resize(big, size, interpolation=cv2.INTER_AREA)
        # small pixel centre i sits at (i + 0.5) / r - 0.5 in the padded photo (r = small / padded)
        fx, fy = big.shape[1] / size[0], big.shape[0] / size[1]
        M = M @ np.array([[fx, 0, 0.5 * fx - 0.5 - pad], [0, fy, 0.5 * fy - 0.5 - pad], [0, 0, 1]])
    if rng.random() < 0.5:
        flip = np.array([[-1, 0, crop - 1], [0, 1, 0], [0, 0, 1]], np.float64)  # as lab[:, ::-1]
        lab = lab[:, ::-1]
        M = flip @ M
    img = cv2.warpPerspective(src, M, (crop, crop), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return img, np.ascontiguousarray(lab)


def photometric(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """uint8 H x W x 3 -> float32 H x W x 3 in [0, 1]: colour jitter (p 0.8), blur (p 0.4),
    noise (p 0.3)."""
    x = img.astype(np.float32) / 255.0
    if rng.random() < 0.8:
        angle = math.radians(rng.uniform(-35, 35))
        k = np.ones(3) / math.sqrt(3)
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        rot = (np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx).astype(np.float32)
        x = x @ rot.T
        grey = x.mean(2, keepdims=True)
        x = grey + (x - grey) * rng.uniform(0.4, 1.6)
        m = x.mean()
        x = m + (x - m) * rng.uniform(0.6, 1.4)
        x = np.clip(x * rng.uniform(0.6, 1.4), 0.0, 1.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.4:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.6))
    if rng.random() < 0.3:
        x = x + rng.normal(0, rng.uniform(0.005, 0.03), size=x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def make_views(rng, photos: np.ndarray, labels: np.ndarray, batch: int, crop: int, base: int,
               zoom_out_frac: float = 0.0):
    """(image N x 3 x c x c float32 in [-1, 1], labels N x c x c int64) torch tensors."""
    import torch

    ims, labs = [], []
    for _ in range(batch):
        i = int(rng.integers(len(photos)))
        img, lab = random_view(rng, photos[i], labels[i], crop, base, zoom_out_frac=zoom_out_frac)
        ims.append(photometric(rng, img))
        labs.append(lab)
    image = torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).mul_(2.0).sub_(1.0).contiguous()
    return image, torch.from_numpy(np.stack(labs).astype(np.int64))


def class_weights(labels: np.ndarray, n: int = N_CLASSES) -> np.ndarray:
    """float32 n: ``(frequency / median frequency) ** -0.5`` clipped to [0.25, 4] (absent -> 1)."""
    freq = np.bincount(labels.ravel(), minlength=n)[:n].astype(np.float64)
    freq /= max(freq.sum(), 1)
    present = freq > 0
    w = np.ones(n)
    w[present] = np.clip((freq[present] / np.median(freq[present])) ** -0.5, 0.25, 4.0)
    return w.astype(np.float32)


# ----------------------------------------------------------------------------- training


def _progress(step: int, steps: int, elapsed: float, minutes: float) -> float:
    """How far the run is, 0..1: by steps, or by wall time when ``minutes`` is set (the sooner)."""
    p = step / max(steps, 1)
    if minutes > 0:
        p = max(p, elapsed / (minutes * 60.0))
    return min(p, 1.0)


def _warm_start(net, path: str) -> int:
    """Copy the tensors of ``path`` whose name and shape match; returns how many were taken."""
    from ..weights.files import read_state_dict

    sd = read_state_dict(path)
    own = net.state_dict()
    taken = {k: v.to(own[k].dtype) for k, v in sd.items() if k in own and own[k].shape == v.shape}
    own.update(taken)
    net.load_state_dict(own)
    return len(taken)


def train_robust_segment(cfg: RobustSegmentConfig, cancel: CancelToken | None = None,
                         pairs: tuple[np.ndarray, np.ndarray] | None = None) -> Iterator[dict[str, Any]]:
    """Generator: trains (resuming from ``out/last.pt``), yields a log dict every ``log_every``
    steps and a final ``{"done": True}``; stops at ``steps`` or ``minutes`` of wall time."""
    import copy

    import torch
    import torch.nn.functional as F

    from .segment import FacadeSegNet
    from ..train_utils import append_log, cosine_lr, save_checkpoint
    from .train import load_train_pairs

    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    photos, labels = pairs if pairs is not None else load_train_pairs(Path(cfg.data), out)[:2]
    if cfg.holdout:
        if not 0 < cfg.holdout < len(photos):
            raise ValueError(f"holdout {cfg.holdout} leaves no training pairs of {len(photos)}")
        photos, labels = photos[: -cfg.holdout], labels[: -cfg.holdout]
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    net = FacadeSegNet(N_CLASSES, cfg.width, cfg.levels).to(device).train()
    weights = torch.from_numpy(class_weights(labels)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    step, elapsed = 0, 0.0
    ckpt = out / "last.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=True)
        try:
            net.load_state_dict(state["net"])
            opt.load_state_dict(state["opt"])
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"{ckpt} is not a checkpoint of this net ({exc}); use another --out") from None
        ema = copy.deepcopy(net)
        ema.load_state_dict(state["ema"])
        step, elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
    else:
        taken = _warm_start(net, cfg.init) if cfg.init else 0
        ema = copy.deepcopy(net)
        append_log(out, {"init": cfg.init, "tensors_taken": taken})
    ema.eval()
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    rng = np.random.default_rng([cfg.seed, step])
    t_start, logs = time.perf_counter() - elapsed, []

    def save() -> None:
        save_checkpoint({"net": net.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                         "elapsed": time.perf_counter() - t_start}, ckpt)

    while True:
        progress = _progress(step, cfg.steps, time.perf_counter() - t_start, cfg.minutes)
        if progress >= 1.0:
            break
        if cancel is not None:
            cancel.raise_if_cancelled()
        lr = cosine_lr(progress, cfg.lr, cfg.min_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        image, lab = make_views(rng, photos, labels, cfg.batch, cfg.crop, cfg.base, cfg.zoom_out_frac)
        image, lab = image.to(device), lab.to(device)
        logits = net(image)
        loss = F.cross_entropy(logits, lab, weight=weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            # warm-up: the average starts close to the net and tightens to cfg.ema
            d = min(cfg.ema, (1 + step) / (10 + step))
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
            for be, b in zip(ema.buffers(), net.buffers()):
                be.copy_(b)
            acc = float((logits.argmax(1) == lab).float().mean())
        logs.append({"ce": loss.item(), "pixel_acc": acc})
        step += 1
        keep = bool(cfg.keep_every) and step % cfg.keep_every == 0
        if keep or step % cfg.save_every == 0:  # one write when both fall on this step
            save()
        if keep:
            shutil.copyfile(ckpt, out / f"step_{step}.pt")
        if step % cfg.log_every == 0:
            info = {"step": step, "progress": round(progress, 4), "lr": round(lr, 6),
                    "elapsed_s": round(time.perf_counter() - t_start, 1),
                    **{k: round(float(np.mean([l[k] for l in logs])), 4) for k in logs[0]}}
            append_log(out, info)
            logs = []
            yield info
    save()
    info = {"step": step, "done": True, "elapsed_s": round(time.perf_counter() - t_start, 1)}
    append_log(out, info)
    yield info


def export_robust_segment(ckpt: Path, dest: Path, extra: dict[str, Any] | None = None) -> Path:
    """The EMA weights of a checkpoint as fp16 ``.safetensors`` + its card ``.json`` / ``.md``
    (work_side = the config's ``base``) beside it. Figures are added by whoever measures them."""
    import torch

    from ..atomic import atomic_write_bytes
    from ..weights.files import save_safetensors

    ckpt, dest = Path(ckpt), Path(dest)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    save_safetensors(state["ema"], dest, half=True)
    cfg = json.loads((ckpt.parent / "config.json").read_text())
    card = {
        "id": dest.stem, "file": dest.name, "task": "synthesize", "arch": "facades-segnet",
        "convention": "facades", "palette": "facades",
        "license": "weights: trained by GAN Studio on CMP Facades train (research use, Tylecek & Sara 2013)",
        "steps": int(state["step"]), "train_seconds": round(float(state.get("elapsed", 0.0)), 1),
        "title": "Facades segmentation (ours)",
        "description": ("U-Net photo -> 12 CMP classes trained by us on facades train with scale / aspect / "
                        "perspective / colour / blur augmentation; used by the bench and by 'Segment photo'."),
        "train_config": cfg, "work_side": int(cfg.get("base", cfg.get("crop", 256))),
        "card": dest.with_suffix(".md").name, **(extra or {}),
    }
    atomic_write_bytes(dest.with_suffix(".json"), (json.dumps(card, indent=2) + "\n").encode())
    atomic_write_bytes(dest.with_suffix(".md"), card_md(card).encode())
    return dest


def card_md(card: dict[str, Any]) -> str:
    """The human-readable card of an export (no figures: ``ganstudio bench spade`` measures them)."""
    cfg = card.get("train_config", {})
    flags = " ".join(f"--{k} {cfg[k]}" for k in ("out", "crop", "base", "width", "levels", "batch", "steps",
                                                  "minutes", "init", "threads", "device") if cfg.get(k))
    return "\n".join([
        f"# {card['title']}", "", card["description"], "",
        "## Data", "CMP Facades `train` (400 pix2pix pairs; labels by palette snapping + a 5x5 mode filter), as "
        "random views (engines/spade/segment_train.py). `facades/test` was never read.", "",
        "## Command", f"`ganstudio train segment {flags}` then `--export {card['file']}`; {card['steps']} steps, "
        f"{card['train_seconds']} s of wall time.", "",
        "## Figures", "Not measured at export time: run `ganstudio bench spade --data ../shared/data/facades/test "
        "--json OUT` (synthesis rows + the segmentation robustness rows) and record its tables here.", "",
        "## Licence", card["license"], ""])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engines.spade.segment_train", description=__doc__.split("\n")[0])
    p.add_argument("--data", help="the shared data folder (default ../shared/data)")
    p.add_argument("--out", default="runs/segment-robust")
    for f in ("crop", "base", "width", "levels", "batch", "steps", "seed", "threads"):
        p.add_argument(f"--{f}", type=int, default=getattr(RobustSegmentConfig, f))
    p.add_argument("--minutes", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=RobustSegmentConfig.lr)
    p.add_argument("--zoom-out-frac", type=float, default=0.0,
                   help=f"share of the views drawn zoomed out, scale {ZOOM_OUT_RANGE[0]}-{ZOOM_OUT_RANGE[1]}")
    p.add_argument("--holdout", type=int, default=0, help="leave the last N facades/train pairs out")
    p.add_argument("--keep-every", type=int, default=0, help="keep step_N.pt every N steps")
    p.add_argument("--ckpt", default="last.pt", help="with --export: the checkpoint in --out to export")
    p.add_argument("--init", default="", help="warm start from a facades-segnet .safetensors")
    p.add_argument("--device", default="cpu")
    p.add_argument("--export", help="write the EMA weights of out/last.pt here (+ card .json) and stop")
    args = p.parse_args(argv)
    if args.export:
        ckpt = Path(args.out) / args.ckpt
        if not ckpt.is_file():
            print(f"no checkpoint at {ckpt}")
            return 2
        print(f"wrote {export_robust_segment(ckpt, Path(args.export))}")
        return 0
    from ..train_data import default_data_root

    cfg = RobustSegmentConfig(data=str(Path(args.data) if args.data else default_data_root()), out=args.out,
                              **{f: getattr(args, f) for f in ("crop", "base", "width", "levels", "batch", "steps",
                                                               "seed", "threads", "minutes", "lr", "init",
                                                               "device", "zoom_out_frac", "holdout",
                                                               "keep_every")})
    for info in train_robust_segment(cfg):
        print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
