"""At start-up, offer back the work a crashed session left in its autosave file."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox

from ..document.document import Document
from ..document.recovery import RecoveryError, RecoveryFiles, read_recovery


def offer_recovery(win, files: RecoveryFiles | None = None) -> bool:
    """Ask about each leftover recovery file (newest first). True when one was restored."""
    files = files or RecoveryFiles()
    for item in files.leftovers():
        try:
            state, meta, stamp = read_recovery(item.path)
        except RecoveryError as exc:
            files.discard(item.path)
            win.show_error(f"A recovery file could not be read and was removed: {exc}")
            continue
        name = meta.path.name if meta.path else "an untitled photo"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))
        answer = QMessageBox.question(
            win, "Recover unsaved work",
            f"GAN Studio did not close properly. Recover the unsaved edits of {name} from {when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Ignore,
        )
        if answer == QMessageBox.StandardButton.Yes:
            doc = Document(state.image, state.alpha, meta)
            doc.restore(state)
            win.set_document(doc, None)
            win.undo.resetClean()  # recovered edits are unsaved
            files.discard(item.path)
            return True
        if answer == QMessageBox.StandardButton.Discard:
            files.discard(item.path)
    return False
