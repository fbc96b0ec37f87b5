"""``ganstudio train spade`` and ``ganstudio train segment`` on CMP Facades ``train`` (400 pairs).

Data: :mod:`.facades` pairs (palette snap + mode filter), cached once as ``out/facades_train.npz``.
Each sample is resized to ``load`` (photo: area, labels: nearest), randomly cropped to ``crop`` and
flipped left-right (never rotated: facades have an up). ``facades/test`` is never read here.

SPADE (Park et al. 2019), as the paper trains it, minus the VGG loss:
- G: :class:`~.archs.SPADEGenerator` with the VAE style encoder; D: 2-scale PatchGAN (4 layers,
  spectral norm + InstanceNorm) on ``cat(one-hot labels, image)``;
- losses: hinge GAN, discriminator feature matching (lambda_feat 10), KL (lambda_kld 0.05). The
  VGG perceptual loss (lambda_vgg 10) needs ImageNet VGG19 weights that cannot be had here, so it
  is off; the model card says so;
- optional texture energy (``lambda_tex``, :func:`texture_energy`, issue 20): per image and class,
  the fake's mean luminance gradient energy over the class's pixels matched (log ratio) to the real
  photo's, at 2 pyramid levels; a statistic, so it asks for the amount of detail, not its pixels;
- TTUR: Adam beta = (0, 0.9), G (+E) lr 1e-4, D lr 4e-4; linear decay to 0 over the second half.

Segmentation: :class:`~.segment.FacadeSegNet`, cross-entropy, Adam 1e-3 with cosine decay.

Both loops are generators yielding a progress dict every ``log_every`` steps; they check ``cancel``
every step, stop at ``steps`` or ``minutes`` (wall time over resumes), and resume from
``out/last.pt``. ``export_*`` write fp16 ``.safetensors`` plus a model card.
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
from ..train_utils import append_log, cosine_lr, save_checkpoint
from .facades import FacadePair

N_CLASSES = 12


@dataclass
class SpadeTrainConfig:
    data: str  # the shared data folder (reads facades/train)
    out: str
    crop: int = 256
    load: int = 286  # resize to this, then random-crop `crop` (pix2pix facades: 286 -> 256)
    ngf: int = 12  # 12: fp16 file 18 MB (<= 20 MB budget) and ~0.9 s per 256² on one CPU core
    spade_hidden: int = 64  # official 128; 64 keeps the fp16 file under 20 MB and CPU time down
    ndf: int = 32
    num_d: int = 2
    batch: int = 4
    steps: int = 20000
    minutes: float = 0.0
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    lambda_feat: float = 10.0
    lambda_kld: float = 0.05
    use_vae: bool = True
    # "more" adds one x2 step and no tensor: a 4 x 4 fc grid then gives 256 px, so a 128 px model
    # can be fine-tuned at 256 px in a file of the same size (an 8 x 8 grid would add ~4.7 MB fp16)
    num_up: str = "normal"
    padding: str = "reflect"  # generator convs; "zeros" was the first bundled model's (border bands)
    encoder_layers: int = 0  # 0: 6 for crops >= 256 else 5 (the encoder resizes its input to 4 * 2**layers)
    init: str = ""  # a generator .safetensors (same widths) to start from; "" = fresh init
    init_d: str = ""  # a 'train spade' checkpoint (last.pt) whose discriminator to start from
    # texture energy (issue 20: flat, smeared background / wall): per image and class, match the
    # mean luminance gradient energy of fake and real over that class's pixels, at `tex_scales`
    # pyramid levels (statistics, not pixel alignment); 0 = off (the paper's losses only)
    lambda_tex: float = 0.0
    tex_scales: int = 2
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    log_every: int = 50
    save_every: int = 250


@dataclass
class SegmentTrainConfig:
    data: str
    out: str
    crop: int = 256
    load: int = 286
    width: int = 24
    batch: int = 8
    steps: int = 6000
    minutes: float = 0.0
    lr: float = 1e-3
    min_lr: float = 1e-5
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    log_every: int = 50
    save_every: int = 250


# ----------------------------------------------------------------------------- data


def load_train_pairs(data: Path, out: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """(photos uint8 N x 256 x 256 x 3, labels uint8 N x 256 x 256, mean ambiguous share) of
    facades/train, cached in ``out`` (snapping 400 pairs takes ~30 s on one core)."""
    cache = out / "facades_train.npz"
    if cache.is_file():
        z = np.load(cache)
        return z["photos"], z["labels"], float(z["ambiguous"])
    from .facades import load_split

    folder = Path(data) / "facades" / "train"
    if not folder.is_dir():
        raise FileNotFoundError(f"no facades/train under {data}")
    pairs = load_split(folder)
    photos, labels, amb = stack_pairs(pairs)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(cache, photos=photos, labels=labels, ambiguous=amb)
    return photos, labels, amb


def stack_pairs(pairs: list[FacadePair]) -> tuple[np.ndarray, np.ndarray, float]:
    photos = np.stack([p.photo for p in pairs])
    labels = np.stack([p.labels for p in pairs]).astype(np.uint8)
    return photos, labels, float(np.mean([p.ambiguous for p in pairs]))


def augment(rng: np.random.Generator, photo: np.ndarray, labels: np.ndarray, load: int, crop: int):
    """Resize to ``load`` (labels: nearest), random ``crop``, random left-right flip."""
    if photo.shape[0] != load or photo.shape[1] != load:
        interp = cv2.INTER_AREA if load < photo.shape[0] else cv2.INTER_CUBIC
        photo = cv2.resize(photo, (load, load), interpolation=interp)
        labels = cv2.resize(labels, (load, load), interpolation=cv2.INTER_NEAREST)
    y, x = (int(v) for v in rng.integers(0, load - crop + 1, size=2))
    photo, labels = photo[y : y + crop, x : x + crop], labels[y : y + crop, x : x + crop]
    if rng.random() < 0.5:
        photo, labels = photo[:, ::-1], labels[:, ::-1]
    return np.ascontiguousarray(photo), np.ascontiguousarray(labels)


def make_batch(rng, photos, labels, batch: int, load: int, crop: int):
    """(image N x 3 x c x c in [-1, 1], labels N x c x c int64) as torch tensors."""
    import torch

    ims, labs = [], []
    for _ in range(batch):
        i = int(rng.integers(len(photos)))
        p, l = augment(rng, photos[i], labels[i], load, crop)
        ims.append(p)
        labs.append(l)
    image = torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    return image, torch.from_numpy(np.stack(labs).astype(np.int64))


def one_hot(labels, n: int):
    import torch.nn.functional as F

    return F.one_hot(labels, n).permute(0, 3, 1, 2).float()


# ----------------------------------------------------------------------------- losses


def hinge_d(real_logits, fake_logits):
    import torch

    return sum(torch.relu(1 - r).mean() + torch.relu(1 + f).mean() for r, f in zip(real_logits, fake_logits)) / len(real_logits)


def hinge_g(fake_logits):
    return -sum(f.mean() for f in fake_logits) / len(fake_logits)


def feature_matching(fake_feats, real_feats):
    """L1 between D's intermediate features of fake and (detached) real, averaged over scales."""
    import torch.nn.functional as F

    total = 0.0
    for ff, rf in zip(fake_feats, real_feats):
        for a, b in zip(ff[:-1], rf[:-1]):
            total = total + F.l1_loss(a, b.detach())
    return total / len(fake_feats)


def _luma_gradient(image):
    """Gradient energy ``dx² + dy²`` of the luminance (in [0, 1] units) of N x 3 x H x W images in
    [-1, 1] (central differences, replicate padding so the frame adds nothing): N x 1 x H x W.
    Squared, as ``bench spade``'s border_ratio: the flat classes lack the strong local contrasts
    (their mean gradient *magnitude* is near the real one, their energy is not)."""
    import torch
    import torch.nn.functional as F

    w = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    y = F.pad((image * w).sum(1, keepdim=True) * 0.5, (1, 1, 1, 1), mode="replicate")
    dx = (y[..., 1:-1, 2:] - y[..., 1:-1, :-2]) * 0.5
    dy = (y[..., 2:, 1:-1] - y[..., :-2, 1:-1]) * 0.5
    return dx * dx + dy * dy


def texture_energy(fake, real, seg, scales: int = 2, min_share: float = 0.01, eps: float = 1e-4):
    """Texture energy loss: for each image, class present (>= ``min_share`` of the pixels) and
    pyramid level (2x average pooling), ``|log(e_fake + eps) - log(e_real + eps)|`` where ``e`` is
    the mean luminance gradient energy over that class's pixels (``seg``: N x C x H x W one-hot,
    pooled to soft weights). It asks each class for the real photo's amount of local detail, not
    for its pixels; 0 when fake == real. ``real`` is treated as a constant."""
    import torch
    import torch.nn.functional as F

    real = real.detach()
    total, count = fake.new_zeros(()), 0
    for level in range(max(1, scales)):
        if level:
            fake, real, seg = (F.avg_pool2d(t, 2) for t in (fake, real, seg))
        w = seg.flatten(2)  # N x C x P
        mass = w.sum(-1)  # N x C
        present = mass >= min_share * w.shape[-1]
        if not bool(present.any()):
            continue
        e_f = (w * _luma_gradient(fake).flatten(2)).sum(-1) / mass.clamp_min(1e-6)
        e_r = (w * _luma_gradient(real).flatten(2)).sum(-1) / mass.clamp_min(1e-6)
        gap = (torch.log(e_f + eps) - torch.log(e_r + eps)).abs()
        total = total + gap[present].mean()
        count += 1
    return total / max(count, 1)


def kld(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / mu.shape[0]


# ----------------------------------------------------------------------------- SPADE


def _progress(step: int, steps: int, elapsed: float, minutes: float) -> float:
    p = step / max(steps, 1)
    if minutes > 0:
        p = max(p, elapsed / (minutes * 60.0))
    return min(p, 1.0)


def generator_config(cfg: SpadeTrainConfig):
    """The :class:`~.archs.SpadeConfig` a training config builds (crop = start grid x 2**n_up)."""
    from .archs import UP_LAYERS, SpadeConfig

    if cfg.num_up not in UP_LAYERS:
        raise ValueError(f"num_up must be one of {sorted(UP_LAYERS)}, got {cfg.num_up!r}")
    multiple = 2 ** UP_LAYERS[cfg.num_up]
    if cfg.crop % multiple:
        raise ValueError(f"crop {cfg.crop} is not a multiple of {multiple} (num_up {cfg.num_up})")
    start = cfg.crop // multiple
    enc = cfg.encoder_layers or (6 if cfg.crop >= 256 else 5)
    return SpadeConfig(semantic_nc=N_CLASSES, ngf=cfg.ngf, num_up=cfg.num_up, use_vae=cfg.use_vae,
                       start_hw=(start, start), norm="instance", spade_hidden=cfg.spade_hidden,
                       encoder_layers=enc if cfg.use_vae else 0, padding=cfg.padding)


def build_models(cfg: SpadeTrainConfig):
    from .archs import MultiscaleDiscriminator, SPADEGenerator, weights_init

    netg = SPADEGenerator(generator_config(cfg))
    netd = MultiscaleDiscriminator(N_CLASSES + 3, cfg.ndf, 4, cfg.num_d)
    weights_init(netg)
    weights_init(netd)
    return netg, netd


def load_generator_init(netg, path: str | Path) -> int:
    """Copy a generator file's tensors into ``netg`` (strict: same widths and grid); returns the
    number of tensors. fp16 files are widened to the network's dtype."""
    from ..weights import read_state_dict

    sd = read_state_dict(Path(path))
    own = netg.state_dict()
    missing = sorted(set(own) - set(sd))
    extra = sorted(set(sd) - set(own))
    bad = [k for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or extra or bad:
        raise ValueError(f"--init {path} does not match this generator (missing {missing[:3]}, "
                         f"unexpected {extra[:3]}, other shapes {bad[:3]}): use the same ngf / hidden / grid")
    netg.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()})
    return len(sd)


def train_spade(cfg: SpadeTrainConfig, cancel: CancelToken | None = None,
                pairs: tuple[np.ndarray, np.ndarray] | None = None) -> Iterator[dict[str, Any]]:
    """The GAN loop. ``pairs`` = (photos, labels) arrays for tests; default facades/train."""
    import torch

    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ambiguous = None
    if pairs is None:
        photos, labels, ambiguous = load_train_pairs(Path(cfg.data), out)
    else:
        photos, labels = pairs
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    netg, netd = build_models(cfg)
    if cfg.init and not (out / "last.pt").is_file():
        load_generator_init(netg, cfg.init)
    if cfg.init_d and not (out / "last.pt").is_file():
        netd.load_state_dict(_resume_state(Path(cfg.init_d), "cpu", ("d",), "train spade")["d"])
    netg.to(device).train()
    netd.to(device).train()
    opt_g = torch.optim.Adam(netg.parameters(), lr=cfg.lr_g, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(netd.parameters(), lr=cfg.lr_d, betas=(0.0, 0.9))
    step, elapsed = 0, 0.0
    ckpt = out / "last.pt"
    if ckpt.is_file():
        state = _resume_state(ckpt, device, ("g", "d", "opt_g", "opt_d"), "train spade")
        try:
            netg.load_state_dict(state["g"])
            netd.load_state_dict(state["d"])
            opt_g.load_state_dict(state["opt_g"])
            opt_d.load_state_dict(state["opt_d"])
        except (RuntimeError, ValueError) as exc:
            raise ValueError(_mismatch(ckpt, exc)) from None
        step, elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    rng = np.random.default_rng(cfg.seed + step)
    t_start, t_log, logs = time.perf_counter() - elapsed, time.perf_counter(), []

    def save() -> None:
        state = {"g": netg.state_dict(), "d": netd.state_dict(), "opt_g": opt_g.state_dict(),
                 "opt_d": opt_d.state_dict(), "step": step, "elapsed": time.perf_counter() - t_start}
        save_checkpoint(state, ckpt)

    while True:
        progress = _progress(step, cfg.steps, time.perf_counter() - t_start, cfg.minutes)
        if progress >= 1.0:
            break
        if cancel is not None:
            cancel.raise_if_cancelled()
        decay = 1.0 if progress < 0.5 else max(0.0, 2.0 * (1.0 - progress))  # official niter_decay
        for g in opt_g.param_groups:
            g["lr"] = cfg.lr_g * decay
        for g in opt_d.param_groups:
            g["lr"] = cfg.lr_d * decay
        real, lab = make_batch(rng, photos, labels, cfg.batch, cfg.load, cfg.crop)
        real, seg = real.to(device), one_hot(lab, N_CLASSES).to(device)
        rec: dict[str, float] = {}
        # ---- generator (+ encoder)
        z = None
        if cfg.use_vae:
            mu, logvar = netg.encode(real)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            l_kld = kld(mu, logvar) * cfg.lambda_kld
            rec["kld"] = l_kld.item()
        fake = netg(seg, z)
        for p in netd.parameters():
            p.requires_grad_(False)
        pred = netd(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, real], 1)], 0))
        pred_fake = [[t[: cfg.batch] for t in scale] for scale in pred]
        pred_real = [[t[cfg.batch :] for t in scale] for scale in pred]
        l_gan = hinge_g([s[-1] for s in pred_fake])
        l_fm = feature_matching(pred_fake, pred_real) * cfg.lambda_feat
        loss_g = l_gan + l_fm + (l_kld if cfg.use_vae else 0.0)
        if cfg.lambda_tex > 0:
            l_tex = texture_energy(fake, real, seg, cfg.tex_scales) * cfg.lambda_tex
            loss_g = loss_g + l_tex
            rec["tex"] = l_tex.item()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in netd.parameters():
            p.requires_grad_(True)
        # ---- discriminator (fake and real in one batch, as the official code does)
        pred = netd(torch.cat([torch.cat([seg, fake.detach()], 1), torch.cat([seg, real], 1)], 0))
        loss_d = hinge_d([s[-1][cfg.batch :] for s in pred], [s[-1][: cfg.batch] for s in pred])
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        rec.update(g_gan=l_gan.item(), g_fm=float(l_fm.item()), d=loss_d.item())
        logs.append(rec)
        step += 1
        if step % cfg.save_every == 0:
            save()
        if step % cfg.log_every == 0:
            yield _log_info(out, step, progress, t_start, t_log, logs, ambiguous)
            t_log, logs = time.perf_counter(), []
    save()
    info = {"step": step, "done": True, "elapsed_s": round(time.perf_counter() - t_start, 1)}
    append_log(out, info)
    yield info


def _resume_state(ckpt: Path, device, keys: tuple[str, ...], command: str) -> dict:
    """The checkpoint to resume from; ValueError (not a crash) when it is another run's kind."""
    import torch

    state = torch.load(ckpt, map_location=device, weights_only=True)
    if not isinstance(state, dict) or not all(k in state for k in keys):
        raise ValueError(f"{ckpt} is not a '{command}' checkpoint; use another --out")
    return state


def _mismatch(ckpt: Path, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0][:200]
    return (f"{ckpt} was trained with other settings ({first}); resume with the same width/crop "
            "options or use another --out")


def _log_info(out, step, progress, t_start, t_log, logs, ambiguous=None) -> dict[str, Any]:
    now = time.perf_counter()
    info: dict[str, Any] = {"step": step, "progress": round(progress, 4), "elapsed_s": round(now - t_start, 1),
                            "sec_per_step": round((now - t_log) / max(len(logs), 1), 4)}
    if logs:
        info.update({k: round(float(np.mean([r[k] for r in logs])), 5) for k in logs[0]})
    if ambiguous is not None:
        info["label_ambiguous_share"] = round(ambiguous, 4)
    append_log(out, info)
    return info


# ----------------------------------------------------------------------------- segmentation


def train_segment(cfg: SegmentTrainConfig, cancel: CancelToken | None = None,
                  pairs: tuple[np.ndarray, np.ndarray] | None = None) -> Iterator[dict[str, Any]]:
    import torch
    import torch.nn.functional as F

    from .segment import FacadeSegNet

    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ambiguous = None
    if pairs is None:
        photos, labels, ambiguous = load_train_pairs(Path(cfg.data), out)
    else:
        photos, labels = pairs
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    net = FacadeSegNet(N_CLASSES, cfg.width).to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    step, elapsed = 0, 0.0
    ckpt = out / "last.pt"
    if ckpt.is_file():
        state = _resume_state(ckpt, device, ("net", "opt"), "train segment")
        try:
            net.load_state_dict(state["net"])
            opt.load_state_dict(state["opt"])
        except (RuntimeError, ValueError) as exc:
            raise ValueError(_mismatch(ckpt, exc)) from None
        step, elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    rng = np.random.default_rng(cfg.seed + step)
    t_start, t_log, logs = time.perf_counter() - elapsed, time.perf_counter(), []

    def save() -> None:
        save_checkpoint({"net": net.state_dict(), "opt": opt.state_dict(), "step": step,
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
        image, lab = make_batch(rng, photos, labels, cfg.batch, cfg.load, cfg.crop)
        logits = net(image.to(device))
        loss = F.cross_entropy(logits, lab.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            acc = float((logits.argmax(1) == lab.to(device)).float().mean())
        logs.append({"ce": loss.item(), "pixel_acc": acc, "lr": lr})
        step += 1
        if step % cfg.save_every == 0:
            save()
        if step % cfg.log_every == 0:
            yield _log_info(out, step, progress, t_start, t_log, logs, ambiguous)
            t_log, logs = time.perf_counter(), []
    save()
    info = {"step": step, "done": True, "elapsed_s": round(time.perf_counter() - t_start, 1)}
    append_log(out, info)
    yield info


# ----------------------------------------------------------------------------- export


def export_spade(ckpt: Path, dest: Path, card: dict[str, Any] | None = None, half: bool = True) -> Path:
    """Write the generator (+ style encoder) of a training checkpoint as fp16 ``.safetensors`` and
    a model card ``<dest stem>.json`` beside it (only then does the engine offer the model)."""
    import torch

    from ..weights.files import save_safetensors

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    save_safetensors(state["g"], dest, half=half)
    _write_card(dest, "synthesize", int(state["step"]), float(state.get("elapsed", 0.0)), card, Path(ckpt).parent)
    return dest


def export_segment(ckpt: Path, dest: Path, card: dict[str, Any] | None = None, half: bool = True) -> Path:
    import torch

    from ..weights.files import save_safetensors

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    save_safetensors(state["net"], dest, half=half)
    _write_card(dest, "segment", int(state["step"]), float(state.get("elapsed", 0.0)), card, Path(ckpt).parent)
    return dest


def _write_card(dest: Path, task: str, step: int, elapsed: float, extra: dict[str, Any] | None,
                run_dir: Path) -> None:
    from ..atomic import atomic_write_bytes

    config = {}
    cfg_file = Path(run_dir) / "config.json"
    stem = Path(dest).stem
    base = {
        # both are "synthesize" models for the models manager; the engine tells them apart by arch
        "id": stem, "file": Path(dest).name, "task": "synthesize",
        "arch": "spade" if task == "synthesize" else "facades-segnet", "convention": "facades", "palette": "facades",
        "license": "weights: trained by GAN Studio on CMP Facades train (research use, Tylecek & Sara 2013)",
        "steps": step, "train_seconds": round(elapsed, 1),
    }
    if task == "synthesize":
        base.update(title="GauGAN facades (ours)", default=True, size_multiple=32, description=(
            "SPADE generator + VAE style encoder trained by us on the 400 CMP Facades train pairs "
            "(hinge GAN + feature matching + KL; no VGG loss: ImageNet weights cannot be had here)."))
    else:
        base.update(title="Facades segmentation (ours)", description=(
            "U-Net photo -> 12 CMP classes trained by us on facades train; used by the bench and "
            "by 'Segment photo'."))
    if cfg_file.is_file():
        config = json.loads(cfg_file.read_text())
        base["train_config"] = config
        if task == "segment":  # segment at the scale it was trained at (engines.spade.segment)
            base["work_side"] = int(config.get("crop", 256))
        if task == "synthesize":  # what the editor needs without loading the weights
            base["hparams"] = {"semantic_nc": N_CLASSES, "ngf": config.get("ngf"),
                               "use_vae": bool(config.get("use_vae", True))}
            # what the shapes cannot tell (engines.spade.archs.with_overrides reads these two);
            # a run from before these options had the official "normal" and zero padding
            base["num_upsampling_layers"] = config.get("num_up", "normal")
            base["padding"] = config.get("padding", "zeros")
            base["size_multiple"] = 64 if base["num_upsampling_layers"] == "more" else 32
    base.update(extra or {})
    base["card"] = Path(dest).with_suffix(".md").name
    atomic_write_bytes(Path(dest).with_suffix(".json"), (json.dumps(base, indent=2) + "\n").encode())
    atomic_write_bytes(Path(dest).with_suffix(".md"), model_card_md(base).encode())


def model_card_md(card: dict[str, Any]) -> str:
    """The human-readable card: what data, what command, what is missing. Figures come from
    ``ganstudio bench spade`` and are added by whoever runs it (never invented here)."""
    cfg = card.get("train_config", {})
    # every flag that shaped the run, so the command on the card reproduces it
    flags = " ".join(f"--{k} {v}" for k, v in (
        ("out", cfg.get("out")), ("crop", cfg.get("crop")), ("load", cfg.get("load")), ("ngf", cfg.get("ngf")),
        ("hidden", cfg.get("spade_hidden")), ("ndf", cfg.get("ndf")), ("width", cfg.get("width")),
        ("batch", cfg.get("batch")), ("steps", cfg.get("steps")), ("minutes", cfg.get("minutes") or None),
        ("num-up", cfg.get("num_up") if cfg.get("num_up", "normal") != "normal" else None),
        ("padding", cfg.get("padding")), ("encoder-layers", cfg.get("encoder_layers") or None),
        ("init", cfg.get("init") or None),
        ("threads", cfg.get("threads")), ("device", cfg.get("device"))) if v is not None)
    if cfg.get("use_vae") is False:
        flags += " --no-vae"
    command = "synthesize" if card.get("arch") == "spade" else "segment"
    lines = [
        f"# {card['title']}", "",
        card.get("description", ""), "",
        "## Data", "CMP Facades `train` (400 pix2pix pairs; labels recovered by palette snapping + a 5x5 mode "
        "filter, ~15 % of label pixels are JPEG-blended and re-labelled). `facades/test` was never read.", "",
        "## Command", f"`ganstudio train {'spade' if command == 'synthesize' else 'segment'} {flags}` "
        f"then `--export {card['file']}`; {card.get('steps', '?')} steps, {card.get('train_seconds', '?')} s "
        "of wall time (a run ends at `--steps` or `--minutes`, whichever comes first; the learning-rate "
        "schedule follows the same progress).", "",
    ]
    if command == "synthesize":
        lines += ["## Method", "SPADE generator (Park et al. 2019) with the VAE style encoder, 2-scale PatchGAN with "
                  "spectral norm, hinge loss, feature matching (10), KL (0.05), TTUR Adam (0, 0.9) G 1e-4 / D 4e-4; "
                  f"generator convs padded with {card.get('padding', 'zeros')}, "
                  f"num_upsampling_layers {card.get('num_upsampling_layers', 'normal')}.",
                  "**No VGG perceptual loss**: it needs ImageNet VGG19 weights, which cannot be had here; "
                  "expect less texture detail than the paper's models.", ""]
    lines += ["## Figures", "Not measured at export time: run `ganstudio bench spade --data ../shared/data/facades/test "
              "--json OUT` and record its table here.", "",
              "## Licence", card.get("license", "unknown"), ""]
    return "\n".join(lines)
