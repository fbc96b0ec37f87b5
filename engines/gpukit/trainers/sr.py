"""SR x4 / x2: SRVGGNetCompact, L1, antialiased-bicubic degradation made on the device.

Width: 48 features, 12 convs (the bundled model's; 0.55 MB fp16, 0.036 s per Set5 image at x4 on
one CPU thread). The paper's compact width (realesr-general-x4v3: 64 / 32) meets the speed goal too
(measured 0.13 s x4, goal <= 0.5 s) but is 2.4 MB per scale, and every byte bundled is a byte less
of training data in the next window's 64 MiB trip (``engines.gpukit.travel``); ESRGAN's RRDB
(33 MB fp16) is over the 16 MiB return limit."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment import bicubic_down, crop_batch, dihedral, to_unit
from ..loop import EMA, KitContext, cosine, prepare, set_lr, template_card, write_export

CONFIG = {"num_feat": 48, "num_conv": 12, "batch": 64, "lr_patch": 48, "base_lr": 5e-4, "base_batch": 16}
DRY = {"num_feat": 8, "num_conv": 2, "batch": 2, "lr_patch": 8}
STEM = {"sr-x4": "ganstudio-sr-x4", "sr-x2": "ganstudio-sr-x2"}


def train(ctx: KitContext) -> list:
    from ...sr.archs import SRVGGNetCompact

    scale = 4 if ctx.engine == "sr-x4" else 2
    cfg = {**CONFIG, **(DRY if ctx.dry_run else {}), "scale": scale}
    photos = torch.from_numpy(ctx.data["bsds"]).to(ctx.device).permute(0, 3, 1, 2).contiguous()
    model = SRVGGNetCompact(num_feat=cfg["num_feat"], num_conv=cfg["num_conv"], upscale=scale).to(ctx.device)
    lr = prepare(ctx, model, cfg, "upscale", "srvgg", scale)
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
    card = template_card(ctx, "upscale", "srvgg", scale)
    card.update(task="upscale", arch="srvgg", scale=scale, native_scale=scale, size_multiple=1,
                title=f"GAN Studio SR x{scale} (PSNR, ours)", description=(
                    f"Our PSNR-oriented x{scale} model: SRVGGNetCompact ({cfg['num_feat']} features, {cfg['num_conv']} "
                    "body convs), L1 loss, trained with the GPU kit on BSDS500 train+test with antialiased-bicubic "
                    "degradation. Faithful rather than sharp."))
    sd = ema.model.float().state_dict()
    return [write_export(ctx, STEM[ctx.engine], {f"{STEM[ctx.engine]}.safetensors": sd}, card, cfg, step, losses)]
