"""Texture synthesis into a hole: coarse-to-fine patch search and voting (Wexler et al. 2007), with
PatchMatch nearest-neighbour fields (Barnes et al. 2009) and a structure guide (Yang et al. 2017's
idea: a content network predicts the structure, the texture comes from the photo itself).

Contract (numpy in, numpy out): ``image`` float32 ``H x W x 3`` in [0, 1]; ``hole`` bool ``H x W``
(True = synthesise); ``source`` bool ``H x W`` (True = texture may be copied from here; the hole is
never a source); ``guide`` float32 ``H x W x 3``: the image with the hole already filled by a
structure predictor (network or diffusion). Returns the image with the hole synthesised.

How one level works (all targets at once, in torch, no per-pixel Python):
- a *target* is a pixel whose ``p x p`` patch touches the hole; a *source* a pixel whose whole
  patch lies in ``source``;
- the distance of target ``t`` to source ``s`` is the SSD of their patches, on the current estimate,
  plus ``guide_weight`` x the SSD between the guide's patch at ``t`` and the photo's at ``s``, both
  blurred (the guide is a structure prediction, smooth; unblurred it would favour flat sources) (so at
  the coarse levels the net's structure decides where texture comes from; at the fine levels the
  weight is small and the photo's own texture takes over);
- PatchMatch: random initialisation, propagation from the four neighbours (jump steps at the
  coarsest level), random search in shrinking windows;
- voting: every hole pixel becomes the weighted mean of the pixels that the patches covering it
  copy (weights ``exp(-d / 2 sigma^2)``, sigma^2 from the distances' 75th percentile).
The nearest-neighbour field is carried from level to level (offsets x 2), so fine levels only
refine it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np


CONF_ALPHA = 1.3
STRUCTURE_SIGMA = 2.0  # px at each level: the guide term compares images blurred this much


@dataclass(frozen=True)
class SynthesisSettings:
    patch: int = 7  # patch side at the coarse levels
    fine_patch: int = 5  # at the second finest level
    finest_patch: int = 3  # at the finest: the field is already coherent from the coarser levels, and
    # a 3 x 3 patch costs 9 / 25 of a 5 x 5 (512² fills, 30-40 % holes: 3.1 -> 1.9 CPU s, same figures)
    coarsest_side: int = 24  # the pyramid stops when the hole region's shorter side would go below this
    min_hole_depth: float = 3.0  # ... or when the hole is this thin (px to the nearest known pixel)
    max_levels: int = 7
    em_coarse: int = 6  # EM iterations at the coarsest level
    em_fine: int = 2  # at the finest level (linear in between)
    guide_weight: float = 8.0  # at the coarsest level, x guide_decay per finer level (chosen on BSDS train crops)
    guide_decay: float = 0.7
    sigma_quantile: float = 0.25
    final_copy: float = 1.0  # share of the plain copy in the finest level's final estimate  # vote weights exp(-d / 2 sigma^2), sigma^2 = this quantile of d
    seed: int = 0


# ----------------------------------------------------------------------------- pyramid helpers


def hole_depth(hole: np.ndarray) -> float:
    """Largest distance (px) from a hole pixel to the nearest known pixel."""
    if not hole.any():
        return 0.0
    dist = cv2.distanceTransform((hole).astype(np.uint8), cv2.DIST_L2, 3)
    return float(dist.max())


def _down(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cv2.resize(a, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _blur(a: np.ndarray, sigma: float = STRUCTURE_SIGMA) -> np.ndarray:
    return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def _erode(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask
    k = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.erode(mask.astype(np.uint8), k, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask
    k = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool)


def level_shapes(shape: tuple[int, int], hole: np.ndarray, s: SynthesisSettings) -> list[tuple[int, int]]:
    """Shapes from the finest (the input) to the coarsest."""
    h, w = shape
    depth = hole_depth(hole)
    shapes = [(h, w)]
    while len(shapes) < s.max_levels:
        nh, nw = (shapes[-1][0] + 1) // 2, (shapes[-1][1] + 1) // 2
        depth /= 2
        if min(nh, nw) < s.coarsest_side or depth < s.min_hole_depth:
            break
        shapes.append((nh, nw))
    return shapes


# ----------------------------------------------------------------------------- one level


class _Level:
    """Flat, padded views of one pyramid level (torch), and the patch arithmetic on them."""

    def __init__(self, torch, image: np.ndarray, hole: np.ndarray, source: np.ndarray, guide: np.ndarray,
                 patch: int, guide_weight: float, sigma_q: float = 0.75) -> None:
        self.torch = torch
        self.sigma_q = sigma_q
        self.r = r = patch // 2
        h, w = hole.shape
        self.h, self.w = h, w
        self.hp, self.wp = h + 2 * r, w + 2 * r
        pad = ((r, r), (r, r), (0, 0))
        self.est = torch.from_numpy(np.pad(image, pad, mode="reflect").reshape(-1, 3).copy())
        # the guide speaks for structure, not texture: it is compared blurred, with the photo blurred
        # alike (a smooth prediction against sharp sources would prefer flat sources)
        photo = np.where(hole[..., None], guide, image)
        g = np.pad(_blur(guide), pad, mode="reflect").reshape(-1, 3)
        b = np.pad(_blur(photo), pad, mode="reflect").reshape(-1, 3)
        self.gw = math.sqrt(guide_weight)
        self.guide = torch.from_numpy(np.ascontiguousarray(g)) * self.gw
        self.src_struct = torch.from_numpy(np.ascontiguousarray(b)) * self.gw
        hole_p = np.pad(hole, r, mode="constant", constant_values=False)
        self.hole_flat = torch.from_numpy(hole_p.reshape(-1))
        # sources: whole patch inside the allowed, known region (and inside the image)
        ok = np.pad(source & ~hole, r, mode="constant", constant_values=False)
        self.src_ok = torch.from_numpy(_erode(ok, r).reshape(-1))
        self.src_list = torch.nonzero(self.src_ok).flatten()
        targets = _dilate(hole_p, r)
        targets[:r], targets[-r:], targets[:, :r], targets[:, -r:] = False, False, False, False
        self.T = torch.nonzero(torch.from_numpy(targets.reshape(-1))).flatten()
        self.tid = torch.full((self.hp * self.wp,), -1, dtype=torch.long)
        self.tid[self.T] = torch.arange(self.T.numel())
        # Wexler's confidence: a pixel's vote counts alpha^(-distance to the known region), so
        # patches that still see real pixels decide over those deep inside the hole
        depth = cv2.distanceTransform(hole_p.astype(np.uint8), cv2.DIST_L2, 3) if hole_p.any() else np.zeros_like(hole_p, np.float32)
        self.conf = torch.from_numpy((CONF_ALPHA ** (-depth)).reshape(-1).astype(np.float32))
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        self.offsets = torch.from_numpy((dy * self.wp + dx).reshape(-1).astype(np.int64))
        self.patch_conf = self.conf[self.T[:, None] + self.offsets[None, :]].mean(1)
        self.refresh()

    def yx(self, idx):
        return idx // self.wp, idx % self.wp

    def valid_source(self, idx):
        inside = (idx >= 0) & (idx < self.hp * self.wp)
        return inside & self.src_ok[idx.clamp(0, self.hp * self.wp - 1)]

    def refresh(self) -> None:
        """Feature tables after the estimate changed: sources ``[est, w est]``, targets' patches
        ``[est, w guide]`` gathered once (``N x K x C``), so a distance is one gather and a sum."""
        torch = self.torch
        if self.gw > 0:
            self.fsrc = torch.cat([self.est, self.src_struct], 1)
            ftgt = torch.cat([self.est, self.guide], 1)
        else:
            self.fsrc, ftgt = self.est, self.est
        self.tpatch = ftgt[self.T[:, None] + self.offsets[None, :]]

    def distance(self, cand):
        """Patch distance of every target to ``cand`` (flat source indices; invalid -> inf)."""
        torch = self.torch
        ok = self.valid_source(cand)
        c = torch.where(ok, cand, self.T)  # any index in range; overwritten with inf below
        diff = self.fsrc[c[:, None] + self.offsets[None, :]]
        diff -= self.tpatch
        d = diff.square_().sum((1, 2))
        return torch.where(ok, d, torch.full_like(d, float("inf")))

    def improve(self, nnf, dist, cand):
        d = self.distance(cand)
        better = d < dist
        return self.torch.where(better, cand, nnf), self.torch.where(better, d, dist)

    def random_sources(self, n: int, gen):
        torch = self.torch
        pick = torch.randint(0, self.src_list.numel(), (n,), generator=gen)
        return self.src_list[pick]

    def patchmatch(self, nnf, dist, gen, steps: tuple[int, ...], radius: int, parity: int | None = None):
        """One PatchMatch round. ``parity`` 0 / 1 propagates from the left and top / right and
        bottom neighbours only (the original alternating scan orders, done in parallel); None
        from all four."""
        torch = self.torch
        for step in steps:  # propagation: a neighbour's match, shifted back
            dirs = ((0, step), (0, -step), (step, 0), (-step, 0))
            if parity is not None:
                dirs = dirs[parity::2]
            for dy, dx in dirs:
                delta = dy * self.wp + dx
                nb = self.tid[(self.T + delta).clamp(0, self.hp * self.wp - 1)]
                has = nb >= 0
                cand = torch.where(has, nnf[nb.clamp_min(0)] - delta, torch.full_like(nnf, -1))
                nnf, dist = self.improve(nnf, dist, cand)
        r = radius
        while r >= 1:  # random search around the current match, in shrinking windows
            sy, sx = self.yx(nnf)
            ny = sy + torch.randint(-r, r + 1, sy.shape, generator=gen)
            nx = sx + torch.randint(-r, r + 1, sx.shape, generator=gen)
            inside = (ny >= 0) & (ny < self.hp) & (nx >= 0) & (nx < self.wp)
            cand = torch.where(inside, ny * self.wp + nx, torch.full_like(nnf, -1))
            nnf, dist = self.improve(nnf, dist, cand)
            r //= 2
        return nnf, dist

    def vote(self, nnf, dist):
        """New estimate of the hole pixels from the matched patches (weighted mean)."""
        torch = self.torch
        finite = torch.isfinite(dist)
        sigma2 = float(torch.quantile(dist[finite], self.sigma_q)) if bool(finite.any()) else 1.0
        wt = torch.exp(-dist / (2 * max(sigma2, 1e-6))).clamp_min(1e-8) * finite
        wt = wt * self.patch_conf
        src = torch.where(finite, nnf, self.T)
        K = self.offsets.numel()
        dest = (self.T[:, None] + self.offsets[None, :]).reshape(-1)
        vals = self.est[(src[:, None] + self.offsets[None, :]).reshape(-1)] * wt.repeat_interleave(K)[:, None]
        acc = torch.zeros_like(self.est).index_add_(0, dest, vals)
        wsum = torch.zeros(self.est.shape[0]).index_add_(0, dest, wt.repeat_interleave(K))
        upd = self.hole_flat & (wsum > 0)
        self.est[upd] = acc[upd] / wsum[upd, None]
        self.refresh()

    def image(self) -> np.ndarray:
        r = self.r
        return self.est.view(self.hp, self.wp, 3)[r:r + self.h, r:r + self.w].numpy().copy()


def _upsample_nnf(torch, coarse: _Level, cnnf, fine: _Level, gen):
    """Each fine target starts from its coarse parent's match (x 2 + its position in the 2 x 2
    block); where that is not a valid source, from a random one."""
    ty, tx = fine.yx(fine.T)
    y, x = ty - fine.r, tx - fine.r  # unpadded fine coords
    py = (y // 2).clamp(0, coarse.h - 1) + coarse.r
    px = (x // 2).clamp(0, coarse.w - 1) + coarse.r
    parent = coarse.tid[py * coarse.wp + px]
    dense = torch.where(parent >= 0, cnnf[parent.clamp_min(0)], torch.full_like(parent, -1))
    sy, sx = coarse.yx(dense.clamp_min(0))
    fy = (sy - coarse.r) * 2 + (y % 2) + fine.r
    fx = (sx - coarse.r) * 2 + (x % 2) + fine.r
    cand = torch.where(parent >= 0, fy * fine.wp + fx, torch.full_like(parent, -1))
    ok = fine.valid_source(cand)
    return torch.where(ok, cand, fine.random_sources(cand.numel(), gen))


# ----------------------------------------------------------------------------- driver


def synthesize(image: np.ndarray, hole: np.ndarray, source: np.ndarray, guide: np.ndarray,
               settings: SynthesisSettings = SynthesisSettings(),
               should_stop: Callable[[], None] | None = None,
               on_level: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The image with ``hole`` synthesised from ``source`` (see the module docstring).

    ``should_stop`` is called between steps (raise there to cancel); ``on_level(i, n)`` reports
    progress. Raises ValueError when there is no usable source (too little known area)."""
    import torch

    s = settings
    image = np.ascontiguousarray(image, np.float32)
    guide = np.ascontiguousarray(guide, np.float32)
    hole = hole.astype(bool)
    source = source.astype(bool) & ~hole
    if not hole.any():
        return image.copy()
    shapes = level_shapes(hole.shape, hole, s)
    n = len(shapes)
    gen = torch.Generator().manual_seed(int(s.seed))
    # pyramids (finest first): holes grow (any fine hole pixel), sources shrink (all fine pixels ok)
    imgs, holes, srcs, guides = [image], [hole], [source], [guide]
    for shape in shapes[1:]:
        imgs.append(_down(imgs[-1], shape))
        guides.append(_down(guides[-1], shape))
        holes.append(_down(holes[-1].astype(np.float32), shape) > 1e-3)
        srcs.append(_down(srcs[-1].astype(np.float32), shape) > 0.999)
    prev = prev_nnf = None
    result = image
    for i, li in enumerate(reversed(range(n))):  # coarsest first
        if should_stop is not None:
            should_stop()
        patch = s.finest_patch if li == 0 else s.fine_patch if li <= 1 else s.patch
        gw = s.guide_weight * (s.guide_decay ** i)
        gw = gw if gw >= 0.05 else 0.0  # negligible at the fine levels: skip its cost
        start = imgs[li].copy()
        if prev is None:
            start[holes[li]] = guides[li][holes[li]]  # the structure predictor's answer to begin with
        else:
            up = cv2.resize(prev.image(), (shapes[li][1], shapes[li][0]), interpolation=cv2.INTER_LINEAR)
            start[holes[li]] = up[holes[li]]
        lvl = _Level(torch, start, holes[li], srcs[li], guides[li], patch, gw, s.sigma_quantile)
        if lvl.src_list.numel() == 0:
            # no whole patch of source at this level (a hole that covers most of the window looks
            # even bigger when coarse): start at a finer level, or keep the upsampled estimate
            prev_nnf = None
            result = start
            continue
        if lvl.T.numel() == 0:
            result = start
            continue
        nnf = _upsample_nnf(torch, prev, prev_nnf, lvl, gen) if prev is not None and prev_nnf is not None \
            else lvl.random_sources(lvl.T.numel(), gen)
        dist = lvl.distance(nnf)
        if prev is not None and prev_nnf is not None:
            # Wexler's step: the first estimate at a finer level is voted from the upsampled field,
            # so it carries the sources' texture at this resolution rather than the blur of the
            # upsampled image (searching against that blur would pull in flat patches)
            lvl.vote(nnf, torch.zeros_like(dist))
            dist = lvl.distance(nnf)
        iters = s.em_coarse if n == 1 else round(s.em_coarse + (s.em_fine - s.em_coarse) * i / (n - 1))
        for it in range(max(1, iters)):
            if should_stop is not None:
                should_stop()
            first = prev is None and it == 0
            steps = (8, 4, 2, 1) if first else (1,)
            # the first level searches the whole window; finer ones refine an upsampled field
            radius = max(lvl.h, lvl.w) if prev is None else max(2, min(4, max(lvl.h, lvl.w) // 8))
            nnf, dist = lvl.patchmatch(nnf, dist, gen, steps, radius)
            lvl.vote(nnf, dist)
            dist = lvl.distance(nnf)  # distances against the new estimate
        if li == 0 and s.final_copy > 0:
            # the finest level's last step: blend the vote with a plain copy of each pixel's own
            # match (no averaging over the overlapping patches, so no blur), restoring texture
            hole_t = lvl.hole_flat[lvl.T] & torch.isfinite(dist)
            tgt = lvl.T[hole_t]
            lvl.est[tgt] = (1 - s.final_copy) * lvl.est[tgt] + s.final_copy * lvl.est[nnf[hole_t]]
        prev, prev_nnf = lvl, nnf
        result = lvl.image()
        if on_level is not None:
            on_level(i + 1, n)
    out = image.copy()
    out[hole] = np.clip(result[hole], 0.0, 1.0)
    return out
