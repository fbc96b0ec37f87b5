"""GauGAN / SPADE on CMP facades: the CPU trainer's recipe (hinge GAN, feature matching 10, KL
0.05, texture energy off (``lambda_tex`` 0; engines.spade.train.texture_energy: per image and class,
the fake's mean luminance gradient energy matched to the real photo's; a 600-step CPU fine-tune with
2.0 raised border_ratio but cost 0.035 of test mIoU ratio and drew more streaks, so it stays off), TTUR Adam (0, 0.9) G 1e-4 / D 4e-4,
linear decay over the second half; no VGG loss: ImageNet weights cannot be had here), with the pairs
resized once and cropped / flipped on the device.

Width and size: ngf 12, SPADE hidden 64 (official 64 / 128): a 13 MB fp16 file. Working size 256²
(crops of 286² loads, as pix2pix/SPADE facades) with ``num_upsampling_layers`` "more": the VAE's fc
keeps the bundled model's 4 x 4 grid and one more x2 step reaches 256, so the file stays 13 MB
(an 8 x 8 grid would make it 17.2 MiB, over the 16 MiB that can come back from the device) and the
bundled model's tensors all load as the start. Generator convs use reflect padding (zero padding
drew dark bands along every border, issue 20); the card says both, since shapes cannot."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment import crop_batch, dihedral
from ..loop import EMA, KitContext, channels_last, counterpart_weights, load_init, set_lr, template_card, write_export

CONFIG = {"ngf": 12, "spade_hidden": 64, "ndf": 32, "num_d": 2, "crop": 256, "load": 286, "batch": 16,
          "lr_g": 1e-4, "lr_d": 4e-4, "lambda_feat": 10.0, "lambda_kld": 0.05, "lambda_tex": 0.0, "tex_scales": 2,
          "use_vae": True, "num_up": "more", "padding": "reflect", "encoder_layers": 5}
DRY = {"ngf": 4, "spade_hidden": 8, "ndf": 8, "crop": 128, "load": 143, "batch": 2}  # "more": 2 x 2 grid
STEM = "spade-facades"


def resized_pairs(ctx: KitContext, load: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Facades photos (uint8 N x 3 x load²; bicubic up / area down) and labels (nearest) on the device."""
    photos = torch.from_numpy(ctx.data["facades"]).to(ctx.device).permute(0, 3, 1, 2).float()
    labels = torch.from_numpy(ctx.data["labels"]).to(ctx.device)
    if photos.shape[-1] != load:
        mode = "area" if load < photos.shape[-1] else "bicubic"
        photos = F.interpolate(photos, size=(load, load), mode=mode).clamp_(0, 255)
        labels = F.interpolate(labels[:, None].float(), size=(load, load), mode="nearest")[:, 0].to(torch.uint8)
    return photos.round_().to(torch.uint8).contiguous(), labels.contiguous()


def train(ctx: KitContext) -> list:
    from ...spade.train import (N_CLASSES, SpadeTrainConfig, build_models, feature_matching, hinge_d, hinge_g,
                                kld, one_hot, texture_energy)

    cfg = {**CONFIG, **(DRY if ctx.dry_run else {})}
    photos, labels = resized_pairs(ctx, cfg["load"])
    netg, netd = build_models(SpadeTrainConfig(data="", out="", crop=cfg["crop"], ngf=cfg["ngf"],
                                               spade_hidden=cfg["spade_hidden"], ndf=cfg["ndf"],
                                               num_d=cfg["num_d"], use_vae=cfg["use_vae"], num_up=cfg["num_up"],
                                               padding=cfg["padding"], encoder_layers=cfg["encoder_layers"]))
    netg, netd = netg.to(ctx.device).train(), netd.to(ctx.device).train()
    init = load_init(netg, counterpart_weights(ctx, "synthesize", "spade"))
    cfg["init"] = init["from"]
    cfg["init_tensors"] = f"{init['loaded']} loaded, {init['skipped']} new"
    channels_last(netg), channels_last(netd)
    opt_g = torch.optim.Adam(netg.parameters(), lr=cfg["lr_g"], betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(netd.parameters(), lr=cfg["lr_d"], betas=(0.0, 0.9))
    ema = EMA(netg, decay=0.999)
    b = cfg["batch"]
    step, losses = 0, {}
    while ctx.running(step):
        p = ctx.progress(step)
        decay = 1.0 if p < 0.5 else max(0.0, 2.0 * (1.0 - p))
        set_lr(opt_g, cfg["lr_g"] * decay)
        set_lr(opt_d, cfg["lr_d"] * decay)
        crops, lab = crop_batch(photos, b, cfg["crop"], ctx.gen, labels=labels)
        crops, lab = dihedral(crops, ctx.gen, rotate=False, labels=lab)  # facades have an up: flips only
        real = crops.float().div_(127.5).sub_(1.0).contiguous(memory_format=torch.channels_last)
        seg = one_hot(lab.long(), N_CLASSES).contiguous(memory_format=torch.channels_last)
        with ctx.autocast():
            z, l_kld = None, torch.zeros((), device=ctx.device)
            if cfg["use_vae"]:
                mu, logvar = netg.encode(real)
                mu, logvar = mu.float(), logvar.float()
                z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
                l_kld = kld(mu, logvar) * cfg["lambda_kld"]
            fake = netg(seg, z)
            netd.requires_grad_(False)
            pred = netd(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, real], 1)], 0))
            pred_fake = [[t[:b].float() for t in s] for s in pred]
            pred_real = [[t[b:].float() for t in s] for s in pred]
            l_gan = hinge_g([s[-1] for s in pred_fake])
            l_fm = feature_matching(pred_fake, pred_real) * cfg["lambda_feat"]
            loss_g = l_gan + l_fm + l_kld
        l_tex = torch.zeros((), device=ctx.device)
        if cfg["lambda_tex"] > 0:  # statistics in fp32, outside autocast (SpadeTrainConfig.lambda_tex)
            l_tex = texture_energy(fake.float(), real.float(), seg.float(), cfg["tex_scales"]) * cfg["lambda_tex"]
            loss_g = loss_g + l_tex
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        ema.update(netg)
        netd.requires_grad_(True)
        with ctx.autocast():
            pred = netd(torch.cat([torch.cat([seg, fake.detach()], 1), torch.cat([seg, real], 1)], 0))
            loss_d = hinge_d([s[-1][b:].float() for s in pred], [s[-1][:b].float() for s in pred])
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        step += 1
        ctx.seen("spade", b)
        if step % 100 == 0:
            losses = {"g_gan": float(l_gan.detach()), "g_fm": float(l_fm.detach()), "d": float(loss_d.detach()),
                      "kld": float(l_kld.detach()), "tex": float(l_tex.detach())}
            ctx.log(step, losses)
    if step:
        losses = {"g_gan": float(l_gan.detach()), "g_fm": float(l_fm.detach()), "d": float(loss_d.detach())}
    ctx.log(step, losses, done=True)
    card = template_card(ctx, "synthesize", "spade")
    card.update(task="synthesize", arch="spade", convention="facades", palette="facades",
                hparams={"semantic_nc": N_CLASSES, "ngf": cfg["ngf"], "use_vae": cfg["use_vae"]},
                size_multiple=64 if cfg["num_up"] == "more" else 32,
                num_upsampling_layers=cfg["num_up"], padding=cfg["padding"])
    card.update(title="GauGAN facades (GPU kit)", description=(
        f"SPADE generator (ngf {cfg['ngf']}) + VAE style encoder trained with the GPU kit on the 400 CMP Facades "
        "train pairs (hinge GAN + feature matching + KL"
        f"{' + per-class texture energy' if cfg['lambda_tex'] > 0 else ''}; no VGG loss: ImageNet weights "
        "cannot be had here)."))
    card.setdefault("default", True)
    return [write_export(ctx, STEM, {f"{STEM}.safetensors": ema.model.float().state_dict()}, card, cfg, step, losses)]
