"""A smooth synthetic photo for the window tests: red rises left to right, green top to bottom,
blue 0.4 everywhere."""

from __future__ import annotations

import numpy as np


def ramp(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([x / w, y / h, np.full_like(x, 0.4)], axis=2)
