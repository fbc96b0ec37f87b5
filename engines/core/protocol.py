"""The engine protocol: capabilities as data, one small frozen request per task, and a generator.

Pixel contract at this boundary (docs/ARCHITECTURE.md rule 2), for every engine:
- images: ``float32`` numpy ``H x W x 3`` RGB in ``[0, 1]`` (no alpha: the caller keeps alpha apart
  and puts it back; engines that change size get the alpha resized by the caller);
- masks: ``float32`` ``H x W`` in ``[0, 1]``, **1 = the region the user painted** (fill / edit);
- label maps: ``int32`` ``H x W`` class ids;
- hints: image pixel coordinates ``(x, y)`` with an RGB colour in ``[0, 1]``.
Each engine converts to its network's own convention (Lab, [-1, 1], PConv's 1 = valid) in exactly
one place, inside the engine.

An engine's ``run(request, ctx)`` is a generator: it yields :class:`Progress` and :class:`Preview`
between steps or tiles, calls ``ctx.cancel.raise_if_cancelled()`` at the same places, and
*returns* a :class:`Result` (``StopIteration.value``). :func:`drive` runs one to completion.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Protocol, Union

import numpy as np

from .cancel import CancelToken


class Task(str, enum.Enum):
    UPSCALE = "upscale"
    INPAINT = "inpaint"
    COLORIZE = "colorize"
    SYNTHESIZE = "synthesize"
    LATENT = "latent"


class Input(str, enum.Enum):
    """What an engine needs from the document's layers."""

    IMAGE = "image"
    MASK = "mask"
    HINTS = "hints"
    LABELS = "labels"
    LATENT = "latent"


@dataclass(frozen=True)
class EngineInfo:
    """Capabilities as typed data (never ``if name in [...]`` checks)."""

    id: str  # model id, e.g. "bicubic", "default", "realesrgan-x4plus"
    task: Task
    title: str  # shown in menus
    license: str
    inputs: tuple[Input, ...] = (Input.IMAGE,)
    scale: int = 1  # output size = input size * scale
    size_multiple: int = 1  # input is padded to a multiple of this
    supports_tiling: bool = False
    supports_half: bool = False  # fp16/bf16 allowed on accelerators
    uses_torch: bool = False  # classical engines run without torch
    description: str = ""
    alias_of: str = ""  # for ``default``: the model id it stands for (menus show one entry)
    domain: str = ""  # what the model was trained for: "photo", "anime" (illustration); "" = not said


# ----------------------------------------------------------------------------- requests
# One small frozen dataclass per task. Arrays are read-only by contract (engines never write them).


@dataclass(frozen=True)
class UpscaleRequest:
    image: np.ndarray  # float32 HxWx3 in [0, 1]
    scale: int = 4
    tile: int = 0  # 0 = automatic (from available memory); otherwise tile edge in input pixels
    denoise: float = 0.0  # 0..1 where the model supports it
    overlap: int = 0  # tile overlap in input pixels; 0 = the engine's default for its architecture


@dataclass(frozen=True)
class InpaintRequest:
    image: np.ndarray  # float32 HxWx3 in [0, 1]
    mask: np.ndarray  # float32 HxW, 1 = fill this region
    radius: float = 5.0  # classical methods' neighbourhood (pixels)
    # texture fill only: where texture may be taken from (float32 HxW, 1 = allowed; None = the
    # whole photo outside the hole) and which variation (random seed of the patch search)
    source: np.ndarray | None = None
    seed: int = 0


@dataclass(frozen=True)
class Hint:
    x: float  # image pixel coordinates
    y: float
    rgb: tuple[float, float, float]  # [0, 1]
    size: int = 1  # patch edge in pixels


@dataclass(frozen=True)
class ColorizeRequest:
    image: np.ndarray  # float32 HxWx3 in [0, 1] (its L channel is kept at full resolution)
    hints: tuple[Hint, ...] = ()


@dataclass(frozen=True)
class SynthesizeRequest:
    labels: np.ndarray  # int32 HxW class ids
    style_image: np.ndarray | None = None  # optional float32 HxWx3 example photo for the encoder
    seed: int = 0


@dataclass(frozen=True)
class LatentEditRequest:
    image: np.ndarray  # float32 HxWx3 in [0, 1]
    color_strokes: np.ndarray | None = None  # float32 HxWx4: RGB + coverage
    sketch_strokes: np.ndarray | None = None  # float32 HxW edge strength
    latent: np.ndarray | None = None  # z0 from a previous projection
    seed: int = 0
    # -- added for iGAN (engines/latent); all optional, defaults keep the old meaning ("edit")
    mode: str = "edit"  # "project" | "edit" | "transfer" | "random"
    target: np.ndarray | None = None  # "transfer": z1 (a chosen candidate); latent holds z0
    keep_mask: np.ndarray | None = None  # float32 HxW, 1 = keep the projection here
    projection: str = "hybrid"  # "encoder" | "optimize" | "hybrid"
    base: str = "photo"  # "photo": transfer the edit onto the image; "generated": return G(z1) itself
    candidates: int = 0  # 0 = the engine's defaults for these four
    starts: int = 0
    iterations: int = 0
    frames: int = 0
    # weight (0 = off) of keeping the projection away from the strokes: everything farther than
    # 1/16 of the side from a colour or sketch stroke counts as a soft "keep" region, so an edit
    # stays local instead of re-rendering the whole image (the user's own keep strokes add to it)
    keep_rest: float = 0.0


Request = Union[UpscaleRequest, InpaintRequest, ColorizeRequest, SynthesizeRequest, LatentEditRequest]


# ----------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


@dataclass(frozen=True)
class Preview:
    """A partial result worth showing (float32 HxWx3 in [0, 1], output resolution or smaller)."""

    image: np.ndarray
    message: str = ""


@dataclass(frozen=True)
class Result:
    image: np.ndarray | None = None  # float32 HxWx3 in [0, 1]
    labels: np.ndarray | None = None  # int32 HxW
    latent: np.ndarray | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


Event = Union[Progress, Preview]
RunGenerator = Generator[Event, None, Result]


@dataclass
class RunContext:
    """What the caller lends a run: where to compute, in what precision, and how to stop."""

    device: str = "cpu"  # "cpu", "cuda", "cuda:1", "mps"
    dtype: str = "float32"  # "float32", "float16", "bfloat16" (policy in engines.core.device)
    cancel: CancelToken = field(default_factory=CancelToken)
    tile: int = 0  # default tile edge; 0 = automatic


class Engine(Protocol):
    info: EngineInfo

    def run(self, request: Request, ctx: RunContext) -> RunGenerator: ...


class EngineError(Exception):
    """A failure with a message fit for the user (bad input, wrong weights, out of memory...)."""


def drive(
    gen: RunGenerator, on_event: Callable[[Event], None] | None = None
) -> Result:
    """Run an engine generator to completion and return its Result (raises what it raises)."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            result = stop.value
            if not isinstance(result, Result):
                raise EngineError(f"engine returned {type(result).__name__}, expected Result")
            return result
        if on_event is not None:
            on_event(event)


def events(gen: RunGenerator) -> Iterable[Event]:
    """Iterate the events only (tests); the Result is discarded."""
    yield from gen
