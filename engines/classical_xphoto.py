"""OpenCV-contrib's inpainting (``cv2.xphoto``) as classical Fill engines: ``fsr`` (Frequency
Selective Reconstruction, fast; Genser et al. 2018) and ``shiftmap`` (He & Sun 2012's shift-map
optimisation). Same protocol, worker, batch and undo as Telea / Navier-Stokes.

Registered only when ``cv2.xphoto`` exists (the ``opencv-contrib-python-headless`` wheel, this
project's dependency); a plain OpenCV build (e.g. the GPU training machine's) simply lacks them.

Conventions inside: ``cv2.xphoto.inpaint`` takes a mask whose **non-zero pixels are valid**
(the opposite of ours, converted in :func:`_xphoto`), and FSR takes 8-bit images only. Colour
spaces: FSR runs on 8-bit RGB (Lab or YCrCb through 8 bits would move a flat colour by up to 3-4
levels on the round trip; RGB measured within 1 level); ShiftMap accepts float32, so it runs on
float Lab (intensity first, as the function expects).
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from .classical import LICENSE, inpaint_inputs, nothing_to_fill
from .core.protocol import EngineError, EngineInfo, InpaintRequest, Input, Progress, Result, RunContext, RunGenerator, Task
from .core.registry import register

HAS_XPHOTO = hasattr(cv2, "xphoto") and hasattr(getattr(cv2, "xphoto", None), "inpaint")
MARGIN = 32  # px of context around the hole's box that the methods see


def _xphoto(crop: np.ndarray, hole: np.ndarray, algorithm: int) -> np.ndarray:
    valid8 = np.where(hole, 0, 255).astype(np.uint8)
    if algorithm == getattr(cv2.xphoto, "INPAINT_SHIFTMAP", -1):
        src = cv2.cvtColor(crop, cv2.COLOR_RGB2Lab)
        src[hole] = 0
        dst = np.zeros_like(src)
        cv2.xphoto.inpaint(src, valid8, dst, algorithm)
        out = np.clip(cv2.cvtColor(dst, cv2.COLOR_Lab2RGB), 0.0, 1.0)
        # ShiftMap leaves hole pixels it found no shift for at exactly 0 (a band along an image
        # border a hole touches, e.g. an extended canvas): finish those from their neighbours
        left = hole & ~dst.any(axis=2)
        if left.any():
            out8 = np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)
            out8 = cv2.inpaint(out8, left.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
            out[left] = out8[left].astype(np.float32) / 255.0
        return out
    src = np.clip(crop * 255.0 + 0.5, 0, 255).astype(np.uint8)
    src[hole] = 0
    dst = np.zeros_like(src)
    cv2.xphoto.inpaint(src, valid8, dst, algorithm)
    return dst.astype(np.float32) / 255.0


class XphotoInpaintEngine:
    def __init__(self, info: EngineInfo, algorithm: int) -> None:
        self.info = info
        self._algorithm = algorithm

    def run(self, request: InpaintRequest, ctx: RunContext) -> RunGenerator:
        image, _, fill = inpaint_inputs(self.info.id, request)
        started = time.perf_counter()
        if not fill.any():
            return (yield from nothing_to_fill(image, started))
        out = image.copy()
        rows, cols = np.nonzero(fill.any(axis=1))[0], np.nonzero(fill.any(axis=0))[0]
        y0, y1 = max(0, rows[0] - MARGIN), min(image.shape[0], rows[-1] + 1 + MARGIN)
        x0, x1 = max(0, cols[0] - MARGIN), min(image.shape[1], cols[-1] + 1 + MARGIN)
        yield Progress(0, 1, "filling")
        ctx.cancel.raise_if_cancelled()
        crop_fill = fill[y0:y1, x0:x1]
        try:
            filled = _xphoto(np.ascontiguousarray(image[y0:y1, x0:x1]), crop_fill, self._algorithm)
        except cv2.error as exc:
            raise EngineError(f"{self.info.title} failed: {str(exc).strip().splitlines()[-1]}") from None
        out[y0:y1, x0:x1][crop_fill] = filled[crop_fill]
        yield Progress(1, 1, "done")
        return Result(image=out, seconds=time.perf_counter() - started)


FSR = EngineInfo(
    id="fsr", task=Task.INPAINT, title="FSR fast (classical, OpenCV-contrib)", license=LICENSE,
    inputs=(Input.IMAGE, Input.MASK), uses_torch=False,
    description="Frequency Selective Reconstruction (Genser et al. 2018), OpenCV-contrib's fast variant: "
                "models each block as a sparse sum of Fourier basis functions; keeps more texture than Telea.",
)
SHIFTMAP = EngineInfo(
    id="shiftmap", task=Task.INPAINT, title="Shift-map (classical, OpenCV-contrib)", license=LICENSE,
    inputs=(Input.IMAGE, Input.MASK), uses_torch=False,
    description="Shift-map inpainting (He & Sun 2012): copies whole regions of the photo by graph-cut "
                "optimised offsets; sharp, may repeat content.",
)

if HAS_XPHOTO:
    register(FSR, lambda: XphotoInpaintEngine(FSR, cv2.xphoto.INPAINT_FSR_FAST))
    register(SHIFTMAP, lambda: XphotoInpaintEngine(SHIFTMAP, cv2.xphoto.INPAINT_SHIFTMAP))
