"""Whole-mask operations (Qt-free): invert, clear, grow/shrink, feather. Mask: float32 HxW, 1 = fill."""

from __future__ import annotations

import math

import cv2
import numpy as np


def invert(mask: np.ndarray) -> np.ndarray:
    return (1.0 - mask).astype(np.float32)


def clear(mask: np.ndarray) -> np.ndarray:
    return np.zeros_like(mask)


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate (pixels > 0) or erode (pixels < 0) with a round kernel."""
    if pixels == 0:
        return mask.copy()
    r = abs(int(pixels))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    op = cv2.dilate if pixels > 0 else cv2.erode
    return op(mask.astype(np.float32), kernel, borderType=cv2.BORDER_REPLICATE)


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soften the edge with a Gaussian of ``radius`` pixels (sigma = radius / 2)."""
    if radius <= 0:
        return mask.copy()
    sigma = radius / 2.0
    k = int(2 * math.ceil(3 * sigma) + 1)
    return np.clip(cv2.GaussianBlur(mask.astype(np.float32), (k, k), sigma, borderType=cv2.BORDER_REPLICATE), 0.0, 1.0)



