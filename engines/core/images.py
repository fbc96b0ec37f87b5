"""The image contract every engine checks first (docs/ARCHITECTURE.md rule 2): ``float32 HxWx3`` RGB,
finite, in ``[0, 1]``. No torch, no Qt."""

from __future__ import annotations

import numpy as np

from .protocol import EngineError

RANGE_SLACK = 1e-4  # tolerate rounding just outside [0, 1] from upstream float maths


def check_image(image: object, what: str = "image") -> np.ndarray:
    """Raise :class:`EngineError` unless ``image`` is float32 HxWx3, finite, in [0, 1]."""
    if not isinstance(image, np.ndarray):
        raise EngineError(f"{what} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.float32:
        raise EngineError(f"{what} must be float32 in [0, 1], got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise EngineError(f"{what} must be HxWx3 RGB, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise EngineError(f"{what} is empty ({image.shape[1]}x{image.shape[0]})")
    lo, hi = float(image.min()), float(image.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise EngineError(f"{what} contains NaN or infinite values")
    if lo < -RANGE_SLACK or hi > 1.0 + RANGE_SLACK:
        raise EngineError(f"{what} values must be in [0, 1], got [{lo:.4g}, {hi:.4g}]")
    return image
