"""The texture-preserving fill (the default *Fill*): structure from a network, texture from the photo.

Pipeline of :meth:`TextureFillEngine.run` (request contract as every inpainting engine: ``image``
float32 ``H x W x 3`` in [0, 1], ``mask`` float32 ``H x W`` **1 = fill**; optional ``source``
float32 ``H x W``, 1 = texture may be taken from here; ``seed`` picks a variation):

1. the hole (``mask >= 0.25``) is split into connected regions; a region thinner than
   :data:`THIN_DEPTH` px (a scratch, a wire) is filled by diffusion (OpenCV Telea), which is better
   than any patch there;
2. for the rest, a *window* around the holes at full resolution (the hole's box plus context, never
   a downscaled copy of the photo) is handed to the structure predictor — the guide network
   (the bundled PConv by default; Telea when no network is installed), which runs at its own
   working size inside its engine;
3. :func:`.patchmatch.synthesize` fills the window coarse to fine, with the prediction as a guide
   channel at the coarse levels, so structure follows the net and texture is the photo's own;
4. only hole pixels are composited back (the mask's soft edge is the feather); everything else is
   returned bit-exact.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from ..classical import check_mask, inpaint_inputs, nothing_to_fill
from ..core.protocol import (EngineError, EngineInfo, InpaintRequest, Input, Progress, Result, RunContext,
                             RunGenerator, Task, drive)
from . import window as win
from .patchmatch import SynthesisSettings, synthesize

HOLE_THRESHOLD = 0.25  # as the PConv engine: most of a soft brush edge is inside the hole
THIN_DEPTH = 2.5  # px to the nearest known pixel: thinner regions are filled by diffusion
CONTEXT = 1.0  # window context, x the hole box's longer side (at least MIN_CONTEXT px)
MIN_CONTEXT = 48


def _telea(image: np.ndarray, hole: np.ndarray, radius: float = 5.0) -> np.ndarray:
    """Telea diffusion of ``hole`` (through 16 bits per channel, as the classical engine)."""
    from ..classical import _inpaint_channel

    out = image.copy()
    mask8 = hole.astype(np.uint8)
    for c in range(3):
        out[..., c][hole] = np.clip(_inpaint_channel(np.ascontiguousarray(image[..., c]), mask8, radius,
                                                     cv2.INPAINT_TELEA), 0.0, 1.0)[hole]
    return out


def split_thin(hole: np.ndarray, thin_depth: float = THIN_DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """(thin, thick) parts of the hole, by connected region: a region whose deepest pixel is within
    ``thin_depth`` px of a known pixel is thin."""
    n, labels = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    deepest = np.zeros(n, np.float32)
    np.maximum.at(deepest, labels.reshape(-1), depth.reshape(-1))
    thin_region = deepest <= thin_depth
    thin_region[0] = False  # label 0 is the known area
    thin = thin_region[labels]
    return thin, hole & ~thin


class TextureFillEngine:
    """PatchMatch texture synthesis guided by a structure predictor (another inpainting engine)."""

    def __init__(self, info: EngineInfo, guide_id: str = "", settings: SynthesisSettings = SynthesisSettings()) -> None:
        self.info = info
        self.guide_id = guide_id  # an inpainting model id; "" or unavailable -> Telea
        self.settings = settings

    def _guide_engine(self):
        if not self.guide_id:
            return None
        from ..core import registry

        try:
            return registry.get(Task.INPAINT, self.guide_id)
        except EngineError:
            return None

    def run(self, request: InpaintRequest, ctx: RunContext) -> RunGenerator:
        image, weight, hole = inpaint_inputs(self.info.id, request, HOLE_THRESHOLD)
        started = time.perf_counter()
        if not hole.any():
            return (yield from nothing_to_fill(image, started))
        source = ~hole
        if getattr(request, "source", None) is not None:
            try:
                allowed = np.clip(check_mask(request.source, image), 0.0, 1.0) >= 0.5
            except EngineError as exc:
                raise EngineError(f"sample-from area: {exc}") from None
            source = allowed & ~hole
            if not source.any():
                raise EngineError("the sample-from area is empty once the hole is taken out of it")
        thin, thick = split_thin(hole)
        out = image.copy()
        extras: dict[str, Any] = {"thin_pixels": int(thin.sum()), "patch_pixels": int(thick.sum())}
        if thin.any():
            out = _telea(out, thin)
        if thick.any():
            yield Progress(0, 10, "predicting the structure")
            ctx.cancel.raise_if_cancelled()
            box = win.context_window(thick, 1, context=CONTEXT, min_context=MIN_CONTEXT)
            sl = (slice(box.y0, box.y1), slice(box.x0, box.x1))
            crop, crop_hole, crop_src = out[sl], thick[sl], source[sl] & ~thick[sl]
            if not crop_src.any():  # no sample area near the hole: look further, in the whole photo
                box = win.Window(0, hole.shape[0], 0, hole.shape[1])
                sl = (slice(0, hole.shape[0]), slice(0, hole.shape[1]))
                crop, crop_hole, crop_src = out, thick, source & ~thick
            guide = yield from self._structure(crop, crop_hole, ctx)
            extras["window"] = (box.x0, box.y0, box.width, box.height)
            settings = replace(self.settings, seed=int(getattr(request, "seed", 0) or 0))

            def stop() -> None:
                ctx.cancel.raise_if_cancelled()

            progress: list[tuple[int, int]] = []
            try:
                filled = synthesize(crop, crop_hole, crop_src, guide, settings, should_stop=stop,
                                    on_level=lambda i, n: progress.append((i, n)))
            except ValueError as exc:
                raise EngineError(f"cannot fill this hole from the photo: {exc}") from None
            out[sl] = filled
            extras["levels"] = progress[-1][1] if progress else 0
            yield Progress(9, 10, "compositing")
        result = win.composite(image, out, weight)
        yield Progress(10, 10, "done")
        return Result(image=result.astype(np.float32), seconds=time.perf_counter() - started, extras=extras)

    def _structure(self, crop: np.ndarray, crop_hole: np.ndarray, ctx: RunContext):
        """The guide: the structure predictor's fill of the window (Telea without a network)."""
        engine = self._guide_engine()
        if engine is None:
            return _telea(crop, crop_hole)
        result = yield from engine.run(InpaintRequest(image=crop, mask=crop_hole.astype(np.float32)), ctx)
        return result.image


def texture_info(model_id: str, guide_title: str, alias_of: str = "") -> EngineInfo:
    title = f"Texture fill (PatchMatch, structure from {guide_title})"
    return EngineInfo(
        id=model_id, task=Task.INPAINT, title=f"Default: {title}" if alias_of else title,
        license="GAN Studio (MIT); the guide network's own licence applies to it",
        inputs=(Input.IMAGE, Input.MASK), size_multiple=1, supports_half=False, uses_torch=True,
        description=("The network predicts the structure; the detail is copied from the photo itself by "
                     "multi-scale patch search and voting, so the fill is as sharp as the photo. Thin "
                     "strokes are filled by diffusion."), alias_of=alias_of)


def run_texture(image: np.ndarray, mask: np.ndarray, guide_id: str = "", seed: int = 0) -> np.ndarray:
    """Convenience for scripts and tests: one texture fill, returned as an array."""
    engine = TextureFillEngine(texture_info("texture", guide_id or "Telea"), guide_id)
    return drive(engine.run(InpaintRequest(image=image, mask=mask, seed=seed), RunContext())).image
