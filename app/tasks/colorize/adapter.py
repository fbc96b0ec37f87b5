"""The colorize task adapter: document hints -> ColorizeRequest, result -> one undoable image change.

Options understood by :func:`build_colorize`:
- ``max_side``: downscale the photo (area) so its longer side is at most this (a reduced-size,
  fast preview); hint coordinates are scaled with it.
- ``exclude``: a hint id to leave out (suggested colours at a hint are asked without that hint).
- ``mix``: 0..1, how much of the colorized result replaces the photo on Apply (1 = all).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtGui import QUndoCommand

from engines.core import ColorizeRequest, Hint, Result

from ...document.commands import layer_change
from ...document.document import Document, Layer


@dataclass(frozen=True)
class MixedColorizeRequest(ColorizeRequest):
    """A ColorizeRequest that also carries the mix to apply (engines see a plain ColorizeRequest)."""

    mix: float = 1.0


def doc_hints(doc: Document, scale: float = 1.0, exclude: int | None = None) -> tuple[Hint, ...]:
    """The document's hint points as engine hints (image pixels, times ``scale``)."""
    out = []
    for h in doc.hints:
        if h.id == exclude:
            continue
        x = min(max(h.x * scale, 0.0), doc.width * scale - 0.01)
        y = min(max(h.y * scale, 0.0), doc.height * scale - 0.01)
        out.append(Hint(x, y, tuple(min(1.0, max(0.0, c)) for c in h.rgb), max(1, int(round(h.size * scale)))))
    return tuple(out)


def build_colorize(doc: Document, options: dict) -> MixedColorizeRequest:
    image, scale = doc.image, 1.0
    max_side = int(options.get("max_side", 0) or 0)
    if max_side and max(doc.width, doc.height) > max_side:
        scale = max_side / max(doc.width, doc.height)
        size = (max(8, round(doc.width * scale)), max(8, round(doc.height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / doc.width
    else:
        image = image.copy()
    mix = float(np.clip(options.get("mix", 1.0), 0.0, 1.0))
    return MixedColorizeRequest(image=image, hints=doc_hints(doc, scale, options.get("exclude")), mix=mix)


def mix_images(original: np.ndarray, colorized: np.ndarray, mix: float) -> np.ndarray:
    """``mix`` of the colorized image over the original (same size), float32."""
    if mix >= 1.0:
        return colorized.astype(np.float32, copy=False)
    return (original * (1.0 - mix) + colorized * mix).astype(np.float32)


def apply_colorize(doc: Document, req: ColorizeRequest, result: Result, title: str) -> list[QUndoCommand]:
    """One image-layer change (alpha, mask, hints untouched), mixed with the photo as asked."""
    mix = getattr(req, "mix", 1.0)
    cmd = layer_change(doc, Layer.IMAGE, mix_images(doc.image, result.image, mix), title)
    return [cmd] if cmd is not None else []
