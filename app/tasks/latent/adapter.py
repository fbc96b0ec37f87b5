"""Latent editing (iGAN): the document's photo region + the panel's strokes -> a LatentEditRequest;
the transferred result -> one undoable step (the region's pixels and the document's latent).

Options (all from the latent panel):
- ``region`` (x, y, w, h): the square part of the photo the model sees (:func:`square_region`);
- ``mode``: "project" | "edit" | "transfer" | "random"; ``projection``, ``seed``, ``starts``;
- ``strokes``: :class:`StrokeLayers`-like object with ``color`` (h x w x 4), ``sketch`` and ``keep``
  (h x w) at any resolution (resized to the region here);
- ``latent`` z0 (else the document's), ``target`` z1 for "transfer", ``base`` "photo"/"generated".
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QUndoCommand

from engines.core import EngineError, LatentEditRequest, Result

from ...document.commands import PatchCommand, SetLatentCommand
from ...document.document import Document, Layer, Rect


def square_region(doc: Document) -> Rect:
    """The model is square: the mask's (selection's) bounding box grown to a square, else the
    largest centred square of the photo; always inside the image."""
    bbox = doc.mask_bbox(0.5)
    if bbox is None:
        side = min(doc.width, doc.height)
        return ((doc.width - side) // 2, (doc.height - side) // 2, side, side)
    x, y, w, h = bbox
    side = min(max(w, h, 16), doc.width, doc.height)
    cx, cy = x + w / 2, y + h / 2
    x0 = int(round(min(max(cx - side / 2, 0), doc.width - side)))
    y0 = int(round(min(max(cy - side / 2, 0), doc.height - side)))
    return (x0, y0, side, side)


def _fit(a: np.ndarray | None, w: int, h: int) -> np.ndarray | None:
    if a is None:
        return None
    a = np.ascontiguousarray(a, np.float32)
    if a.shape[:2] == (h, w):
        return a.copy()
    return cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)


def build_latent(doc: Document, options: dict) -> LatentEditRequest:
    x, y, w, h = options.get("region") or square_region(doc)
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > doc.width or y + h > doc.height:
        raise EngineError("The latent region lies outside the photo; press Project again.")
    image = np.ascontiguousarray(doc.image[y:y + h, x:x + w])
    mode = str(options.get("mode", "edit"))
    latent = options.get("latent")
    if latent is None:
        latent = doc.latent
    strokes = options.get("strokes")
    color = sketch = keep = None
    if strokes is not None and mode in ("edit", "transfer"):
        # a transfer (another candidate chosen) carries the edit's strokes too: Keep the rest
        # confines the change to their region
        color = _fit(strokes.color if strokes.color[..., 3].any() else None, w, h)
        sketch = _fit(strokes.sketch if strokes.sketch.any() else None, w, h)
        keep = _fit(strokes.keep if strokes.keep.any() else None, w, h)
        if mode == "edit" and color is None and sketch is None:
            raise EngineError("Paint a colour stroke or a sketch stroke on the latent pad first.")
    return LatentEditRequest(
        image=image, color_strokes=color, sketch_strokes=sketch, keep_mask=keep,
        latent=None if latent is None else np.asarray(latent, np.float32).copy(),
        target=options.get("target"), mode=mode, projection=str(options.get("projection", "hybrid")),
        base=str(options.get("base", "photo")), seed=int(options.get("seed", 0)),
        starts=int(options.get("starts", 0)), keep_rest=float(options.get("keep_rest", 0.0)),
    )


def apply_latent(doc: Document, req: LatentEditRequest, result: Result, title: str,
                 region: Rect | None = None) -> list[QUndoCommand]:
    """The result pasted into its region (one patch) and the document's latent set to z1."""
    if result.image is None:
        return []
    x, y, w, h = region or square_region(doc)
    if result.image.shape[:2] != (h, w) or x + w > doc.width or y + h > doc.height:
        return []
    before = doc.get_patch(Layer.IMAGE, (x, y, w, h))
    after = np.clip(result.image, 0, 1).astype(np.float32)
    cmds: list[QUndoCommand] = []
    if not np.array_equal(before, after):
        cmds.append(PatchCommand(doc, Layer.IMAGE, (x, y, w, h), before, after, title, applied=False))
    if result.latent is not None:
        cmds.append(SetLatentCommand(doc, result.latent, "Set latent"))
    return cmds
