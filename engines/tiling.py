"""Shared tiling: run a per-tile function over a large image and blend the tiles without seams.

Contract of :func:`run_tiled`:

- ``image``: numpy ``float32`` ``H x W x C`` (or ``H x W``), any value range; never written.
- ``fn(tile) -> out``: ``tile`` is ``h x w x C`` float32 with ``h``, ``w`` multiples of
  ``multiple`` (reflect-padded at the bottom/right when needed); ``out`` must be
  ``h*scale x w*scale x C_out`` (``C_out`` may differ from ``C``). It may raise an out-of-memory
  error (see :func:`is_out_of_memory`).
- result: ``float32`` ``H*scale x W*scale x C_out`` (2-D in, 2-D out).

Blending: tiles overlap by at least ``overlap`` input pixels. Across each overlap a tile's weight is
0 on the outer quarter (those pixels saw a reflected border instead of the real neighbours),
ramps linearly over the middle half, and is 1 beyond; at the image border weights stay 1. The
output is the weighted running mean of the tiles, so where tiles agree (pointwise functions) the
result is bit-exact, and a function whose output depends only on inputs within ``r`` pixels is
reproduced exactly when ``overlap >= 4 * r``. Larger receptive fields (GANs) get a feathered,
seam-free cross-fade.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable, Generator

import numpy as np

from .core.cancel import CancelToken
from .core.protocol import EngineError, Progress

MIN_TILE = 32


@dataclass(frozen=True)
class Tile:
    """One tile in input pixels: rows ``y:y+h``, columns ``x:x+w``; the flags say which sides
    have a neighbouring tile (and so get a feathered edge)."""

    y: int
    x: int
    h: int
    w: int
    top: bool = False
    bottom: bool = False
    left: bool = False
    right: bool = False


def _starts(n: int, tile: int, overlap: int) -> list[int]:
    """Tile starts along one axis: stride ``tile - overlap``, the last tile flush with the end."""
    if n <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, n - tile, stride))
    starts.append(n - tile)
    return starts


def plan_tiles(h: int, w: int, tile: int, overlap: int) -> list[Tile]:
    """Tiles (row-major) covering an ``h x w`` image with edge ``<= tile`` and overlaps ``>= overlap``.

    Every tile is full-size when the image is at least ``tile`` in that direction (the last one is
    moved back to end flush with the border), so networks see one shape.
    """
    if h <= 0 or w <= 0:
        raise EngineError(f"cannot tile an empty image ({w}x{h})")
    if tile <= 0 or overlap < 0 or overlap >= tile:
        raise EngineError(f"bad tiling: tile {tile}, overlap {overlap} (need 0 <= overlap < tile)")
    ys, xs = _starts(h, tile, overlap), _starts(w, tile, overlap)
    tiles = []
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            tiles.append(
                Tile(
                    y=y, x=x, h=min(tile, h), w=min(tile, w),
                    top=i > 0, bottom=i < len(ys) - 1, left=j > 0, right=j < len(xs) - 1,
                )
            )
    return tiles


def _ramp(n: int, scale: int, overlap: int, low: bool, high: bool) -> np.ndarray:
    """1-D weights for ``n*scale`` output pixels; feathered at the ``low``/``high`` ends."""
    weights = np.ones(n * scale, dtype=np.float32)
    if overlap <= 0:
        return weights
    discard = (overlap // 4) * scale  # outer quarter: saw reflected context, weight 0
    fade = max(overlap * scale - 2 * discard, 1)
    dist = np.arange(n * scale, dtype=np.float32)
    edge = np.clip((dist - discard + 0.5) / fade, 0.0, 1.0)
    if low:
        weights = np.minimum(weights, edge)
    if high:
        weights = np.minimum(weights, edge[::-1])
    return weights


def tile_weights(t: Tile, scale: int, overlap: int) -> np.ndarray:
    """The ``h*scale x w*scale`` float32 blend weights of a tile (values in ``[0, 1]``)."""
    wy = _ramp(t.h, scale, overlap, t.top, t.bottom)
    wx = _ramp(t.w, scale, overlap, t.left, t.right)
    return wy[:, None] * wx[None, :]


def _pad_to_multiple(a: np.ndarray, multiple: int) -> np.ndarray:
    if multiple <= 1:
        return a
    ph, pw = -a.shape[0] % multiple, -a.shape[1] % multiple
    if not ph and not pw:
        return a
    pads = [(0, ph), (0, pw)] + [(0, 0)] * (a.ndim - 2)
    # "reflect" needs at least 2 samples along the axis; a 1-pixel strip is simply repeated.
    mode = "reflect" if min(a.shape[0], a.shape[1]) > 1 else "edge"
    return np.pad(a, pads, mode=mode)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for host or accelerator out-of-memory errors: ``MemoryError``, torch's CUDA/MPS OOM
    (``torch.cuda.OutOfMemoryError`` is a RuntimeError saying "out of memory") and OpenCV's
    ``cv2.error`` "Insufficient memory"."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return "out of memory" in text or "insufficient memory" in text


def _release_accelerator_memory() -> None:
    torch = sys.modules.get("torch")  # only if an engine already imported it
    if torch is not None:
        try:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort
            pass


class _OutOfMemory(Exception):
    pass


def run_tiled(
    image: np.ndarray,
    fn: Callable[[np.ndarray], np.ndarray],
    scale: int,
    tile: int,
    overlap: int,
    cancel: CancelToken,
    multiple: int = 1,
    min_tile: int = MIN_TILE,
) -> Generator[Progress, None, np.ndarray]:
    """Apply ``fn`` tile by tile; yields :class:`Progress` after each tile, returns the blended output.

    ``tile <= 0`` or a tile at least the image size means one tile (no blending). ``overlap`` is
    clamped to ``tile // 2``. Cancellation is checked before every tile (raises ``Cancelled``).
    On out-of-memory the tile edge is halved and the image restarted at the new size (the output
    is then exactly what the smaller tile gives); below ``min_tile`` an :class:`EngineError` says so.
    """
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise EngineError(f"cannot tile an array of shape {image.shape} (expected HxW or HxWxC)")
    if scale < 1:
        raise EngineError(f"bad scale {scale} for tiling")
    flat = image.ndim == 2
    src = image[:, :, None] if flat else image
    h, w = src.shape[:2]
    size = max(h, w) if tile <= 0 else int(tile)
    while True:
        try:
            out = yield from _run_once(src, fn, scale, size, overlap, cancel, multiple)
            return out[:, :, 0] if flat else out
        except _OutOfMemory as oom:
            _release_accelerator_memory()
            used = min(size, max(h, w))
            smaller = used // 2
            if smaller < min_tile:
                raise EngineError(
                    f"out of memory even at tile {used} px (minimum {min_tile}): "
                    "try a smaller image or run on the CPU"
                ) from oom.__cause__
            yield Progress(0, 1, f"out of memory at tile {used} px; retrying with {smaller} px")
            size = smaller


def _run_once(
    src: np.ndarray,
    fn: Callable[[np.ndarray], np.ndarray],
    scale: int,
    tile: int,
    overlap: int,
    cancel: CancelToken,
    multiple: int,
) -> Generator[Progress, None, np.ndarray]:
    h, w = src.shape[:2]
    overlap = max(0, min(int(overlap), tile // 2))
    if tile >= h and tile >= w:
        overlap = 0
    tiles = plan_tiles(h, w, tile, overlap)
    out: np.ndarray | None = None
    wsum = np.zeros((h * scale, w * scale), dtype=np.float32)
    row_y, row_bottom, above_bottom, left_right = -1, 0, 0, 0
    for k, t in enumerate(tiles):
        cancel.raise_if_cancelled()
        # what earlier tiles (row-major) reached: the rows of the row above, the columns of the
        # tile to the left; beyond both, this tile is the first to write
        if t.y != row_y:
            row_y, above_bottom, left_right = t.y, row_bottom, 0
        fresh_y, fresh_x = max(t.y, above_bottom), max(t.x, left_right)
        row_bottom, left_right = t.y + t.h, t.x + t.w
        patch = src[t.y:t.y + t.h, t.x:t.x + t.w]
        try:
            result = fn(_pad_to_multiple(patch, multiple))
        except Exception as exc:
            if is_out_of_memory(exc):
                raise _OutOfMemory() from exc
            raise
        result = _check_tile_output(result, t, scale)
        if out is None:
            out = np.zeros((h * scale, w * scale, result.shape[2]), dtype=np.float32)
        elif result.shape[2] != out.shape[2]:
            raise EngineError(f"tile function changed channel count: {result.shape[2]} vs {out.shape[2]}")
        _accumulate(out, wsum, result, t, scale, overlap, (fresh_y - t.y) * scale, (fresh_x - t.x) * scale)
        yield Progress(k + 1, len(tiles), f"tile {k + 1}/{len(tiles)}")
    assert out is not None
    return out


def _check_tile_output(result: np.ndarray, t: Tile, scale: int) -> np.ndarray:
    result = np.asarray(result)
    if result.ndim == 2:
        result = result[:, :, None]
    need_h, need_w = t.h * scale, t.w * scale
    if result.ndim != 3 or result.shape[0] < need_h or result.shape[1] < need_w:
        raise EngineError(
            f"tile function returned shape {result.shape}, expected at least {need_h}x{need_w}xC"
        )
    return result[:need_h, :need_w].astype(np.float32, copy=False)


def _accumulate(
    out: np.ndarray, wsum: np.ndarray, result: np.ndarray, t: Tile, scale: int, overlap: int,
    fresh_y: int, fresh_x: int,
) -> None:
    """Weighted running mean: out += w / (W + w) * (result - out), W the weight so far.

    Unlike summing ``w * pixel`` and dividing at the end, this is exact wherever tiles agree: a
    first contribution lands on 0 with fraction 1 (0 + (r - 0) == r) and an agreeing later one
    adds ``frac * 0``.

    ``fresh_y``, ``fresh_x`` (output pixels from the tile's corner): no earlier tile wrote at or
    beyond both, so there W = 0 and the mean is the result itself where w > 0 (and stays 0 where
    w = 0), bit for bit: that block (most of a tile) is one copy, and only the L-shaped band that
    earlier tiles reached is blended — a fraction of the memory passes, which on a loaded CPU is
    time the worker does not spend competing with the UI thread.
    """
    y0, x0 = t.y * scale, t.x * scale
    hh, ww = t.h * scale, t.w * scale
    wy = _ramp(t.h, scale, overlap, t.top, t.bottom)
    wx = _ramp(t.w, scale, overlap, t.left, t.right)
    fresh_y, fresh_x = min(fresh_y, hh), min(fresh_x, ww)
    # the band earlier tiles reached: the top rows (whole width), then the left columns below them
    for r0, r1, c0, c1 in ((0, fresh_y, 0, ww), (fresh_y, hh, 0, fresh_x)):
        if r1 <= r0 or c1 <= c0:
            continue
        weights = wy[r0:r1, None] * wx[None, c0:c1]
        ys, xs = slice(y0 + r0, y0 + r1), slice(x0 + c0, x0 + c1)
        total = wsum[ys, xs] + weights
        frac = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
        region = out[ys, xs]
        delta = np.subtract(result[r0:r1, c0:c1], region)
        delta *= frac[:, :, None]
        region += delta
        wsum[ys, xs] = total
    if fresh_y >= hh or fresh_x >= ww:
        return
    ys, xs = slice(y0 + fresh_y, y0 + hh), slice(x0 + fresh_x, x0 + ww)
    fy, fx = wy[fresh_y:], wx[fresh_x:]
    out[ys, xs] = result[fresh_y:, fresh_x:]
    wsum[ys, xs] = fy[:, None] * fx[None, :]
    # weight 0 (the outer quarter towards a later neighbour) contributes nothing: keep 0 there.
    # The ramps are separable, so those pixels are whole rows and columns.
    block = out[ys, xs]
    block[fy == 0] = 0.0
    block[:, fx == 0] = 0.0


def auto_tile_size(
    device: str,
    bytes_per_pixel_estimate: float,
    fraction: float = 0.5,
    min_tile: int = MIN_TILE,
    max_tile: int = 1024,
    multiple: int = 32,
) -> int:
    """A square tile edge whose working memory (``edge^2 * bytes_per_pixel_estimate``) fits in
    ``fraction`` of the memory available on ``device``; rounded down to ``multiple``, clamped to
    ``[min_tile, max_tile]``. ``bytes_per_pixel_estimate`` is per *input* pixel, all activations in.
    """
    from .core.device import available_memory_bytes

    if bytes_per_pixel_estimate <= 0:
        raise EngineError("bytes_per_pixel_estimate must be positive")
    budget = max(0.0, available_memory_bytes(device) * fraction)
    edge = int(math.sqrt(budget / bytes_per_pixel_estimate))
    if multiple > 1:
        edge -= edge % multiple
    return max(min_tile, min(max_tile, edge))
