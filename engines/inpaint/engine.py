"""PConv inpainting engines: one :class:`PConvEngine` per weights file, registered from model cards.

Pipeline of :meth:`PConvEngine.run` (request contract: ``image float32 H x W x 3`` RGB in [0, 1],
``mask float32 H x W`` **1 = fill**):

1. the hole is ``mask >= HOLE_THRESHOLD``; the network sees a context window around its bounding
   box, grown to the network's size multiple with real pixels (reflect padding only for small images);
2. when that window's longer side exceeds ``WORK_SIDE`` (large holes in large photos), or the hole
   is deeper than the card's ``max_hole_depth`` (:func:`.window.hole_depth`; deeper than the
   training holes), it is area-downscaled for the network and the prediction is upscaled back:
   the known pixels keep their full resolution because only hole pixels are composited;
3. the one polarity conversion: PConv input = ``(2 rgb - 1) * valid`` with ``valid = 1 - hole``;
4. composite inside the window: ``mask`` weights the prediction, so the mask's soft edge is the
   feather and every pixel with mask 0 (or outside the window) is returned bit-exact (float32 in,
   float32 out: 16-bit sources keep their precision; alpha never reaches the engine and is kept by
   the caller).

Cards (``<name>.json`` with ``"task": "inpaint"`` beside ``<name>.safetensors``) in the bundled
``resources/weights/`` and the user's ``<data>/models/inpaint/`` register ``pconv-<name>`` ids; the
bundled card with ``"default": true`` is also ``default``. Importing this module does not import torch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..classical import inpaint_inputs, nothing_to_fill
from ..core.protocol import (EngineError, EngineInfo, InpaintRequest, Input, Progress, Result,
                             RunContext, RunGenerator, Task)
from ..core.registry import register
from . import window as win

MAX_HOLE_DEPTH = 0.0  # see PConvEngine.max_hole_depth; 0 = never downscale for depth
WORK_SIDE = 512  # longest side the network runs at (CPU budget: ~0.2 s at 512^2 for the compact net)
# A pixel painted at least this much is a hole for the network: most of a soft brush edge is inside
# the hole, while the noise of a mask loaded from a JPEG is not.
HOLE_THRESHOLD = 0.25


def to_network(image: np.ndarray, fill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The single user -> PConv convention change: ``(x in [-1, 1] * valid, valid)``, 1 = valid."""
    valid = (~fill).astype(np.float32)
    return (image * 2.0 - 1.0) * valid[..., None], valid


def from_network(pred: np.ndarray) -> np.ndarray:
    return np.clip((pred + 1.0) * 0.5, 0.0, 1.0)


class PConvEngine:
    """Inpaint with a PConv U-Net loaded from ``path`` (architecture detected, strict load, lazy)."""

    def __init__(self, info: EngineInfo, path: Path, flip_average: bool = False,
                 max_hole_depth: float = MAX_HOLE_DEPTH) -> None:
        self.info = info
        self.path = Path(path)
        # average the prediction with that of the mirrored input (test-time augmentation: 2x the time)
        self.flip_average = flip_average
        # holes deeper than this (px to the nearest known pixel, 95th percentile) are filled from a
        # downscaled window: deeper than the training holes, the net fills them worse at full size
        self.max_hole_depth = float(max_hole_depth)
        self._loaded = None

    def model(self):
        if self._loaded is None:
            from . import arch  # noqa: F401 - registers the architecture
            from ..weights import WeightsError, load_model

            try:
                self._loaded = load_model(self.path, task=Task.INPAINT)
            except WeightsError as exc:
                raise EngineError(f"cannot load inpainting weights {self.path.name}: {exc}") from exc
        return self._loaded

    @property
    def multiple(self) -> int:
        return int(self.model().module.multiple)

    def predict(self, image: np.ndarray, fill: np.ndarray, device: str = "cpu") -> np.ndarray:
        """Network output for a whole array (``H``, ``W`` multiples of :attr:`multiple`), RGB [0, 1]."""
        import torch

        module = self.model().module
        x, valid = to_network(image, fill)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
        mt = torch.from_numpy(valid)[None, None]
        if device != "cpu":
            module = module.to(device)
            xt, mt = xt.to(device), mt.to(device)
        with torch.inference_mode():
            y = module(xt, mt)
            if self.flip_average:
                y = 0.5 * (y + module(xt.flip(-1), mt.flip(-1)).flip(-1))
        return from_network(y[0].float().permute(1, 2, 0).cpu().numpy())

    def run(self, request: InpaintRequest, ctx: RunContext) -> RunGenerator:
        image, weight, fill = inpaint_inputs(self.info.id, request, HOLE_THRESHOLD)
        started = time.perf_counter()
        if not fill.any():
            return (yield from nothing_to_fill(image, started))
        yield Progress(0, 3, "loading the network")
        multiple = self.multiple
        ctx.cancel.raise_if_cancelled()
        window = win.context_window(fill, multiple)
        crop = image[window.y0:window.y1, window.x0:window.x1]
        crop_fill = fill[window.y0:window.y1, window.x0:window.x1]
        factor = min(win.work_scale(window, WORK_SIDE), win.depth_scale(crop_fill, self.max_hole_depth))
        net_in, net_fill = (crop, crop_fill) if factor >= 1.0 else win.downscale(crop, crop_fill, factor)
        padded, size = win.pad_to_multiple(net_in, multiple)
        padded_fill, _ = win.pad_to_multiple(net_fill, multiple)
        yield Progress(1, 3, "filling")
        ctx.cancel.raise_if_cancelled()
        device = ctx.device if ctx.device else "cpu"
        pred = win.crop_to(self.predict(padded, padded_fill, device), size)
        if factor < 1.0:
            pred = np.clip(win.upscale(pred, crop_fill.shape), 0.0, 1.0)
        ctx.cancel.raise_if_cancelled()
        # on flat surroundings, the prediction's colours mapped onto the photo's
        pred = win.match_flat_context(crop, pred.astype(np.float32), crop_fill)
        out = image.copy()
        out[window.y0:window.y1, window.x0:window.x1] = win.composite(
            crop, pred.astype(np.float32), weight[window.y0:window.y1, window.x0:window.x1])
        yield Progress(3, 3, "done")
        extras: dict[str, Any] = {"window": (window.x0, window.y0, window.width, window.height),
                                  "work_scale": round(factor, 4), "arch": self.model().arch.name}
        return Result(image=out, seconds=time.perf_counter() - started, extras=extras)


# ----------------------------------------------------------------------------- model cards


def _card_info(data: dict[str, Any], model_id: str, alias_of: str = "") -> EngineInfo:
    title = str(data.get("title", data["id"]))
    return EngineInfo(
        id=model_id, task=Task.INPAINT, title=f"Default: {title}" if alias_of else title,
        license=str(data.get("license", "unknown")), inputs=(Input.IMAGE, Input.MASK),
        size_multiple=int(data.get("size_multiple", 128)), supports_half=True, uses_torch=True,
        description=str(data.get("description", "")), alias_of=alias_of,
    )


def model_id_for(card_id: str) -> str:
    """Inpainting model ids are ``pconv-<name>`` (a card may already carry the prefix)."""
    return card_id if card_id.startswith("pconv-") else f"pconv-{card_id}"


def inpaint_cards(folders: list[Path] | None = None) -> list[tuple[dict[str, Any], Path, bool]]:
    """``(card data, weights path, bundled)`` of inpainting cards (walk shared in :mod:`engines.cards`)."""
    from ..cards import card_files, default_folders

    found = card_files(folders if folders is not None else default_folders("inpaint"))
    return [(c.data, c.weights, c.bundled) for c in found if c.data.get("task") == "inpaint"]


def register_models(folders: list[Path] | None = None) -> list[str]:
    """Register ``pconv-<name>`` per card; ``texture`` (PatchMatch texture fill, structure from the
    bundled default network) and ``default`` (= ``texture``) with the bundled default; returns the ids."""
    from .texture import TextureFillEngine, texture_info

    ids = []
    for data, weights, bundled in inpaint_cards(folders):
        if data.get("arch") == "lama":  # LaMa cards get their own engine and id (lama_engine.py)
            from .lama_engine import register_card

            ids.append(register_card(data, weights))
            continue
        mid = model_id_for(str(data["id"]))
        info = _card_info(data, mid)
        flip = bool(data.get("flip_average", False))
        depth = float(data.get("max_hole_depth", MAX_HOLE_DEPTH))
        register(info, lambda info=info, path=weights, flip=flip, depth=depth: PConvEngine(info, path, flip, depth))
        ids.append(mid)
        if data.get("default") and bundled:
            guide_title = str(data.get("title", mid))
            for tid, alias in (("texture", ""), ("default", "texture")):
                tinfo = texture_info(tid, guide_title, alias_of=alias)
                register(tinfo, lambda info=tinfo, guide=mid: TextureFillEngine(info, guide))
                ids.append(tid)
    return ids


register_models()
