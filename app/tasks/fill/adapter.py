"""Fill (inpainting): the document -> an InpaintRequest, and the Result -> the filled image plus a
cleared mask (one undo step: the controller pushes them as one macro)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from engines.core import EngineError, InpaintRequest, Result

from ...document.commands import layer_change
from ...document.document import Document, Layer


def build_inpaint(doc: Document, options: dict) -> InpaintRequest:
    """The photo and the fill mask; the sample-from area when one is painted (None = the whole
    photo outside the hole; engines other than the texture fill ignore it) and ``options["seed"]``."""
    if doc.mask_bbox(0.5) is None:
        raise EngineError("Paint a mask over the region to fill first (mask brush, M).")
    source = doc.sample_from()
    if source is not None and not (source.astype(bool) & (doc.mask < 0.25)).any():
        raise EngineError("The sample-from area lies inside the area to fill: paint it where the fill may "
                          "take texture from (Shift+M), or clear it to sample from the whole photo.")
    return InpaintRequest(image=doc.image.copy(), mask=doc.mask.copy(), radius=float(options.get("radius", 5.0)),
                          source=source, seed=int(options.get("seed", 0)))


def apply_inpaint(doc: Document, req: InpaintRequest, result: Result, title: str) -> list[QUndoCommand]:
    cmds = []
    image_cmd = layer_change(doc, Layer.IMAGE, result.image, title)
    if image_cmd is not None:
        cmds.append(image_cmd)
    mask_cmd = layer_change(doc, Layer.MASK, np.zeros_like(doc.mask), "Clear mask")
    if mask_cmd is not None:
        cmds.append(mask_cmd)
    return cmds
