"""The document: the layers a user edits. Qt-free on purpose (tests and batch use it headless).

Layers and their contracts (docs/ARCHITECTURE.md rule 2):
- ``image``  float32 H x W x 3, RGB in [0, 1]
- ``alpha``  float32 H x W in [0, 1] (always present; all ones for an opaque photo)
- ``mask``   float32 H x W in [0, 1], 1 = the region the user painted (fill / edit)
- ``source`` float32 H x W in [0, 1], 1 = *sample from here* (where a fill may take texture from);
  all zeros = not painted, i.e. the default: the whole photo outside the hole
- ``labels`` int32 H x W class ids, ``UNLABELED`` (-1) where nothing was painted
- hints: a list of :class:`HintPoint` in image pixel coordinates
- latent: an optional engine-owned array (iGAN projection), opaque to the editor

The document never records undo history itself: undo commands (``app.document.commands``) call
``get_patch``/``put_patch``/hint methods with before/after data. Observers registered with
``add_listener`` hear ``(layer, rect)`` after each change, ``rect`` = (x, y, w, h) or None for all.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

UNLABELED = -1

Rect = tuple[int, int, int, int]  # x, y, w, h in image pixels


class Layer(str, enum.Enum):
    IMAGE = "image"
    ALPHA = "alpha"
    MASK = "mask"
    SOURCE = "source"  # the sample-from area of a fill
    LABELS = "labels"
    HINTS = "hints"
    LATENT = "latent"
    ALL = "all"  # a change of size or of several layers at once


@dataclass(frozen=True)
class HintPoint:
    id: int
    x: float
    y: float
    rgb: tuple[float, float, float]
    size: int = 3  # patch edge in pixels


@dataclass
class ImageMeta:
    """What came with the file, written back on save."""

    path: Path | None = None
    format: str = "PNG"
    bit_depth: int = 8
    exif: bytes | None = None
    icc_profile: bytes | None = None
    had_alpha: bool = False
    notes: tuple[str, ...] = ()
    grey: bool = False  # opened from a greyscale file: saved greyscale while it stays grey


@dataclass
class DocumentState:
    """A full snapshot (used for results that change the size or several layers)."""

    image: np.ndarray
    alpha: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    hints: tuple[HintPoint, ...]
    latent: np.ndarray | None = None
    source: np.ndarray | None = None  # None = not painted (all zeros)


Listener = Callable[[Layer, "Rect | None"], None]


def clip_rect(rect: Rect, width: int, height: int) -> Rect | None:
    """Intersect ``rect`` with the image; None when empty."""
    x, y, w, h = rect
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(width, int(x + w)), min(height, int(y + h))
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def union_rect(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None:
        return b
    if b is None:
        return a
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


class Document:
    def __init__(self, image: np.ndarray, alpha: np.ndarray | None = None, meta: ImageMeta | None = None):
        image = _check_image(image)
        h, w = image.shape[:2]
        self.image = image
        self.alpha = np.ones((h, w), np.float32) if alpha is None else _check_plane(alpha, h, w, "alpha")
        self.mask = np.zeros((h, w), np.float32)
        self.source = np.zeros((h, w), np.float32)
        self.labels = np.full((h, w), UNLABELED, np.int32)
        self.hints: list[HintPoint] = []
        self.latent: np.ndarray | None = None
        self.meta = meta or ImageMeta(had_alpha=alpha is not None)
        self.modified = False
        self._transparent: bool | None = None
        self._listeners: list[Listener] = []
        self._hint_ids = itertools.count(1)

    # ------------------------------------------------------------------ basics
    @classmethod
    def blank(cls, width: int, height: int, rgb=(1.0, 1.0, 1.0)) -> "Document":
        img = np.empty((height, width, 3), np.float32)
        img[:] = rgb
        return cls(img)

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def has_transparency(self) -> bool:
        # cached: the canvas asks on every repaint, and scanning 12 MP of alpha costs ~5 ms
        if self._transparent is None:
            self._transparent = self.meta.had_alpha or bool((self.alpha < 1.0).any())
        return self._transparent

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _changed(self, layer: Layer, rect: Rect | None) -> None:
        self.modified = True
        if layer in (Layer.ALPHA, Layer.ALL):
            self._transparent = None
        for fn in list(self._listeners):
            fn(layer, rect)

    def layer_array(self, layer: Layer) -> np.ndarray:
        arrays = {Layer.IMAGE: self.image, Layer.ALPHA: self.alpha, Layer.MASK: self.mask, Layer.SOURCE: self.source,
                  Layer.LABELS: self.labels}
        if layer not in arrays:
            raise ValueError(f"{layer.value} is not a raster layer")
        return arrays[Layer(layer)]

    # ------------------------------------------------------------------ raster patches
    def get_patch(self, layer: Layer, rect: Rect) -> np.ndarray:
        """A copy of ``rect`` of a raster layer (rect must lie inside the image)."""
        x, y, w, h = rect
        return self.layer_array(layer)[y : y + h, x : x + w].copy()

    def put_patch(self, layer: Layer, rect: Rect, data: np.ndarray) -> None:
        x, y, w, h = rect
        target = self.layer_array(layer)
        if data.shape != target[y : y + h, x : x + w].shape:
            raise ValueError(f"patch {data.shape} does not fit {layer.value} rect {rect}")
        target[y : y + h, x : x + w] = data
        self._changed(layer, rect)

    def notify(self, layer: Layer, rect: Rect | None) -> None:
        """Tell listeners that a layer was edited in place (live strokes write directly)."""
        self._changed(layer, rect)

    def set_layer(self, layer: Layer, data: np.ndarray) -> None:
        """Replace a whole same-size raster layer."""
        self.put_patch(layer, (0, 0, self.width, self.height), data)

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> DocumentState:
        return DocumentState(
            self.image.copy(), self.alpha.copy(), self.mask.copy(), self.labels.copy(),
            tuple(self.hints), None if self.latent is None else self.latent.copy(),
            self.source.copy() if self.source.any() else None,
        )

    def restore(self, state: DocumentState) -> None:
        """Put a snapshot back (the size may change). Arrays are copied in."""
        image = _check_image(state.image)
        h, w = image.shape[:2]
        self.image = image.copy()
        self.alpha = _check_plane(state.alpha, h, w, "alpha").copy()
        self.mask = _check_plane(state.mask, h, w, "mask").copy()
        self.source = (np.zeros((h, w), np.float32) if state.source is None
                       else _check_plane(state.source, h, w, "sample-from area").copy())
        if state.labels.shape != (h, w):
            raise ValueError("labels size does not match the image")
        self.labels = state.labels.astype(np.int32, copy=True)
        self.hints = list(state.hints)
        self.latent = None if state.latent is None else state.latent.copy()
        self._changed(Layer.ALL, None)

    # ------------------------------------------------------------------ hints
    def new_hint(self, x: float, y: float, rgb, size: int = 3) -> HintPoint:
        """A hint with a fresh id (not yet added: an undo command adds it)."""
        return HintPoint(next(self._hint_ids), float(x), float(y), tuple(float(c) for c in rgb), int(size))

    def add_hint(self, hint: HintPoint, index: int | None = None) -> None:
        self._hint_ids = itertools.count(max(hint.id + 1, next(self._hint_ids)))
        if index is None:
            self.hints.append(hint)
        else:
            self.hints.insert(index, hint)
        self._changed(Layer.HINTS, None)

    def remove_hint(self, hint_id: int) -> tuple[int, HintPoint]:
        for i, h in enumerate(self.hints):
            if h.id == hint_id:
                del self.hints[i]
                self._changed(Layer.HINTS, None)
                return i, h
        raise KeyError(hint_id)

    def update_hint(self, hint_id: int, **changes) -> HintPoint:
        """Move or recolour a hint; returns the previous value."""
        for i, h in enumerate(self.hints):
            if h.id == hint_id:
                self.hints[i] = replace(h, **changes)
                self._changed(Layer.HINTS, None)
                return h
        raise KeyError(hint_id)

    def hint_at(self, x: float, y: float, radius: float) -> HintPoint | None:
        """The topmost hint within ``radius`` image pixels of (x, y)."""
        best, best_d = None, radius * radius
        for h in self.hints:
            d = (h.x - x) ** 2 + (h.y - y) ** 2
            if d <= best_d:
                best, best_d = h, d
        return best

    # ------------------------------------------------------------------ latent
    def set_latent(self, latent: np.ndarray | None) -> None:
        self.latent = None if latent is None else np.array(latent, copy=True)
        self._changed(Layer.LATENT, None)

    # ------------------------------------------------------------------ helpers
    def composite_rgba(self) -> np.ndarray:
        """float32 H x W x 4 (image + alpha), e.g. for export."""
        return np.dstack([self.image, self.alpha])

    def mask_bbox(self, threshold: float = 0.0) -> Rect | None:
        ys, xs = np.nonzero(self.mask > threshold)
        if len(xs) == 0:
            return None
        return (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))

    def has_source(self, threshold: float = 0.5) -> bool:
        """True when the user painted a sample-from area (else a fill samples the whole photo)."""
        return bool((self.source >= threshold).any())

    def sample_from(self, threshold: float = 0.5) -> np.ndarray | None:
        """What a fill request gets: float32 H x W, 1 = texture may come from here; None = default."""
        if not self.has_source(threshold):
            return None
        return (self.source >= threshold).astype(np.float32)


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be an H x W x 3 array, got {getattr(image, 'shape', type(image))}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError("image is empty")
    return np.ascontiguousarray(image, dtype=np.float32)


def _check_plane(plane: np.ndarray, h: int, w: int, name: str) -> np.ndarray:
    if plane.shape != (h, w):
        raise ValueError(f"{name} is {plane.shape[1]}x{plane.shape[0]} but the image is {w}x{h}")
    return np.ascontiguousarray(plane, dtype=np.float32)


def changed_bbox(before: np.ndarray, after: np.ndarray) -> Rect | None:
    """Bounding box of the pixels that differ between two same-shape arrays."""
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    ys = np.flatnonzero(diff.any(axis=1))
    if len(ys) == 0:
        return None
    xs = np.flatnonzero(diff.any(axis=0))
    return (int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1))


__all__ = [
    "Document", "DocumentState", "HintPoint", "ImageMeta", "Layer", "Rect", "UNLABELED",
    "changed_bbox", "clip_rect", "union_rect",
]
