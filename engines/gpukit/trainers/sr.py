"""SR x4 / x2: SRVGGNetCompact, L1, antialiased-bicubic degradation made on the device.

The bundled width (48 features, 12 convs) meets the CPU goal (<= 0.5 s per Set5 image at x4, one
thread); the paper's realesr-general-x4v3 width (64, 32) is ~3x slower, so the kit keeps 48 / 12
and spends the GPU on many more steps and larger patches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment import bicubic_down, crop_batch, dihedral, to_unit
from ..loop import EMA, KitContext, channels_last, cosine, load_init, scaled_lr, set_lr, template_card, write_export

CONFIG = {"num_feat": 48, "num_conv": 12, "batch": 64, "lr_patch": 48, "base_lr": 5e-4, "base_batch": 16}
DRY = {"num_feat": 8, "num_conv": 2, "batch": 2, "lr_patch": 8}
STEM = {"sr-x4": "ganstudio-sr-x4", "sr-x2": "ganstudio-sr-x2"}


def train(ctx: KitContext) -> list:
    from ...sr.archs import SRVGGNetCompact

    scale = 4 if ctx.engine == "sr-x4" else 2
    cfg = {**CONFIG, **(DRY if ctx.dry_run else {}), "scale": scale}
    photos = torch.from_numpy(ctx.data["bsds"]).to(ctx.device).permute(0, 3, 1, 2).contiguous()
    model = SRVGGNetCompact(num_feat=cfg["num_feat"], num_conv=cfg["num_conv"], upscale=scale).to(ctx.device)
    init = load_init(model, ctx.init_dir / f"{STEM[ctx.engine]}.safetensors" if ctx.init_dir else None)
    cfg["init"] = init["from"]
    channels_last(model)
    lr = scaled_lr(cfg["base_lr"], cfg["batch"], cfg["base_batch"])
    cfg["lr"] = lr
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    ema = EMA(model)
    step, losses = 0, {}
    hr_side = cfg["lr_patch"] * scale
    while ctx.running(step):
        set_lr(opt, cosine(ctx.progress(step), lr, 1e-6))
        hr, _ = crop_batch(photos, cfg["batch"], hr_side, ctx.gen)
        hr, _ = dihedral(to_unit(hr), ctx.gen)
        lr_img = bicubic_down(hr, scale)
        with ctx.autocast():
            pred = model(lr_img.contiguous(memory_format=torch.channels_last))
        loss = F.l1_loss(pred.float(), hr)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(model)
        step += 1
        ctx.seen(ctx.engine, cfg["batch"])
        if step % 200 == 0:
            losses = {"l1": float(loss.detach())}
            ctx.log(step, losses)
    if step:
        losses = {"l1": float(loss.detach())}
    ctx.log(step, losses, done=True)
    card = template_card(ctx, STEM[ctx.engine])
    card.update(id=STEM[ctx.engine], task="upscale", arch="srvgg", scale=scale, native_scale=scale)
    card.setdefault("title", f"GAN Studio SR x{scale} (PSNR, ours)")
    card.setdefault("size_multiple", 1)
    sd = ema.model.float().state_dict()
    return [write_export(ctx, STEM[ctx.engine], {f"{STEM[ctx.engine]}.safetensors": sd}, card, cfg, step, losses)]
