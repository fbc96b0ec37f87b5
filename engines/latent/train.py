"""``ganstudio train igan``: a 64-px DCGAN or WGAN-GP generator (+ discriminator) on a domain, then
an encoder that inverts it; resumable, with an fp16 export and a model card.

Phases (one checkpoint ``<out>/last.pt`` holds both, resumes continue where they stopped):
1. GAN: ``steps`` generator updates with DiffAugment-style translation / colour / cutout on real
   and fake batches (400 facades photos are few for a GAN). ``loss="dcgan"``: non-saturating BCE,
   Adam 2e-4 (0.5, 0.999); ``loss="wgan-gp"``: critic without BatchNorm, gradient penalty 10,
   ``n_critic`` critic steps per G step, Adam 1e-4 (0, 0.9).
2. Encoder: ``encoder_steps`` updates of E on half G samples (loss |E(G(z)) - z|^2 +
   |G(E(G(z))) - G(z)|^2) and half real crops (|G(E(x)) - x|^2 with a gradient term), G frozen.

``minutes`` is a wall-time budget over resumes: 80 % for the GAN, the rest for the encoder.
Domains: ``facades`` (photo halves of facades/train; random square crops 60-100 %, flips) and
``shapes`` (synthetic, :mod:`.domains`; for tests and smoke runs).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..core.cancel import CancelToken
from ..train_utils import append_log, save_checkpoint
from .domains import DOMAINS, facades_photos, random_crops, shapes


@dataclass
class IganTrainConfig:
    domain: str = "facades"
    data: str = ""
    out: str = "runs/igan"
    size: int = 64
    nz: int = 100
    ngf: int = 32  # DCGAN's 64 makes each CPU edit ~3x slower (measured: 8 starts x 40 its 7-11 s vs 2.5 s)
    ndf: int = 64
    nef: int = 32
    loss: str = "dcgan"  # or "wgan-gp"
    n_critic: int = 0  # 0 = 1 for dcgan, 5 for wgan-gp
    lr: float = 0.0  # 0 = 2e-4 for dcgan, 1e-4 for wgan-gp
    augment: bool = True
    batch: int = 64
    steps: int = 20000
    encoder_steps: int = 4000
    minutes: float = 0.0
    threads: int = 1
    device: str = "cpu"
    seed: int = 0
    n_shapes: int = 4000
    log_every: int = 50
    save_every: int = 250


def _n_up(size: int) -> int:
    n = {64: 4, 128: 5, 32: 3, 16: 2}.get(size)
    if n is None:
        raise ValueError(f"size must be 16, 32, 64 or 128, got {size}")
    return n


class _Data:
    """Batches of real images, float32 B x 3 x S x S in [-1, 1]."""

    def __init__(self, cfg: IganTrainConfig) -> None:
        if cfg.domain not in DOMAINS:
            raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {cfg.domain!r}")
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed + 1)
        if cfg.domain == "shapes":
            self.pool = shapes(cfg.n_shapes, cfg.size, seed=cfg.seed)
            self.photos = None
        else:
            self.photos = facades_photos(Path(cfg.data))
            self.pool = None

    def batch(self, n: int):
        import torch

        if self.pool is not None:
            idx = self.rng.integers(0, len(self.pool), n)
            arr = self.pool[idx]
            flip = self.rng.random(n) < 0.5
            arr[flip] = arr[flip, :, ::-1]
        else:
            arr = random_crops(self.rng, self.photos, n, self.cfg.size)
        x = torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2))).float() / 127.5 - 1.0
        return x.to(self.cfg.device)


def build_models(cfg: IganTrainConfig):
    from .archs import DCGANDiscriminator, DCGANGenerator, LatentEncoder

    n = _n_up(cfg.size)
    g = DCGANGenerator(cfg.nz, cfg.ngf, 3, n)
    d = DCGANDiscriminator(cfg.ndf, 3, n, norm="none" if cfg.loss == "wgan-gp" else "batch")
    e = LatentEncoder(cfg.nz, cfg.nef, 3, n)
    for m in (g, d, e):
        m.apply(_dcgan_init)
    return g, d, e


def _dcgan_init(m) -> None:
    import torch.nn as nn

    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)  # the DCGAN paper's init
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _gradient_penalty(d, real, fake):
    import torch

    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(d(mix).sum(), mix, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def train_igan(cfg: IganTrainConfig, cancel: CancelToken | None = None) -> Iterator[dict[str, Any]]:
    """Train (or resume) and yield a log dict every ``log_every`` steps and at the end."""
    import torch
    import torch.nn.functional as F

    from .augment import diff_augment
    from .project import reconstruction_loss

    torch.set_num_threads(max(1, cfg.threads))
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    dev = torch.device(cfg.device)
    g, d, e = (m.to(dev) for m in build_models(cfg))
    wgan = cfg.loss == "wgan-gp"
    if cfg.loss not in ("dcgan", "wgan-gp"):
        raise ValueError(f"loss must be dcgan or wgan-gp, got {cfg.loss!r}")
    betas = (0.0, 0.9) if wgan else (0.5, 0.999)
    lr = cfg.lr or (1e-4 if wgan else 2e-4)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=betas)
    opt_e = torch.optim.Adam(e.parameters(), lr=1e-3, betas=(0.9, 0.999))
    step = enc_step = 0
    elapsed = 0.0
    ckpt = out / "last.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        try:
            g.load_state_dict(state["g"]), d.load_state_dict(state["d"]), e.load_state_dict(state["e"])
        except RuntimeError as exc:
            raise ValueError(f"{ckpt} is from a different configuration; use another --out ({exc})") from None
        opt_g.load_state_dict(state["opt_g"]), opt_d.load_state_dict(state["opt_d"]), opt_e.load_state_dict(state["opt_e"])
        step, enc_step, elapsed = int(state["step"]), int(state["enc_step"]), float(state["elapsed"])
    data = _Data(cfg)
    aug = diff_augment if cfg.augment else (lambda x: x)
    n_critic = cfg.n_critic or (5 if wgan else 1)
    t0 = time.perf_counter() - elapsed
    budget = cfg.minutes * 60.0

    def save() -> None:
        state = {"g": g.state_dict(), "d": d.state_dict(), "e": e.state_dict(), "opt_g": opt_g.state_dict(),
                 "opt_d": opt_d.state_dict(), "opt_e": opt_e.state_dict(), "step": step, "enc_step": enc_step,
                 "elapsed": time.perf_counter() - t0}
        save_checkpoint(state, ckpt)

    def log(info: dict[str, Any]) -> dict[str, Any]:
        info = {"step": step, "enc_step": enc_step, "elapsed": round(time.perf_counter() - t0, 1), **info}
        append_log(out, info)
        return info

    g.train(), d.train()
    while step < cfg.steps and not (budget and time.perf_counter() - t0 > 0.8 * budget):
        if cancel is not None and cancel.cancelled:
            break
        for _ in range(n_critic):
            real = data.batch(cfg.batch)
            with torch.no_grad():
                fake = g(torch.rand(cfg.batch, cfg.nz, device=dev) * 2 - 1)
            dr, df = d(aug(real)), d(aug(fake))
            if wgan:
                loss_d = df.mean() - dr.mean() + 10.0 * _gradient_penalty(d, aug(real), aug(fake))
            else:
                loss_d = F.softplus(-dr).mean() + F.softplus(df).mean()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        fake = g(torch.rand(cfg.batch, cfg.nz, device=dev) * 2 - 1)
        df = d(aug(fake))
        loss_g = -df.mean() if wgan else F.softplus(-df).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        step += 1
        if step % cfg.save_every == 0:
            save()
        if step % cfg.log_every == 0:
            yield log({"phase": "gan", "loss_d": float(loss_d.detach()), "loss_g": float(loss_g.detach())})
    gan_done = step >= cfg.steps or bool(budget and time.perf_counter() - t0 > 0.8 * budget)
    g.eval().requires_grad_(False)
    e.train()
    while gan_done and enc_step < cfg.encoder_steps and not (budget and time.perf_counter() - t0 > budget):
        if cancel is not None and cancel.cancelled:
            break
        half = max(1, cfg.batch // 2)
        z = torch.rand(half, cfg.nz, device=dev) * 2 - 1
        with torch.no_grad():
            xg = g(z)
        ze = e(xg)
        loss_z = (ze - z).pow(2).mean()
        loss_gen = reconstruction_loss(g(ze), xg).mean()
        real = data.batch(half)
        loss_real = reconstruction_loss(g(e(real)), real).mean()
        loss_e = loss_z + loss_gen + loss_real
        opt_e.zero_grad(set_to_none=True)
        loss_e.backward()
        opt_e.step()
        enc_step += 1
        if enc_step % cfg.save_every == 0:
            save()
        if enc_step % cfg.log_every == 0:
            yield log({"phase": "encoder", "loss_z": float(loss_z.detach()), "loss_gen": float(loss_gen.detach()),
                       "loss_real": float(loss_real.detach())})
    g.requires_grad_(True)
    save()
    yield log({"phase": "done" if step >= cfg.steps and enc_step >= cfg.encoder_steps else "stopped"})


# ----------------------------------------------------------------------------- export


def load_checkpoint_models(ckpt: Path):
    """(generator, encoder, config dict, state) of a training checkpoint, eval mode, CPU float32."""
    import torch

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    cfg_file = Path(ckpt).parent / "config.json"
    cfg = IganTrainConfig(**{k: v for k, v in json.loads(cfg_file.read_text()).items()
                             if k in IganTrainConfig.__dataclass_fields__}) if cfg_file.is_file() else IganTrainConfig()
    g, _, e = build_models(cfg)
    g.load_state_dict(state["g"])
    e.load_state_dict(state["e"])
    return g.eval(), e.eval(), cfg, state


def export_igan(ckpt: Path, dest: Path, card: dict[str, Any] | None = None, half: bool = True,
                default: bool = True, figure_images: int = 16) -> Path:
    """Write ``dest`` (generator, DCGAN layout), ``<stem>.encoder.safetensors``, a sample grid PNG
    and the model card ``<stem>.json`` + ``.md`` (only then does the engine offer the model)."""
    from ..atomic import atomic_write_bytes
    from ..weights.files import save_safetensors

    g, e, cfg, state = load_checkpoint_models(Path(ckpt))
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    stem = dest.name[: -len(".safetensors")] if dest.name.endswith(".safetensors") else dest.stem
    enc_path = dest.with_name(f"{stem}.encoder.safetensors")
    grid_path = dest.with_name(f"{stem}.samples.png")
    save_safetensors(g.state_dict(), dest, half=half)
    has_encoder = int(state.get("enc_step", 0)) > 0
    if has_encoder:
        save_safetensors(e.state_dict(), enc_path, half=half)
    _save_grid(g, grid_path)
    figures = projection_figures(g, e if has_encoder else None, cfg, n=figure_images)
    base = {
        "id": f"igan-{stem}" if not stem.startswith("igan") else stem, "file": dest.name,
        "encoder": enc_path.name if has_encoder else "", "task": "latent", "arch": "dcgan-g",
        "title": f"iGAN {cfg.domain} {cfg.size}px (ours)", "default": default, "domain": cfg.domain,
        "size": cfg.size, "nz": cfg.nz, "loss": cfg.loss,
        "license": ("weights: trained by GAN Studio on CMP Facades train (research use, Tylecek & Sara 2013)"
                    if cfg.domain == "facades" else "weights: trained by GAN Studio on synthetic shapes (ours)"),
        "description": (f"DCGAN-layout generator ({cfg.size}px, ngf {cfg.ngf}, z {cfg.nz}-d uniform in [-1, 1], "
                        f"{cfg.loss} loss) + inverting encoder, trained by us on {cfg.domain}."),
        "steps": int(state["step"]), "encoder_steps": int(state.get("enc_step", 0)),
        "train_seconds": round(float(state.get("elapsed", 0.0)), 1), "samples": grid_path.name,
        "projection": figures, "train_config": asdict(cfg),
    }
    base.update(card or {})
    base["card"] = f"{stem}.md"
    atomic_write_bytes(dest.with_name(f"{stem}.json"), (json.dumps(base, indent=2) + "\n").encode())
    atomic_write_bytes(dest.with_name(f"{stem}.md"), model_card_md(base).encode())
    return dest


def _save_grid(g, path: Path, n: int = 64, seed: int = 123) -> None:
    import torch
    from PIL import Image

    from .model import to_numpy

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        imgs = to_numpy(g(torch.rand(n, g.nz, generator=gen) * 2 - 1))
    side = int(np.ceil(np.sqrt(n)))
    s = imgs.shape[1]
    grid = np.ones((side * (s + 2), side * (s + 2), 3), np.float32)
    for i, img in enumerate(imgs):
        y, x = divmod(i, side)
        grid[y * (s + 2) + 1: y * (s + 2) + 1 + s, x * (s + 2) + 1: x * (s + 2) + 1 + s] = img
    Image.fromarray((grid * 255 + 0.5).astype(np.uint8)).save(path)


def projection_figures(g, e, cfg: IganTrainConfig, n: int = 16, steps: int = 40) -> dict[str, Any]:
    """Projection PSNR (dB, 0..1 images) on ``n`` *training-domain* crops (facades train / shapes):
    a quick check recorded in the card; held-out figures come from ``ganstudio bench igan``."""
    import torch

    from ..core.protocol import EngineError  # noqa: F401 - keep the import light for callers
    from .model import LatentModel, to_numpy
    from .project import project

    torch.manual_seed(0)
    cfg_eval = IganTrainConfig(**{**asdict(cfg), "seed": 777, "n_shapes": n, "device": "cpu"})
    try:
        reals = _Data(cfg_eval).batch(n).cpu()
    except FileNotFoundError:
        return {}
    model = LatentModel(g, e)
    out: dict[str, Any] = {"images": n, "steps": steps, "split": f"{cfg.domain} train-domain crops"}
    for method in (("encoder", "hybrid") if e is not None else ()) + ("optimize",):
        psnrs = []
        for i in range(n):
            target = reals[i:i + 1]
            gen = project(model, target, method, steps=steps, starts=4)
            while True:
                try:
                    next(gen)
                except StopIteration as stop:
                    proj = stop.value
                    break
            mse = float(np.mean((to_numpy(proj.image)[0] - to_numpy(target)[0]) ** 2))
            psnrs.append(10 * np.log10(1.0 / max(mse, 1e-10)))
        out[f"psnr_{method}"] = round(float(np.mean(psnrs)), 2)
    return out


def model_card_md(card: dict[str, Any]) -> str:
    cfg = card.get("train_config", {})
    proj = card.get("projection", {})
    rows = [f"| {k[5:]} | {v} |" for k, v in proj.items() if k.startswith("psnr_")]
    lines = [
        f"# {card['title']}", "", card.get("description", ""), "",
        "## Data",
        ("CMP Facades `train` photo halves (400 images), random square crops (60-100 % of the side), "
         "horizontal flips, area-resized to the model size. `facades/test` was never read in training."
         if card.get("domain") == "facades" else "Synthetic shapes (engines/latent/domains.py), drawn procedurally."), "",
        "## Command",
        f"`ganstudio train igan --domain {cfg.get('domain')} --loss {cfg.get('loss')} --size {cfg.get('size')} "
        f"--ngf {cfg.get('ngf')} --ndf {cfg.get('ndf')} --nef {cfg.get('nef')} "
        f"--batch {cfg.get('batch')} --steps {cfg.get('steps')} --encoder-steps {cfg.get('encoder_steps')}"
        + (f" --minutes {cfg.get('minutes'):g}" if cfg.get("minutes") else "")
        + f" --threads {cfg.get('threads')} --device {cfg.get('device')}"
        + ("" if cfg.get("augment", True) else " --no-augment")
        + f"` then `--export {card['file']}`. Reached **{card.get('steps')} generator steps and "
        f"{card.get('encoder_steps')} encoder steps** in {card.get('train_seconds', '?')} s of wall time "
        "(a `--minutes` budget gives 80 % of it to the GAN, the rest to the encoder).", "",
        "## Samples", f"![samples]({card.get('samples', '')})", "",
        "## Projection (quick check at export)",
        f"{proj.get('images', 0)} {proj.get('split', '')}, {proj.get('steps', 0)} Adam steps; PSNR in dB.", "",
        "| method | PSNR |", "|---|---|", *rows, "",
        "Held-out figures: `ganstudio bench igan --data ../shared/data/facades/test --json OUT`.", "",
        "## Licence", card.get("license", "unknown"), "",
    ]
    return "\n".join(lines)
