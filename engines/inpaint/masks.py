"""Irregular hole masks generated on the fly, in the paper's hole-ratio buckets.

Liu et al. sort their irregular masks by hole-to-image area ratio into buckets (0.01, 0.1],
(0.1, 0.2], ..., (0.5, 0.6]. We draw random strokes (thick polylines), ellipses and blobs (smoothed
noise thresholded) until the hole ratio lands inside the requested bucket.

Contract: ``float32 H x W``, **1 = hole** (the region to fill, docs/ARCHITECTURE.md rule 2's polarity).
"""

from __future__ import annotations

import cv2
import numpy as np

BUCKETS: tuple[tuple[float, float], ...] = (
    (0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6),
)


def bucket_name(bucket: tuple[float, float]) -> str:
    return f"{round(bucket[0] * 100)}-{round(bucket[1] * 100)}%"


def _stroke(rng: np.random.Generator, canvas: np.ndarray, scale: float) -> None:
    h, w = canvas.shape
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    thick = max(2, int(rng.uniform(0.02, 0.08) * min(h, w) * scale))
    angle = rng.uniform(0, 2 * np.pi)
    for _ in range(int(rng.integers(2, 7))):
        angle += rng.uniform(-1.2, 1.2)
        length = rng.uniform(0.05, 0.3) * min(h, w) * scale
        nx = float(np.clip(x + length * np.cos(angle), 0, w - 1))
        ny = float(np.clip(y + length * np.sin(angle), 0, h - 1))
        cv2.line(canvas, (int(x), int(y)), (int(nx), int(ny)), 1, thick, cv2.LINE_AA if False else cv2.LINE_8)
        cv2.circle(canvas, (int(nx), int(ny)), thick // 2, 1, -1)
        x, y = nx, ny


def _ellipse(rng: np.random.Generator, canvas: np.ndarray, scale: float) -> None:
    h, w = canvas.shape
    axes = (max(2, int(rng.uniform(0.03, 0.2) * w * scale)), max(2, int(rng.uniform(0.03, 0.2) * h * scale)))
    centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
    cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)


def _blob(rng: np.random.Generator, canvas: np.ndarray, scale: float) -> None:
    h, w = canvas.shape
    side = max(8, int(rng.uniform(0.1, 0.4) * min(h, w) * scale))
    noise = rng.random((max(2, side // 8), max(2, side // 8))).astype(np.float32)
    noise = cv2.resize(noise, (side, side), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:side, 0:side]
    r = np.hypot(yy - side / 2, xx - side / 2) / (side / 2)
    shape = (noise * (1.0 - r) > 0.25).astype(np.uint8)
    y0, x0 = int(rng.integers(-side // 2, h - side // 2)), int(rng.integers(-side // 2, w - side // 2))
    ys, xs = slice(max(0, y0), min(h, y0 + side)), slice(max(0, x0), min(w, x0 + side))
    part = shape[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    canvas[ys, xs] |= part


_SHAPES = (_stroke, _ellipse, _blob)


def random_mask(rng: np.random.Generator, height: int, width: int,
                bucket: tuple[float, float]) -> np.ndarray:
    """A random irregular hole mask whose hole ratio lies in ``(lo, hi]`` of ``bucket``."""
    lo, hi = bucket
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"bad hole-ratio bucket {bucket}")
    area = float(height * width)
    for _attempt in range(20):
        canvas = np.zeros((height, width), np.uint8)
        ratio = 0.0
        scale = 0.6 + 1.2 * hi  # bigger shapes for bigger buckets (fewer shapes to draw)
        for _ in range(200):
            trial = canvas.copy()
            _SHAPES[int(rng.integers(len(_SHAPES)))](rng, trial, scale)
            new_ratio = trial.sum() / area
            if new_ratio > hi:
                scale *= 0.8  # overshoot: try smaller shapes
                continue
            canvas, ratio = trial, new_ratio
            if ratio > lo:
                return canvas.astype(np.float32)
    # Fallback (never seen in practice): a centred rectangle of the bucket's mid ratio.
    canvas = np.zeros((height, width), np.float32)
    side = np.sqrt((lo + hi) / 2)
    rh, rw = int(height * side), int(width * side)
    y0, x0 = (height - rh) // 2, (width - rw) // 2
    canvas[y0 : y0 + rh, x0 : x0 + rw] = 1.0
    return canvas


def random_bucket_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A mask from a uniformly chosen bucket (the training distribution)."""
    return random_mask(rng, height, width, BUCKETS[int(rng.integers(len(BUCKETS)))])
