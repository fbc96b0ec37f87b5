"""Colorization: the SIGGRAPH17 generator (our width 0.25 + spread-hints input, the bundled
default's layout), the CPU trainer's loss (Huber on ab / 11 + cross-entropy of the 23 x 23 ab class
head), with photos resized once to 256² on the device, random crops, Lab and the paper's synthetic
hints (+ a dense-hint share and the spread plane) made in batches there.

Width: 0.25 (the bundled model's: 4.3 MB, 0.12 s full pass on one CPU thread). The paper's full
width is a 130 MB file, 0.5 about 17 MB (over the 16 MiB return limit); 0.375 meets the speed goal
(measured 0.21 s, goal <= 1.1 s) but is 9.7 MB, 5.4 MB more on every 64 MiB trip."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment import crop_batch, dihedral, rgb_to_lab, synthetic_hints, to_unit
from ..loop import EMA, KitContext, cosine, prepare, set_lr, template_card, write_export

CONFIG = {"width": 0.25, "spread_input": True, "crop": 128, "batch": 64, "base_lr": 3e-4, "base_batch": 8,
          "many_frac": 0.3, "class_weight": 1.0}
DRY = {"width": 0.0625, "crop": 32, "batch": 2}
NET_SIZE = 256  # as engines.colorize.lab.NET_SIZE: the photo side the spread distances refer to


def train(ctx: KitContext) -> list:
    from ...colorize.archs import SIGGRAPHGenerator
    from ...colorize.train import class_targets

    cfg = {**CONFIG, **(DRY if ctx.dry_run else {})}
    # every photo resized once to the network's square (area), as the CPU trainer's prepare_photos
    bsds = torch.from_numpy(ctx.data["bsds"]).to(ctx.device).permute(0, 3, 1, 2).float()
    bsds = F.interpolate(bsds, size=(NET_SIZE, NET_SIZE), mode="area").round_().to(torch.uint8)
    facades = torch.from_numpy(ctx.data["facades"]).to(ctx.device).permute(0, 3, 1, 2)
    if facades.shape[-1] != NET_SIZE:
        facades = F.interpolate(facades.float(), size=(NET_SIZE, NET_SIZE), mode="area").round_().to(torch.uint8)
    pool = torch.cat([bsds, facades]).contiguous()
    model = SIGGRAPHGenerator(width=cfg["width"], spread_input=cfg["spread_input"]).to(ctx.device)
    lr = prepare(ctx, model, cfg, "colorize", "siggraph17")
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    ema = EMA(model)
    model.train()
    step, losses = 0, {}
    while ctx.running(step):
        set_lr(opt, cosine(ctx.progress(step), lr, lr / 100))
        crops, _ = crop_batch(pool, cfg["batch"], cfg["crop"], ctx.gen)
        rgb, _ = dihedral(to_unit(crops), ctx.gen, rotate=False)
        lab = rgb_to_lab(rgb)
        L, ab = lab[:, :1], lab[:, 1:]
        hab, mask, spread = synthetic_hints(ab, L, ctx.gen, cfg["many_frac"], spread=cfg["spread_input"],
                                            spread_side=NET_SIZE)
        cl = torch.channels_last
        with ctx.autocast():
            pred, logits = model(L.contiguous(memory_format=cl), hab, mask, spread if cfg["spread_input"] else None)
        reg = F.smooth_l1_loss(pred.float(), ab, beta=1.0) / 11.0
        ce = F.cross_entropy(logits.float(), class_targets(ab))
        loss = reg + cfg["class_weight"] * ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(model)
        step += 1
        ctx.seen("colorize", cfg["batch"])
        if step % 100 == 0:
            losses = {"loss": float(loss.detach()), "huber": float(reg.detach()), "ce": float(ce.detach())}
            ctx.log(step, losses, hinted=round(float(mask.mean()), 4))
    if step:
        losses = {"loss": float(loss.detach()), "huber": float(reg.detach()), "ce": float(ce.detach())}
    ctx.log(step, losses, done=True)
    stem = f"colorize-siggraph17-w{str(cfg['width']).replace('0.', '0')}" + ("-spread" if cfg["spread_input"] else "")
    card = template_card(ctx, "colorize", "siggraph17")
    card.update(task="colorize", arch="siggraph17", width=cfg["width"], spread_input=cfg["spread_input"],
                title=f"SIGGRAPH17 colorizer, width {cfg['width']}" + (", spread hints" if cfg["spread_input"] else "")
                + " (GPU kit)", description=(
                    f"The SIGGRAPH17 user-guided generator (official key names) at width {cfg['width']}"
                    + (" with our spread-hints input (two more channels: the hints spread over regions of similar "
                       "lightness, which the net learns to correct)" if cfg["spread_input"] else "")
                    + "; Huber + ab-class loss, the paper's synthetic hints plus a dense-hint share; GPU kit."))
    return [write_export(ctx, stem, {f"{stem}.safetensors": ema.model.float().state_dict()}, card, cfg, step, losses)]
