"""Whole-photo geometry: crop, rotate by quarter turns, flip, resize, pad (canvas size / extend).

Qt-free, so the editor, batch and tests share one definition of where every pixel and every point
goes. Each operation is a small frozen object with three methods:

- ``size(w, h) -> (w2, h2)``: the output size for an input of w x h pixels;
- ``plane(a, kind)``: transform an H x W (x C) array. ``kind`` says how values may be mixed:
  ``"image"`` (float RGB, interpolated when resizing), ``"coverage"`` (float 0..1 masks and alpha,
  interpolated and clipped), ``"labels"`` (int class ids: nearest neighbour only, never blended);
- ``point(x, y, w, h) -> (x2, y2)``: where a point in continuous image coordinates goes (pixel
  ``i`` spans [i, i + 1), as the editor's tools and hint points use).

Padding fills new image pixels with ``fill`` (RGB in [0, 1]), new alpha with ``pad_alpha`` and new
masks with 0; new label pixels are ``unlabeled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Kind = Literal["image", "coverage", "labels"]
UNLABELED = -1
RESIZE_METHODS = {
    "area": cv2.INTER_AREA,  # the right filter for shrinking (no aliasing)
    "bicubic": cv2.INTER_CUBIC,
    "bilinear": cv2.INTER_LINEAR,
    "lanczos": cv2.INTER_LANCZOS4,
    "nearest": cv2.INTER_NEAREST,
}


class GeometryError(ValueError):
    """A geometry request that cannot be carried out (empty crop, zero size...)."""


@dataclass(frozen=True)
class Crop:
    """Keep the rectangle (x, y, w, h) in pixels; it must lie inside the photo."""

    x: int
    y: int
    w: int
    h: int

    def check(self, w: int, h: int) -> None:
        if self.w < 1 or self.h < 1:
            raise GeometryError("The crop rectangle is empty.")
        if self.x < 0 or self.y < 0 or self.x + self.w > w or self.y + self.h > h:
            raise GeometryError(f"The crop rectangle {self.w}x{self.h}+{self.x}+{self.y} leaves the {w}x{h} photo.")

    def size(self, w: int, h: int) -> tuple[int, int]:
        self.check(w, h)
        return self.w, self.h

    def plane(self, a: np.ndarray, kind: Kind) -> np.ndarray:
        self.check(a.shape[1], a.shape[0])
        return np.ascontiguousarray(a[self.y : self.y + self.h, self.x : self.x + self.w])

    def point(self, x: float, y: float, w: int, h: int) -> tuple[float, float]:
        return x - self.x, y - self.y


@dataclass(frozen=True)
class Rotate:
    """Rotate by ``quarter_turns`` x 90 degrees clockwise (1 = 90 CW, 2 = 180, 3 = 90 CCW)."""

    quarter_turns: int

    @property
    def k(self) -> int:
        return self.quarter_turns % 4

    def size(self, w: int, h: int) -> tuple[int, int]:
        return (h, w) if self.k % 2 else (w, h)

    def plane(self, a: np.ndarray, kind: Kind) -> np.ndarray:
        # np.rot90 turns counter-clockwise for positive k
        return np.ascontiguousarray(np.rot90(a, -self.k, axes=(0, 1)))

    def point(self, x: float, y: float, w: int, h: int) -> tuple[float, float]:
        if self.k == 1:
            return h - y, x
        if self.k == 2:
            return w - x, h - y
        if self.k == 3:
            return y, w - x
        return x, y


@dataclass(frozen=True)
class Flip:
    """Mirror left-right (``horizontal``) or top-bottom."""

    horizontal: bool = True

    def size(self, w: int, h: int) -> tuple[int, int]:
        return w, h

    def plane(self, a: np.ndarray, kind: Kind) -> np.ndarray:
        return np.ascontiguousarray(a[:, ::-1] if self.horizontal else a[::-1])

    def point(self, x: float, y: float, w: int, h: int) -> tuple[float, float]:
        return (w - x, y) if self.horizontal else (x, h - y)


@dataclass(frozen=True)
class Resize:
    """Resample to ``w`` x ``h``. ``method`` is one of :data:`RESIZE_METHODS`; "auto" = area when
    shrinking, bicubic when enlarging. Labels always use nearest neighbour."""

    w: int
    h: int
    method: str = "auto"

    MAX_SIDE = 65535

    def size(self, w: int, h: int) -> tuple[int, int]:
        if not (1 <= self.w <= self.MAX_SIDE and 1 <= self.h <= self.MAX_SIDE):
            raise GeometryError(f"A size of {self.w}x{self.h} pixels is not possible (1 to {self.MAX_SIDE} per side).")
        return self.w, self.h

    def _flag(self, a: np.ndarray, kind: Kind) -> int:
        if kind == "labels":
            return cv2.INTER_NEAREST
        method = self.method
        if method == "auto":
            method = "area" if self.w * self.h < a.shape[0] * a.shape[1] else "bicubic"
        if method not in RESIZE_METHODS:
            raise GeometryError(f"Unknown resampling {method!r}; choose one of {', '.join(RESIZE_METHODS)}.")
        return RESIZE_METHODS[method]

    def plane(self, a: np.ndarray, kind: Kind) -> np.ndarray:
        self.size(a.shape[1], a.shape[0])
        if (a.shape[1], a.shape[0]) == (self.w, self.h):
            return a.copy()
        src = a.astype(np.float32) if kind == "labels" else a  # cv2 cannot resize int32; ids are exact in float32
        out = cv2.resize(src, (self.w, self.h), interpolation=self._flag(a, kind))
        if a.ndim == 3 and out.ndim == 2:
            out = out[..., None]
        if kind == "labels":
            return np.rint(out).astype(a.dtype)
        if kind in ("image", "coverage"):
            out = np.clip(out, 0.0, 1.0)  # bicubic / Lanczos overshoot at edges
        return np.ascontiguousarray(out.astype(a.dtype, copy=False))

    def point(self, x: float, y: float, w: int, h: int) -> tuple[float, float]:
        return x * self.w / w, y * self.h / h


@dataclass(frozen=True)
class Pad:
    """Add ``left``/``top``/``right``/``bottom`` pixels (negative values crop that side)."""

    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0
    fill: tuple[float, float, float] = (1.0, 1.0, 1.0)
    pad_alpha: float = 1.0  # 0 = the new area is transparent

    def size(self, w: int, h: int) -> tuple[int, int]:
        w2, h2 = w + self.left + self.right, h + self.top + self.bottom
        if w2 < 1 or h2 < 1:
            raise GeometryError(f"The canvas would be {w2}x{h2} pixels.")
        if w2 > Resize.MAX_SIDE or h2 > Resize.MAX_SIDE:
            raise GeometryError(f"A canvas of {w2}x{h2} pixels is too large (at most {Resize.MAX_SIDE} per side).")
        return w2, h2

    def plane(self, a: np.ndarray, kind: Kind, alpha: bool = False) -> np.ndarray:
        h, w = a.shape[:2]
        w2, h2 = self.size(w, h)
        out = np.empty((h2, w2) + a.shape[2:], a.dtype)
        if kind == "labels":
            out[:] = UNLABELED
        elif kind == "image":
            out[:] = np.asarray(self.fill, a.dtype)
        else:
            out[:] = self.pad_alpha if alpha else 0
        # the part of the old photo that survives (negative pads crop)
        sx0, sy0 = max(0, -self.left), max(0, -self.top)
        sx1, sy1 = w - max(0, -self.right), h - max(0, -self.bottom)
        dx0, dy0 = max(0, self.left), max(0, self.top)
        if sx1 > sx0 and sy1 > sy0:
            out[dy0 : dy0 + sy1 - sy0, dx0 : dx0 + sx1 - sx0] = a[sy0:sy1, sx0:sx1]
        return out

    def new_area(self, w: int, h: int) -> np.ndarray:
        """float32 H2 x W2, 1 where the pad added pixels (the region an extend-and-fill fills)."""
        return 1.0 - self.plane(np.ones((h, w), np.float32), "coverage")

    def point(self, x: float, y: float, w: int, h: int) -> tuple[float, float]:
        return x + self.left, y + self.top


Operation = Crop | Rotate | Flip | Resize | Pad


def pads_for_aspect(w: int, h: int, aspect: float, anchor: tuple[float, float] = (0.5, 0.5)) -> Pad:
    """The smallest Pad that brings a w x h photo to ``aspect`` (width / height) by adding pixels;
    ``anchor`` (0..1, 0..1) is where the photo sits in the new canvas (0.5, 0.5 = centred)."""
    if aspect <= 0:
        raise GeometryError("The aspect ratio must be positive.")
    if w / h < aspect:
        extra = int(round(h * aspect)) - w
        left = int(round(extra * anchor[0]))
        return Pad(left=left, right=extra - left)
    extra = int(round(w / aspect)) - h
    top = int(round(extra * anchor[1]))
    return Pad(top=top, bottom=extra - top)


def crop_for_aspect(w: int, h: int, aspect: float) -> Crop:
    """The largest centred crop of a w x h photo with ``aspect`` (width / height)."""
    if aspect <= 0:
        raise GeometryError("The aspect ratio must be positive.")
    if w / h > aspect:
        cw = max(1, int(round(h * aspect)))
        return Crop((w - cw) // 2, 0, cw, h)
    ch = max(1, int(round(w / aspect)))
    return Crop(0, (h - ch) // 2, w, ch)


__all__ = [
    "Crop", "Flip", "GeometryError", "Operation", "Pad", "RESIZE_METHODS", "Resize", "Rotate",
    "crop_for_aspect", "pads_for_aspect",
]
