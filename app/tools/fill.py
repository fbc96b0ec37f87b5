"""Label fill: click a region of one class (or of unlabeled pixels) to give it the current class."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import Qt

from ..document.commands import layer_change
from ..document.document import Layer, UNLABELED
from .base import Tool, ToolEvent


def flood_region(labels: np.ndarray, x: int, y: int) -> np.ndarray:
    """bool H x W: the 4-connected region of pixels with the same class as (x, y)."""
    # floodFill takes 8-bit or float32 planes; class ids are small integers, exact in float32
    plane = labels.astype(np.float32)
    mask = np.zeros((labels.shape[0] + 2, labels.shape[1] + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    cv2.floodFill(plane, mask, (x, y), 0, 0, 0, flags)
    return mask[1:-1, 1:-1].astype(bool)


class LabelFillTool(Tool):
    id, title, shortcut = "label_fill", "Label fill", "G"
    tooltip = "Fill a connected region of one class with the current class (right button: unlabel)"

    def press(self, e: ToolEvent) -> None:
        doc = self.doc
        x, y = int(math.floor(e.x)), int(math.floor(e.y))
        if doc is None or not (0 <= x < doc.width and 0 <= y < doc.height):
            return
        if e.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        target = UNLABELED if e.secondary else self.ctx.state.label
        region = flood_region(doc.labels, x, y)
        new = np.where(region, np.int32(target), doc.labels)
        cmd = layer_change(doc, Layer.LABELS, new, "Fill labels")
        if cmd is not None:
            self.ctx.undo.push(cmd)
