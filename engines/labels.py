"""Label palettes: the classes a semantic-synthesis model knows and the colours we paint them in.

Qt-free (the batch CLI colours label maps headless). A palette lives in
``resources/palettes/<name>.json``::

    {"name": "facades", "title": "CMP Facades", "dont_care": null,
     "classes": [{"id": 0, "name": "background", "color": [2, 2, 222]}, ...]}

Label maps are ``int32 H x W`` class ids with ``UNLABELED`` (-1) where nothing was painted
(docs/ARCHITECTURE.md rule 2); colour images are ``uint8 H x W x 3`` RGB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines import paths

UNLABELED = -1  # same value as app.document.UNLABELED (engines must not import app)

# Rows per chunk in snap_colors: the distance matrix is chunk x classes float32, so 64k pixels
# x 150 classes stays around 40 MB however big the image is.
_SNAP_CHUNK = 1 << 16


class PaletteError(ValueError):
    """A palette file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class LabelClass:
    id: int
    name: str
    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class LabelPalette:
    name: str
    title: str
    classes: tuple[LabelClass, ...]
    dont_care: int | None = None  # a class id the model ignores (e.g. 255 in Cityscapes)
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        _validate(self.classes, source=f"palette {self.name!r}")

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def ids(self) -> np.ndarray:
        return np.array([c.id for c in self.classes], np.int32)

    def by_id(self, class_id: int) -> LabelClass:
        for c in self.classes:
            if c.id == class_id:
                return c
        raise KeyError(f"palette {self.name!r} has no class id {class_id}")

    def color_lut(self) -> np.ndarray:
        """uint8 (N, 3): row i is the colour of class id i (ids need not be dense; gaps are black)."""
        n = max(c.id for c in self.classes) + 1
        lut = np.zeros((n, 3), np.uint8)
        for c in self.classes:
            lut[c.id] = c.rgb
        return lut

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """int32 H x W class ids -> uint8 H x W x 3; UNLABELED and unknown ids are black."""
        labels = np.asarray(labels)
        lut = self.color_lut()
        # Extra last row = black, used for -1 and any id outside the palette.
        lut = np.vstack([lut, np.zeros((1, 3), np.uint8)])
        idx = labels.astype(np.int64)
        idx = np.where((idx < 0) | (idx >= len(lut) - 1), len(lut) - 1, idx)
        return lut[idx]

    def snap_colors(self, rgb: np.ndarray, threshold: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
        """Map an RGB label image (e.g. a dataset PNG with JPEG-ish noise) to class ids.

        Each pixel gets the class with the nearest colour (euclidean in RGB). Returns
        ``(ids int32 H x W, ambiguous bool H x W)``; ambiguous marks pixels whose nearest
        palette colour is farther than ``threshold`` - the caller decides whether to warn.
        """
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 RGB image, got shape {rgb.shape}")
        h, w = rgb.shape[:2]
        flat = rgb.reshape(-1, 3).astype(np.float32)
        colors = np.array([c.rgb for c in self.classes], np.float32)  # (K, 3)
        class_ids = self.ids
        ids = np.empty(len(flat), np.int32)
        far = np.empty(len(flat), bool)
        # |p - c|^2 = |p|^2 - 2 p.c + |c|^2 ; the matmul form avoids an (n, K, 3) temporary.
        c2 = (colors**2).sum(1)
        for start in range(0, len(flat), _SNAP_CHUNK):
            p = flat[start : start + _SNAP_CHUNK]
            d2 = (p**2).sum(1, keepdims=True) - 2.0 * p @ colors.T + c2
            best = d2.argmin(1)
            ids[start : start + len(p)] = class_ids[best]
            far[start : start + len(p)] = d2[np.arange(len(p)), best] > threshold * threshold
        return ids.reshape(h, w), far.reshape(h, w)


def _validate(classes: tuple[LabelClass, ...], source: str) -> None:
    if not classes:
        raise PaletteError(f"{source}: palette has no classes")
    seen: set[int] = set()
    for c in classes:
        if not isinstance(c.id, (int, np.integer)) or isinstance(c.id, bool) or c.id < 0:
            raise PaletteError(f"{source}: class {c.name!r} has an invalid id {c.id!r} (need an integer >= 0)")
        if c.id in seen:
            raise PaletteError(f"{source}: class id {c.id} is used twice")
        seen.add(c.id)
        if len(c.rgb) != 3 or not all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in c.rgb):
            raise PaletteError(f"{source}: class {c.name!r} colour {list(c.rgb)} is not three integers 0-255")


def palette_from_dict(data: dict, source: str = "<dict>") -> LabelPalette:
    """Build a palette from the JSON schema; raises PaletteError naming ``source`` on bad data."""
    if not isinstance(data, dict):
        raise PaletteError(f"{source}: expected a JSON object at the top level")
    for key in ("name", "classes"):
        if key not in data:
            raise PaletteError(f"{source}: missing key {key!r}")
    if not isinstance(data["classes"], list):
        raise PaletteError(f"{source}: 'classes' must be a list")
    classes = []
    for i, entry in enumerate(data["classes"]):
        if not isinstance(entry, dict) or not {"id", "name", "color"} <= entry.keys():
            raise PaletteError(f"{source}: class #{i} needs 'id', 'name' and 'color'")
        color = entry["color"]
        if not isinstance(color, list) or len(color) != 3:
            raise PaletteError(f"{source}: class {entry['name']!r} colour must be [r, g, b]")
        classes.append(LabelClass(entry["id"], str(entry["name"]), tuple(color)))
    dont_care = data.get("dont_care")
    if dont_care is not None and not isinstance(dont_care, int):
        raise PaletteError(f"{source}: 'dont_care' must be null or an integer")
    _validate(tuple(classes), source)  # first, so the error names the file
    return LabelPalette(
        name=str(data["name"]), title=str(data.get("title", data["name"])), classes=tuple(classes),
        dont_care=dont_care, note=str(data.get("note", "")),
    )


def load_palette(name: str, folder: Path | None = None) -> LabelPalette:
    """Load ``<folder>/<name>.json`` (default folder: the bundled palettes)."""
    path = Path(folder or paths.PALETTES) / f"{name}.json"
    if not path.is_file():
        raise PaletteError(f"no label palette named {name!r} (looked for {path})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PaletteError(f"{path}: not a readable JSON file ({e})") from None
    return palette_from_dict(data, source=str(path))


def list_palettes(folder: Path | None = None) -> list[str]:
    """Names of the palettes available (file stems, sorted)."""
    folder = Path(folder or paths.PALETTES)
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


__all__ = [
    "LabelClass", "LabelPalette", "PaletteError", "UNLABELED", "list_palettes", "load_palette",
    "palette_from_dict",
]
