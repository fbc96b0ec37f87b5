"""Post-processing of colorization in ab: edge-aware hint spreading, the class-head prior, hint fixing.

Three pieces, all numpy + OpenCV at the network's working size (``s x s``, usually 256²):

- :func:`geodesic_nearest`: for every pixel, the hint reachable at the lowest *geodesic* cost, where a
  step costs its length (``1 / side`` per pixel, so a crop spreads like the whole photo) plus
  ``EDGE_LAMBDA`` times the lightness change along it beyond a small ``EDGE_FLOOR`` (texture is
  nearly free, a strong L edge is a wall). Computed by alternating raster sweeps (fast sweeping, each
  row/column a vector operation). Unlike the older "lightness walls" (:mod:`.spread`, which compares
  each pixel's L with the hint's), colour cannot leak past an edge into a region of similar L.
- :func:`annealed_mean`: the ECCV16 decoding of the SIGGRAPH17 class head (529-bin 23 x 23 ab grid):
  softmax(logits / T) with T = 0.38, expectation over the bin centres. Measured on BSDS500 train
  (12 photos): blending it in where no hint is near lifts the 0-hint colourfulness ratio of the
  bundled nets only from 0.38 to 0.40-0.43 and costs 0.03-0.3 dB (their class heads were trained
  briefly), so it is off (``PRIOR_WEIGHT`` = 0).
- :func:`refine_ab`, the engine's post-process of a SIGGRAPH17 net's ab, in this order:
  (i) with 2+ hints, the geodesic nearest-hint answer (one hint per region, bounded by edges; where
  two regions meet in a flat area, smoothed into a ramp over ``SEAM_SMOOTH`` px instead of a straight
  seam, except next to a hint) blended in with a share that falls with the geodesic cost to that hint
  (``SHARE_D0``, ``SHARE_P``; fitted per cost band on BSDS500 train/test: the least-squares share is
  about 1 next to a hint and 0.2 far away) for the spread-input net, a constant ``MIX_PLAIN`` for a
  plain one, ramping up to ``MIX_FULL_AT`` hints (one hint would tint the whole photo);
  (ii) a chroma *detail* gain: each pixel's deviation from the photo's mean ab is scaled
  (``DETAIL_GAIN_0`` without hints, gated per pixel by the class head's mass on grey bins, so grey
  stays grey; ``DETAIL_GAIN_HINTS`` rising by ``DETAIL_GAIN_SLOPE`` per doubling beyond 10 hints; with
  1-2 hints and the net's 0-hint answer given, that answer's gated detail is added instead,
  ``ZERO_DETAIL``, else ``DETAIL_GAIN_1`` / ``DETAIL_GAIN_HINTS``), so regions differ in colour as
  much as in a photo instead of sharing the regression's grey-olive average; it trades a little
  PSNR for colourfulness (issue 20: ratio >= 0.6 without hints, >= 0.85 with 10-30); a uniform
  chroma gain (``ZERO_HINT_GAIN``, off) bought less colour per dB;
  (iii) each hint's own colour at its point: the residual at each hint spread over the pixels
  geodesically nearest to it with a soft Gaussian falloff in geodesic cost (``FIX_RADIUS``),
  smoothed by a guided filter on L (no seams, no dots), twice (the filter takes a little of each
  peak); after the gain, so hints keep their exact colour.

Tensor contract: ``L`` float32 ``s x s`` in [0, 100]; ab float32 ``s x s x 2``; logits ``C x s/4 x s/4``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..core.protocol import Hint
from .lab import AB_GRID, bin_to_ab, rgb_to_lab

EDGE_LAMBDA = 1.0  # geodesic cost per unit of L (of 100) beyond EDGE_FLOOR, in image widths. 3.0 measured on
# 30 BSDS500 train photos (nested hints, the gains below): +0.09 / +0.13 / +0.13 dB at 5 / 10 / 30 hints,
# colourfulness -0.001 / -0.005 / -0.006; so the engine's post-process (refine_ab) uses REFINE_EDGE_LAMBDA.
# geodesic_nearest's default (and so the baseline's) stays 1.0: the baseline is the bench's fixed reference
REFINE_EDGE_LAMBDA = 3.0  # held out (CBSD68 / Kodak24, 5-30 hints): +0.05..0.11 dB, colourfulness -0.002..-0.007
EDGE_FLOOR = 2.0  # L steps below this (per pixel) are texture/shading: free
TONE = 2.0  # cost per 100 of L difference between a pixel and its hint (as .spread's LAMBDA)
SWEEPS = 2  # rounds of the four directional sweeps
T_ANNEAL = 0.38  # Zhang et al. 2016
PRIOR_WEIGHT = 0.0  # off: see the module notes; how far towards the annealed mean the ab moves where no hint is near
PRIOR_RADIUS = 0.3  # geodesic cost (image widths) at which a hint's say falls to 1/e
FIX_PASSES = 2  # the guided filter takes a little of each correction's peak: a second pass restores it
ZERO_HINT_GAIN = 1.0  # chroma gain of the whole answer without hints (kept at 1: DETAIL_GAIN is cheaper)
# Gain on each pixel's deviation from the photo's mean ab (the net's near-uniform olive cast stays, the
# colour differences between regions grow). First fit (commit 05bb4ce), 60 BSDS500 train/test photos at 256²:
# without hints x2.5 took the colourfulness ratio 0.36 -> 0.61 for -0.21 dB (a uniform chroma gain of 1.6
# reached only 0.57 for -0.39 dB; a gain by lightness band did not hold between halves of the set).
DETAIL_GAIN_0 = 3.8  # without hints. x2.5 before the neutral gate: 0.587 / -0.10 dB on the 60 photos below;
# x3.5 gated: held out CBSD68 0.684 / -0.21 dB, Kodak24 0.585 / -0.27 (short of 0.6). Issue 20 follow-up, 60
# other BSDS500 train/test photos (seed 20), nested hints, vs the bare net: x3.5 0.667 / -0.27 dB, x3.8
# 0.702 / -0.34. Per-pixel weights tried at equal colour (0.65) all cost -0.23..-0.25 dB: the grey gate,
# (1 - grey)^2, x class-head confidence (1 - normalised entropy) or its inverse, x |annealed mean|, x an L
# band, x a per-photo deviation norm (the head is surest on grey/dark pixels, where the net's own
# deviations are already at or above their least-squares scale 0.87; the least-squares gain over all
# pixels is 1.36, so any gain that reaches 0.6 costs PSNR). The net's mean ab is about (-1.6, 10) on
# every photo, the truth's mean over the set about the same, so no cast correction was kept
# Held out with x3.8 (commit c4d3739): CBSD68 0.720 / -0.28 dB, Kodak24 0.616 / -0.34 vs the bare net
ZERO_DETAIL = (1.9, 1.0)  # 1 and 2 hints, with the net's 0-hint answer ab0 given (the engine runs that
# second pass at 1-2 hints): out = the net's answer + K x (1 - p_grey0) x (ab0 - mean ab0), the 0-hint
# answer's own gated detail, no gain on the hinted answer's deviations. At 1 hint the hinted net's
# deviations are over-scaled (least-squares gain 0.67) while the 0-hint ones are under-scaled (1.36), so
# borrowing the latter buys colour for less: 60 BSDS500 photos (seed 20) vs the bare net, 1 hint
# gated gain x1.55 0.659 / -0.20 dB, x2.0 0.725 / -0.42, K 1.9 0.740 / -0.24; 2 hints gain x1.15
# 0.790 / -0.12, K 1.0 0.786 / +0.02
# Held out (CBSD68 / Kodak24): 1 hint 0.745 / 0.697, -0.24 / -0.17 dB (gain x1.55 was 0.648 / 0.645,
# -0.09 / -0.16); 2 hints 0.760 / 0.729, +0.01 / +0.01 dB (x1.15 was 0.760 / 0.735, -0.06 / -0.08)
DETAIL_GAIN_1 = 1.55  # with one hint and no ab0 (refine_ab called without the 0-hint pass): the gated
# gain of commit bca5386 (x1.15 here made the photo duller than without hints: 0.587 -> 0.571)
DETAIL_GAIN_HINTS = 1.2  # (was 1.15; issue 20 seam fix: the soft spread and SEAM_SMOOTH left 5-30 hints
# +0.18..+0.33 dB but 0.025..0.036 less colourful on 50 BSDS500 photos, seed 20; x1.2 gives back the colour
# for half the dB, see .spread) with 2-10 hints (2 without ab0), before the hint fix, so hints keep their exact colour. A
# ramp from DETAIL_GAIN_0 over the first 4 hints (so 0 -> 1 hint never greys) measured held out: 1 / 2 hints
# CBSD68 24.34 / 24.72 dB (-0.4 / -0.8), Kodak24 22.66 / 21.76 (-0.5 / -1.3), colour 1.21 at 2: not kept
DETAIL_GAIN_SLOPE = 0.03  # added per doubling of the hint count beyond 10 (20: x1.18, 30: x1.198, 50: x1.22,
# 100: x1.25): at a fixed x1.15 the colourfulness stalls from 20 to 30 hints (60 BSDS500 photos 0.937 /
# 0.936; held out Kodak24 fell 0.931 / 0.897 / 0.891 at 10 / 20 / 30); with the slope 0.952 / 0.958 / 0.978
# at 20 / 30 / 50 for -0.09 / -0.14 / -0.21 dB (still +0.08 / +0.13 / +0.15 above the bare net)
# Held out 20 / 30 / 50 / 100 hints: CBSD68 0.891 / 0.923 / 0.945 / 0.958 (was 0.878 / 0.902 / 0.917 /
# 0.926), Kodak24 0.912 / 0.912 / 0.937 / 0.957 (still below 0.931 at 10); +0.14..+0.48 dB over the bare net
NEUTRAL_RADIUS = 12.0  # ab radius of the class head's "grey" bins (the centre bin and its 4 neighbours)
NEUTRAL_GATE_UPTO = 1  # hints: the gate applies to the large gains (0 and 1 hint) only. Gated, each pixel's
# gain is 1 + (gain - 1) x (1 - p_grey), p_grey = the head's softmax mass on the grey bins: a region the
# head calls grey (a statue, a grey sky) is not pushed to the photo's brown/olive cast. Fitted on 60
# BSDS500 train/test photos (30 + 30, seeded choice), nested hints, vs the bare net: 0 hints
# x3.5 gated 0.613 / -0.10 dB (x2.5 ungated 0.587 / -0.10, x3.0 ungated 0.664 / -0.23); gated with 2+
# hints it cost colour (10 hints 0.862 vs 0.880), so it is not used there
SHARE_D0 = 0.15  # geodesic cost at which the nearest hint's share falls to 1/2 (spread-input net)
SHARE_P = 0.8  # share(d) = 1 / (1 + (d / SHARE_D0) ** SHARE_P): fitted to the least-squares share per
# cost band on BSDS500 train/test (about 0.95 at d < 0.01, 0.55 at 0.07, 0.35 at 0.3, 0.2 at 0.5)
MIX = 0.35  # a constant share of the geodesic nearest-hint answer (refine_ab's default; the engine uses the SHARE_D0 curve)
MIX_FULL_AT = 4  # hints
MIX_PLAIN = 0.65  # the same for a net without the spread input (it follows hints less)
SEAM_SMOOTH = 8  # px: radius of the guided filter (on L, eps SEAM_EPS) that smooths step (i)'s nearest-hint
SEAM_EPS = 100.0  # target (issue 20): in a flat region two cells met at a straight seam (34 ab in one pixel on
# flat grey with 2 hints, 7 with this and the soft spread); kept sharp next to each hint (FIX_RADIUS), where it
# raised the hint error (50 BSDS500 photos, 10 / 30 hints: 0.56 / 0.79 dE smoothed everywhere, 0.47 / 0.59 kept)
FIX_RADIUS = 0.08  # geodesic cost over which a hint's residual fades (Gaussian sigma)


def _sweep(d: np.ndarray, lab: np.ndarray, L: np.ndarray, step: float, lam: float, floor: float,
           tone: float, hint_L: np.ndarray) -> None:
    """One top-to-bottom sweep on (views of) the path-cost and label planes, in place.

    A pixel keeps the candidate with the lowest path cost + ``tone`` x |L(pixel) - L(hint)|."""
    def cost(a, b, length):
        return length * step + lam * np.maximum(np.abs(a - b) - floor, 0.0)

    h = d.shape[0]
    r2 = np.float32(np.sqrt(2.0))
    for y in range(1, h):
        prev, cur, Lp, Lc = d[y - 1], d[y], L[y - 1], L[y]
        cand = prev + cost(Lc, Lp, 1.0)
        src = lab[y - 1].copy()
        key = cand + tone * np.abs(Lc - hint_L[src])
        for c, sl_to, sl_from in ((prev[:-1] + cost(Lc[1:], Lp[:-1], r2), slice(1, None), slice(None, -1)),
                                  (prev[1:] + cost(Lc[:-1], Lp[1:], r2), slice(None, -1), slice(1, None))):
            s_from = lab[y - 1, sl_from]
            k = c + tone * np.abs(Lc[sl_to] - hint_L[s_from])
            m = k < key[sl_to]
            cand[sl_to][m] = c[m]
            src[sl_to][m] = s_from[m]
            key[sl_to][m] = k[m]
        better = key < cur + tone * np.abs(Lc - hint_L[lab[y]])
        cur[better] = cand[better]
        lab[y][better] = src[better]


def geodesic_nearest(L: np.ndarray, points: Sequence[tuple[int, int]], side: float | None = None,
                     lam: float = EDGE_LAMBDA, floor: float = EDGE_FLOOR, tone: float = TONE,
                     sweeps: int = SWEEPS) -> tuple[np.ndarray, np.ndarray]:
    """(path cost ``H x W`` float32, index ``H x W`` int32 of the nearest point; -1 without points).

    Nearest = lowest geodesic path cost + ``tone`` / 100 x |L(pixel) - L(point)| (the older
    lightness-walls term, in image widths per 100 L)."""
    h, w = L.shape
    d = np.full((h, w), np.inf, np.float32)
    lab = np.full((h, w), -1, np.int32)
    if len(points) == 0:
        return d, lab
    step = 1.0 / float(side or max(h, w))
    L = np.asarray(L, np.float32)
    for i, (py, px) in enumerate(points):
        py, px = min(h - 1, max(0, int(py))), min(w - 1, max(0, int(px)))
        d[py, px] = 0.0
        lab[py, px] = i
    lam = np.float32(lam / 100.0)
    # L of each point; index -1 (unreached) gets +inf tone so any real candidate wins
    hint_L = np.array([L[min(h - 1, max(0, int(py))), min(w - 1, max(0, int(px)))] for py, px in points]
                      + [np.inf], np.float32)
    tone = np.float32(tone / 100.0)
    for _ in range(sweeps):
        for view in (lambda a: a, lambda a: a[::-1], lambda a: a.T, lambda a: a.T[::-1]):  # down, up, right, left
            _sweep(view(d), view(lab), view(L), step, lam, floor, tone, hint_L)
    return d, lab


def hint_points(hints: Sequence[Hint], image_hw: tuple[int, int], s: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Hints -> (points ``(y, x)`` on the ``s x s`` plane, ab ``N x 2``)."""
    H, W = image_hw
    rgb = np.clip(np.array([h.rgb for h in hints], np.float32).reshape(-1, 1, 3), 0.0, 1.0)
    ab = rgb_to_lab(rgb)[:, 0, 1:] if len(hints) else np.zeros((0, 2), np.float32)
    pts = [(min(s - 1, int((h.y + 0.5) * s / H)), min(s - 1, int((h.x + 0.5) * s / W))) for h in hints]
    return pts, ab


def geodesic_spread(L_net: np.ndarray, hints: Sequence[Hint], image_hw: tuple[int, int]) -> np.ndarray:
    """ab ``s x s x 2``: every pixel takes the ab of its geodesically nearest hint (one hint, never
    a mix); 0 (grey) without hints."""
    s = L_net.shape[0]
    ab = np.zeros((s, s, 2), np.float32)
    if not hints:
        return ab
    pts, vals = hint_points(hints, image_hw, s)
    _, idx = geodesic_nearest(L_net, pts, side=s)
    return vals[np.maximum(idx, 0)].astype(np.float32)


def annealed_mean(logits: np.ndarray, T: float = T_ANNEAL) -> np.ndarray:
    """ab ``h x w x 2`` from class logits ``C x h x w`` (C = 529: the 23 x 23 grid): the expectation
    over bin centres of softmax(logits / T)."""
    z = np.asarray(logits, np.float64)
    c = z.shape[0]
    if c != AB_GRID * AB_GRID:
        raise ValueError(f"annealed mean needs the {AB_GRID}x{AB_GRID} grid's {AB_GRID * AB_GRID} logits, got {c}")
    z = z / T
    z -= z.max(axis=0, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=0, keepdims=True)
    centres = bin_to_ab(np.arange(c)).astype(np.float64)  # C x 2
    return np.einsum("chw,ck->hwk", p, centres).astype(np.float32)


def prior_ab(logits: np.ndarray, s: int, T: float = T_ANNEAL) -> np.ndarray:
    """The annealed-mean prior resized (bilinear) to ``s x s x 2``."""
    ab = annealed_mean(logits, T)
    return cv2.resize(ab, (s, s), interpolation=cv2.INTER_LINEAR)


def grey_mass(logits: np.ndarray, s: int, radius: float = NEUTRAL_RADIUS) -> np.ndarray:
    """``s x s`` float32 in [0, 1]: the class head's softmax (T = 1) mass on the bins within
    ``radius`` of ab = 0, bilinearly resized: how sure the head is that a pixel is grey."""
    z = np.asarray(logits, np.float32)
    if z.shape[0] != AB_GRID * AB_GRID:
        raise ValueError(f"grey mass needs the {AB_GRID}x{AB_GRID} grid's {AB_GRID * AB_GRID} logits, got {z.shape[0]}")
    z = z - z.max(axis=0, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=0, keepdims=True)
    grey = np.linalg.norm(bin_to_ab(np.arange(z.shape[0])), axis=1) <= radius
    m = np.ascontiguousarray(p[grey].sum(axis=0), np.float32)
    return np.clip(cv2.resize(m, (s, s), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def detail_gain_for(hints: int) -> float:
    """The default chroma detail gain for ``hints`` hints without the 0-hint pass (see the constants)."""
    if hints <= 0:
        return DETAIL_GAIN_0
    if hints == 1:
        return DETAIL_GAIN_1
    return DETAIL_GAIN_HINTS + DETAIL_GAIN_SLOPE * float(np.log2(max(hints, 10) / 10.0))


def _smooth(L: np.ndarray, x: np.ndarray, radius: int = 4, eps: float = 25.0) -> np.ndarray:
    """Guided filter of ``x`` (``H x W x 2``) on L (edge-preserving)."""
    guide = np.ascontiguousarray(L, np.float32)
    return cv2.ximgproc.guidedFilter(guide, np.ascontiguousarray(x, np.float32), radius, eps)


def refine_ab(L_net: np.ndarray, ab: np.ndarray, hints: Sequence[Hint], image_hw: tuple[int, int],
              logits: np.ndarray | None = None, prior_weight: float = PRIOR_WEIGHT,
              prior_radius: float = PRIOR_RADIUS, fix_radius: float = FIX_RADIUS,
              T: float = T_ANNEAL, gate: bool = True, mix: float = MIX, fix_passes: int = FIX_PASSES,
              gain: float = ZERO_HINT_GAIN, detail_gain: float | None = None,
              share_d0: float = 0.0, neutral_radius: float = NEUTRAL_RADIUS,
              edge_lambda: float = REFINE_EDGE_LAMBDA, ab0: np.ndarray | None = None,
              logits0: np.ndarray | None = None) -> np.ndarray:
    """The network's ab with the prior away from hints and each hint's own colour at its point.

    ``share_d0`` > 0: the nearest hint's share falls with the geodesic cost ``d`` to it,
    ``mix`` x 1 / (1 + (d / share_d0) ** SHARE_P) (``mix`` = 1 for the full curve); 0: a constant
    ``mix``. ``detail_gain`` (default ``DETAIL_GAIN_0`` / ``DETAIL_GAIN_HINTS``) scales each pixel's
    ab deviation from the photo's mean ab, before the hints' colours are put back at their points;
    with 0 / 1 hints and ``logits`` given it is gated by the head's grey mass (:func:`grey_mass`,
    ``neutral_radius`` 0: off). ``ab0`` / ``logits0``: the same net's answer (``s x s x 2``) and class
    logits without hints; given with 1 or 2 hints (``len(ZERO_DETAIL)``), the 0-hint answer's detail
    (its deviation from its mean, gated by its head's grey mass when ``logits0`` is a class head) is added
    x ``ZERO_DETAIL[n - 1]`` and the detail gain defaults to 1."""
    s = L_net.shape[0]
    out = np.asarray(ab, np.float32).copy()
    pts, vals = hint_points(hints, image_hw, s) if hints else ([], np.zeros((0, 2), np.float32))
    d, idx = geodesic_nearest(L_net, pts, side=s, lam=edge_lambda)
    has_head = logits is not None and np.asarray(logits).shape[0] == AB_GRID * AB_GRID  # a 529-bin class head
    if has_head and prior_weight > 0:
        prior = prior_ab(logits, s, T)
        far = 1.0 if not pts else 1.0 - np.exp(-d / prior_radius)[..., None]
        w = prior_weight * far
        if gate:  # only where the prior is more colourful than the regression (near-grey averages)
            more = np.linalg.norm(prior, axis=-1) - np.linalg.norm(out, axis=-1)
            w = w * np.clip(more / 10.0, 0.0, 1.0)[..., None]
        out += w * (prior - out)
    borrow = ab0 is not None and 1 <= len(pts) <= len(ZERO_DETAIL)
    if borrow:  # the 0-hint answer's (under-scaled, truth-correlated) detail; see ZERO_DETAIL
        a0 = np.asarray(ab0, np.float32)
        if a0.shape != out.shape:
            raise ValueError(f"ab0 must have the answer's shape {out.shape}, got {a0.shape}")
        w0: float | np.ndarray = 1.0
        if logits0 is not None and np.asarray(logits0).shape[0] == AB_GRID * AB_GRID and neutral_radius > 0:
            w0 = (1.0 - grey_mass(logits0, s, neutral_radius))[..., None]
        mean0 = a0.reshape(-1, 2).mean(axis=0, dtype=np.float64).astype(np.float32)
        out += np.float32(ZERO_DETAIL[len(pts) - 1]) * w0 * (a0 - mean0)
    if not pts and gain != 1.0:  # no hints: the regression's average is muted; with hints it is not
        out *= gain
    # each hint's say near its point: a Gaussian in geodesic cost (step (i) keeps the hint's own colour
    # there unsmoothed; step (iii) spreads the hint's residual with it)
    fall = np.exp(-0.5 * (d / fix_radius) ** 2)[..., None] if pts and fix_radius > 0 else None
    if pts and mix > 0:  # a share of the edge-aware nearest-hint answer (one hint per pixel, no mixing);
        # none with one hint (it would tint the whole photo), the full share from MIX_FULL_AT hints
        share = mix * min(1.0, (len(pts) - 1) / (MIX_FULL_AT - 1))
        if share_d0 > 0:  # near a hint (in geodesic cost) its colour, far from all the net's
            share = share * (1.0 / (1.0 + (d / share_d0) ** SHARE_P))[..., None]
        target = vals[np.maximum(idx, 0)]
        if SEAM_SMOOTH > 0 and len(pts) > 1:  # the cells' straight bisectors in flat regions become
            # ramps (issue 20); next to each hint (Gaussian in geodesic cost, fix_radius) its own colour stays
            near = fall if fall is not None else 0.0
            target = target + (1.0 - near) * (_smooth(L_net, target, SEAM_SMOOTH, SEAM_EPS) - target)
        out += share * (target - out)
    if detail_gain is None:
        detail_gain = 1.0 if borrow else detail_gain_for(len(pts))
    if detail_gain != 1.0:
        g: float | np.ndarray = np.float32(detail_gain)
        if has_head and neutral_radius > 0 and len(pts) <= NEUTRAL_GATE_UPTO:
            g = (1.0 + (g - 1.0) * (1.0 - grey_mass(logits, s, neutral_radius)))[..., None]
        mean = out.reshape(-1, 2).mean(axis=0, dtype=np.float64).astype(np.float32)
        out = mean + (out - mean) * g
    if fall is not None:
        for _ in range(fix_passes):
            # residual at each hint, on a 3 x 3 patch around its point
            res = np.empty((len(pts), 2), np.float32)
            for i, (py, px) in enumerate(pts):
                patch = out[max(0, py - 1) : py + 2, max(0, px - 1) : px + 2].reshape(-1, 2).mean(axis=0)
                res[i] = vals[i] - patch
            out += _smooth(L_net, res[np.maximum(idx, 0)] * fall)
    return out
