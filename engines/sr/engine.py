"""Super-resolution engines: one :class:`SREngine` per weights file, tiled, cancellable.

Tensor contract of :meth:`SREngine.run`: the request's image is ``float32 H x W x 3`` RGB in
``[0, 1]``; the result is ``float32 H*scale x W*scale x 3`` in ``[0, 1]`` where ``scale`` is the
*requested* scale. When it differs from the network's native scale the network runs at its native
scale and the output is resized (Lanczos up, area down); ``Result.extras`` says so.

Models come from model cards (``<name>.json`` beside ``<name>.safetensors``) in the bundled
``resources/weights/`` and in the user's ``<data>/models/sr/``; the card whose ``"default": true``
(bundled) is also registered as ``default``. Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from ..core.images import check_image
from ..core.model_card import ModelCard
from ..core.protocol import EngineError, EngineInfo, Result, RunContext, RunGenerator, Task, UpscaleRequest
from ..core.registry import register
from ..cards import card_files, default_folders
from ..tiling import auto_tile_size, run_tiled

log = logging.getLogger(__name__)

# Tiles overlap by this many input pixels. The blend discards the outer quarter and cross-fades
# the middle half, so each kept output pixel saw >= overlap/4 input pixels of real context. The
# compact VGG net (receptive radius ~18 px) is within 1/255 of a whole-image run at 32; RRDB's
# effective field is much wider: on a 512² photo crop with 256 tiles (`ganstudio bench sr-tiling`)
# x4plus differs from a whole-image run by max 13/255 at overlap 64, 4/255 at 96, 3/255 (mean
# 0.01/255) at 128 and 1/255 (mean 0.0006/255) at 192 with 384 tiles, so it gets 192 — but never
# more than half the tile (a small user tile then trades exactness for memory: 128 of 256 = 3/255).
# Our compact default is within 1/255 at 32.
OVERLAP = 32
OVERLAP_BY_ARCH = {"rrdbnet": 192, "msrresnet": 48, "srgan": 48, "srvgg": 32}

# On the CPU memory is not what limits a tile, time is: Cancel is checked before every layer of the
# network, so one layer over one tile is the longest the user waits for it. The compact net's
# 48-feature 3x3 conv over a 256 x 256 tile takes ~0.04-0.18 s on one loaded core (a 1024 tile,
# what memory would allow, ~16x that); the price is the overlap recomputed, (256 / 224)^2 = 1.3x
# the work of one big tile. Larger-field nets keep larger tiles (their overlap must stay <= half).
CPU_TILE = 256
CPU_TILE_BY_ARCH = {"rrdbnet": 512}
SCALES = (1, 2, 3, 4, 8)


class SREngine:
    """Upscale with one network loaded from ``path`` (architecture detected, weights loaded strictly).

    The weights are read on first use (``info`` comes from the card or a cheap header read).
    """

    def __init__(self, info: EngineInfo, path: Path) -> None:
        self.info = info
        self.path = Path(path)
        self._loaded = None  # LoadedModel, float32 on the CPU
        self._placed: dict[tuple[str, str], Any] = {}  # (device, dtype) -> module copy

    @classmethod
    def from_file(cls, path: str | Path, model_id: str | None = None, title: str = "",
                  license: str = "unknown", description: str = "") -> "SREngine":
        """An engine for a weights file, its capabilities read from the network itself."""
        from . import archs  # noqa: F401 - registers the architectures
        from ..weights import load_model

        loaded = load_model(path, task=Task.UPSCALE)
        info = _info_for(loaded, model_id or Path(path).stem, title, license, description)
        engine = cls(info, Path(path))
        engine._loaded = loaded
        return engine

    # ------------------------------------------------------------------ model

    def model(self):
        if self._loaded is None:
            from . import archs  # noqa: F401
            from ..weights import load_model

            self._loaded = load_model(self.path, task=Task.UPSCALE)
        return self._loaded

    def _module_for(self, device: str, dtype: str):
        import torch

        from ..core.device import torch_dtype

        key = (device, dtype)
        if key not in self._placed:
            import copy

            module = copy.deepcopy(self.model().module) if (device, dtype) != ("cpu", "float32") \
                else self.model().module
            module = module.to(device=torch.device(device), dtype=torch_dtype(dtype)).eval()
            if device.startswith("cuda"):
                module = module.to(memory_format=torch.channels_last)
            self._placed = {key: module}  # keep one placement: GPU memory is precious
        return self._placed[key]

    def native_scale(self) -> int:
        from .archs import model_scale

        return model_scale(self.model().module)

    # ------------------------------------------------------------------ run

    def run(self, request: UpscaleRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, UpscaleRequest):
            raise EngineError(f"{self.info.id} needs an UpscaleRequest, got {type(request).__name__}")
        image = check_image(request.image)
        if request.scale not in SCALES:
            raise EngineError(f"scale must be one of {', '.join(map(str, SCALES))}, got {request.scale}")
        import torch

        from .archs import size_multiple

        started = time.perf_counter()
        loaded = self.model()
        native = self.native_scale()
        multiple = size_multiple(loaded.module)
        dtype = ctx.dtype if ctx.device.startswith("cuda") else "float32"  # no half kernels on CPU
        module = self._module_for(ctx.device, dtype)
        tile = request.tile or ctx.tile or auto_tile_size(ctx.device, _bytes_per_pixel(loaded, dtype))
        if ctx.device == "cpu" and not (request.tile or ctx.tile):
            tile = min(tile, CPU_TILE_BY_ARCH.get(loaded.arch.name, CPU_TILE))
        device = torch.device(ctx.device)
        tdtype = next(module.parameters()).dtype
        channels_last = ctx.device.startswith("cuda")

        def upscale(patch: np.ndarray) -> np.ndarray:
            # patch: float32 h x w x 3 in [0, 1], h and w multiples of `multiple`
            x = torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))[None]
            x = x.to(device=device, dtype=tdtype)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.inference_mode():
                y = module(x).clamp_(0.0, 1.0)
            return y[0].float().permute(1, 2, 0).cpu().numpy()

        overlap = request.overlap or min(OVERLAP_BY_ARCH.get(loaded.arch.name, OVERLAP), max(OVERLAP, tile // 2))
        with cancel_between_layers(module, ctx.cancel):
            out = yield from run_tiled(image, upscale, native, tile, overlap, ctx.cancel, multiple=multiple)
        extras: dict[str, Any] = {"scale": request.scale, "native_scale": native, "tile": tile,
                                  "overlap": overlap, "device": ctx.device, "dtype": dtype,
                                  "arch": loaded.arch.name}
        if request.scale != native:
            out, how = resize_to_scale(out, image.shape[:2], request.scale)
            extras["resized"] = (f"ran the x{native} network, then resized to x{request.scale} "
                                 f"with {how}")
        np.clip(out, 0.0, 1.0, out=out)
        return Result(image=out, seconds=time.perf_counter() - started, extras=extras)


@contextlib.contextmanager
def cancel_between_layers(module, token) -> Iterator[None]:
    """Check ``token`` before every leaf layer of ``module`` runs (raises ``Cancelled`` from inside
    the forward pass), so Cancel waits for one layer, not one tile. The hooks go when the block
    ends: the module is shared by later runs."""
    def check(_module, _inputs) -> None:
        token.raise_if_cancelled()

    hooks = [m.register_forward_pre_hook(check) for m in module.modules() if next(m.children(), None) is None]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def resize_to_scale(out: np.ndarray, src_hw: tuple[int, int], scale: int) -> tuple[np.ndarray, str]:
    """Resize a model output to ``src_hw * scale``: Lanczos when enlarging, area when shrinking."""
    h, w = src_hw[0] * scale, src_hw[1] * scale
    if h > out.shape[0]:
        return cv2.resize(out, (w, h), interpolation=cv2.INTER_LANCZOS4), "Lanczos"
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA), "area averaging"


def _bytes_per_pixel(loaded, dtype: str) -> float:
    """Working memory per *input* pixel: a few feature maps at input and at output resolution."""
    hp = loaded.hparams
    feat = int(hp.get("num_feat", 64))
    scale = int(hp.get("scale", hp.get("upscale", 4)))
    item = 4 if dtype == "float32" else 2
    if loaded.arch.name == "srvgg":  # body at input resolution, only the output at scale^2
        return item * (4 * feat + 6 * scale * scale)
    # RRDB dense blocks hold ~num_feat + 4 * growth channels; the tail runs at output resolution.
    return item * feat * (12 + 3 * scale * scale)


def _info_for(loaded, model_id: str, title: str, license: str, description: str) -> EngineInfo:
    from .archs import model_scale, size_multiple

    return EngineInfo(
        id=model_id, task=Task.UPSCALE, title=title or model_id, license=license,
        scale=model_scale(loaded.module), size_multiple=size_multiple(loaded.module),
        supports_tiling=True, supports_half=True, uses_torch=True,
        description=description or f"{loaded.arch.name} x{model_scale(loaded.module)}",
    )


def _card_info(card: ModelCard, model_id: str | None = None) -> EngineInfo:
    data = card.extra
    alias = model_id is not None and model_id != card.id
    return EngineInfo(
        id=model_id or card.id, task=Task.UPSCALE, title=f"Default: {card.title}" if alias else card.title,
        alias_of=card.id if alias else "", license=card.license,
        scale=int(data.get("scale", 4)), size_multiple=int(data.get("size_multiple", 1)),
        supports_tiling=True, supports_half=True, uses_torch=True, description=card.description,
        domain=str(data.get("domain", "")),
    )


def model_cards(folders: list[Path] | None = None) -> list[ModelCard]:
    """Cards of SR models in the bundled and the user's folders (unreadable cards are logged)."""
    found = card_files(folders if folders is not None else default_folders("sr"))
    return [ModelCard.from_data(c.path, c.data) for c in found if c.data.get("task", "upscale") == "upscale"]


class ScaleDispatchEngine:
    """``default`` when several default cards exist (our x4 and x2): each request goes to the
    network whose native scale is the requested one, else to the first (largest-scale) card's."""

    def __init__(self, info: EngineInfo, by_scale: dict[int, Path]) -> None:
        self.info = info
        self._paths = by_scale
        self._engines: dict[int, SREngine] = {}

    def engine_for(self, scale: int) -> SREngine:
        native = scale if scale in self._paths else self.info.scale
        if native not in self._engines:
            self._engines[native] = SREngine(self.info, self._paths[native])
        return self._engines[native]

    def run(self, request: UpscaleRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, UpscaleRequest):
            raise EngineError(f"{self.info.id} needs an UpscaleRequest, got {type(request).__name__}")
        return (yield from self.engine_for(request.scale).run(request, ctx))


def register_models(folders: list[Path] | None = None) -> list[str]:
    """Register an engine per model card, plus ``default``; returns the ids registered.

    Several cards may say ``"default": true`` when they differ in native scale (x4 and x2 of the
    same family): ``default`` then picks by the requested scale; its info is the largest scale's.
    """
    ids = []
    defaults: list[ModelCard] = []
    for card in model_cards(folders):
        info = _card_info(card)
        register(info, lambda info=info, path=card.path: SREngine(info, path))
        ids.append(info.id)
        if card.default:
            defaults.append(card)
    if defaults:
        defaults.sort(key=lambda c: -int(c.extra.get("scale", 4)))
        dinfo = _card_info(defaults[0], "default")
        # largest scale last, so it wins if two default cards share a scale
        by_scale = {int(c.extra.get("scale", 4)): c.path for c in reversed(defaults)}
        register(dinfo, lambda info=dinfo, paths=by_scale: ScaleDispatchEngine(info, paths))
        ids.append("default")
    return ids


register_models()
