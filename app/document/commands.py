"""Undo commands: thin ``QUndoCommand``s that call the Document's API with before/after data.

Every user action and every applied engine result goes through one of these. A command is
created *after* its change was already made live (a stroke paints while the mouse moves), so the
first ``redo()`` that ``QUndoStack.push`` calls is a no-op unless ``applied=False``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from .document import Document, DocumentState, HintPoint, Layer, Rect, changed_bbox


class _AppliedOnce(QUndoCommand):
    def __init__(self, text: str, applied: bool):
        super().__init__(text)
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self._do()

    def _do(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class PatchCommand(_AppliedOnce):
    """A rectangle of one raster layer changed from ``before`` to ``after`` (a stroke, a fill...)."""

    def __init__(self, doc: Document, layer: Layer, rect: Rect, before: np.ndarray, after: np.ndarray,
                 text: str, applied: bool = True):
        super().__init__(text, applied)
        self.doc, self.layer, self.rect = doc, layer, rect
        self.before, self.after = before, after

    def _do(self) -> None:
        self.doc.put_patch(self.layer, self.rect, self.after)

    def undo(self) -> None:
        self.doc.put_patch(self.layer, self.rect, self.before)

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes


def layer_change(doc: Document, layer: Layer, new: np.ndarray, text: str) -> PatchCommand | None:
    """A not-yet-applied PatchCommand that makes ``layer`` equal ``new`` (only the changed bbox is kept).

    None when nothing would change.
    """
    current = doc.layer_array(layer)
    if new.shape != current.shape:
        raise ValueError(f"{layer.value}: new data {new.shape} does not match {current.shape}")
    rect = changed_bbox(current, new)
    if rect is None:
        return None
    x, y, w, h = rect
    return PatchCommand(doc, layer, rect, current[y : y + h, x : x + w].copy(),
                        np.ascontiguousarray(new[y : y + h, x : x + w]).astype(current.dtype, copy=True),
                        text, applied=False)


class StateCommand(_AppliedOnce):
    """Whole-document change (size change, several layers): full snapshots before and after."""

    def __init__(self, doc: Document, before: DocumentState, after: DocumentState, text: str, applied: bool = False):
        super().__init__(text, applied)
        self.doc, self.before, self.after = doc, before, after

    def _do(self) -> None:
        self.doc.restore(self.after)

    def undo(self) -> None:
        self.doc.restore(self.before)


class AddHintCommand(_AppliedOnce):
    def __init__(self, doc: Document, hint: HintPoint, text: str = "Add hint"):
        super().__init__(text, applied=False)
        self.doc, self.hint = doc, hint
        self._index: int | None = None

    def _do(self) -> None:
        self.doc.add_hint(self.hint, self._index)

    def undo(self) -> None:
        self._index, _ = self.doc.remove_hint(self.hint.id)


class RemoveHintCommand(_AppliedOnce):
    def __init__(self, doc: Document, hint_id: int, text: str = "Delete hint"):
        super().__init__(text, applied=False)
        self.doc, self.hint_id = doc, hint_id
        self._index: int | None = None
        self._hint: HintPoint | None = None

    def _do(self) -> None:
        self._index, self._hint = self.doc.remove_hint(self.hint_id)

    def undo(self) -> None:
        assert self._hint is not None
        self.doc.add_hint(self._hint, self._index)


class UpdateHintCommand(_AppliedOnce):
    """Move or recolour a hint. ``before``/``after`` are the full hint values."""

    def __init__(self, doc: Document, before: HintPoint, after: HintPoint, text: str, applied: bool = False):
        super().__init__(text, applied)
        self.doc, self.before, self.after = doc, before, after

    def _do(self) -> None:
        self.doc.update_hint(self.after.id, x=self.after.x, y=self.after.y, rgb=self.after.rgb, size=self.after.size)

    def undo(self) -> None:
        self.doc.update_hint(self.before.id, x=self.before.x, y=self.before.y, rgb=self.before.rgb, size=self.before.size)


class SetLatentCommand(_AppliedOnce):
    def __init__(self, doc: Document, latent: np.ndarray | None, text: str = "Set latent"):
        super().__init__(text, applied=False)
        self.doc, self.new = doc, latent
        self.old = None if doc.latent is None else doc.latent.copy()

    def _do(self) -> None:
        self.doc.set_latent(self.new)

    def undo(self) -> None:
        self.doc.set_latent(self.old)
