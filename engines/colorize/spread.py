"""Spread sparse ab hints over a lightness plane: each pixel takes its "nearest" hint's ab.

"Nearest" mixes image distance and lightness difference:
``cost = |p - hint| / side + LAMBDA * |L(p) - L(hint)| / 100``, so an edge in lightness acts as a
soft wall. ``side`` is the side of the whole working image (256 at inference), so a training crop
of a 256² photo spreads exactly as the full photo would. No points -> ab 0 (grey).

Used for the optional "spread" input of a SIGGRAPH17 network trained to correct it (:mod:`.archs`,
``spread_input``), in training and at inference: the bundled spread net was trained on this input.
The classical baseline and the engines' post-process use the edge-aware geodesic spread instead
(:mod:`.refine`); fed to the bundled net in place of this one it measured +0.6 dB at 10 hints but
-0.3 / -0.6 dB at 30 / 100 on BSDS500 train, so the net keeps this input.

At inference (issue 20) two departures from the hard partition the net was trained on, because the
net copies the partition's straight bisectors as hard seams (a yellow wedge over a wall and half a
sky at 2 hints) and one hint's colour over the whole photo:

- a soft partition (``SOFT_T``): each pixel's ab is the hints' values weighted by
  ``exp(-(cost - lowest cost) / SOFT_T)``, so neighbouring cells ramp into each other;
- with 1 hint (``FADE_UPTO``) a fade, far from the hint, to the net's own answer without hints
  (``FADE_C0``, ``FADE_P``; the engine runs that pass anyway for ``refine.ZERO_DETAIL``).

Chosen with the whole engine on 50 BSDS500 train/test photos at 256² (seed 20, nested hints as the
bench samples them); PSNR dB (colourfulness ratio) at 1 / 2 / 3 / 5 / 10 / 30 hints:

- hard (before): 24.00 (0.643) / 24.81 (0.711) / 24.86 (0.770) / 25.70 (0.817) / 26.82 (0.848) / 28.38 (0.939)
- soft T 0.05: 1 hint the same / 24.85 (0.704) / 24.95 (0.757) / 25.85 (0.796) / 26.95 (0.830) / 28.59 (0.918);
  T 0.03: 2-30 hints 24.84 / 24.91 / 25.78 / 26.89 / 28.49 (0.707..0.930); T 0.15: +0.13..+0.5 dB, colour
  -0.03..-0.10
- now (soft 0.05, fade 1.1 at 1 hint, refine's SEAM_SMOOTH, DETAIL_GAIN_HINTS 1.15 -> 1.2): 24.16 (0.686) /
  24.86 (0.703) / 24.90 (0.775) / 25.81 (0.813) / 26.92 (0.845) / 28.61 (0.925); hint dE 0.97 / 0.63 /
  0.55 / 0.54 / 0.56 / 0.67 (before 0.98 / 0.64 / 0.48 / 0.46 / 0.48 / 0.59). Checked on 40 other photos
  (seed 21): before 23.72 / 24.56 / 24.70 / 25.58 / 26.64 / 28.44, now 23.92 / 24.60 / 24.72 / 25.65 /
  26.77 / 28.63; colour before 0.675 / 0.703 / 0.811 / 0.835 / 0.926 / 0.963, now 0.697 / 0.694 / 0.816 /
  0.837 / 0.922 / 0.952; 60 others at full size (seed 22), 1 / 2 hints: before 23.68 / 24.99, now 24.02 /
  25.04 (colour 0.795 / 0.822 -> 0.788 / 0.813).
- not kept: the hard spread x a falloff to 0 in the same cost (zero reads as "grey" to the net):
  c0 0.35: -0.37 / -0.58 / -0.33 / -0.26 / -0.46 / -0.16 dB, colour -0.04..-0.19; c0 0.6: about equal
  dB at 5-10, colour -0.07..-0.1; no spread below 3 hints: 1 / 2 hints 23.34 (0.567) / 23.75 (0.471);
  fading to the 0-hint answer at every count (c0 0.35): -0.43 dB / -0.12 colour at 10; at 1-2 hints
  c0 0.5 / 0.8 / 1.1: 1 hint 23.67 / 23.99 / 24.16 dB, 2 hints (c0 0.8 / 1.1) 24.77 / 24.89.
Training (``train.py --spread-mode soft``) can build exactly this input (:func:`spread_input`); a 55-min
fine-tune of the bundled net on it measured 0.04..0.11 dB lower at 0-2 hints and equal at 5-30 on the 50
photos above (card), so the bundled net is still the hard-trained one.
Tensor contract: ``L`` float32 ``H x W`` in [0, 100]; points ``(y, x)`` integer pixel positions
in that plane; values ab in [-110, 110]; returns float32 ``H x W x 2``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.protocol import Hint
from .lab import rgb_to_lab

LAMBDA = 2.0  # a lightness step of 50 (of 100) costs as much as a full image width
SOFT_T = 0.05  # inference only (issue 20): the engine's spread is a soft partition at this temperature
FADE_C0 = 1.1  # with 1 hint (FADE_UPTO) the spread fades to the net's 0-hint answer at this cost ...
FADE_P = 4.0  # ... with this steepness (f = 1/2 at FADE_C0, 0.94 at half of it, 0.11 at 1.5 x)
FADE_UPTO = 1  # hints. At 2 hints the fade measured +0.035 / +0.06 / -0.06 dB, colourfulness -0.008 / -0.032 /
# -0.045 (BSDS500 train/test, seeds 20 / 21 at 256², seed 22 60 photos at full size), so 2 hints keep the soft
# partition alone (24.86 / 24.60 / 25.04 dB, 0.703 / 0.694 / 0.813; hard: 24.81 / 24.56 / 24.99, 0.711 / 0.703 / 0.822)


def spread_points(L: np.ndarray, points: Sequence[tuple[int, int]], values: np.ndarray,
                  side: float | None = None, temperature: float = 0.0) -> np.ndarray:
    """ab ``H x W x 2``: each pixel the value of its lowest-cost point (``temperature`` 0, a hard
    partition, as in training), or with ``temperature`` T > 0 a soft partition: the values weighted
    by ``exp(-(cost - lowest cost) / T)``, so cells blend across their bisector instead of meeting at a
    hard seam (a point's own neighbourhood still takes its value: a cost gap of 3 T leaves 5 %)."""
    if temperature > 0:
        return _soft_spread(L, points, values, side, temperature)
    h, w = L.shape
    ab = np.zeros((h, w, 2), np.float32)
    if len(points) == 0:
        return ab
    best = np.full((h, w), np.inf, np.float32)
    closer = np.empty((h, w), bool)
    for cost, value in zip(_costs(np.asarray(L, np.float32), points, float(side or max(h, w))),
                           np.asarray(values, np.float32).reshape(-1, 2)):
        np.less(cost, best, out=closer)
        np.copyto(best, cost, where=closer)
        ab[closer] = value
    return ab


def _costs(L: np.ndarray, points, side: float):
    """Yield each point's cost plane (``H x W`` float32), the formula of the module docstring."""
    h, w = L.shape
    cols = np.arange(w, dtype=np.float32)
    rows = np.arange(h, dtype=np.float32)[:, None]
    for py, px in points:
        py, px = min(h - 1, max(0, int(py))), min(w - 1, max(0, int(px)))
        cost = np.sqrt((rows - py) ** 2 + (cols - px) ** 2) * np.float32(1.0 / side)
        cost += np.abs(L - L[py, px]) * np.float32(LAMBDA / 100.0)
        yield cost


def _soft_spread(L: np.ndarray, points, values, side, temperature: float) -> np.ndarray:
    """The softmin-weighted spread, streamed over the points (a running minimum keeps the
    exponentials in range; memory does not grow with the number of points)."""
    h, w = L.shape
    if len(points) == 0:
        return np.zeros((h, w, 2), np.float32)
    side = float(side or max(h, w))
    L = np.asarray(L, np.float32)
    best = np.full((h, w), np.inf, np.float32)
    acc = np.zeros((h, w, 2), np.float32)
    total = np.zeros((h, w), np.float32)
    inv_t = np.float32(1.0 / temperature)
    for cost, value in zip(_costs(L, points, side), np.asarray(values, np.float32).reshape(-1, 2)):
        low = np.minimum(best, cost)
        keep = np.exp((low - best) * inv_t)  # rescales what was summed against the old minimum (0 at first)
        mine = np.exp((low - cost) * inv_t)
        acc *= keep[..., None]
        acc += mine[..., None] * value
        total *= keep
        total += mine
        best = low
    return acc / total[..., None]


def spread_input(L: np.ndarray, points: Sequence[tuple[int, int]], values: np.ndarray, side: float,
                 base: np.ndarray | None = None) -> np.ndarray:
    """What the engine feeds a spread-input net, from points in plane pixels and their ab values: the
    soft partition (``SOFT_T``), and with ``base`` (``H x W x 2``, the net's own answer without hints)
    and at most ``FADE_UPTO`` points a fade to it far from every point (in the same cost),
    ``base + f (spread - base)`` with ``f = 1 / (1 + (cost / FADE_C0) ** FADE_P)``; with more points
    ``base`` is not used. No points -> 0. The one formula for inference (:func:`spread_hints`) and
    training (``train.py --spread-mode soft``, on a crop with ``side`` the whole photo's)."""
    if len(points) == 0:
        return np.zeros(np.shape(L) + (2,), np.float32)
    ab = spread_points(L, points, values, side=side, temperature=SOFT_T)
    if base is not None and len(points) <= FADE_UPTO:
        best = np.minimum.reduce(list(_costs(np.asarray(L, np.float32), points, float(side))))
        fade = (1.0 / (1.0 + (best / FADE_C0) ** FADE_P))[..., None]
        ab = base + fade * (ab - base)
    return ab.astype(np.float32)


def spread_hints(L_net: np.ndarray, hints: Sequence[Hint], image_hw: tuple[int, int],
                 base: np.ndarray | None = None) -> np.ndarray:
    """ab ``s x s x 2`` from hints (image coordinates, RGB) over an ``s x s`` L plane (0 without hints):
    :func:`spread_input` (soft partition; with ``base`` and up to ``FADE_UPTO`` hints, the fade to it far
    from every hint)."""
    if not hints:
        return np.zeros(L_net.shape + (2,), np.float32)
    s = L_net.shape[0]
    H, W = image_hw
    rgb = np.clip(np.array([h.rgb for h in hints], np.float32).reshape(-1, 1, 3), 0.0, 1.0)
    hint_ab = rgb_to_lab(rgb)[:, 0, 1:]
    points = [(int((h.y + 0.5) * s / H), int((h.x + 0.5) * s / W)) for h in hints]
    return spread_input(L_net, points, hint_ab, s, base)
