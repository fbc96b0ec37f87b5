"""Inpainting: the PConv U-Net with the CPU trainer's losses (1 valid + 6 hole + 0.1 TV), hole
masks drawn on the device (:func:`..augment.hole_masks`), the last 15 % of the time with the
encoder's BatchNorm frozen at a lower rate, as the paper does.

Precision: fp32 (TF32 on the GPU), not bf16: the partial convolution counts valid entries per
window (up to C x k x k, thousands) and bf16 holds integers exactly only to 256, so the mask
renormalisation would differ from inference by up to ~0.4 %.

Width: 16 at the first level (the bundled model's: 3.2 MB, 0.24 s per 512² crop on one CPU thread,
flip-averaged). The paper's 64 is a 66 MB file; 24 meets the speed goal (measured 0.37 s, goal
<= 1 s) but is 7.3 MB, 4 MB more to carry on every trip (64 MiB with the training data)."""

from __future__ import annotations

import torch

from ..augment import crop_batch, dihedral, hole_masks
from ..loop import EMA, KitContext, cosine, prepare, set_lr, template_card, write_export

CONFIG = {"base": 16, "layers": 7, "crop": 256, "batch": 32, "base_lr": 2e-4, "base_batch": 4,
          "finetune_frac": 0.15, "hole_weight": 6.0, "valid_weight": 1.0, "tv_weight": 0.1}
DRY = {"base": 4, "layers": 5, "crop": 64, "batch": 2}


def train(ctx: KitContext) -> list:
    from ...inpaint.arch import PConvUNet
    from ...inpaint.losses import l1_hole_valid, tv_hole

    cfg = {**CONFIG, **(DRY if ctx.dry_run else {}), "amp": False}
    ctx.amp = False
    # both photo sets, as the CPU trainer: BSDS500 train+test crops and facades photos
    pools = [torch.from_numpy(ctx.data[k]).to(ctx.device).permute(0, 3, 1, 2).contiguous() for k in ("bsds", "facades")]
    model = PConvUNet(cfg["base"], cfg["layers"]).to(ctx.device)
    lr = prepare(ctx, model, cfg, "inpaint", "pconv_unet")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ema = EMA(model)
    model.train()
    step, losses, finetune = 0, {}, False
    half = cfg["batch"] // 2
    while ctx.running(step):
        p = ctx.progress(step)
        if not finetune and p >= 1 - cfg["finetune_frac"]:
            finetune = True
            model.freeze_enc_bn = True
            model.train()
            opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=lr / 4)
        set_lr(opt, cosine(p, lr, lr / 40) if not finetune else lr / 4 * (1 - p + 0.05))
        a, _ = crop_batch(pools[0], half, cfg["crop"], ctx.gen)
        b, _ = crop_batch(pools[1], cfg["batch"] - half, cfg["crop"], ctx.gen)
        gt, _ = dihedral(torch.cat([a, b]).float().div_(127.5).sub_(1.0), ctx.gen)
        valid = hole_masks(cfg["batch"], cfg["crop"], ctx.gen, ctx.device)
        with ctx.autocast():
            pred = model((gt * valid).contiguous(memory_format=torch.channels_last), valid)
        pred = pred.float()
        comp = valid * gt + (1 - valid) * pred
        l_hole, l_valid = l1_hole_valid(pred, gt, valid)
        l_tv = tv_hole(comp, valid)
        loss = cfg["hole_weight"] * l_hole + cfg["valid_weight"] * l_valid + cfg["tv_weight"] * l_tv
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(model)
        step += 1
        ctx.seen("inpaint", cfg["batch"])
        if step % 100 == 0:
            losses = {"loss": float(loss.detach()), "hole": float(l_hole.detach()), "valid": float(l_valid.detach())}
            ctx.log(step, losses, hole_ratio=round(float(1 - valid.mean()), 3), finetune=finetune)
    if step:
        losses = {"loss": float(loss.detach()), "hole": float(l_hole.detach()), "valid": float(l_valid.detach())}
    ctx.log(step, losses, done=True)
    stem = f"pconv-compact-w{cfg['base']}"
    card = template_card(ctx, "inpaint", "pconv_unet")
    card.update(task="inpaint", arch="pconv_unet", hparams={"base": cfg["base"], "layers": cfg["layers"], "in_ch": 3},
                size_multiple=2 ** cfg["layers"], title=f"PConv U-Net (width {cfg['base']}, GPU kit)", description=(
                    f"PConv U-Net (Liu et al. 2018): {cfg['layers']} levels, first-level width {cfg['base']} (paper 64), "
                    "L1 hole/valid + TV losses (no VGG terms: ImageNet weights cannot be had here), trained with the "
                    "GPU kit on BSDS500 train+test + facades photos; the last 15 % with the encoder's BatchNorm frozen."))
    return [write_export(ctx, stem, {f"{stem}.safetensors": ema.model.float().state_dict()}, card, cfg, step, losses)]
