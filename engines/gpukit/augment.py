"""Batched data augmentation on the device: crops, flips, hole masks, colour hints, SR degradation.

Everything takes and returns torch tensors on the data's device and draws from one
``torch.Generator`` on that device, so a GPU never waits for Python per sample: the loops here run
over a handful of strokes or hint blocks, never over the samples of a batch.

Conventions: images ``uint8 N x 3 x H x W`` in, ``float32`` in [0, 1] out unless said otherwise;
label maps ``uint8 N x H x W``; masks ``float32 N x 1 x H x W``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _rand(n: int, gen: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=device)


def _randint(low: int, high: int, n: int, gen: torch.Generator, device) -> torch.Tensor:
    """Integers in [low, high) (high > low)."""
    return torch.randint(low, high, (n,), generator=gen, device=device)


def crop_batch(images: torch.Tensor, n: int, size: int, gen: torch.Generator,
               labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` random ``size``² crops of random images (uint8 ``N x C x H x W``) -> uint8 ``n x C x s x s``
    (and the same crops of ``labels`` ``N x H x W``)."""
    N, _, H, W = images.shape
    if H < size or W < size:
        raise ValueError(f"crop {size} is larger than the images ({H} x {W})")
    dev = images.device
    idx = _randint(0, N, n, gen, dev)
    ys, xs = _randint(0, H - size + 1, n, gen, dev), _randint(0, W - size + 1, n, gen, dev)
    ar = torch.arange(size, device=dev)
    rows, cols = (ys[:, None] + ar)[:, :, None], (xs[:, None] + ar)[:, None, :]
    # advanced indices around a slice: the result is n x s x s x C
    out = images[idx[:, None, None], :, rows, cols].permute(0, 3, 1, 2).contiguous()
    lab = labels[idx[:, None, None], rows, cols] if labels is not None else None
    return out, lab


def dihedral(x: torch.Tensor, gen: torch.Generator, rotate: bool = True,
             labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A random left-right flip per sample, and (``rotate``, square crops) one of the 8 dihedral
    transforms; ``labels`` (``n x H x W``) get the same one."""
    n, dev = x.shape[0], x.device
    ops = [(lambda t: t.flip(-1))]
    if rotate:
        ops += [(lambda t: t.flip(-2)), (lambda t: t.transpose(-1, -2))]
    for op in ops:
        pick = _rand(n, gen, dev) < 0.5
        x = torch.where(pick.view(n, 1, 1, 1), op(x), x)
        if labels is not None:
            labels = torch.where(pick.view(n, 1, 1), op(labels), labels)
    return x, labels


def to_unit(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0)


def bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscale by ``scale``, clamped and quantised to 8 bits, as the benchmark
    LR PNGs were made (MATLAB ``imresize``; torch's antialias follows Pillow's kernel)."""
    h, w = hr.shape[-2:]
    lr = F.interpolate(hr, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False)
    return lr.clamp_(0.0, 1.0).mul_(255.0).round_().div_(255.0)


def area_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area (antialiased) resize of float images ``N x C x H x W``; bicubic when enlarging."""
    h, w = x.shape[-2:]
    if size[0] <= h and size[1] <= w:
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False).clamp_(0.0, 255.0)


# ----------------------------------------------------------------------------- hole masks


def _segment_dist2(px, py, ax, ay, bx, by):
    """Squared distance from points (px, py) to segments a-b (broadcast shapes)."""
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy).clamp_min(1e-6)
    t = t.clamp(0.0, 1.0)
    return (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2


def hole_masks(n: int, size: int, gen: torch.Generator, device, strokes: int = 6, vertices: int = 5,
               ellipses: int = 2) -> torch.Tensor:
    """Irregular holes in the spirit of :mod:`engines.inpaint.masks` (thick polylines with round
    joints, ellipses), drawn for the whole batch at once. ``float32 n x 1 x s x s``, **1 = valid**
    (PConv's polarity). The hole ratio spreads over about 1-60 % through a per-sample scale and a
    per-sample number of active shapes."""
    s = float(size)
    yy = torch.arange(size, device=device, dtype=torch.float32).view(1, size, 1) + 0.5
    xx = torch.arange(size, device=device, dtype=torch.float32).view(1, 1, size) + 0.5
    scale = (0.6 + 1.2 * _rand(n, gen, device)).view(n, 1, 1)
    hole = torch.zeros(n, size, size, dtype=torch.bool, device=device)
    active = _randint(1, strokes + 1, n, gen, device)
    for k in range(strokes):
        on = (active > k).view(n, 1, 1)
        x, y = _rand(n, gen, device).view(n, 1, 1) * s, _rand(n, gen, device).view(n, 1, 1) * s
        half = (0.02 + 0.06 * _rand(n, gen, device)).view(n, 1, 1) * s * scale / 2 + 1.0
        angle = _rand(n, gen, device).view(n, 1, 1) * 2 * math.pi
        for _ in range(vertices - 1):
            angle = angle + (_rand(n, gen, device).view(n, 1, 1) - 0.5) * 2.4
            length = (0.05 + 0.25 * _rand(n, gen, device)).view(n, 1, 1) * s * scale
            nx, ny = (x + length * torch.cos(angle)).clamp(0, s - 1), (y + length * torch.sin(angle)).clamp(0, s - 1)
            hole |= on & (_segment_dist2(xx, yy, x, y, nx, ny) <= half * half)
            x, y = nx, ny
    n_ell = _randint(0, ellipses + 1, n, gen, device)
    for k in range(ellipses):
        on = (n_ell > k).view(n, 1, 1)
        cx, cy = _rand(n, gen, device).view(n, 1, 1) * s, _rand(n, gen, device).view(n, 1, 1) * s
        ax = (0.03 + 0.17 * _rand(n, gen, device)).view(n, 1, 1) * s * scale
        ay = (0.03 + 0.17 * _rand(n, gen, device)).view(n, 1, 1) * s * scale
        th = _rand(n, gen, device).view(n, 1, 1) * math.pi
        u = ((xx - cx) * torch.cos(th) + (yy - cy) * torch.sin(th)) / ax
        v = (-(xx - cx) * torch.sin(th) + (yy - cy) * torch.cos(th)) / ay
        hole |= on & (u * u + v * v <= 1.0)
    return (~hole).float().unsqueeze(1)


# ----------------------------------------------------------------------------- colour


_XYZ_TO_RGB = ((3.2404542, -1.5371385, -0.4985314),
               (-0.9692660, 1.8760108, 0.0415560),
               (0.0556434, -0.2040259, 1.0572252))
_WHITE = (0.95047, 1.0, 1.08883)
_EPS, _KAPPA = 216 / 24389, 24389 / 27


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB [0, 1] ``N x 3 x H x W`` -> Lab (L 0-100, ab about +-110), D65: the same definition as
    :func:`engines.colorize.lab.rgb_to_lab` (OpenCV's float Lab), in torch."""
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = torch.linalg.inv(torch.tensor(_XYZ_TO_RGB, dtype=torch.float64)).to(rgb.device, torch.float32)
    xyz = torch.einsum("ij,njhw->nihw", m, lin) / torch.tensor(_WHITE, device=rgb.device).view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp_min(1e-12) ** (1.0 / 3.0), (_KAPPA * xyz + 16.0) / 116.0)
    L = 116.0 * f[:, 1:2] - 16.0
    a = 500.0 * (f[:, 0:1] - f[:, 1:2])
    b = 200.0 * (f[:, 1:2] - f[:, 2:3])
    return torch.cat([L, a, b], 1)


P_STOP = 1.0 / 8.0  # as engines.colorize.hints: geometric count of hints, P(0) = 1/8
MAX_PATCH = 9
MAX_GEOMETRIC = 64  # P(count > 64) = (7/8)^65 ~ 2e-4: capped
MANY_MAX = 200
BLOCK = 32  # hints per block when painting / spreading (bounds the n x K x H x W temporaries)


def hint_counts(n: int, gen: torch.Generator, device, many_frac: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(count ``n`` int64, uniform ``n`` bool): the paper's geometric count (P(0) = 1/8), or for a
    ``many_frac`` share of samples a log-uniform 1..200 count placed uniformly (dense hinting)."""
    u = _rand(n, gen, device).clamp_min(1e-12)
    geometric = torch.floor(torch.log(u) / math.log(1.0 - P_STOP)).clamp_max(MAX_GEOMETRIC)
    many = torch.exp(_rand(n, gen, device) * math.log(MANY_MAX + 1)).floor().clamp(1, MANY_MAX)
    uniform = _rand(n, gen, device) < many_frac
    return torch.where(uniform, many, geometric).long(), uniform


def synthetic_hints(ab: torch.Tensor, L: torch.Tensor, gen: torch.Generator, many_frac: float = 0.0,
                    spread: bool = False, spread_side: float = 256.0, spread_lambda: float = 2.0):
    """Paper-style hints from the true ab (``n x 2 x h x w``), as :func:`engines.colorize.hints.synthetic_hints`
    draws them, for a whole batch: patches of side 1-9 at Gaussian (or, dense samples, uniform)
    positions, each the mean true ab of its patch; later hints win where patches overlap.

    Returns (hint ab ``n x 2 x h x w``, mask ``n x 1 x h x w`` 1 = hinted, spread ab ``n x 2 x h x w``:
    each pixel the ab of the hint of least ``|p - q| / side + lambda |L(p) - L(q)| / 100``, as
    :func:`engines.colorize.spread.spread_points`; zeros unless ``spread`` or without hints)."""
    n, _, h, w = ab.shape
    dev = ab.device
    count, uniform = hint_counts(n, gen, dev, many_frac)
    K = max(1, int(count.max()))
    size = torch.randint(1, MAX_PATCH + 1, (n, K), generator=gen, device=dev)
    sy, sx = (h - size + 1).float(), (w - size + 1).float()
    gy = torch.randn(n, K, generator=gen, device=dev) * sy / 4 + sy / 2
    gx = torch.randn(n, K, generator=gen, device=dev) * sx / 4 + sx / 2
    uy = torch.rand(n, K, generator=gen, device=dev) * sy
    ux = torch.rand(n, K, generator=gen, device=dev) * sx
    uni = uniform.view(n, 1)
    y0 = torch.minimum(torch.where(uni, uy, gy).clamp_min(0).floor(), sy - 1).long()
    x0 = torch.minimum(torch.where(uni, ux, gx).clamp_min(0).floor(), sx - 1).long()
    active = torch.arange(K, device=dev).view(1, K) < count.view(n, 1)
    # patch means from an integral image (n x 2 x (h+1) x (w+1))
    integ = F.pad(ab.cumsum(-2).cumsum(-1), (1, 0, 1, 0))
    flat = integ.flatten(2)  # n x 2 x (h+1)(w+1)

    def at(y, x):
        return flat.gather(2, (y * (w + 1) + x).unsqueeze(1).expand(n, 2, K))

    y1, x1 = y0 + size, x0 + size
    values = (at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0)) / (size * size).unsqueeze(1).float()  # n x 2 x K
    yy = torch.arange(h, device=dev).view(1, 1, h, 1)
    xx = torch.arange(w, device=dev).view(1, 1, 1, w)
    winner = torch.full((n, h, w), -1, dtype=torch.long, device=dev)
    for k0 in range(0, K, BLOCK):
        k1 = min(K, k0 + BLOCK)
        sl = slice(k0, k1)
        inside = ((yy >= y0[:, sl, None, None]) & (yy < y1[:, sl, None, None]) & (xx >= x0[:, sl, None, None])
                  & (xx < x1[:, sl, None, None]) & active[:, sl, None, None])
        idx = torch.arange(k0, k1, device=dev).view(1, -1, 1, 1)
        winner = torch.maximum(winner, torch.where(inside, idx, torch.full_like(idx, -1)).amax(1))
    mask = (winner >= 0).float().unsqueeze(1)
    hab = values.gather(2, winner.clamp_min(0).flatten(1).unsqueeze(1).expand(n, 2, h * w)).view(n, 2, h, w) * mask
    spread_ab = torch.zeros_like(ab)
    if spread:
        py, px = (y0 + size // 2).clamp_max(h - 1), (x0 + size // 2).clamp_max(w - 1)
        spread_ab = spread_points(L, py, px, values, active, spread_side, spread_lambda)
    return hab, mask, spread_ab


def spread_points(L: torch.Tensor, py: torch.Tensor, px: torch.Tensor, values: torch.Tensor, active: torch.Tensor,
                  side: float = 256.0, lam: float = 2.0) -> torch.Tensor:
    """Batched :func:`engines.colorize.spread.spread_points`: L ``n x 1 x h x w``, hint positions
    ``n x K`` (int), values ``n x 2 x K`` ab, active ``n x K`` bool -> ab ``n x 2 x h x w`` (0 for a
    sample without hints). Ties go to the earlier hint, as the numpy loop's strict ``<`` does."""
    n, _, h, w = L.shape
    dev, K = L.device, py.shape[1]
    yy = torch.arange(h, device=dev).view(1, 1, h, 1).float()
    xx = torch.arange(w, device=dev).view(1, 1, 1, w).float()
    Lq = L.flatten(1).gather(1, py * w + px)  # n x K
    best = torch.full((n, h, w), float("inf"), device=dev)
    arg = torch.zeros((n, h, w), dtype=torch.long, device=dev)
    for k0 in range(0, K, BLOCK):
        sl = slice(k0, min(K, k0 + BLOCK))
        dist = torch.sqrt((yy - py[:, sl, None, None].float()) ** 2 + (xx - px[:, sl, None, None].float()) ** 2)
        cost = dist / side + lam * (L - Lq[:, sl, None, None]).abs() / 100.0
        cost = torch.where(active[:, sl, None, None], cost, torch.full_like(cost, float("inf")))
        cmin, carg = cost.min(1)
        closer = cmin < best
        best = torch.where(closer, cmin, best)
        arg = torch.where(closer, carg + k0, arg)
    out = values.gather(2, arg.flatten(1).unsqueeze(1).expand(n, 2, h * w)).view(n, 2, h, w)
    return out * active.any(1).view(n, 1, 1, 1).float()


# ----------------------------------------------------------------------------- scaled crops


def scaled_square_crops(images: torch.Tensor, n: int, size: int, gen: torch.Generator,
                        min_scale: float = 0.6) -> torch.Tensor:
    """``n`` square crops of side ``min_scale..1`` of the (square) images, random left-right flip,
    resized to ``size`` by bilinear sampling at 2x then a 2 x 2 average (close to area resizing).
    In: float ``N x 3 x S x S``; out float ``n x 3 x size x size``."""
    N, _, S, _ = images.shape
    dev = images.device
    idx = _randint(0, N, n, gen, dev)
    side = min_scale + (1.0 - min_scale) * _rand(n, gen, dev)  # fraction of S
    cx = (side / 2 + (1 - side) * _rand(n, gen, dev)) * 2 - 1  # centre in [-1, 1] coordinates
    cy = (side / 2 + (1 - side) * _rand(n, gen, dev)) * 2 - 1
    flip = torch.where(_rand(n, gen, dev) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2] = side * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = side, cy
    grid = F.affine_grid(theta, (n, 3, 2 * size, 2 * size), align_corners=False)
    return F.avg_pool2d(F.grid_sample(images[idx], grid, mode="bilinear", align_corners=False), 2)
