"""The LaMa inpainting engine: one :class:`LamaEngine` per installed card with ``"arch": "lama"``.

Pipeline of :meth:`LamaEngine.run` (request contract as for every fill engine: ``image float32
H x W x 3`` RGB in [0, 1], ``mask float32 H x W`` **1 = fill**; a pixel painted at least
:data:`engines.inpaint.engine.HOLE_THRESHOLD` is a hole for the network):

1. a window around the hole's bounding box: the box plus ``max(64, box / 2)`` px of context,
   grown to at least :data:`WORK_SIDE` px per side where the photo is that large (LaMa's global
   Fourier branch uses the whole window), then rounded up to a multiple of 8 with real pixels;
2. a window longer than :data:`WORK_SIDE` (large holes in large photos) is area-downscaled to it
   and the prediction upscaled back (only hole pixels are composited, so the known pixels keep
   their full resolution); what is left to a multiple of 8 is reflect-padded;
3. LaMa's own input convention: ``rgb * (1 - mask)`` concatenated with the binary ``mask``
   (1 = hole), output RGB in [0, 1] (sigmoid);
4. composite with the user's mask as the weight: untouched pixels are returned bit-exact.

Importing this module does not import torch (the network is in :mod:`engines.inpaint.lama`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..classical import inpaint_inputs, nothing_to_fill
from ..core.protocol import (EngineError, EngineInfo, InpaintRequest, Input, Progress, Result,
                             RunContext, RunGenerator, Task)
from ..core.registry import register
from . import window as win

WORK_SIDE = 512  # LaMa's working size: the window's longest side at which the network runs
MULTIPLE = 8  # 2 ** n_downsampling of every published LaMa
MIN_CONTEXT = 64
HOLE_THRESHOLD = 0.25  # as engines.inpaint.engine (not imported: that module registers engines)


def lama_window(fill: np.ndarray, work_side: int = WORK_SIDE, multiple: int = MULTIPLE) -> win.Window:
    """The hole's box with context, at least ``work_side`` per side where the image allows it."""
    box = win.hole_bbox(fill)
    if box is None:
        raise ValueError("empty mask")
    y0, y1, x0, x1 = box
    h, w = fill.shape
    margin = max(MIN_CONTEXT, (max(y1 - y0, x1 - x0) + 1) // 2)
    want_h = max(work_side, math.ceil((y1 - y0 + 2 * margin) / multiple) * multiple)
    want_w = max(work_side, math.ceil((x1 - x0 + 2 * margin) / multiple) * multiple)
    wy0, wy1 = win._span(y0, y1, want_h, h)
    wx0, wx1 = win._span(x0, x1, want_w, w)
    return win.Window(wy0, wy1, wx0, wx1)


def to_network(image: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """LaMa's input, ``H x W x 4``: ``rgb * (1 - mask)`` and the mask (1 = hole)."""
    m = fill.astype(np.float32)
    return np.concatenate([image * (1.0 - m)[..., None], m[..., None]], axis=2)


class LamaEngine:
    """Inpaint with a LaMa generator loaded from ``path`` (detected, strict, loaded on first use)."""

    def __init__(self, info: EngineInfo, path: Path, work_side: int = WORK_SIDE) -> None:
        self.info = info
        self.path = Path(path)
        self.work_side = int(work_side)
        self._loaded = None

    def model(self):
        if self._loaded is None:
            from ..weights import WeightsError, load_model
            from . import lama  # noqa: F401 - registers the architecture

            try:
                loaded = load_model(self.path, task=Task.INPAINT)
            except WeightsError as exc:
                raise EngineError(f"cannot load LaMa weights {self.path.name}: {exc}") from exc
            if loaded.arch.name != "lama":
                raise EngineError(f"{self.path.name} is a {loaded.arch.name} network, not LaMa")
            self._loaded = loaded
        return self._loaded

    def predict(self, image: np.ndarray, fill: np.ndarray, ctx: RunContext,
                first: int = 0, total: int = 0):
        """Generator: the network's RGB output for a whole array (sides multiples of 8); yields
        :class:`Progress` ``first + i`` per layer and checks the cancel token between layers."""
        import torch

        module = self.model().module
        device = ctx.device if ctx.device else "cpu"
        x = torch.from_numpy(np.ascontiguousarray(to_network(image, fill).transpose(2, 0, 1)))[None]
        if device != "cpu":
            module, x = module.to(device), x.to(device)
        layers = list(module.model)
        h = x
        with torch.inference_mode():
            for i, layer in enumerate(layers):
                ctx.cancel.raise_if_cancelled()
                h = layer(h)
                yield Progress(first + i + 1, total, "filling")
        return h[0].float().permute(1, 2, 0).cpu().numpy().clip(0.0, 1.0)

    def run(self, request: InpaintRequest, ctx: RunContext) -> RunGenerator:
        image, weight, fill = inpaint_inputs(self.info.id, request, HOLE_THRESHOLD)
        started = time.perf_counter()
        if not fill.any():
            return (yield from nothing_to_fill(image, started))
        yield Progress(0, 1, "loading LaMa")
        loaded = self.model()
        ctx.cancel.raise_if_cancelled()
        multiple = int(loaded.module.multiple)
        window = lama_window(fill, self.work_side, multiple)
        crop = image[window.y0:window.y1, window.x0:window.x1]
        crop_fill = fill[window.y0:window.y1, window.x0:window.x1]
        factor = win.work_scale(window, self.work_side)
        net_in, net_fill = (crop, crop_fill) if factor >= 1.0 else win.downscale(crop, crop_fill, factor)
        padded, size = win.pad_to_multiple(net_in, multiple)
        padded_fill, _ = win.pad_to_multiple(net_fill, multiple)
        total = len(loaded.module.model) + 2
        pred = yield from self.predict(padded, padded_fill, ctx, first=0, total=total)
        pred = win.crop_to(pred, size)
        if factor < 1.0:
            pred = np.clip(win.upscale(pred, crop_fill.shape), 0.0, 1.0)
        ctx.cancel.raise_if_cancelled()
        out = image.copy()
        out[window.y0:window.y1, window.x0:window.x1] = win.composite(
            crop, pred.astype(np.float32), weight[window.y0:window.y1, window.x0:window.x1])
        yield Progress(total, total, "done")
        extras: dict[str, Any] = {"window": (window.x0, window.y0, window.width, window.height),
                                  "work_scale": round(factor, 4), "arch": "lama"}
        return Result(image=out, seconds=time.perf_counter() - started, extras=extras)


def model_id_for(card_id: str) -> str:
    """LaMa model ids: the card's id when it names LaMa (``big-lama``), else ``lama-<id>``."""
    return card_id if "lama" in card_id else f"lama-{card_id}"


def lama_info(data: dict[str, Any], model_id: str) -> EngineInfo:
    return EngineInfo(
        id=model_id, task=Task.INPAINT, title=str(data.get("title", model_id)),
        license=str(data.get("license", "unknown")), inputs=(Input.IMAGE, Input.MASK),
        size_multiple=MULTIPLE, supports_half=False, uses_torch=True,
        description=str(data.get("description", "")) or "LaMa (Fourier-convolution ResNet) fill at 512 px",
        domain="photo",
    )


def register_card(data: dict[str, Any], weights: Path) -> str:
    """Register the engine of one ``"arch": "lama"`` inpainting card; returns its model id."""
    mid = model_id_for(str(data["id"]))
    info = lama_info(data, mid)
    register(info, lambda info=info, path=weights: LamaEngine(info, path))
    return mid
