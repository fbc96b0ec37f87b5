"""Facades segmentation (photo -> 12 CMP classes): the U-Net of :mod:`engines.spade.segment`
(5 levels, channels capped at 8 x width), class-weighted cross-entropy, Adam with cosine decay, on
random *views* of the facades made on the device — the CPU trainer's (:mod:`engines.spade.segment_train`)
scale 0.5-2x, aspect, rotation, perspective (one homography per sample, mirrored beyond the photo),
colour, blur and noise, drawn batched from the kit's generator (:func:`segment_views`).

Width 16 (the bundled model's: ~2.5 MB fp16); the views are ``crop``² with a whole facade
``base`` px wide at scale 1, and the card's ``work_side`` is ``base``, as the engine expects."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..loop import EMA, KitContext, cosine, counterpart_weights, load_init, prepare, set_lr, template_card, write_export
from .spade import resized_pairs

CONFIG = {"width": 16, "levels": 5, "crop": 256, "base": 256, "load": 256, "batch": 32, "base_lr": 1e-3,
          "base_batch": 16}
DRY = {"width": 4, "crop": 64, "base": 64, "load": 64, "batch": 2}
STEM = "facades-segnet"


# ----------------------------------------------------------------------------- views on the device


def _u(n: int, lo: float, hi: float, gen: torch.Generator, device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=device, dtype=torch.float64)


def view_homographies(n: int, src_hw: tuple[int, int], crop: int, base: int, gen: torch.Generator,
                      device) -> torch.Tensor:
    """float64 ``n x 3 x 3`` homographies from source pixels to ``crop``² views, drawn as
    :func:`engines.spade.segment_train.view_homography` draws one (same ranges, plain share and
    flip), batched."""
    from ...spade import segment_train as st

    h, w = src_hw
    plain = _u(n, 0, 1, gen, device) < st.PLAIN_SHARE
    s = torch.exp(_u(n, math.log(st.SCALE_RANGE[0]), math.log(st.SCALE_RANGE[1]), gen, device))
    a = torch.where(_u(n, 0, 1, gen, device) < 0.5,
                    torch.exp(_u(n, -math.log(st.ASPECT_MAX), math.log(st.ASPECT_MAX), gen, device)), 1.0)
    rot = _u(n, -math.radians(st.ROTATE_DEG), math.radians(st.ROTATE_DEG), gen, device)
    persp = torch.where(_u(n, 0, 1, gen, device) < 0.6, _u(n, 0, st.PERSPECTIVE, gen, device), 0.0)
    s, a = torch.where(plain, 1.0, s), torch.where(plain, 1.0, a)
    rot, persp = torch.where(plain, 0.0, rot), torch.where(plain, 0.0, persp)
    sx, sy = base * s * a.sqrt() / w, base * s / a.sqrt() / h
    fw, fh = w * sx, h * sy
    ox = _u(n, 0, 1, gen, device) * (crop - fw)  # in [crop - fw, 0] or [0, crop - fw]: see the CPU version
    oy = _u(n, 0, 1, gen, device) * (crop - fh)
    c, cos, sin = crop / 2, rot.cos(), rot.sin()
    zero, one = torch.zeros_like(s), torch.ones_like(s)
    A = torch.stack([sx, zero, ox, zero, sy, oy, zero, zero, one], 1).view(n, 3, 3)
    R = torch.stack([cos, -sin, c - c * cos + c * sin, sin, cos, c - c * sin - c * cos, zero, zero, one], 1).view(n, 3, 3)
    corners = torch.tensor([[0, 0], [crop, 0], [crop, crop], [0, crop]], dtype=torch.float64, device=device)
    moved = corners + (2 * torch.rand(n, 4, 2, generator=gen, device=device, dtype=torch.float64) - 1) \
        * persp.view(n, 1, 1) * crop
    P = perspective_transforms(corners.expand(n, 4, 2), moved)
    flip = _u(n, 0, 1, gen, device) < 0.5
    Fm = torch.eye(3, dtype=torch.float64, device=device).repeat(n, 1, 1)
    Fm[flip, 0, 0], Fm[flip, 0, 2] = -1.0, crop - 1.0
    return Fm @ P @ R @ A


def perspective_transforms(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """``n x 3 x 3`` homographies taking the 4 points ``src`` (``n x 4 x 2``) to ``dst`` (as
    ``cv2.getPerspectiveTransform``, batched: an 8 x 8 solve per sample)."""
    n = src.shape[0]
    x, y, u, v = src[..., 0], src[..., 1], dst[..., 0], dst[..., 1]
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    mat = torch.cat([rows_u, rows_v], 1)  # n x 8 x 8
    rhs = torch.cat([u, v], 1)[..., None]
    h = torch.linalg.solve(mat, rhs)[..., 0]
    return torch.cat([h, torch.ones(n, 1, dtype=h.dtype, device=h.device)], 1).view(n, 3, 3)


def warp_views(images: torch.Tensor, labels: torch.Tensor, M: torch.Tensor, crop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp float ``n x 3 x H x W`` images (bilinear) and uint8 ``n x H x W`` labels (nearest) by
    the source->view homographies ``M`` into ``crop``² views, mirroring beyond the source. A view
    that shrinks the source samples a 2x / 4x area-averaged copy instead (no aliasing), as the CPU
    version resizes with INTER_AREA first."""
    n, _, H, W = images.shape
    dev = images.device
    inv = torch.linalg.inv(M)
    ys, xs = torch.meshgrid(torch.arange(crop, device=dev, dtype=torch.float64),
                            torch.arange(crop, device=dev, dtype=torch.float64), indexing="ij")
    pts = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(1, -1, 3)  # 1 x P x 3
    src = pts @ inv.transpose(1, 2)  # n x P x 3
    sx, sy = src[..., 0] / src[..., 2], src[..., 1] / src[..., 2]
    # align_corners=False normalisation; the same numbers address a 2x / 4x pooled copy
    grid = torch.stack([(2 * sx + 1) / W - 1, (2 * sy + 1) / H - 1], -1).view(n, crop, crop, 2).float()
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    shrink = torch.linalg.det(M[:, :2, :2]).abs().sqrt()
    for factor, below in ((2, 0.6), (4, 0.3)):
        if H % factor == 0 and W % factor == 0 and bool((shrink < below).any()):
            pooled = F.avg_pool2d(images, factor)
            alt = F.grid_sample(pooled, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
            out = torch.where((shrink < below).view(n, 1, 1, 1), alt, out)
    lab = F.grid_sample(labels[:, None].float(), grid, mode="nearest", padding_mode="reflection",
                        align_corners=False)[:, 0].round().to(torch.uint8)
    return out, lab


def photometric_batch(x: torch.Tensor, gen: torch.Generator, blur_scale: float = 1.0) -> torch.Tensor:
    """float ``n x 3 x h x w`` in [0, 1] -> the same with the CPU trainer's colour jitter (p 0.8),
    blur (p 0.4, sigma 0.3-1.6 px x ``blur_scale``) and noise (p 0.3), per sample."""
    n, dev = x.shape[0], x.device

    def u(lo, hi):
        return lo + (hi - lo) * torch.rand(n, generator=gen, device=dev)

    jitter = u(0, 1) < 0.8
    angle = torch.where(jitter, u(-math.radians(35), math.radians(35)), 0.0)
    k = torch.full((3,), 1 / math.sqrt(3), device=dev)
    kx = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]], device=dev)
    rot = (torch.eye(3, device=dev) + angle.sin().view(n, 1, 1) * kx
           + (1 - angle.cos()).view(n, 1, 1) * (kx @ kx))
    x = torch.einsum("nij,njhw->nihw", rot, x)
    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * torch.where(jitter, u(0.4, 1.6), 1.0).view(n, 1, 1, 1)
    m = x.mean((1, 2, 3), keepdim=True)
    x = m + (x - m) * torch.where(jitter, u(0.6, 1.4), 1.0).view(n, 1, 1, 1)
    x = (x * torch.where(jitter, u(0.6, 1.4), 1.0).view(n, 1, 1, 1)).clamp(0, 1)
    x = x.pow(torch.where(jitter, u(0.7, 1.4), 1.0).view(n, 1, 1, 1))
    blur = u(0, 1) < 0.4
    sigma = torch.where(blur, u(0.3, 1.6) * blur_scale, 1e-3)
    radius = int(math.ceil(3 * 1.6 * blur_scale))
    t = torch.arange(-radius, radius + 1, device=dev, dtype=x.dtype)
    kern = torch.exp(-t.view(1, -1) ** 2 / (2 * sigma.view(n, 1) ** 2))
    kern = (kern / kern.sum(1, keepdim=True)).repeat_interleave(3, 0)  # (n*3) x k
    h, w = x.shape[-2:]
    flat = x.reshape(1, n * 3, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), kern.view(n * 3, 1, 1, -1), groups=n * 3)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), kern.view(n * 3, 1, -1, 1), groups=n * 3)
    x = flat.view(n, 3, h, w)
    noise = torch.where(u(0, 1) < 0.3, u(0.005, 0.03), 0.0).view(n, 1, 1, 1)
    x = x + noise * torch.randn(x.shape, generator=gen, device=dev, dtype=x.dtype)
    return x.clamp_(0, 1)


def segment_views(photos: torch.Tensor, labels: torch.Tensor, n: int, crop: int, base: int,
                  gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random views of random pairs (uint8 ``N x 3 x H x W`` photos, uint8 ``N x H x W`` ids)
    -> (float ``n x 3 x crop x crop`` in [-1, 1], uint8 ``n x crop x crop``)."""
    dev = photos.device
    idx = torch.randint(0, photos.shape[0], (n,), generator=gen, device=dev)
    M = view_homographies(n, tuple(photos.shape[-2:]), crop, base, gen, dev)
    img, lab = warp_views(photos[idx].float().div_(255.0), labels[idx], M, crop)
    img = photometric_batch(img, gen, blur_scale=base / 128)
    return img.mul_(2.0).sub_(1.0), lab


# ----------------------------------------------------------------------------- training


def train(ctx: KitContext) -> list:
    from ...spade.segment import FacadeSegNet
    from ...spade.segment_train import class_weights
    from ...spade.train import N_CLASSES

    cfg = {**CONFIG, **(DRY if ctx.dry_run else {})}
    photos, labels = resized_pairs(ctx, cfg["load"])
    net = FacadeSegNet(N_CLASSES, cfg["width"], cfg["levels"]).to(ctx.device).train()
    init = load_init(net, counterpart_weights(ctx, "synthesize", "facades-segnet"))
    cfg["init"], cfg["init_tensors"] = init["from"], f"{init['loaded']} loaded, {init['skipped']} new"
    weights = torch.from_numpy(class_weights(labels.cpu().numpy())).to(ctx.device)
    lr = prepare(ctx, net, cfg, "synthesize", "facades-segnet", cap=2.0)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    ema = EMA(net)
    step, losses = 0, {}
    while ctx.running(step):
        set_lr(opt, cosine(ctx.progress(step), lr, lr / 100))
        x, lab = segment_views(photos, labels, cfg["batch"], cfg["crop"], cfg["base"], ctx.gen)
        x = x.contiguous(memory_format=torch.channels_last)
        with ctx.autocast():
            logits = net(x)
        loss = F.cross_entropy(logits.float(), lab.long(), weight=weights)
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
                work_side=cfg["base"])
    card.update(title="Facades segmentation (GPU kit)", description=(
        f"U-Net ({cfg['levels']} levels, width {cfg['width']}) photo -> 12 CMP classes, trained with the GPU kit "
        "on views of facades train (scale 0.5-2x, aspect, perspective, colour, blur); used by the bench and by "
        "'Segment photo'."))
    return [write_export(ctx, STEM, {f"{STEM}.safetensors": ema.model.float().state_dict()}, card, cfg, step, losses)]
