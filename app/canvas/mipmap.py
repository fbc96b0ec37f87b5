"""Area-filtered (mip-mapped) copies of a canvas display buffer for zoomed-out views.

Qt's smooth transform is bilinear: below 50 % it skips source pixels, so fine detail (a fabric, a
window blind) turns into moiré stripes that are not in the photo. A :class:`MipChain` keeps the
display buffer at 1/2, 1/4, 1/8, ... of its size, each level the 2 x 2 box mean of the one above
(``cv2.resize`` ``INTER_AREA`` at exactly half size, which averages premultiplied RGBA correctly);
the canvas draws from the level just above the zoom, so the remaining smooth scale is between 1/2
and 1 and bilinear sampling no longer aliases.

Geometry: pixel ``(i, j)`` of level ``k`` covers base pixels ``[i * 2**k, (i + 1) * 2**k)`` (rows
likewise). A level is ``ceil(size / 2)`` of the level above; an odd last row or column is averaged
with a copy of itself (edge replication), so the last pixel of a level is the mean of what exists.

Updates: :meth:`MipChain.update` recomputes only the level pixels a base rectangle touches (the
rectangle widened to even bounds at each level), so a brush dab costs ~1/3 more than the dab's
rectangle in the base buffer, never a pass over the image. An update gives exactly the levels a
full rebuild gives (same blocks, same arithmetic).
"""

from __future__ import annotations

import math
import sys

import cv2
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

# No level smaller than this on its longer side: drawing a 64-px level is already trivially cheap
# and the minimum zoom (2 %) of a 4000-px photo is 80 px on screen.
MIN_LEVEL_SIDE = 32

Rect = tuple[int, int, int, int]  # x, y, w, h


# The canvas's buffers hold premultiplied pixels in the byte order of Qt's native
# ARGB32_Premultiplied (B, G, R, A on little-endian hosts): the raster painter scales that format
# without a per-pixel conversion, 3-5x faster than RGBA8888 for a full-canvas smooth draw.
# ``RGB`` gives where R, G, B go in the last axis (alpha is always index 3 there).
LITTLE_ENDIAN = sys.byteorder == "little"
RGB = (2, 1, 0) if LITTLE_ENDIAN else (0, 1, 2)
QT_FORMAT = QImage.Format.Format_ARGB32_Premultiplied if LITTLE_ENDIAN else QImage.Format.Format_RGBA8888_Premultiplied


def to_display_order(rgb: np.ndarray) -> np.ndarray:
    """An ``... x 3`` RGB array (any dtype) in the buffers' channel order (a view)."""
    return rgb[..., ::-1] if LITTLE_ENDIAN else rgb


def qimage_rgba(buf: np.ndarray) -> QImage:
    """A QImage *viewing* ``buf`` (uint8 H x W x 4, premultiplied, channels as ``RGB`` + alpha at
    3); keep ``buf`` alive."""
    h, w = buf.shape[:2]
    return QImage(buf.data, w, h, w * 4, QT_FORMAT)


def half(block: np.ndarray) -> np.ndarray:
    """The 2 x 2 box mean of ``block`` (uint8 h x w x C); an odd last row/column is replicated."""
    h, w = block.shape[:2]
    if h % 2 or w % 2:
        block = cv2.copyMakeBorder(block, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    # exactly half size: OpenCV's area resize is the rounded mean of each 2 x 2 block
    return cv2.resize(block, (block.shape[1] // 2, block.shape[0] // 2), interpolation=cv2.INTER_AREA)


def level_for_scale(scale: float, levels: int) -> int:
    """The level to draw at ``scale`` device pixels per base pixel: the smallest level that is
    still at least as large as the view (so the painter only shrinks it by a factor in (1/2, 1])."""
    if scale >= 1.0 or levels <= 1:
        return 0
    # a hair of slack so that exactly 50 % (a float that may land at 0.4999...) uses level 1
    k = int(math.floor(math.log2(1.0 / scale) + 1e-9))
    return max(0, min(levels - 1, k))


class MipChain:
    """Level 0 is the caller's buffer (shared, not copied); levels 1.. are owned here."""

    def __init__(self, base: np.ndarray, build: bool = True) -> None:
        """``build=False`` when ``base`` is known to be all zero (an empty overlay): the levels
        then start as zeros without a pass over the buffer."""
        if base.ndim != 3 or base.dtype != np.uint8:
            raise ValueError(f"a mip chain needs a uint8 H x W x C buffer, got {base.dtype} {base.shape}")
        self.levels: list[np.ndarray] = [base]
        h, w = base.shape[:2]
        while max(h, w) > MIN_LEVEL_SIDE:
            h, w = (h + 1) // 2, (w + 1) // 2
            self.levels.append(np.zeros((h, w, base.shape[2]), np.uint8))
        self.images: list[QImage] = [qimage_rgba(a) for a in self.levels] if base.shape[2] == 4 else []
        if build:
            self.update((0, 0, base.shape[1], base.shape[0]))

    def __len__(self) -> int:
        return len(self.levels)

    def update(self, rect: Rect) -> None:
        """Recompute every level under ``rect`` (base pixels), after the base buffer changed there."""
        x, y, w, h = rect
        x0, y0, x1, y1 = x, y, x + w, y + h
        for k in range(1, len(self.levels)):
            prev, cur = self.levels[k - 1], self.levels[k]
            ph, pw = prev.shape[:2]
            # widen to whole 2 x 2 blocks of the level above (clipped to it)
            x0, y0 = max(0, x0) & ~1, max(0, y0) & ~1
            x1, y1 = min(pw, x1 + (x1 & 1)), min(ph, y1 + (y1 & 1))
            if x1 <= x0 or y1 <= y0:
                return
            cur[y0 // 2:(y1 + 1) // 2, x0 // 2:(x1 + 1) // 2] = half(prev[y0:y1, x0:x1])
            x0, y0, x1, y1 = x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2

    def clear(self) -> None:
        """Zero every level below the base (after the base buffer was zeroed)."""
        for a in self.levels[1:]:
            a.fill(0)

    def source(self, k: int, rect: QRectF) -> tuple[QImage, QRectF, QRectF]:
        """What to draw for the base-pixel ``rect`` from level ``k``: the level image, the source
        rectangle in that level (widened to whole level pixels plus one, so smooth sampling at a
        partial repaint's edge sees the real neighbours) and the base-pixel rectangle it covers
        (map that to the widget for the target)."""
        f = float(1 << k)
        lh, lw = self.levels[k].shape[:2]
        lx0 = max(0, math.floor(rect.left() / f) - 1)
        ly0 = max(0, math.floor(rect.top() / f) - 1)
        lx1 = min(lw, math.ceil(rect.right() / f) + 1)
        ly1 = min(lh, math.ceil(rect.bottom() / f) + 1)
        src = QRectF(lx0, ly0, max(0, lx1 - lx0), max(0, ly1 - ly0))
        return self.images[k], src, QRectF(lx0 * f, ly0 * f, src.width() * f, src.height() * f)
