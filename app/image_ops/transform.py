"""One geometry operation applied to every layer of a document, as one undo step.

The photo, alpha, mask, sample-from area and labels are transformed together (labels by nearest
neighbour, never blended); hint points move with the photo and those that leave it are dropped;
the iGAN latent is dropped (it described the old framing). Undo puts the exact snapshot back.
"""

from __future__ import annotations

import numpy as np

from engines.geometry import Operation, Pad

from ..document.commands import StateCommand
from ..document.document import Document, DocumentState


def transformed_state(state: DocumentState, op: Operation) -> DocumentState:
    """``state`` after ``op`` (a new DocumentState; ``state`` is not changed)."""
    h, w = state.image.shape[:2]
    w2, h2 = op.size(w, h)

    def plane(a: np.ndarray, kind: str, alpha: bool = False) -> np.ndarray:
        if isinstance(op, Pad):
            return op.plane(a, kind, alpha=alpha)
        return op.plane(a, kind)

    hints = []
    for p in state.hints:
        x, y = op.point(p.x, p.y, w, h)
        if 0 <= x < w2 and 0 <= y < h2:
            hints.append(type(p)(p.id, float(x), float(y), p.rgb, p.size))
    return DocumentState(
        image=plane(state.image, "image"),
        alpha=plane(state.alpha, "coverage", alpha=True),
        mask=plane(state.mask, "coverage"),
        labels=plane(state.labels, "labels"),
        hints=tuple(hints),
        latent=None,
        source=None if state.source is None else plane(state.source, "coverage"),
    )


def geometry_command(doc: Document, op: Operation, text: str) -> StateCommand:
    """A not-yet-applied command (push it) that applies ``op`` to every layer of ``doc``.

    Raises engines.geometry.GeometryError when ``op`` does not fit the photo (nothing changes).
    """
    before = doc.snapshot()
    return StateCommand(doc, before, transformed_state(before, op), text)
