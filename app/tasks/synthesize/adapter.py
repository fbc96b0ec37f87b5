"""Semantic synthesis: the document's label layer -> a SynthesizeRequest; the synthesized photo ->
one undoable change of the image layer (the label map is kept, so the user can repaint and retry).

Options: ``seed`` (int), ``style`` (float32 H x W x 3 in [0, 1] example photo, or None for a
random style drawn from the seed).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from engines.core import EngineError, Result, SynthesizeRequest

from ...document.commands import layer_change
from ...document.document import Document, Layer


def build_synthesize(doc: Document, options: dict) -> SynthesizeRequest:
    if (doc.labels < 0).all():
        raise EngineError("Paint a label map first (label brush L, label fill G, label rectangle "
                          "Shift+L), load one, or use Segment photo.")
    style = options.get("style")
    if style is not None:
        style = np.ascontiguousarray(style, np.float32)
    return SynthesizeRequest(labels=doc.labels.copy(), style_image=style, seed=int(options.get("seed", 0)))


def apply_synthesize(doc: Document, req: SynthesizeRequest, result: Result, title: str) -> list[QUndoCommand]:
    if result.image is None or result.image.shape[:2] != (doc.height, doc.width):
        return []  # the controller reports a size change before calling apply
    cmd = layer_change(doc, Layer.IMAGE, result.image.astype(np.float32), title)
    return [cmd] if cmd is not None else []
