"""Image-quality metrics as the SR literature computes them.

Inputs are ``float32 H x W x 3`` RGB in ``[0, 1]`` (or ``H x W`` grey). Y is BT.601 "studio swing"
luma on the 0-255 scale (16-235), as MATLAB's ``rgb2ycbcr``; ``border`` pixels are cropped at every
side (the scale, by convention) before comparing.
"""

from __future__ import annotations

import cv2
import numpy as np


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """BT.601 Y in [16, 235] (float64) of an RGB [0, 1] image; a grey image is taken as R=G=B."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return 16.0 + img[..., 0] * 65.481 + img[..., 1] * 128.553 + img[..., 2] * 24.966


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:-border, border:-border] if border > 0 else a


def _quantise(image: np.ndarray) -> np.ndarray:
    """Round to 8 bits, as papers do by saving the output as PNG before measuring."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0) / 255.0


def psnr_y(sr: np.ndarray, hr: np.ndarray, border: int = 0) -> float:
    """PSNR (dB) on Y between an output and the ground truth, both RGB [0, 1], same size."""
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(f"sizes differ: {sr.shape[:2]} vs {hr.shape[:2]}")
    a = _crop(rgb_to_y(_quantise(sr)), border)
    b = _crop(rgb_to_y(_quantise(hr)), border)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def ssim_y(sr: np.ndarray, hr: np.ndarray, border: int = 0) -> float:
    """SSIM on Y (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, L 255)."""
    a = _crop(rgb_to_y(_quantise(sr)), border)
    b = _crop(rgb_to_y(_quantise(hr)), border)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:  # "valid" region only, as the reference code
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REPLICATE)[5:-5, 5:-5]

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def sharpness(image: np.ndarray) -> float:
    """Mean gradient magnitude of Y (0-255 scale): higher = more high-frequency detail.

    A crude perceptual proxy: GAN models score well above bicubic here even where their PSNR is lower.
    """
    y = rgb_to_y(image).astype(np.float32)
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))
