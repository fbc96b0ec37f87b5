"""Upscale: the document -> an UpscaleRequest, and the Result -> one undo step that resizes every
layer (image from the engine; alpha, mask and sample-from area resized linearly, labels nearest,
hints moved)."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QUndoCommand

from engines.core import Result, UpscaleRequest

from ...document.commands import StateCommand
from ...document.document import Document, DocumentState


def build_upscale(doc: Document, options: dict) -> UpscaleRequest:
    """The whole image, or ``options["region"]`` = (x, y, w, h) for a preview of part of it."""
    region = options.get("region")
    if region is not None:
        x, y, w, h = region
        image = doc.image[y : y + h, x : x + w].copy()
    else:
        image = doc.image.copy()
    return UpscaleRequest(image=image, scale=int(options.get("scale", 4)), tile=int(options.get("tile", 0)))


def apply_upscale(doc: Document, req: UpscaleRequest, result: Result, title: str) -> list[QUndoCommand]:
    out = result.image
    h, w = out.shape[:2]
    sy, sx = h / doc.height, w / doc.width
    before = doc.snapshot()
    hints = tuple(type(p)(p.id, p.x * sx, p.y * sy, p.rgb, p.size) for p in before.hints)
    after = DocumentState(
        image=out.astype(np.float32),
        alpha=cv2.resize(before.alpha, (w, h), interpolation=cv2.INTER_LINEAR),
        mask=cv2.resize(before.mask, (w, h), interpolation=cv2.INTER_LINEAR),
        # class ids must never blend: nearest neighbour
        labels=cv2.resize(before.labels, (w, h), interpolation=cv2.INTER_NEAREST),
        hints=hints,
        latent=None,
        source=None if before.source is None else cv2.resize(before.source, (w, h), interpolation=cv2.INTER_LINEAR),
    )
    return [StateCommand(doc, before, after, title)]
