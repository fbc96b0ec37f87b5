"""iGAN on facades: the DCGAN-layout generator (64 px, z uniform in [-1, 1]^100) with DiffAugment,
non-saturating loss, Adam 2e-4 (0.5, 0.999), for 80 % of the time; then the inverting encoder on
half generated samples (|E(G(z)) - z|² + reconstruction) and half real crops (reconstruction),
G frozen, for the rest. Real crops (60-100 % squares, flips, resized to 64) are made on the device.

Width: ngf 32, nef 32 (the bundled model's: 2.2 + 2.2 MB, 280 projection steps/s on one CPU
thread). DCGAN's ngf 64 meets the speed goal (measured 114 steps/s, goal >= 10) but is 7.2 MB, 5 MB
more on every 64 MiB trip; ngf 32 also keeps each editor edit ~3x faster."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment import scaled_square_crops
from ..loop import EMA, KitContext, channels_last, counterpart_weights, load_init, scaled_lr, template_card, write_export

CONFIG = {"size": 64, "nz": 100, "ngf": 32, "ndf": 64, "nef": 32, "batch": 256, "base_lr": 2e-4, "base_batch": 64,
          "gan_share": 0.8}
DRY = {"size": 32, "ngf": 8, "ndf": 8, "nef": 8, "batch": 4}
STEM = "igan-facades"


def train(ctx: KitContext) -> list:
    from ...latent.augment import diff_augment
    from ...latent.project import reconstruction_loss
    from ...latent.train import IganTrainConfig, build_models

    cfg = {**CONFIG, **(DRY if ctx.dry_run else {})}
    photos = torch.from_numpy(ctx.data["facades"]).to(ctx.device).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    # a 2x area-reduced copy: the crops then shrink by at most ~2x more, which bilinear-at-2x handles
    pool = F.avg_pool2d(photos, 2) if photos.shape[-1] >= 4 * cfg["size"] else photos
    g, d, e = build_models(IganTrainConfig(size=cfg["size"], nz=cfg["nz"], ngf=cfg["ngf"], ndf=cfg["ndf"],
                                           nef=cfg["nef"]))
    g, d, e = g.to(ctx.device), d.to(ctx.device), e.to(ctx.device)
    g_path = counterpart_weights(ctx, "latent", "dcgan-g")
    init_g = load_init(g, g_path)
    enc_name = g_path.name.replace(".safetensors", ".encoder.safetensors") if g_path else ""
    init_e = load_init(e, g_path.with_name(enc_name) if g_path else None)
    cfg["init"] = init_g["from"]
    for m in (g, d, e):
        channels_last(m)
    lr = scaled_lr(cfg["base_lr"], cfg["batch"], cfg["base_batch"], cap=2.0)
    cfg["lr"] = lr
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_e = torch.optim.Adam(e.parameters(), lr=1e-3, betas=(0.9, 0.999))
    ema = EMA(g, decay=0.999)
    n, nz = cfg["batch"], cfg["nz"]

    def noise(k: int) -> torch.Tensor:
        return torch.rand(k, nz, generator=ctx.gen, device=ctx.device) * 2 - 1

    step, losses = 0, {}
    g.train(), d.train()
    while ctx.running(step, share=cfg["gan_share"]):
        real = scaled_square_crops(pool, n, cfg["size"], ctx.gen)
        with ctx.autocast():
            with torch.no_grad():
                fake = g(noise(n))
            dr, df = d(diff_augment(real)).float(), d(diff_augment(fake.float())).float()
            loss_d = F.softplus(-dr).mean() + F.softplus(df).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        with ctx.autocast():
            df = d(diff_augment(g(noise(n)).float())).float()
            loss_g = F.softplus(-df).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        ema.update(g)
        step += 1
        ctx.seen("igan_gan", n)
        if step % 200 == 0:
            losses = {"loss_d": float(loss_d.detach()), "loss_g": float(loss_g.detach())}
            ctx.log(step, losses, phase="gan")
    if step:
        losses = {"loss_d": float(loss_d.detach()), "loss_g": float(loss_g.detach())}
    # the encoder inverts the generator that is exported: the EMA one
    gen = ema.model.eval().requires_grad_(False)
    e.train()
    enc_step, half = 0, max(1, n // 2)
    while enc_step < ctx.max_steps if ctx.max_steps else ctx.running(0):
        z = noise(half)
        with ctx.autocast():
            with torch.no_grad():
                xg = gen(z).float()
            ze = e(xg).float()
            loss_z = (ze - z).pow(2).mean()
            loss_gen = reconstruction_loss(gen(ze).float(), xg).mean()
            real = scaled_square_crops(pool, half, cfg["size"], ctx.gen)
            loss_real = reconstruction_loss(gen(e(real).float()).float(), real).mean()
            loss_e = loss_z + loss_gen + loss_real
        opt_e.zero_grad(set_to_none=True)
        loss_e.backward()
        opt_e.step()
        enc_step += 1
        ctx.seen("igan_encoder", 2 * half)
        if enc_step % 200 == 0:
            ctx.log(step, {"loss_z": float(loss_z.detach()), "loss_real": float(loss_real.detach())}, phase="encoder",
                    enc_step=enc_step)
    if enc_step:
        losses.update(loss_z=float(loss_z.detach()), loss_real=float(loss_real.detach()))
    ctx.log(step, losses, done=True, enc_step=enc_step)
    card = template_card(ctx, "latent", "dcgan-g")
    card.update(task="latent", arch="dcgan-g", size=cfg["size"], nz=nz, loss="dcgan", domain="facades",
                encoder=f"{STEM}.encoder.safetensors", steps=step, encoder_steps=enc_step)
    card.update(title=f"iGAN facades {cfg['size']}px (GPU kit)", description=(
        f"DCGAN-layout generator ({cfg['size']}px, ngf {cfg['ngf']}, z {nz}-d uniform in [-1, 1], non-saturating "
        f"loss, DiffAugment) + inverting encoder (nef {cfg['nef']}), trained with the GPU kit on facades train."))
    cfg["init_encoder"] = init_e["from"]
    tensors = {f"{STEM}.safetensors": gen.float().state_dict(), f"{STEM}.encoder.safetensors": e.float().state_dict()}
    return [write_export(ctx, STEM, tensors, card, cfg, step, losses)]
