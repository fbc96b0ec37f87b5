"""Semantic synthesis engines (Task.SYNTHESIZE): one :class:`SpadeEngine` per model card.

Pipeline of :meth:`SpadeEngine.run` (request: ``labels int32 H x W`` class ids, UNLABELED = -1;
optional ``style_image float32 H x W x 3`` in [0, 1]; ``seed``):

1. the label map is resized with **nearest neighbour only** to the working size: the model's
   native pixel count at the map's aspect, sides multiples of the network's ``2**n_up`` (a VAE
   model has a fixed grid, so exactly its native size);
   the map is then continued by ``context`` px of its mirror image on every side (default
   :data:`CONTEXT`, a card's ``"context"`` overrides it) and the generator, which mirrors its own
   start grid alike, runs on the larger map; the middle is kept. The outer band of the picture is
   then computed like its interior: with the picture's edge at the network's edge, the band came
   out smoother than a photo's (issue 20);
2. the one conversion to the network's convention: one-hot (+ don't-care, + instance edges) as
   the model's dataset did (:mod:`.labels`); unlabeled pixels go to don't-care or take the nearest
   painted class;
3. VAE models draw ``z`` from the style encoder (``mu + std * eps``) when a style photo is given,
   else from N(0, 1); ``eps`` comes from ``seed``, so the same seed gives the same photo;
4. output ``[-1, 1]`` -> ``[0, 1]``, resized back to the label map's size (Lanczos up, area down).

Cards: ``<name>.json`` with ``"task": "synthesize"`` beside its weights, in the bundled
``resources/weights/`` and the user's ``<data>/models/synthesize/``. **Only cards whose weights file
exists are registered**, so with nothing installed the registry offers no synthesis model and the
editor says so (a random-weight network is never offered as if it were trained). A card with
``"task": "segment"`` names the facades segmentation model (:func:`installed_segmenter`).
Importing this module does not import torch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.protocol import (EngineError, EngineInfo, Input, Progress, Result, RunContext, RunGenerator,
                             SynthesizeRequest, Task)
from ..core.registry import register
from ..cards import CardFile, card_files, default_folders

log = logging.getLogger(__name__)

USER_FOLDER = "synthesize"  # <data>/models/synthesize/
# px of mirrored label map synthesized around the picture at the working size, then cropped away
# (see the module doc). Chosen on 50 facades train pairs with the bundled model (0 / 16 / 32 / 64 px:
# border ratio 0.495 / 0.549 / 0.536 / 0.571 vs real 1.056; time x1 / 1.2 / 1.5 / 2.5); held-out
# figures and what it does not fix on the card (resources/weights/spade-facades.md)
CONTEXT = 32


@dataclass(frozen=True)
class SpadeCard:
    id: str
    path: Path  # the weights file
    task: str  # "synthesize" or "segment"
    title: str
    license: str
    description: str
    convention: str  # engines.spade.labels.CONVENTIONS key ("" = from the channel count)
    palette: str
    default: bool
    bundled: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        return self.id if self.id.startswith("spade-") or self.task == "segment" else f"spade-{self.id}"


def _spade_card(card: CardFile) -> SpadeCard | None:
    data = card.data
    try:
        task = str(data.get("task", ""))
        if data.get("arch") == "facades-segnet":  # imported by the models manager under "synthesize"
            task = "segment"
        if task not in ("synthesize", "segment"):
            return None
        convention = str(data.get("convention", ""))
        palette = str(data.get("palette", "") or convention)
        snc = (data.get("hparams") or {}).get("semantic_nc")
        if not palette and snc:  # an imported official checkpoint: its channel count names the dataset
            from .labels import convention_for

            palette = convention_for(int(snc)).palette
        return SpadeCard(
            id=str(data["id"]), path=card.weights, task=task,
            title=str(data.get("title", data["id"])), license=str(data.get("license", "unknown")),
            description=str(data.get("description", "")), convention=convention, palette=palette,
            default=bool(data.get("default", False)), bundled=card.bundled, extra=data,
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("skipping model card %s: %s", card.path, exc)
        return None


def spade_cards(folders: list[Path] | None = None, task: str = "synthesize") -> list[SpadeCard]:
    """Cards of ``task`` whose weights file exists (bundled folder first)."""
    found = (_spade_card(c) for c in card_files(folders if folders is not None else default_folders(USER_FOLDER)))
    return [c for c in found if c is not None and c.task == task]


def to_network_input(labels: np.ndarray, conv, work_hw: tuple[int, int], context: int = 0) -> np.ndarray:
    """The single label -> network conversion: nearest resize to ``work_hw``, ``context`` px of
    mirrored label map on every side (edge row repeated, as the generator mirrors its features),
    then the semantic channels (float32 semantic_nc x (h + 2 context) x (w + 2 context))."""
    from .labels import resize_labels, semantic_input

    small = resize_labels(labels, work_hw)
    if context > 0:
        small = np.pad(small, int(context), mode="symmetric")
    return semantic_input(small, conv)


class SpadeEngine:
    """Synthesize a photo from a label map with one SPADE generator (strict load, lazy)."""

    def __init__(self, info: EngineInfo, card: SpadeCard) -> None:
        self.info = info
        self.card = card
        self._loaded = None

    def model(self):
        if self._loaded is None:
            from . import archs  # noqa: F401 - registers the architecture
            from ..weights import WeightsError, load_model

            try:
                loaded = load_model(self.card.path, arch_name="spade")
                # the card names num_upsampling_layers / padding: same tensors, another forward
                cfg = archs.with_overrides(loaded.module.cfg, {**(self.card.extra.get("hparams") or {}),
                                                               **self.card.extra})
                if cfg != loaded.module.cfg:
                    archs.apply_config(loaded.module, cfg)
            except WeightsError as exc:
                raise EngineError(f"cannot load synthesis weights {self.card.path.name}: {exc}") from exc
            self._loaded = loaded
        return self._loaded

    def convention(self):
        from .labels import convention_for

        return convention_for(self.model().module.cfg.semantic_nc, self.card.convention or None)

    def work_size(self, hw: tuple[int, int]) -> tuple[int, int]:
        from .labels import working_size

        net = self.model().module
        if net.cfg.use_vae:
            return net.output_size(0, 0)
        conv = self.convention()
        native = tuple(self.card.extra.get("native_hw", conv.native_hw))
        return working_size(hw, native, net.multiple)

    def context(self) -> int:
        """px of mirrored context around the working-size map (the card's ``"context"``, else
        :data:`CONTEXT`; 0 = the picture's edges are the network's)."""
        try:
            value = int(self.card.extra.get("context", CONTEXT))
        except (TypeError, ValueError):
            raise EngineError(f"{self.card.id}: the card's 'context' must be a whole number of px") from None
        if value < 0:
            raise EngineError(f"{self.card.id}: the card's 'context' must be >= 0 px, got {value}")
        return value

    def run(self, request: SynthesizeRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, SynthesizeRequest):
            raise EngineError(f"{self.info.id} needs a SynthesizeRequest, got {type(request).__name__}")
        labels = np.asarray(request.labels)
        if labels.ndim != 2 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
            raise EngineError(f"the label map must be a non-empty H x W integer array, got {labels.shape} {labels.dtype}")
        if (labels < 0).all():
            raise EngineError("The label map is empty: paint some classes first (label brush, L).")
        started = time.perf_counter()
        yield Progress(0, 3, "loading the network")
        import torch

        net = self.model().module
        conv = self.convention()
        work = self.work_size(labels.shape)
        context = self.context()
        ctx.cancel.raise_if_cancelled()
        try:
            seg = to_network_input(labels, conv, work, context)
        except ValueError as exc:
            raise EngineError(f"{self.info.title}: {exc}") from None
        device = torch.device(ctx.device or "cpu")
        net = net.to(device).eval()
        x = torch.from_numpy(seg)[None].to(device)
        gen = torch.Generator().manual_seed(int(request.seed) & 0x7FFFFFFFFFFFFFFF)
        z, style = None, False
        yield Progress(1, 3, "synthesizing")
        ctx.cancel.raise_if_cancelled()
        with torch.inference_mode():
            if net.cfg.use_vae:
                eps = torch.randn(1, net.cfg.z_dim, generator=gen).to(device)
                if request.style_image is not None and hasattr(net, "encoder"):
                    side = net.encoder.input_size
                    mu, logvar = net.encode(_image_to_tensor(request.style_image, side).to(device))
                    z, style = mu + torch.exp(0.5 * logvar) * eps, True
                else:
                    z = eps
            y = net(x, z, context=context)
        ctx.cancel.raise_if_cancelled()
        out = ((y[0].float().clamp(-1, 1) + 1.0) * 0.5).permute(1, 2, 0).cpu().numpy()
        h, w = labels.shape
        interp = cv2.INTER_LANCZOS4 if h * w > out.shape[0] * out.shape[1] else cv2.INTER_AREA
        out = np.clip(cv2.resize(out, (w, h), interpolation=interp), 0.0, 1.0).astype(np.float32)
        yield Progress(3, 3, "done")
        extras = {"work_size": work, "context": context, "seed": int(request.seed), "style_from_photo": style,
                  "random_style": bool(net.cfg.use_vae and not style), "convention": conv.name,
                  "unlabeled_share": float((labels < 0).mean())}
        return Result(image=out, seconds=time.perf_counter() - started, extras=extras)


def _image_to_tensor(image: np.ndarray, side: int):
    """float32 H x W x 3 [0, 1] -> 1 x 3 x side x side in [-1, 1] (area resize: no aliasing from a
    large photo, which the encoder's own bilinear resize would give)."""
    import torch

    img = np.asarray(image, np.float32)
    if img.ndim != 3 or img.shape[2] != 3 or img.size == 0:
        raise EngineError(f"the style photo must be H x W x 3 RGB, got shape {img.shape}")
    interp = cv2.INTER_AREA if min(img.shape[:2]) > side else cv2.INTER_CUBIC
    img = np.clip(cv2.resize(np.ascontiguousarray(img), (side, side), interpolation=interp), 0.0, 1.0)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None] * 2.0 - 1.0


def _card_info(card: SpadeCard, model_id: str, alias_of: str = "") -> EngineInfo:
    data = card.extra
    return EngineInfo(
        id=model_id, task=Task.SYNTHESIZE, title=f"Default: {card.title}" if alias_of else card.title,
        license=card.license, inputs=(Input.LABELS,), size_multiple=int(data.get("size_multiple", 32)),
        supports_half=True, uses_torch=True, description=card.description, alias_of=alias_of,
    )


_CARDS: dict[str, SpadeCard] = {}


def card_for(model_id: str) -> SpadeCard | None:
    """The card behind a registered synthesis model id (the editor reads its palette)."""
    return _CARDS.get(model_id)


def register_models(folders: list[Path] | None = None) -> list[str]:
    """Register ``spade-<name>`` per installed card and ``default`` for the bundled default."""
    ids = []
    for card in spade_cards(folders):
        info = _card_info(card, card.model_id)
        register(info, lambda info=info, card=card: SpadeEngine(info, card))
        _CARDS[card.model_id] = card
        ids.append(card.model_id)
        if card.default and card.bundled:
            dinfo = _card_info(card, "default", alias_of=card.model_id)
            register(dinfo, lambda info=dinfo, card=card: SpadeEngine(info, card))
            _CARDS["default"] = card
            ids.append("default")
    return ids


def installed_segmenter(folders: list[Path] | None = None):
    """A :class:`~.segment.Segmenter` for the first installed segmentation card, or None."""
    cards = spade_cards(folders, task="segment")
    if not cards:
        return None
    from .segment import WORK_SIDE, Segmenter

    return Segmenter(cards[0].path, int(cards[0].extra.get("work_side", WORK_SIDE)))


def segmenter_cards(folders: list[Path] | None = None) -> list[SpadeCard]:
    return spade_cards(folders, task="segment")


register_models()
