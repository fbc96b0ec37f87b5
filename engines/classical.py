"""Classical engines (OpenCV), the baselines of every benchmark: bicubic/Lanczos upscaling and
Telea / Navier-Stokes inpainting, behind the same protocol as the networks (no torch).

Contract (docs/ARCHITECTURE.md rule 2): images ``float32 HxWx3`` RGB in ``[0, 1]``; masks ``float32 HxW`` in
``[0, 1]`` with **1 = fill** (binarised at 0.5). Upscaling returns ``float32 H*s x W*s x 3`` clipped
to ``[0, 1]``; inpainting returns the image with only masked pixels replaced (others bit-exact).
Registered at import under ids ``bicubic``, ``lanczos`` (upscale) and ``telea``, ``ns`` (inpaint).
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from .core.protocol import (
    EngineError,
    EngineInfo,
    InpaintRequest,
    Input,
    Progress,
    Result,
    RunContext,
    RunGenerator,
    Task,
    UpscaleRequest,
)
from .core.images import RANGE_SLACK, check_image
from .core.registry import register
from .tiling import run_tiled

LICENSE = "BSD-3-Clause (OpenCV)"
SCALES = (2, 3, 4, 8)
DEFAULT_TILE = 512
# Lanczos-4 reads 4 input pixels either side; tiling is exact when overlap >= 4 * that radius.
RESIZE_OVERLAP = 16


# ----------------------------------------------------------------------------- validation


def check_mask(mask: object, image: np.ndarray) -> np.ndarray:
    """Raise :class:`EngineError` unless ``mask`` is float32 HxW in [0, 1] matching the image."""
    if not isinstance(mask, np.ndarray):
        raise EngineError(f"mask must be a numpy array, got {type(mask).__name__}")
    h, w = image.shape[:2]
    if mask.ndim != 2 or mask.shape != (h, w):
        shown = f"{mask.shape[1]}x{mask.shape[0]}" if mask.ndim == 2 else f"shaped {mask.shape}"
        raise EngineError(f"mask is {shown} but the image is {w}x{h}")
    if mask.dtype != np.float32:
        raise EngineError(f"mask must be float32 in [0, 1] (1 = fill), got {mask.dtype}")
    lo, hi = float(mask.min()), float(mask.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -RANGE_SLACK or hi > 1.0 + RANGE_SLACK:
        raise EngineError(f"mask values must be in [0, 1] (1 = fill), got [{lo:.4g}, {hi:.4g}]")
    return mask


def inpaint_inputs(engine_id: str, request: object, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What every inpainting engine checks first: ``(image, weight, fill)`` with the mask's values
    clipped to [0, 1] as ``weight`` and ``fill = weight >= threshold``. Raises :class:`EngineError`
    for a request of another task, a bad image or mask, or a mask that covers the whole image."""
    if not isinstance(request, InpaintRequest):
        raise EngineError(f"{engine_id} needs an InpaintRequest, got {type(request).__name__}")
    image = check_image(request.image)
    weight = np.clip(check_mask(request.mask, image), 0.0, 1.0)
    fill = weight >= threshold
    if fill.all():
        raise EngineError("the mask covers the whole image: there is nothing to fill it from")
    return image, weight, fill


def nothing_to_fill(image: np.ndarray, started: float) -> RunGenerator:
    """The run of an inpainting engine whose mask is empty: the image back, unchanged."""
    yield Progress(1, 1, "nothing to fill")
    return Result(image=image.copy(), seconds=time.perf_counter() - started)


# ----------------------------------------------------------------------------- upscaling


class ResizeEngine:
    """Upscale by the request's scale (2/3/4/8) with one OpenCV interpolation, tiled for progress."""

    def __init__(self, info: EngineInfo, interpolation: int) -> None:
        self.info = info
        self._interpolation = interpolation

    def run(self, request: UpscaleRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, UpscaleRequest):
            raise EngineError(f"{self.info.id} needs an UpscaleRequest, got {type(request).__name__}")
        image = check_image(request.image)
        scale = request.scale
        if scale not in SCALES:
            raise EngineError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale}")
        started = time.perf_counter()
        tile = request.tile or ctx.tile or DEFAULT_TILE

        def resize(patch: np.ndarray) -> np.ndarray:
            h, w = patch.shape[:2]
            return cv2.resize(patch, (w * scale, h * scale), interpolation=self._interpolation)

        out = yield from run_tiled(image, resize, scale, tile, RESIZE_OVERLAP, ctx.cancel)
        np.clip(out, 0.0, 1.0, out=out)  # cubic and Lanczos kernels overshoot at edges
        return Result(image=out, seconds=time.perf_counter() - started, extras={"scale": scale})


# ----------------------------------------------------------------------------- inpainting


def _inpaint_channel(channel: np.ndarray, mask8: np.ndarray, radius: float, flags: int) -> np.ndarray:
    """Inpaint one float32 [0, 1] channel through 16-bit (steps of 1/65535, 256x finer than 8-bit).

    Why not float32: OpenCV accepts single-channel float32 but its Telea path returns garbage
    for it (values far outside the input range, seen with OpenCV 5.0), and 3-channel input must be
    8-bit. 16-bit single channel is supported by both methods and loses nothing visible.
    """
    as16 = np.round(channel * 65535.0).astype(np.uint16)
    filled = cv2.inpaint(as16, mask8, radius, flags)
    return filled.astype(np.float32) * np.float32(1.0 / 65535.0)


class InpaintEngine:
    """Fill the masked region with OpenCV's inpainting (``flags``), channel by channel."""

    def __init__(self, info: EngineInfo, flags: int) -> None:
        self.info = info
        self._flags = flags

    def run(self, request: InpaintRequest, ctx: RunContext) -> RunGenerator:
        image, _, fill = inpaint_inputs(self.info.id, request)
        radius = float(request.radius)
        if not (radius > 0 and np.isfinite(radius)):
            raise EngineError(f"inpaint radius must be a positive number of pixels, got {request.radius}")
        started = time.perf_counter()
        if not fill.any():
            return (yield from nothing_to_fill(image, started))
        out = image.copy()
        # Only the mask's neighbourhood matters (the methods read pixels within `radius` of the
        # hole), so work on its bounding box plus a margin: fast for small holes in big photos.
        margin = int(np.ceil(radius)) * 2 + 4
        rows, cols = np.nonzero(fill.any(axis=1))[0], np.nonzero(fill.any(axis=0))[0]
        y0, y1 = max(0, rows[0] - margin), min(image.shape[0], rows[-1] + 1 + margin)
        x0, x1 = max(0, cols[0] - margin), min(image.shape[1], cols[-1] + 1 + margin)
        crop_fill = fill[y0:y1, x0:x1]
        mask8 = crop_fill.astype(np.uint8)
        crop = out[y0:y1, x0:x1]  # view: writing it writes `out`
        for c in range(3):
            ctx.cancel.raise_if_cancelled()
            filled = _inpaint_channel(crop[:, :, c], mask8, radius, self._flags)
            np.clip(filled, 0.0, 1.0, out=filled)
            crop[:, :, c][crop_fill] = filled[crop_fill]
            yield Progress(c + 1, 3, f"channel {c + 1}/3")
        return Result(image=out, seconds=time.perf_counter() - started)


# ----------------------------------------------------------------------------- registration

BICUBIC = EngineInfo(
    id="bicubic", task=Task.UPSCALE, title="Bicubic (classical)", license=LICENSE,
    scale=4, supports_tiling=True, uses_torch=False,
    description="OpenCV bicubic interpolation at the requested scale (2, 3, 4 or 8); the baseline.",
)
LANCZOS = EngineInfo(
    id="lanczos", task=Task.UPSCALE, title="Lanczos (classical)", license=LICENSE,
    scale=4, supports_tiling=True, uses_torch=False,
    description="OpenCV Lanczos-4 interpolation at the requested scale (2, 3, 4 or 8).",
)
TELEA = EngineInfo(
    id="telea", task=Task.INPAINT, title="Telea fast marching (classical)", license=LICENSE,
    inputs=(Input.IMAGE, Input.MASK), uses_torch=False,
    description="Telea (2004) fast-marching inpainting: smooth fill from the hole's border.",
)
NS = EngineInfo(
    id="ns", task=Task.INPAINT, title="Navier-Stokes (classical)", license=LICENSE,
    inputs=(Input.IMAGE, Input.MASK), uses_torch=False,
    description="Bertalmio et al. (2001) fluid-dynamics inpainting: continues isophotes into the hole.",
)

register(BICUBIC, lambda: ResizeEngine(BICUBIC, cv2.INTER_CUBIC))
register(LANCZOS, lambda: ResizeEngine(LANCZOS, cv2.INTER_LANCZOS4))
register(TELEA, lambda: InpaintEngine(TELEA, cv2.INPAINT_TELEA))
register(NS, lambda: InpaintEngine(NS, cv2.INPAINT_NS))
