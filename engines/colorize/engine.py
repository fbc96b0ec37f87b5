"""Colorization engines: the SIGGRAPH17 user-guided network (hints), ECCV16 automatic, and a baseline.

Tensor contract of :meth:`ColorizeEngine.run`: the request's image is ``float32 H x W x 3`` RGB in
[0, 1] (any source bit depth; only its L is used, so a colour photo is re-coloured and hints
override its colours); hints are in image pixel coordinates with RGB colours in [0, 1]. The
network sees L resized to 256²; for SIGGRAPH17 nets its ab is then refined at that size
(:func:`.refine.refine_ab`: each hint's own colour at its point, the correction spread edge-aware;
the class head's annealed-mean prior where no hint is near, when ``PRIOR_WEIGHT`` > 0; with 1-2
hints a pass without hints, run first, lends its chroma detail, ``refine.ZERO_DETAIL``, and is what
the spread-input net's spread fades to far from a single hint, ``spread.FADE_C0``), resized to
H x W and joined with the photo's own full-resolution L (:func:`.lab.join_ab`), so the result has
exactly the photo's lightness.
``Result.extras``: ``ab`` (float32 256 x 256 x 2, the network-size prediction), ``arch``, ``hints``.

Models come from cards (``task: "colorize"``) in the bundled ``resources/weights/`` and the user's
``<data>/models/colorize/`` (where plain official ``.pth`` / ``.safetensors`` files are also picked
up, their architecture detected from key names). Importing this module does not import torch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.images import check_image
from ..core.protocol import (
    ColorizeRequest, EngineError, EngineInfo, Hint, Input, Progress, Result, RunContext, RunGenerator, Task,
)
from ..core.registry import register
from ..paths import user_data_dir
from ..cards import card_files, default_folders
from ..core.model_card import ModelCard
from .hints import hints_to_planes
from .lab import NET_SIZE, join_ab, net_L, rgb_to_lab
from .refine import MIX_PLAIN, SHARE_D0, ZERO_DETAIL, refine_ab
from .spread import FADE_UPTO, spread_hints

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt")
PREVIEW_SIDE = 256  # the editor's live preview colorizes the photo scaled to this longer side


def check_hints(hints: Sequence[Hint], h: int, w: int) -> tuple[Hint, ...]:
    """Hints inside the image with colours in [0, 1], or :class:`EngineError` saying which is not."""
    for i, hint in enumerate(hints):
        if not isinstance(hint, Hint):
            raise EngineError(f"hint {i} is a {type(hint).__name__}, not a Hint")
        if not (0 <= hint.x < w and 0 <= hint.y < h):
            raise EngineError(f"hint {i} at ({hint.x:.1f}, {hint.y:.1f}) is outside the {w}x{h} image")
        if len(hint.rgb) != 3 or not all(0.0 <= c <= 1.0 for c in hint.rgb):
            raise EngineError(f"hint {i} colour {hint.rgb} is not RGB in [0, 1]")
    return tuple(hints)


def net_size_for(h: int, w: int) -> int:
    """The network's square size for an image: 256, or less for a smaller image (a reduced-size
    preview), rounded up to a multiple of 8 (the net subsamples three times), at least 64."""
    return int(min(NET_SIZE, max(64, -(-max(h, w) // 8) * 8)))


def predict(module, L_full: np.ndarray, hints: Sequence[Hint], size: int = NET_SIZE,
            spread_base: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
    """Run a colorization network on a full-resolution L plane.

    Returns (ab ``size x size x 2`` float32 in [-110, 110], class logits ``1 x C x size/4 x size/4``
    torch tensor or None for networks without a class head). ``spread_base``: the net's answer
    without hints (``size x size x 2``), for a spread-input net's spread to fade to far from the
    hints (:func:`.spread.spread_hints`: with up to ``spread.FADE_UPTO`` hints, 1; ignored with more).
    """
    import torch

    from .archs import ECCVGenerator

    h, w = L_full.shape
    L_net = net_L(L_full, size)
    L = torch.from_numpy(L_net)[None, None]
    dtype = next(module.parameters()).dtype
    device = next(module.parameters()).device
    L = L.to(device=device, dtype=dtype)
    with torch.inference_mode():
        if isinstance(module, ECCVGenerator):
            ab, logits = module(L), None
        else:
            hab, mask = hints_to_planes(hints, (h, w), (size, size))
            spread = None
            if getattr(module, "spread_input", False):  # our hybrid: hints spread by lightness too
                spread_ab = spread_hints(L_net, hints, (h, w), spread_base)
                spread = torch.from_numpy(spread_ab.transpose(2, 0, 1).copy())[None].to(device, dtype)
            ab, logits = module(L, torch.from_numpy(hab)[None].to(device, dtype),
                                torch.from_numpy(mask)[None].to(device, dtype), spread)
    return ab[0].float().permute(1, 2, 0).cpu().numpy(), (None if logits is None else logits.float().cpu())


def colorize_array(module, rgb: np.ndarray, hints: Sequence[Hint] = (), size: int = NET_SIZE) -> np.ndarray:
    """RGB [0, 1] ``H x W x 3`` -> colourised RGB at the same size (the photo's L, predicted ab)."""
    L_full = rgb_to_lab(rgb)[..., 0]
    ab, _ = predict(module, L_full, hints, size)
    return join_ab(L_full, ab)


class ColorizeEngine:
    """Colorize with one network loaded from ``path`` (architecture detected, strict load)."""

    def __init__(self, info: EngineInfo, path: Path) -> None:
        self.info = info
        self.path = Path(path)
        self._loaded = None
        self._placed: dict[tuple[str, str], Any] = {}

    def model(self):
        if self._loaded is None:
            from . import archs  # noqa: F401 - registers the architectures
            from ..weights import WeightsError, load_model

            try:
                self._loaded = load_model(self.path, task=Task.COLORIZE)
            except WeightsError as exc:
                raise EngineError(f"{self.info.title}: {exc}") from exc
        return self._loaded

    def module_for(self, device: str = "cpu", dtype: str = "float32"):
        import copy

        import torch

        from ..core.device import torch_dtype

        key = (device, dtype)
        if key not in self._placed:
            base = self.model().module
            module = base if key == ("cpu", "float32") else copy.deepcopy(base)
            self._placed = {key: module.to(device=torch.device(device), dtype=torch_dtype(dtype)).eval()}
        return self._placed[key]

    def run(self, request: ColorizeRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, ColorizeRequest):
            raise EngineError(f"{self.info.id} needs a ColorizeRequest, got {type(request).__name__}")
        image = check_image(request.image)
        hints = check_hints(request.hints, *image.shape[:2])
        started = time.perf_counter()
        yield Progress(0, 3, "Lab")
        L_full = rgb_to_lab(image)[..., 0]
        ctx.cancel.raise_if_cancelled()
        yield Progress(1, 3, "network")
        dtype = ctx.dtype if ctx.device.startswith("cuda") else "float32"  # no half kernels on CPU
        module = self.module_for(ctx.device, dtype)
        size = net_size_for(*L_full.shape)
        from .archs import ECCVGenerator

        spread_net = getattr(module, "spread_input", False)
        ab0 = logits0 = None
        if not isinstance(module, ECCVGenerator) and 1 <= len(hints) <= max(len(ZERO_DETAIL), FADE_UPTO):
            # a pass without hints first: its detail (ZERO_DETAIL) and what the spread fades to (FADE_UPTO)
            ab0, logits0 = predict(module, L_full, (), size)
            ctx.cancel.raise_if_cancelled()
        ab, logits = predict(module, L_full, hints, size, spread_base=ab0)  # the spread fades to it at FADE_UPTO
        ctx.cancel.raise_if_cancelled()
        if logits is not None:  # SIGGRAPH17: hint colours at their points, prior away from hints
            # the spread net: the nearest hint's share falls with geodesic cost; the plain net: a constant
            if logits0 is not None:  # refine_ab borrows from ab0 only at the counts ZERO_DETAIL covers
                logits0 = logits0[0].numpy()
            ab = refine_ab(net_L(L_full, size), ab, hints, L_full.shape, logits[0].numpy(),
                           mix=1.0 if spread_net else MIX_PLAIN, share_d0=SHARE_D0 if spread_net else 0.0,
                           ab0=ab0, logits0=logits0)
        yield Progress(2, 3, "join with full-resolution L")
        out = join_ab(L_full, ab)
        extras = {"ab": ab, "arch": self.model().arch.name, "hints": len(hints)}
        if logits is not None:  # C x h/4 x w/4, for suggested colours (engines.colorize.suggest)
            extras["class_logits"] = logits[0].numpy()
        return Result(image=out, seconds=time.perf_counter() - started, extras=extras)


# ----------------------------------------------------------------------------- registration


def _info(model_id: str, title: str, license: str, description: str, arch: str = "siggraph17",
          alias_of: str = "") -> EngineInfo:
    inputs = (Input.IMAGE,) if arch == "eccv16" else (Input.IMAGE, Input.HINTS)
    return EngineInfo(id=model_id, task=Task.COLORIZE, title=title, license=license, inputs=inputs,
                      supports_half=True, uses_torch=True, description=description, alias_of=alias_of)


def model_cards(folders: list[Path] | None = None) -> list[ModelCard]:
    found = card_files(folders if folders is not None else default_folders("colorize"))
    return [ModelCard.from_data(c.path, c.data) for c in found if c.data.get("task") == "colorize"]


def register_models(folders: list[Path] | None = None) -> list[str]:
    """Register an engine per colorize card (and ``default``), and plain weights files in the
    user's ``models/colorize`` (e.g. the official ``siggraph17-df00044c.pth`` / ``eccv16``)."""
    ids = []
    cards = model_cards(folders)
    for card in cards:
        arch = str(card.extra.get("arch", "siggraph17"))
        info = _info(card.id, card.title, card.license, card.description, arch)
        register(info, lambda info=info, path=card.path: ColorizeEngine(info, path))
        ids.append(info.id)
        if card.default:
            dinfo = _info("default", f"Default: {card.title}", card.license, card.description, arch, card.id)
            register(dinfo, lambda info=dinfo, path=card.path: ColorizeEngine(info, path))
            ids.append("default")
    if folders is None:
        carded = {c.path.resolve() for c in cards}
        user = user_data_dir() / "models" / "colorize"
        for path in sorted(user.glob("*")) if user.is_dir() else []:
            if path.suffix in WEIGHT_SUFFIXES and path.resolve() not in carded:
                arch = "eccv16" if "eccv16" in path.stem.lower() else "siggraph17"
                title = ("Auto colorize: " if arch == "eccv16" else "") + path.stem
                info = _info(path.stem, title, "see the model's source", f"{arch} weights from {path.name}", arch)
                register(info, lambda info=info, path=path: ColorizeEngine(info, path))
                ids.append(info.id)
    return ids


register_models()

from . import baseline as _baseline  # noqa: E402,F401 - registers the classical baseline
