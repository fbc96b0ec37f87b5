"""Hint points saved with the photo: the project's documents are plain image files, so the hints
go in a sidecar ``<image file name>.hints.json`` beside the image (written atomically on save,
read back on open). Format: ``{"version": 1, "width": W, "height": H, "hints": [{"x", "y", "rgb",
"size"}, ...]}`` in image pixel coordinates; hints are rescaled if the image size changed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engines.atomic import atomic_write_bytes

from .document import Document, HintPoint

log = logging.getLogger(__name__)
VERSION = 1


def sidecar_path(image_path: str | Path) -> Path:
    p = Path(image_path)
    return p.with_name(p.name + ".hints.json")


def save_hints(doc: Document, image_path: str | Path) -> Path | None:
    """Write the document's hints beside the image; an existing sidecar is emptied when the
    document has none (so reopening does not bring back deleted hints). None when nothing written."""
    path = sidecar_path(image_path)
    if not doc.hints and not path.exists():
        return None
    data = {"version": VERSION, "width": doc.width, "height": doc.height,
            "hints": [{"x": h.x, "y": h.y, "rgb": list(h.rgb), "size": h.size} for h in doc.hints]}
    atomic_write_bytes(path, (json.dumps(data, indent=1) + "\n").encode())
    return path


def load_hints(doc: Document, image_path: str | Path) -> int:
    """Add the hints of the image's sidecar to ``doc`` (not undoable: part of opening). Returns how
    many; a missing sidecar gives 0, a broken one is logged and ignored (the photo still opens)."""
    path = sidecar_path(image_path)
    if not path.is_file():
        return 0
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sx = doc.width / float(data.get("width", doc.width))
        sy = doc.height / float(data.get("height", doc.height))
        hints = []
        for item in data["hints"]:
            rgb = tuple(min(1.0, max(0.0, float(c))) for c in item["rgb"])
            if len(rgb) != 3:
                raise ValueError("rgb needs 3 values")
            x = min(max(float(item["x"]) * sx, 0.0), doc.width - 0.01)
            y = min(max(float(item["y"]) * sy, 0.0), doc.height - 0.01)
            hints.append((x, y, rgb, int(item.get("size", 3))))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable hints file %s: %s", path, exc)
        return 0
    for x, y, rgb, size in hints:
        doc.add_hint(doc.new_hint(x, y, rgb, size))
    return len(hints)


__all__ = ["HintPoint", "load_hints", "save_hints", "sidecar_path"]
