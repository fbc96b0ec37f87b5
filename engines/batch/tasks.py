"""How each task turns a file (+ an optional side input) into its engine request.

A task plugs into batch by adding a :class:`TaskSpec` to ``TASKS``; the runner, the CLI and the
Batch dialog read the table and the registry, never a list of model names. A task whose engines
have not landed yet keeps its row: ``engines_for`` finds nothing and the run is refused with
"no engine for this task is installed yet".

Pixel contract (docs/ARCHITECTURE.md rule 2): ``LoadedImage.rgb`` is float32 HxWx3 in [0, 1], upright;
masks are float32 HxW in [0, 1] with **1 = fill** (white or opaque in the mask file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..core.protocol import (
    ColorizeRequest,
    EngineError,
    EngineInfo,
    InpaintRequest,
    SynthesizeRequest,
    Task,
    UpscaleRequest,
)
from ..imageio import LoadedImage

Build = Callable[[LoadedImage, "LoadedImage | None", dict[str, Any]], Any]


@dataclass(frozen=True)
class TaskSpec:
    """One task's batch behaviour.

    Attributes:
        task: the registry task.
        build: ``(source, side, options) -> request``; raises EngineError for a bad side input.
        side_input: name of the per-file side input (``"mask"``, ``"labels"``) found in the
            ``--masks`` folder under the source's relative path, or ``""`` for none.
        side_required: a missing side input fails that file (else it is optional).
        params: the option keys that change this task's output (recorded in the journal and
            in the output's metadata; a resumed run redoes files whose params changed).
    """

    task: Task
    build: Build
    side_input: str = ""
    side_required: bool = False
    params: tuple[str, ...] = ()


def mask_from(side: LoadedImage, source: LoadedImage) -> np.ndarray:
    """A mask file -> float32 HxW, 1 = fill: its alpha when it has real transparency, else its
    brightness (white = fill). It must have the photo's size (after both are made upright)."""
    if side.rgb.shape[:2] != source.rgb.shape[:2]:
        (mh, mw), (h, w) = side.rgb.shape[:2], source.rgb.shape[:2]
        raise EngineError(f"the mask is {mw}x{mh} but the photo is {w}x{h}")
    if side.alpha is not None and float(side.alpha.min()) < 1.0:
        return np.ascontiguousarray(side.alpha, dtype=np.float32)
    return np.ascontiguousarray(side.rgb.mean(axis=2), dtype=np.float32)


def labels_from(source: LoadedImage) -> np.ndarray:
    """A label-map file -> int32 HxW class ids, ``UNLABELED`` (-1) where the file says 255 / 65535.

    The ids are the file's own sample values (grey) or palette indices (indexed PNG), read again
    from ``source.path``: the decoded RGB would hold the palette's colours instead. Colour-coded
    label maps need a palette to be read and are refused with a message.
    """
    from PIL import Image

    from ..labels import UNLABELED

    assert source.path is not None
    with Image.open(source.path) as im:
        if im.mode not in ("L", "P", "I", "I;16", "I;16B", "I;16L"):
            raise EngineError(f"{source.path.name} is a colour image ({im.mode}); batch synthesis reads "
                              "label maps of class ids (grey or indexed PNG)")
        raw = np.array(im, np.int64)
    return np.where((raw == 255) | (raw == 65535), UNLABELED, raw).astype(np.int32)


def _upscale(src: LoadedImage, side: LoadedImage | None, o: dict[str, Any]) -> UpscaleRequest:
    return UpscaleRequest(image=src.rgb, scale=int(o.get("scale") or 4), tile=int(o.get("tile") or 0))


def _inpaint(src: LoadedImage, side: LoadedImage | None, o: dict[str, Any]) -> InpaintRequest:
    assert side is not None  # side_required
    return InpaintRequest(image=src.rgb, mask=mask_from(side, src), radius=float(o.get("radius") or 5.0))


def _colorize(src: LoadedImage, side: LoadedImage | None, o: dict[str, Any]) -> ColorizeRequest:
    return ColorizeRequest(image=src.rgb)  # automatic: no hints in batch


def _synthesize(src: LoadedImage, side: LoadedImage | None, o: dict[str, Any]) -> SynthesizeRequest:
    # The input files are label maps; an optional style photo comes from the side folder.
    return SynthesizeRequest(labels=labels_from(src), style_image=None if side is None else side.rgb,
                             seed=int(o.get("seed") or 0))


TASKS: dict[Task, TaskSpec] = {
    Task.UPSCALE: TaskSpec(Task.UPSCALE, _upscale, params=("scale", "tile")),
    Task.INPAINT: TaskSpec(Task.INPAINT, _inpaint, side_input="mask", side_required=True,
                           params=("radius",)),
    Task.COLORIZE: TaskSpec(Task.COLORIZE, _colorize),
    Task.SYNTHESIZE: TaskSpec(Task.SYNTHESIZE, _synthesize, side_input="style", params=("seed",)),
}


def spec_for(task: Task | str) -> TaskSpec:
    task = Task(task)
    if task not in TASKS:
        raise EngineError(f"batch does not support the {task.value} task")
    return TASKS[task]


def engines_for(task: Task | str) -> list[EngineInfo]:
    """The engines the registry has for ``task`` now (whatever has registered, built-in or not)."""
    from ..core import registry

    return registry.infos(Task(task))
