"""Errors, the loaded-image record and the small pixel helpers shared by loading and saving."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.core.protocol import EngineError

EXIF_HEADER = b"Exif\x00\x00"  # APP1 / Pillow convention: LoadedImage.exif always starts with it


class ImageLoadError(EngineError):
    """An image could not be read. ``str(err)`` names the file and gives a plain reason; the
    library exception that caused it (if any) is ``err.__cause__``."""

    def __init__(self, message: str, path: "str | os.PathLike[str] | None" = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ImageSaveError(EngineError):
    """An image could not be written (bad array, unsupported format, disk error). The target
    file, if it existed, is unchanged."""

    def __init__(self, message: str, path: "str | os.PathLike[str] | None" = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


@dataclass
class LoadedImage:
    """A decoded image in the engine convention (docs/ARCHITECTURE.md rule 2), upright (EXIF applied).

    Attributes:
        rgb: ``float32`` ``H x W x 3`` in ``[0, 1]``, C-contiguous. Pixels stay in the file's own
            colour space (described by ``icc_profile``; ``None`` means sRGB), except CMYK, which
            is converted to sRGB.
        alpha: ``float32`` ``H x W`` in ``[0, 1]`` (1 = opaque), or ``None`` when the file has none.
        bit_depth: 8 or 16: what to save back with to lose nothing (float TIFFs report 16).
        exif: EXIF block starting with ``b"Exif\\0\\0"`` with the orientation tag reset to 1
            (the pixels are already upright), or ``None``.
        icc_profile: the embedded ICC profile bytes, or ``None``.
        source_mode: the Pillow mode the file decoded to (``"I;16"``, ``"CMYK"``, ``"P"``...).
        format: the Pillow format name (``"PNG"``, ``"JPEG"``, ``"TIFF"``...).
        path: the file it came from.
        info: extras: ``"notes"`` (list of plain sentences about conversions, e.g.
            ``"converted from CMYK"``), ``"orientation"`` (the original EXIF tag), ``"text"``
            (PNG text chunks), ``"dpi"``, ``"frames"`` when the file holds more than one.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    exif: bytes | None = None
    icc_profile: bytes | None = None
    source_mode: str = "RGB"
    format: str = ""
    path: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])

    @property
    def notes(self) -> list[str]:
        return self.info.setdefault("notes", [])


def to_uint8(x: np.ndarray) -> np.ndarray:
    """``[0, 1]`` floats -> ``uint8`` (rounded, clipped). Any shape."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def to_uint16(x: np.ndarray) -> np.ndarray:
    """``[0, 1]`` floats -> ``uint16`` (rounded, clipped). Any shape."""
    # float64 here: 65535 * x needs more than float32's 24 bits to round exactly everywhere.
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) * 65535.0), 0, 65535).astype(np.uint16)


def from_uint(a: np.ndarray) -> np.ndarray:
    """``uint8`` / ``uint16`` (any byte order) -> ``float32`` in ``[0, 1]`` (exact: v / max)."""
    scale = 255.0 if a.dtype.itemsize == 1 else 65535.0
    return (a.astype(np.float32) / np.float32(scale)).astype(np.float32, copy=False)


def format_megapixels(pixels: int) -> str:
    mp = pixels / 1e6
    if mp >= 10:
        return f"{mp:.0f} MP"
    if mp >= 0.1:
        return f"{mp:.1f} MP"
    return f"{mp:.2g} MP"
