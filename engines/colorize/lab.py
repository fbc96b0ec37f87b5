"""The colour pipeline of colorization: sRGB <-> CIE Lab (D65), network-size L, full-resolution join.

Conventions: RGB ``float32 H x W x 3`` in [0, 1] (any bit depth: 16-bit photos arrive as floats
and stay floats, nothing here quantises); Lab ``float32 H x W x 3`` with L in [0, 100] and a, b in
about [-110, 110], OpenCV's float definition (D65, sRGB transfer curve), computed exactly in numpy
(see :func:`rgb_to_lab`); OpenCV does the resizing. The network sees L at ``NET_SIZE``²; its ab is
resized to the photo and joined with the photo's own full-resolution L, so detail is never lost.

Gamut: which (a, b) are reachable from sRGB at a given L is computed exactly (Lab -> XYZ -> linear
sRGB, inside [0, 1]) rather than through OpenCV, whose Lab -> RGB silently clips.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

NET_SIZE = 256  # the network runs on L resized to this square (as the official demo)
AB_MAX = 110.0
AB_STEP = 10.0
AB_GRID = 23  # (2 * 110 / 10) + 1 bins per axis, the class head's grid

# D65 white and the sRGB (linear) <- XYZ matrix (IEC 61966-2-1)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_XYZ_TO_RGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


_RGB_TO_XYZ = np.linalg.inv(_XYZ_TO_RGB)
_EPS, _KAPPA = 216 / 24389, 24389 / 27


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB [0, 1] ``H x W x 3`` -> Lab float32 (L 0-100, ab about +-110), D65.

    The same definition as OpenCV's ``COLOR_RGB2Lab`` on floats, computed exactly: OpenCV's float
    path goes through lookup tables and is only good to about 3e-3 (one 8-bit level) on a round
    trip, which would quantise 16-bit photos. Row blocks keep the temporaries small.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    out = np.empty(rgb.shape, np.float32)
    rows = max(1, 1_000_000 // max(1, rgb.shape[1]))
    for y in range(0, rgb.shape[0], rows):
        lin = _srgb_to_linear(rgb[y : y + rows].astype(np.float32))
        xyz = (lin @ _RGB_TO_XYZ.T.astype(np.float32)) / _WHITE.astype(np.float32)
        f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16.0) / 116.0)
        out[y : y + rows, ..., 0] = 116.0 * f[..., 1] - 16.0
        out[y : y + rows, ..., 1] = 500.0 * (f[..., 0] - f[..., 1])
        out[y : y + rows, ..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return out


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab -> sRGB float32 in [0, 1] (out-of-gamut colours are clipped per linear channel)."""
    lab = np.asarray(lab, dtype=np.float32)
    out = np.empty(lab.shape, np.float32)
    rows = max(1, 1_000_000 // max(1, lab.shape[1]))
    for y in range(0, lab.shape[0], rows):
        lin = lab_to_linear_rgb(lab[y : y + rows]).astype(np.float32)
        out[y : y + rows] = _linear_to_srgb(lin)
    return out


def luminance(rgb: np.ndarray) -> np.ndarray:
    """L (0-100) of an sRGB image, float32 ``H x W``."""
    return rgb_to_lab(rgb)[..., 0]


def net_L(L: np.ndarray, size: int = NET_SIZE) -> np.ndarray:
    """The full-resolution L plane resized (area averaging) to the network's ``size``²."""
    return cv2.resize(L, (size, size), interpolation=cv2.INTER_AREA)


def join_ab(L_full: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """RGB of the photo's own L (``H x W``) with a predicted ab (``h x w x 2``, any size) resized to it."""
    h, w = L_full.shape[:2]
    if ab.shape[:2] != (h, w):
        ab = cv2.resize(np.ascontiguousarray(ab, dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    lab = np.dstack([L_full.astype(np.float32), ab.astype(np.float32)])
    return lab_to_rgb(fit_to_gamut(lab))


def fit_to_gamut(lab: np.ndarray, steps: int = 7) -> np.ndarray:
    """Lab with each unreachable colour's chroma reduced (hue and L kept) until it is an sRGB colour.

    Clipping RGB per channel instead would change the lightness, i.e. the photo's own L, which the
    colorizer promises to keep. Bisection on the chroma factor, only for the pixels that need it.
    """
    lab = np.array(lab, dtype=np.float32, copy=True)
    flat = lab.reshape(-1, 3)
    lin = lab_to_linear_rgb(flat)
    bad = np.nonzero(np.any((lin < -1e-4) | (lin > 1 + 1e-4), axis=-1))[0]
    if bad.size == 0:
        return lab
    L, ab = flat[bad, :1], flat[bad, 1:]
    lo, hi = np.zeros((bad.size, 1), np.float32), np.ones((bad.size, 1), np.float32)
    for _ in range(steps):
        mid = (lo + hi) / 2
        rgb = lab_to_linear_rgb(np.concatenate([L, ab * mid], axis=1))
        ok = np.all((rgb >= -1e-4) & (rgb <= 1 + 1e-4), axis=-1, keepdims=True)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    flat[bad, 1:] = ab * lo  # lo is always reachable (chroma 0 is grey)
    return lab


def is_grey(rgb: np.ndarray, tolerance: float = 2.0 / 255.0) -> bool:
    """True when every pixel has R = G = B (within ``tolerance``): a photo to colorize from scratch."""
    if rgb.ndim == 2 or rgb.shape[2] == 1:
        return True
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 250_000)))  # a sample is enough
    s = rgb[::step, ::step]
    return bool(np.max(s.max(axis=2) - s.min(axis=2)) <= tolerance)


# ----------------------------------------------------------------------------- gamut


def lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """Exact Lab (D65) -> linear sRGB, unclipped (values outside [0, 1] = not reachable)."""
    lab = np.asarray(lab)
    if lab.dtype != np.float32:
        lab = lab.astype(np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0

    def finv(f):
        f3 = f ** 3
        return np.where(f3 > _EPS, f3, (116.0 * f - 16.0) / _KAPPA)

    xyz = np.stack([finv(fx), finv(fy), finv(fz)], axis=-1) * _WHITE.astype(lab.dtype)
    return xyz @ _XYZ_TO_RGB.T.astype(lab.dtype)


def in_gamut(L: float | np.ndarray, a: np.ndarray, b: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """Boolean array: is (L, a, b) an sRGB colour (each linear channel in [0, 1] within ``margin``)?"""
    L, a, b = np.broadcast_arrays(np.asarray(L, np.float64), np.asarray(a, np.float64), np.asarray(b, np.float64))
    rgb = lab_to_linear_rgb(np.stack([L, a, b], axis=-1))
    return np.all((rgb >= -margin) & (rgb <= 1.0 + margin), axis=-1)


def gamut_image(L: float, size: int = 128, ab_max: float = AB_MAX) -> tuple[np.ndarray, np.ndarray]:
    """The ab plane at lightness ``L`` as an image: (RGB float32 ``size x size x 3``, in-gamut mask).

    Row 0 is b = +ab_max (top), column 0 is a = -ab_max (left). Unreachable colours are black in
    the image and False in the mask, so a picker drawn from it only offers reachable colours.
    """
    a, b = ab_grid_coords(size, ab_max)
    ok = in_gamut(L, a, b)
    lab = np.dstack([np.full_like(a, L), a, b]).astype(np.float32)
    rgb = lab_to_rgb(lab)
    rgb[~ok] = 0.0
    return rgb, ok


def ab_grid_coords(size: int, ab_max: float = AB_MAX) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) at the centre of each pixel of a ``size``² ab panel (b up, a right)."""
    t = (np.arange(size) + 0.5) / size * 2 * ab_max - ab_max
    a = np.tile(t[None, :], (size, 1))
    b = np.tile(t[::-1, None], (1, size))
    return a, b


def ab_at_panel(x: float, y: float, size: int, ab_max: float = AB_MAX) -> tuple[float, float]:
    """The (a, b) under panel pixel (x, y) (inverse of :func:`ab_grid_coords`)."""
    return (x / size * 2 * ab_max - ab_max, ab_max - y / size * 2 * ab_max)


def panel_xy(a: float, b: float, size: int, ab_max: float = AB_MAX) -> tuple[float, float]:
    return ((a + ab_max) / (2 * ab_max) * size, (ab_max - b) / (2 * ab_max) * size)


# ----------------------------------------------------------------------------- ab bins


def ab_to_bin(ab: np.ndarray) -> np.ndarray:
    """Index into the 23 x 23 class grid (a major, b minor) of ab values (``... x 2``)."""
    q = np.clip(np.round((np.asarray(ab) + AB_MAX) / AB_STEP), 0, AB_GRID - 1).astype(np.int64)
    return q[..., 0] * AB_GRID + q[..., 1]


def bin_to_ab(index: np.ndarray) -> np.ndarray:
    """Centre (a, b) of class-grid bins (``... x 2``)."""
    index = np.asarray(index)
    return np.stack([index // AB_GRID, index % AB_GRID], axis=-1) * AB_STEP - AB_MAX


@lru_cache(maxsize=1)
def in_gamut_bins() -> np.ndarray:
    """Sorted class-grid indices whose bin holds some sRGB colour (at any lightness).

    Computed from a dense sampling of the sRGB cube (rather than shipping the official
    ``pts_in_hull.npy``); with a step-10 grid this is the official 313-bin set.
    """
    t = np.linspace(0.0, 1.0, 72, dtype=np.float32)
    cube = np.stack(np.meshgrid(t, t, t, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    ab = rgb_to_lab(cube)[:, 0, 1:]
    return np.unique(ab_to_bin(ab))
