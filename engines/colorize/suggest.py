"""Suggested colours at a point, ranked by the SIGGRAPH17 class head (the paper's "suggested palette").

The class head gives a distribution over the 23 x 23 ab grid at 1/4 of the network resolution.
At a point we read that distribution, keep only bins that are sRGB colours at the point's own
lightness (so every suggestion is reachable there), renormalise, and return the most probable
bins as RGB colours with their probabilities, highest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.protocol import Hint
from .lab import bin_to_ab, in_gamut, lab_to_rgb, rgb_to_lab


@dataclass(frozen=True)
class Suggestion:
    rgb: tuple[float, float, float]  # [0, 1]
    ab: tuple[float, float]
    probability: float  # among the reachable bins at this point, sums to 1 over all of them


def suggestions_from_logits(logits: np.ndarray, L: float, u: float, v: float, k: int = 8) -> list[Suggestion]:
    """Top ``k`` reachable colours from class logits (``C x h x w``) at relative position (u, v) in [0, 1).

    ``L`` is the lightness (0-100) at the point. Sorted by probability, highest first.
    """
    logits = np.asarray(logits, dtype=np.float64)
    c, h, w = logits.shape
    x = min(w - 1, max(0, int(u * w)))
    y = min(h - 1, max(0, int(v * h)))
    z = logits[:, y, x]
    p = np.exp(z - z.max())
    ab = bin_to_ab(np.arange(c))
    ok = in_gamut(L, ab[:, 0], ab[:, 1])
    if not ok.any():  # L = 0 or 100: only grey is reachable
        ok = (ab[:, 0] == 0) & (ab[:, 1] == 0)
    p = np.where(ok, p, 0.0)
    p /= p.sum()
    order = np.argsort(-p, kind="stable")[: max(0, k)]
    order = order[p[order] > 0]
    lab = np.stack([np.full(len(order), L), ab[order, 0], ab[order, 1]], axis=-1).astype(np.float32)
    rgbs = lab_to_rgb(lab[None])[0]
    return [Suggestion(tuple(float(t) for t in rgb), (float(a), float(b)), float(p[i]))
            for rgb, (a, b), i in zip(rgbs, ab[order], order)]


def suggest(module, rgb: np.ndarray, hints: Sequence[Hint], x: float, y: float, k: int = 8) -> list[Suggestion]:
    """Suggestions at image pixel (x, y) given the other ``hints`` (runs the network once)."""
    from .engine import predict

    L_full = rgb_to_lab(rgb)[..., 0]
    _, logits = predict(module, L_full, hints)
    if logits is None:
        return []
    h, w = L_full.shape
    xi, yi = min(w - 1, max(0, int(x))), min(h - 1, max(0, int(y)))
    return suggestions_from_logits(logits[0].numpy(), float(L_full[yi, xi]), x / w, y / h, k)
