"""Whether the file on disk is behind the document: only edits that Save writes count.

Save writes the image, its transparency and the colour hints (their sidecar, see
``hint_sidecar``). The mask, the sample-from area, the label map and the latent are working layers
that no image file holds, so painting only those does not make the photo "modified": no "•" in
the title and no "Save changes?" question for them.

The answer comes from the undo stack: the commands between its clean index (the last save or
open) and the current index are asked which layer they change. A command this module does not
know (a future one) counts as a change of the photo: asking once too often loses nothing.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack

from .commands import AddHintCommand, PatchCommand, RemoveHintCommand, SetLatentCommand, UpdateHintCommand
from .document import Layer

# the layers Save does not write
WORKING_LAYERS = frozenset({Layer.MASK, Layer.SOURCE, Layer.LABELS, Layer.LATENT})


def changes_saved_data(cmd: QUndoCommand) -> bool:
    """True when undoing / redoing ``cmd`` changes what Save writes (image, alpha, hints, size)."""
    n = cmd.childCount()
    if n:  # a macro: any of its children
        return any(changes_saved_data(cmd.child(i)) for i in range(n))
    if isinstance(cmd, PatchCommand):
        return cmd.layer not in WORKING_LAYERS
    if isinstance(cmd, SetLatentCommand):
        return False
    if isinstance(cmd, (AddHintCommand, RemoveHintCommand, UpdateHintCommand)):
        return True  # written to the .hints.json sidecar
    if getattr(cmd, "saved_data", None) is False:  # e.g. the latent pad's strokes (not in the document)
        return False
    return True


def photo_modified(undo: QUndoStack) -> bool:
    """True when Save would write something different from the file as opened / last saved."""
    if undo.isClean():
        return False
    clean, index = undo.cleanIndex(), undo.index()
    if clean < 0:  # the saved state was dropped from the stack: it cannot be reached again
        return True
    lo, hi = min(clean, index), max(clean, index)
    return any(changes_saved_data(undo.command(i)) for i in range(lo, hi))


__all__ = ["WORKING_LAYERS", "changes_saved_data", "photo_modified"]
