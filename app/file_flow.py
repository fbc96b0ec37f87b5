"""The File menu's small decisions, kept out of the main window: how a recent file is named, where
Export starts, and the JPEG / WebP quality (asked once, remembered in Settings, changeable from
File ▸ JPEG / WebP quality…)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QWidget

from .document.files import ASKS_QUALITY
from .settings import LOSSY_QUALITY, Settings

DEFAULT_QUALITY = 92  # what the dialog offers the first time: visually lossless for photos
ELLIPSIS = "…"


def short_folder(folder: Path, parts: int = 2) -> str:
    """The last ``parts`` folder names, with "…/" when there is more: ``…/facades/test``."""
    names = [p for p in folder.parts if p not in ("/", "\\")]
    if len(names) <= parts:
        return str(folder)
    return ELLIPSIS + "/" + "/".join(names[-parts:])


def recent_entry(path: str | Path) -> tuple[str, str]:
    """(menu text, tooltip) of an Open Recent entry: the name and its folder, the full path in the
    tooltip, so two ``facade_10.png`` from different folders can be told apart."""
    p = Path(path)
    return f"{p.name} — {short_folder(p.parent)}", str(p)


def export_start(path: Path | None, suffix: str = ".jpg") -> str:
    """Where Export's file dialog starts: beside the photo, named ``<stem>-export<suffix>``."""
    if path is None:
        return f"untitled-export{suffix}"
    return str(path.parent / f"{path.stem}-export{suffix}")


def needs_quality(path: str | Path) -> bool:
    return Path(path).suffix.lower() in ASKS_QUALITY


def ask_quality(parent: QWidget | None, settings: Settings, force: bool = False) -> int | None:
    """The JPEG / WebP quality: the remembered one, or asked (once; ``force`` asks again and is
    what the File menu's entry does). None when the user cancels the question."""
    stored = settings.get(LOSSY_QUALITY)
    if stored and not force:
        return int(stored)
    value, ok = QInputDialog.getInt(
        parent, "JPEG / WebP quality",
        "Quality for JPEG and WebP saves (1–100; 100 = lossless WebP).\n"
        "Remembered; change it later with File ▸ JPEG / WebP quality….",
        int(stored or DEFAULT_QUALITY), 1, 100)
    if not ok:
        return None
    settings.set(LOSSY_QUALITY, int(value))
    return int(value)


__all__ = ["DEFAULT_QUALITY", "ask_quality", "export_start", "needs_quality", "recent_entry", "short_folder"]
