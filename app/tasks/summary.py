"""One status-bar sentence per finished engine job: what happened and how long it took.

"Upscaled ×4 to 640 × 480 in 3.2 s", "Filled 12 % of the photo in 1.1 s", ... built from the
request the job ran and the Result it returned (Qt-free, so it is tested directly).
"""

from __future__ import annotations

import numpy as np

from engines.core import Result, Task


def seconds_text(seconds: float) -> str:
    if not seconds:
        return ""
    if seconds < 0.05:
        return " in under 0.1 s"
    if seconds < 10:
        return f" in {seconds:.1f} s"
    if seconds < 120:
        return f" in {seconds:.0f} s"
    return f" in {seconds / 60:.1f} min"


def _size(image: np.ndarray | None) -> str:
    return "" if image is None else f"{image.shape[1]} × {image.shape[0]}"


def summarize(task: Task, request, result: Result, preview: bool = False) -> str:
    """The sentence for a finished job of ``task`` (``preview``: shown on the canvas, not applied)."""
    took = seconds_text(result.seconds)
    task = Task(task)
    if task == Task.UPSCALE:
        src, out = getattr(request, "image", None), result.image
        scale = getattr(request, "scale", 0)
        if preview:
            return f"Preview ×{scale}: {_size(src)} px → {_size(out)} output px{took}"
        return f"Upscaled ×{scale} to {_size(out)}{took}"
    if task == Task.INPAINT:
        mask = getattr(request, "mask", None)
        share = 100.0 * float((mask > 0.5).mean()) if mask is not None and mask.size else 0.0
        what = f"{share:.0f} %" if share >= 1 else f"{share:.1f} %"
        if preview:
            return f"Fill preview: {what} of the photo{took} — Fill applies it"
        return f"Filled {what} of the photo{took}"
    if task == Task.COLORIZE:
        n = len(getattr(request, "hints", ()) or ())
        hints = f"{n} hint{'s' * (n != 1)}" if n else "no hints (automatic colours)"
        return (f"Colorize preview with {hints}{took}" if preview
                else f"Colorized {_size(result.image)} with {hints}{took}")
    if task == Task.SYNTHESIZE:
        seed = getattr(request, "seed", None)
        style = "the example photo's style" if getattr(request, "style_image", None) is not None else f"seed {seed}"
        if preview:
            return f"Synthesis preview ({style}){took} — Apply puts it in the photo"
        return f"Synthesized the photo from the labels ({style}){took}"
    if task == Task.LATENT:
        return f"Latent {getattr(request, 'mode', 'edit')}{took}"
    return f"{task.value.capitalize()} done{took}"


__all__ = ["seconds_text", "summarize"]
