"""Facades segmentation (photo -> 12 CMP classes): the U-Net of :mod:`engines.spade.segment`,
cross-entropy, Adam with cosine decay, on 256² crops of 286² loads made on the device.

Width 16 (the bundled model's: 1 MB, 0.027 s per photo on one CPU thread; 32 measured 3.9 MB and
0.22 s); the card's ``work_side`` is the crop it learned at, as the engine expects."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment import crop_batch, dihedral
from ..loop import EMA, KitContext, cosine, prepare, set_lr, template_card, write_export
from .spade import resized_pairs

CONFIG = {"width": 16, "crop": 256, "load": 286, "batch": 32, "base_lr": 1e-3, "base_batch": 16}
DRY = {"width": 4, "crop": 64, "load": 72, "batch": 2}
STEM = "facades-segnet"


def train(ctx: KitContext) -> list:
    from ...spade.segment import FacadeSegNet
    from ...spade.train import N_CLASSES

    cfg = {**CONFIG, **(DRY if ctx.dry_run else {})}
    photos, labels = resized_pairs(ctx, cfg["load"])
    net = FacadeSegNet(N_CLASSES, cfg["width"]).to(ctx.device).train()
    lr = prepare(ctx, net, cfg, "synthesize", "facades-segnet", cap=2.0)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    ema = EMA(net)
    step, losses = 0, {}
    while ctx.running(step):
        set_lr(opt, cosine(ctx.progress(step), lr, lr / 100))
        crops, lab = crop_batch(photos, cfg["batch"], cfg["crop"], ctx.gen, labels=labels)
        crops, lab = dihedral(crops, ctx.gen, rotate=False, labels=lab)
        x = crops.float().div_(127.5).sub_(1.0).contiguous(memory_format=torch.channels_last)
        with ctx.autocast():
            logits = net(x)
        loss = F.cross_entropy(logits.float(), lab.long())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(net)
        step += 1
        ctx.seen("segment", cfg["batch"])
        if step % 100 == 0:
            acc = float((logits.argmax(1) == lab.long()).float().mean())
            losses = {"ce": float(loss.detach()), "pixel_acc": acc}
            ctx.log(step, losses)
    if step:
        losses = {"ce": float(loss.detach()), "pixel_acc": float((logits.argmax(1) == lab.long()).float().mean())}
    ctx.log(step, losses, done=True)
    card = template_card(ctx, "synthesize", "facades-segnet")
    card.update(task="synthesize", arch="facades-segnet", convention="facades", palette="facades",
                work_side=cfg["crop"])
    card.update(title="Facades segmentation (GPU kit)", description=(
        f"U-Net (width {cfg['width']}) photo -> 12 CMP classes, trained with the GPU kit on facades train; used by "
        "the bench and by 'Segment photo'."))
    return [write_export(ctx, STEM, {f"{STEM}.safetensors": ema.model.float().state_dict()}, card, cfg, step, losses)]
