"""Latent editing engines (Task.LATENT, iGAN): one :class:`LatentEngine` per model card.

``run(LatentEditRequest, ctx)`` by ``request.mode`` (image: float32 H x W x 3 in [0, 1], squashed to
the model's square size S; the editor crops a square first):

- ``project``: z0 = projection of the image (``request.projection``: encoder / optimize / hybrid;
  hybrid falls back to optimize without an encoder). Result: ``latent`` z0 (float32 nz),
  ``image`` G(z0) resized to H x W, ``extras["projection"]`` G(z0) at S x S, ``extras["psnr"]``,
  ``extras["domain"]`` the far-from-the-domain verdict (:mod:`.domain_check`: ``score``,
  ``threshold``, ``far``, ``message`` — "this photo is far from what the facades model knows;
  edits will be coarse" — for the editor to show). An edit with ``keep_rest`` changes the photo
  only in a soft region grown from the strokes (bit-exact elsewhere, on any photo).
- ``edit``: colour strokes (H x W x 4: RGB + coverage), sketch strokes (H x W edge strength) and a
  keep mask (H x W, 1 = keep) become constraints at S x S; multi-start Adam from z0 (the request's
  ``latent``, else a projection first); candidates ranked by cost; morph frames to the best;
  the edit transferred onto the photo (``base="photo"``) or G(z1) itself (``base="generated"``).
  Result: ``image`` the transferred photo, ``latent`` z1, ``extras["candidates"]`` a list of
  ``{"z", "image" (S x S x 3), "cost"}`` best first, ``extras["frames"]`` n x S x S x 3,
  ``extras["mask"]`` H x W where the photo changed, stroke colour errors before / after.
- ``transfer``: ``latent`` z0 and ``target`` z1 -> frames and the transferred photo (choosing
  another candidate).
- ``random``: z drawn from ``seed``; ``image`` G(z) at H x W, ``latent`` z.

Every optimisation iteration is a cancel point and yields Progress (Preview every few).

Cards: ``<name>.json`` with ``"task": "latent"`` beside its weights (``file`` = the generator in
DCGAN layout, optional ``encoder``), in the bundled ``resources/weights/`` and the user's
``<data>/models/latent/``. **Only cards whose weights file exists are registered** (a random-weight
network is never offered as if trained). Importing this module does not import torch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.images import check_image
from ..core.protocol import (EngineError, EngineInfo, Input, LatentEditRequest, Preview, Progress, Result,
                             RunContext, RunGenerator, Task)
from ..core.registry import register
from ..cards import CardFile, card_files, default_folders

log = logging.getLogger(__name__)

USER_FOLDER = "latent"  # <data>/models/latent/
MODES = ("project", "edit", "transfer", "random")
# iGAN's published settings: 64 starts x 40 Adam iterations, 16 candidates, 16 morph frames. On a
# CPU one Adam step of the ngf-64 generator at batch 64 takes >1 s, so there the default is 8
# starts (measured figures in the report / model card); on CUDA the paper's 64.
DEFAULTS = {"starts": 64, "cpu_starts": 8, "iterations": 40, "candidates": 16, "frames": 16,
            "project_steps": 40, "project_starts": 4,
            # the editor's "Keep the rest" weight (LatentEditRequest.keep_rest; the request's own
            # default stays 0 = the paper's unconstrained edit)
            "keep_rest": 0.3}
NO_MODEL = "no latent model installed — ganstudio train igan"


@dataclass(frozen=True)
class LatentCard:
    id: str
    path: Path  # generator weights
    encoder: Path | None
    title: str
    license: str
    description: str
    default: bool
    bundled: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _latent_card(card: CardFile) -> LatentCard | None:
    data = card.data
    if data.get("task") != "latent" or data.get("arch") in ("dcgan-d", "igan-encoder"):
        return None  # a discriminator or an encoder imported on its own is not an editor model
    try:
        enc = str(data.get("encoder", "") or "")
        return LatentCard(
            id=str(data["id"]), path=card.weights,
            encoder=(card.path.parent / enc) if enc else None, title=str(data.get("title", data["id"])),
            license=str(data.get("license", "unknown")), description=str(data.get("description", "")),
            default=bool(data.get("default", False)), bundled=card.bundled, extra=data,
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("skipping model card %s: %s", card.path, exc)
        return None


def latent_cards(folders: list[Path] | None = None) -> list[LatentCard]:
    """Cards of latent models whose generator file exists (bundled folder first)."""
    found = (_latent_card(c) for c in card_files(folders if folders is not None else default_folders(USER_FOLDER)))
    return [c for c in found if c is not None]


class LatentEngine:
    """iGAN on one generator (+ encoder); weights loaded strictly on first use."""

    def __init__(self, info: EngineInfo, generator: Path, encoder: Path | None = None,
                 domain: str = "", domain_threshold: float | dict | None = None) -> None:
        self.info = info
        self.generator_path = Path(generator)
        self.encoder_path = Path(encoder) if encoder is not None and Path(encoder).is_file() else None
        self._model = None
        # the photo-far-from-the-domain check (domain_check.py): None = no calibrated threshold
        self.domain = domain
        self.domain_threshold = domain_threshold  # a number (hybrid) or {method: number or None}

    @classmethod
    def from_files(cls, generator: str | Path, encoder: str | Path | None = None,
                   model_id: str = "igan") -> "LatentEngine":
        info = EngineInfo(id=model_id, task=Task.LATENT, title=model_id, license="unknown",
                          inputs=(Input.IMAGE, Input.LATENT), uses_torch=True)
        return cls(info, Path(generator), Path(encoder) if encoder else None)

    @classmethod
    def from_modules(cls, generator, encoder=None, model_id: str = "igan") -> "LatentEngine":
        """An engine around in-memory networks (tests, training previews)."""
        from .model import LatentModel

        engine = cls.from_files("<memory>", None, model_id)
        engine._model = LatentModel(generator, encoder)
        return engine

    def model(self, device: str = "cpu"):
        if self._model is not None and self._model.device != device:
            from .model import LatentModel

            self._model = LatentModel(self._model.generator, self._model.encoder, device)
        if self._model is None:
            from . import archs  # noqa: F401 - registers the architectures
            from ..weights import WeightsError, load_model
            from .model import LatentModel

            try:
                g = load_model(self.generator_path, task=Task.LATENT, arch_name="dcgan-g").module
                e = None
                if self.encoder_path is not None:
                    e = load_model(self.encoder_path, task=Task.LATENT, arch_name="igan-encoder").module
                    if e.nz != g.nz or e.size != g.size:
                        raise EngineError(f"encoder {self.encoder_path.name} (z {e.nz}, {e.size}px) does not "
                                          f"match the generator (z {g.nz}, {g.size}px)")
            except WeightsError as exc:
                raise EngineError(f"cannot load latent model {self.generator_path.name}: {exc}") from exc
            self._model = LatentModel(g, e, device)
        return self._model

    # ------------------------------------------------------------------ run
    def run(self, request: LatentEditRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, LatentEditRequest):
            raise EngineError(f"{self.info.id} needs a LatentEditRequest, got {type(request).__name__}")
        if request.mode not in MODES:
            raise EngineError(f"latent mode must be one of {', '.join(MODES)}, got {request.mode!r}")
        image = check_image(request.image)
        started = time.perf_counter()
        import torch

        yield Progress(0, 1, "loading the latent model")
        model = self.model(ctx.device or "cpu")
        ctx.cancel.raise_if_cancelled()
        h, w = image.shape[:2]
        if request.mode == "random":
            z = model.sample_z(1, request.seed)
            with torch.no_grad():
                small = _np(model.render(z))
            return Result(image=_resize(small, h, w), latent=_z_np(z), seconds=time.perf_counter() - started,
                          extras={"projection": small, "seed": int(request.seed)})
        z0 = self._z(request.latent, model, "latent")
        extras: dict[str, Any] = {}
        if request.mode == "project" or z0 is None:
            proj = yield from self._project(model, image, request, ctx)
            z0 = proj.z
            from .domain_check import domain_score, threshold_for, verdict

            small = _np(model.to_net(image))  # the photo as the projection saw it
            extras.update(projection=_np(proj.image), projection_method=proj.method,
                          psnr=_psnr(_np(proj.image), small),
                          domain=verdict(domain_score(small, _np(proj.image)),
                                         threshold_for(self.domain_threshold, proj.method), self.domain).as_dict())
            if request.mode == "project":
                return Result(image=_resize(extras["projection"], h, w), latent=_z_np(z0),
                              seconds=time.perf_counter() - started, extras=extras)
        if request.mode == "transfer":
            z1 = self._z(request.target, model, "target")
            if z1 is None:
                raise EngineError("transfer needs the target latent (a chosen candidate)")
            chosen = None
        else:
            candidates, cons = yield from self._edit(model, z0, image, request, ctx)
            z1 = candidates[0].z
            from .edit import stroke_color_error

            with torch.no_grad():
                before = stroke_color_error(model.render(z0), cons)
            extras.update(candidates=[{"z": _z_np(c.z), "image": _np(c.image), "cost": c.cost} for c in candidates],
                          color_error_before=before, color_error_after=stroke_color_error(candidates[0].image, cons))
            chosen = candidates[0]
        out, frames, mask = yield from self._transfer(model, z0, z1, image, request, ctx)
        extras.update(frames=frames, mask=mask, z0=_z_np(z0), chosen_cost=None if chosen is None else chosen.cost)
        return Result(image=out, latent=_z_np(z1), seconds=time.perf_counter() - started, extras=extras)

    # ------------------------------------------------------------------ steps
    def _z(self, value, model, what: str):
        if value is None:
            return None
        import torch

        z = np.asarray(value, np.float32).reshape(-1)
        if z.size != model.nz or not np.isfinite(z).all():
            raise EngineError(f"the {what} has {z.size} values but this model's z has {model.nz} "
                              "(project the photo again with this model)")
        return torch.from_numpy(np.clip(z, -1, 1))[None].to(model.device)

    def _project(self, model, image, request, ctx):
        from .project import project

        method = request.projection
        if method in ("hybrid", "encoder") and model.encoder is None:
            method = "optimize"  # a generator imported without its encoder
        steps = request.iterations or DEFAULTS["project_steps"]
        gen = project(model, model.to_net(image), method, steps=steps, starts=DEFAULTS["project_starts"],
                      seed=request.seed)
        while True:
            try:
                step, total, preview = next(gen)
            except StopIteration as stop:
                return stop.value
            except ValueError as exc:
                raise EngineError(str(exc)) from None
            ctx.cancel.raise_if_cancelled()
            yield Progress(step, total, "projecting the photo")
            if preview is not None:
                yield Preview(_np(preview), "projection")

    def _edit(self, model, z0, image, request, ctx):
        from .edit import edit

        cons = constraints_for(model, request, image.shape[:2])
        if cons.empty:
            raise EngineError("Paint a colour stroke or a sketch stroke on the projection first.")
        default_starts = DEFAULTS["starts"] if model.device.startswith("cuda") else DEFAULTS["cpu_starts"]
        gen = edit(model, z0, cons, starts=request.starts or default_starts,
                   iterations=request.iterations or DEFAULTS["iterations"],
                   keep=request.candidates or DEFAULTS["candidates"], seed=request.seed)
        while True:
            try:
                step, total, preview = next(gen)
            except StopIteration as stop:
                return stop.value, cons
            ctx.cancel.raise_if_cancelled()
            yield Progress(step, total, "editing in latent space")
            if preview is not None:
                yield Preview(_np(preview), "best candidate so far")

    def _transfer(self, model, z0, z1, image, request, ctx):
        from .morph import morph_frames
        from .transfer import transfer_edit

        yield Progress(0, 1, "morphing and transferring the edit")
        frames = morph_frames(model, z0, z1, request.frames or DEFAULTS["frames"])
        ctx.cancel.raise_if_cancelled()
        h, w = image.shape[:2]
        if request.base == "generated":
            return _resize(frames[-1], h, w), frames, np.ones((h, w), np.float32)
        out, mask = transfer_edit(image, frames, ctx.cancel, region=edit_region(request, (h, w)))
        yield Progress(1, 1, "done")
        return out, frames, mask


def constraints_for(model, request: LatentEditRequest, hw: tuple[int, int]):
    """The request's strokes as :class:`~.edit.Constraints` at the model's size (area resize:
    colour = coverage-weighted mean colour of each model pixel; coverage and edges averaged)."""
    import torch

    from .edit import Constraints

    s = model.size
    dev = model.device

    def plane(a: np.ndarray, name: str, channels: int) -> np.ndarray:
        a = np.asarray(a, np.float32)
        want = hw + ((channels,) if channels > 1 else ())
        if a.shape != want:
            raise EngineError(f"{name} must be {want}, got {a.shape}")
        if not np.isfinite(a).all():
            raise EngineError(f"{name} contains NaN or infinite values")
        return np.clip(a, 0.0, 1.0)

    c = Constraints()
    painted = np.zeros((s, s), np.float32)  # where any colour or sketch stroke is (for keep_rest)
    if request.color_strokes is not None:
        strokes = plane(request.color_strokes, "color_strokes", 4)
        cov = _resize(strokes[..., 3], s, s)
        rgb = _resize(strokes[..., :3] * strokes[..., 3:4], s, s) / np.maximum(cov, 1e-6)[..., None]
        c.color_w = torch.from_numpy(np.ascontiguousarray(cov))[None, None].to(dev)
        c.color = torch.from_numpy(np.clip(rgb, 0, 1).transpose(2, 0, 1).copy())[None].to(dev) * 2 - 1
        painted = np.maximum(painted, cov)
    if request.sketch_strokes is not None:
        sk = _resize(plane(request.sketch_strokes, "sketch_strokes", 1), s, s)
        sk = np.clip(sk / max(float(sk.max()), 1e-6), 0, 1)
        c.sketch = torch.from_numpy(sk)[None, None].to(dev)
        painted = np.maximum(painted, sk)
    keep = _resize(plane(request.keep_mask, "keep_mask", 1), s, s) if request.keep_mask is not None else None
    if request.keep_rest:
        if not (np.isfinite(request.keep_rest) and 0.0 <= request.keep_rest <= 10.0):
            raise EngineError(f"keep_rest must be a weight in [0, 10], got {request.keep_rest}")
        rest = float(request.keep_rest) * far_from_strokes(painted)
        keep = rest if keep is None else np.maximum(keep, rest)
    if keep is not None:
        c.keep_w = torch.from_numpy(np.ascontiguousarray(keep, np.float32))[None, None].to(dev)
    return c


def edit_region(request: LatentEditRequest, hw: tuple[int, int]) -> np.ndarray | None:
    """Where the transferred edit may change the photo (float32 H x W in [0, 1]), or None = wherever
    the generated frames changed (the paper's unconstrained transfer).

    With ``keep_rest`` on: a soft region grown from the colour and sketch strokes
    (:func:`~.transfer.stroke_region`), so the photo away from the strokes stays bit-exact on any
    photo, however far it is from the model's domain; the keep strokes are cut out of it. With
    ``keep_rest`` off, only the keep strokes (when given) limit it. Strokes are checked by
    :func:`constraints_for` before this runs."""
    from .transfer import stroke_region

    def plane(a, name: str, shape: tuple[int, ...]) -> np.ndarray:
        a = np.asarray(a, np.float32)
        if a.shape != shape:
            raise EngineError(f"{name} must be {shape}, got {a.shape}")
        return np.clip(np.nan_to_num(a), 0.0, 1.0)

    keep = None if request.keep_mask is None else plane(request.keep_mask, "keep_mask", hw)
    if not request.keep_rest:
        return None if keep is None else (1.0 - keep).astype(np.float32)
    painted = np.zeros(hw, np.float32)
    if request.color_strokes is not None:
        painted = np.maximum(painted, plane(request.color_strokes, "color_strokes", hw + (4,))[..., 3])
    if request.sketch_strokes is not None:
        painted = np.maximum(painted, plane(request.sketch_strokes, "sketch_strokes", hw))
    if not (painted > 0.01).any():
        return None  # "transfer" of a chosen candidate without its strokes: as the paper
    return stroke_region(painted, keep)


def far_from_strokes(painted: np.ndarray) -> np.ndarray:
    """``painted``: float32 s x s stroke coverage at the model's size -> float32 s x s in [0, 1]:
    1 farther than ``s / 16`` px from every stroke, 0 on and near them, with a soft edge (the
    "keep the rest" region of :class:`LatentEditRequest`)."""
    s = painted.shape[0]
    near = cv2.dilate((painted > 0.01).astype(np.uint8), np.ones((3, 3), np.uint8),
                      iterations=max(1, s // 16)).astype(np.float32)
    return np.clip(1.0 - cv2.GaussianBlur(near, (0, 0), max(0.5, s / 64)), 0.0, 1.0)


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    a = np.ascontiguousarray(a, np.float32)
    if a.shape[:2] == (h, w):
        return a.copy()
    interp = cv2.INTER_AREA if a.shape[0] * a.shape[1] > h * w else cv2.INTER_CUBIC
    return np.clip(cv2.resize(a, (w, h), interpolation=interp), 0.0, 1.0).astype(np.float32)


def _np(x) -> np.ndarray:
    from .model import to_numpy

    return to_numpy(x)[0]


def _z_np(z) -> np.ndarray:
    return z.detach().reshape(-1).cpu().numpy().astype(np.float32)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-10))


def _card_info(card: LatentCard, model_id: str, alias_of: str = "") -> EngineInfo:
    return EngineInfo(
        id=model_id, task=Task.LATENT, title=f"Default: {card.title}" if alias_of else card.title,
        license=card.license, inputs=(Input.IMAGE, Input.LATENT), uses_torch=True,
        description=card.description, alias_of=alias_of,
    )


_CARDS: dict[str, LatentCard] = {}


def card_for(model_id: str) -> LatentCard | None:
    return _CARDS.get(model_id)


def _engine_for(info: EngineInfo, card: LatentCard) -> LatentEngine:
    """The card's engine, with its domain-check thresholds: the card's ``domain_threshold`` (a model
    trained by the user and calibrated by them: a number for hybrid projections or one per method),
    else the ones calibrated here for a bundled card (:data:`~.domain_check.THRESHOLDS`), else none
    (no verdict)."""
    from .domain_check import THRESHOLDS

    threshold = card.extra.get("domain_threshold", THRESHOLDS.get(card.id))
    if threshold is not None and not isinstance(threshold, (int, float, dict)):
        log.warning("ignoring the domain_threshold of %s: not a number or a dict", card.id)
        threshold = None
    return LatentEngine(info, card.path, card.encoder, domain=str(card.extra.get("domain", "") or ""),
                        domain_threshold=threshold)


def register_models(folders: list[Path] | None = None) -> list[str]:
    """Register each installed card under its id, and ``default`` for the bundled default card
    (else the first installed card marked default)."""
    ids = []
    cards = latent_cards(folders)
    for card in cards:
        info = _card_info(card, card.id)
        register(info, lambda info=info, card=card: _engine_for(info, card))
        _CARDS[card.id] = card
        ids.append(card.id)
    defaults = sorted((c for c in cards if c.default), key=lambda c: not c.bundled)
    if defaults and "default" not in ids:
        card = defaults[0]
        dinfo = _card_info(card, "default", alias_of=card.id)
        register(dinfo, lambda info=dinfo, card=card: _engine_for(info, card))
        _CARDS["default"] = card
        ids.append("default")
    return ids


register_models()
