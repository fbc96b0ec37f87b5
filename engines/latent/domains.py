"""Training domains for ``train igan``: CMP Facades photos (train split only) and a synthetic
"shapes" domain (procedurally drawn coloured discs and boxes on a two-tone background) that trains in
seconds for tests and smoke runs. Both give ``uint8 N x S x S x 3`` arrays.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

DOMAINS = ("facades", "shapes")


def shapes(n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` synthetic images: a vertical two-colour gradient background, one filled disc and one
    filled box of random colours, positions and sizes (a smooth low-dimensional manifold)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.uint8)
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    for i in range(n):
        top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        img = np.ascontiguousarray(np.broadcast_to(top * (1 - ramp) + bottom * ramp, (size, size, 3)).astype(np.uint8))
        c = tuple(int(v) for v in rng.uniform(0, 255, 3))
        r = int(rng.uniform(0.12, 0.25) * size)
        cx, cy = (int(v) for v in rng.uniform(r, size - r, 2))
        cv2.circle(img, (cx, cy), r, c, -1, lineType=cv2.LINE_AA)
        c2 = tuple(int(v) for v in rng.uniform(0, 255, 3))
        w, h = (int(v) for v in rng.uniform(0.15, 0.35, 2) * size)
        x, y = int(rng.uniform(0, size - w)), int(rng.uniform(0, size - h))
        cv2.rectangle(img, (x, y), (x + w, y + h), c2, -1)
        out[i] = img
    return out


def facades_photos(data: Path) -> list[np.ndarray]:
    """The photo halves of ``<data>/facades/train`` (uint8 256 x 256 x 3). Never the test split."""
    from ..train_data import load_rgb

    folder = Path(data) / "facades" / "train"
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".png"))
    if not files:
        raise FileNotFoundError(f"no facades/train photos under {data}")
    return [load_rgb(p, facades_photo_half=True) for p in files]


def random_crops(rng: np.random.Generator, photos: list[np.ndarray], n: int, size: int,
                 min_scale: float = 0.6) -> np.ndarray:
    """``n`` square crops (side ``min_scale..1`` of the shorter side), random h-flip, area-resized
    to ``size``: ``uint8 n x size x size x 3``."""
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        img = photos[int(rng.integers(len(photos)))]
        h, w = img.shape[:2]
        side = int(min(h, w) * rng.uniform(min_scale, 1.0))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = img[y:y + side, x:x + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out[i] = cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)
    return out
