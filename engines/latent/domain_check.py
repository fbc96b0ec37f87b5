"""Is this photo far from what the latent model knows? (issue 20)

The score is computed from the photo and its projection G(z0), both at the model's size S:

    score = log(coarse_mse) + GRADIENT_WEIGHT * log(gradient_error)

- ``coarse_mse``: mean squared error (RGB, [0, 1]) between the photo and the projection after a
  Gaussian blur of sigma ``3 S / 64`` px: the layout (where the light and dark masses are) that the
  generator could not match; the plain pixel error does not tell the domains apart, since a weak
  64-px generator is as blurry on its own photos as on any other;
- ``gradient_error``: squared error of the horizontal and vertical pixel differences ÷ their
  energy in the photo: how much of the photo's edge structure the projection misses.

Both were chosen, and ``GRADIENT_WEIGHT`` fitted (a two-feature logistic regression), on training
photos only: 80 facades/train photos against 58 BSDS500 train/test photos. The threshold of a
model is the 90th percentile of the score over its training photos (:func:`calibrate`, run on
facades/train for the bundled facades model: 10 % of its own training photos count as "far").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import cv2
import numpy as np

GRADIENT_WEIGHT = 4.2
QUANTILE = 0.9
# per projection method (a weaker projection scores higher, so each has its own): calibrate() over
# facades/train photos only (never test; photo half, centre square, the engine's defaults: 40 steps,
# 4 starts): hybrid 200 photos (every other file; median -4.92), encoder 200 (median -4.18),
# optimize 100 (every 4th file; median -4.48). None = no verdict for that method.
THRESHOLDS = {"igan-facades": {"hybrid": -4.336, "encoder": -3.429, "optimize": -3.811}}
FAR_MESSAGE = "this photo is far from what the {domain} model knows; edits will be coarse"


@dataclass(frozen=True)
class DomainVerdict:
    score: float
    threshold: float | None  # None: this model has no calibrated threshold (no verdict)
    far: bool
    message: str  # "" when the photo is not far (or there is no threshold)

    def as_dict(self) -> dict:
        return {"score": self.score, "threshold": self.threshold, "far": self.far, "message": self.message}


def _check(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, np.float32)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 8 or a.shape[1] < 8:
        raise ValueError(f"{name} must be H x W x 3 (at least 8 x 8), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.clip(a, 0.0, 1.0)


def domain_score(photo: np.ndarray, projection: np.ndarray) -> float:
    """The score of a photo (float32 S x S x 3 in [0, 1], at the model's size) and its projection
    G(z0) (same shape); higher = farther from the model's domain."""
    a, b = _check(photo, "photo"), _check(projection, "projection")
    if a.shape != b.shape:
        raise ValueError(f"photo {a.shape} and projection {b.shape} differ in size")
    sigma = 3.0 * a.shape[0] / 64.0
    blur = lambda x: cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    coarse = float(np.mean((blur(a) - blur(b)) ** 2))
    gx = lambda x: np.diff(x, axis=1)  # noqa: E731
    gy = lambda x: np.diff(x, axis=0)  # noqa: E731
    err = float(np.mean((gx(a) - gx(b)) ** 2) + np.mean((gy(a) - gy(b)) ** 2))
    energy = float(np.mean(gx(a) ** 2) + np.mean(gy(a) ** 2))
    return float(np.log(max(coarse, 1e-8)) + GRADIENT_WEIGHT * np.log(max(err, 1e-8) / max(energy, 1e-4)))


def verdict(score: float, threshold: float | None, domain: str = "") -> DomainVerdict:
    """The verdict for ``score`` against ``threshold`` (None = no calibrated threshold: never far)."""
    if threshold is None or not np.isfinite(score):
        return DomainVerdict(float(score), threshold, False, "")
    far = float(score) > float(threshold)
    name = (domain or "latent").strip()
    return DomainVerdict(float(score), float(threshold), far, FAR_MESSAGE.format(domain=name) if far else "")


def threshold_for(thresholds, method: str) -> float | None:
    """The threshold for projections by ``method`` from a card's ``domain_threshold``: a number is
    the hybrid projection's (the engine's default), a dict gives one per method; None = no verdict."""
    if isinstance(thresholds, dict):
        value = thresholds.get(method)
    else:
        value = thresholds if method == "hybrid" else None
    try:
        value = None if value is None else float(value)
    except (TypeError, ValueError):
        return None
    return value if value is not None and np.isfinite(value) else None


def calibrate(scores: Iterable[float], quantile: float = QUANTILE) -> float:
    """The threshold: the ``quantile`` of the scores of the model's *training* photos."""
    s = np.asarray(list(scores), np.float64)
    s = s[np.isfinite(s)]
    if s.size < 5:
        raise ValueError(f"calibrating needs at least 5 training photos, got {s.size}")
    if not 0.5 <= quantile < 1.0:
        raise ValueError(f"quantile must be in [0.5, 1), got {quantile}")
    return float(np.quantile(s, quantile))
