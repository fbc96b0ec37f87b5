"""Hint planes for the SIGGRAPH17 network: from user hints, and synthetic ones for training.

Planes (numpy, network resolution): ``ab`` float32 ``2 x H x W`` in [-110, 110], 0 where no hint;
``mask`` float32 ``1 x H x W``, **1 = hinted pixel** (the network centres it at 0.5 itself).

Synthetic hints follow the paper (Sec. 3.2) and its training code: the number of points is
geometric with P(0) = ``p`` (mean (1 - p) / p, 7 at p = 1/8, so "often zero"), each point a square
patch of side 1-9 px, placed from a Gaussian around the centre (sigma = a quarter of the side), and
each hint is the mean ab of the true colours inside its patch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.protocol import Hint
from .lab import rgb_to_lab

P_STOP = 1.0 / 8.0  # geometric parameter of the number of hints
MAX_PATCH = 9
MANY_MAX = 200  # the most hints of a dense-hinting training sample


def empty_planes(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((2, h, w), np.float32), np.zeros((1, h, w), np.float32)


def _put(ab: np.ndarray, mask: np.ndarray, cx: float, cy: float, size: int, value: np.ndarray) -> None:
    """Fill a ``size``² patch centred at (cx, cy) (clipped to the plane) with ``value`` (a, b)."""
    h, w = mask.shape[1:]
    half = (size - 1) / 2.0
    x0 = int(np.clip(np.floor(cx - half), 0, w - 1))
    y0 = int(np.clip(np.floor(cy - half), 0, h - 1))
    x1, y1 = min(w, x0 + size), min(h, y0 + size)
    ab[:, y0:y1, x0:x1] = np.asarray(value, np.float32)[:, None, None]
    mask[:, y0:y1, x0:x1] = 1.0


def hints_to_planes(hints: Sequence[Hint], image_hw: tuple[int, int], net_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """User hints (image pixel coordinates, RGB colour) -> network-resolution (ab, mask) planes.

    A hint's ab is taken from its RGB colour; its lightness is ignored (the photo's L rules). The
    patch side scales with the image-to-network ratio but stays at least 1 px. Later hints win
    where patches overlap.
    """
    H, W = image_hw
    h, w = net_hw
    ab, mask = empty_planes(h, w)
    if not hints:
        return ab, mask
    rgb = np.array([hh.rgb for hh in hints], np.float32).reshape(-1, 1, 3)
    hint_ab = rgb_to_lab(np.clip(rgb, 0.0, 1.0))[:, 0, 1:]
    sx, sy = w / W, h / H
    for hint, value in zip(hints, hint_ab):
        size = max(1, int(round(max(1, hint.size) * min(sx, sy))))
        _put(ab, mask, (hint.x + 0.5) * sx - 0.5, (hint.y + 0.5) * sy - 0.5, size, value)
    return ab, mask


def sample_count(rng: np.random.Generator, p: float = P_STOP) -> int:
    """Geometric number of hints with P(0) = p."""
    return int(rng.geometric(p)) - 1


def many_count(rng: np.random.Generator, most: int = MANY_MAX) -> int:
    """Log-uniform number of hints in 1..``most`` (our addition: dense hinting, as in the bench)."""
    return int(np.exp(rng.uniform(0.0, np.log(most + 1)))) or 1


def synthetic_hints(rng: np.random.Generator, ab_true: np.ndarray, count: int | None = None,
                    p: float = P_STOP, uniform: bool = False, points: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Paper-style random hints from a true ab plane (``2 x H x W``) -> (ab, mask) planes.

    ``uniform`` places the patches uniformly instead of the paper's centred Gaussian. When
    ``points`` is a list, each hint's patch centre and value are appended to it as
    ``((y, x), (a, b))`` (what :func:`.spread.spread_points` takes).
    """
    _, h, w = ab_true.shape
    ab, mask = empty_planes(h, w)
    n = sample_count(rng, p) if count is None else count
    for _ in range(n):
        size = int(rng.integers(1, MAX_PATCH + 1))
        if uniform:
            y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        else:
            y = int(np.clip(rng.normal((h - size + 1) / 2.0, (h - size + 1) / 4.0), 0, h - size))
            x = int(np.clip(rng.normal((w - size + 1) / 2.0, (w - size + 1) / 4.0), 0, w - size))
        value = ab_true[:, y : y + size, x : x + size].reshape(2, -1).mean(axis=1)
        ab[:, y : y + size, x : x + size] = value[:, None, None]
        mask[:, y : y + size, x : x + size] = 1.0
        if points is not None:
            points.append(((y + size // 2, x + size // 2), value))
    return ab, mask


def random_hints_from_image(rng: np.random.Generator, rgb: np.ndarray, count: int, size: int = 3) -> list[Hint]:
    """``count`` hints at uniformly random positions, each the mean colour of a ``size``² patch
    of the true image (the benchmark's "hints taken from the true image")."""
    h, w = rgb.shape[:2]
    hints = []
    for _ in range(count):
        x = int(rng.integers(0, w - size + 1))
        y = int(rng.integers(0, h - size + 1))
        colour = rgb[y : y + size, x : x + size].reshape(-1, 3).mean(axis=0)
        hints.append(Hint(x + (size - 1) / 2.0, y + (size - 1) / 2.0, tuple(float(c) for c in colour), size))
    return hints
