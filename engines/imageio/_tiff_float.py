"""Floating-point RGB(A) TIFFs, which Pillow cannot open (it has no 3- or 4-channel float mode).

HDR and scientific tools write them (32-bit float samples, ``SampleFormat`` 3). OpenCV decodes
them; before it does, :func:`float_tiff_header` reads the first IFD's size and orientation so the
decompression-bomb limit is checked without decoding a pixel, and the orientation is applied by
us (OpenCV's own handling of it differs between versions).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from ._exif import ORIENTATION, patch_orientation

_WIDTH, _HEIGHT, _SAMPLE_FORMAT = 256, 257, 339
_IEEE_FLOAT = 3
_TYPE_SIZE = {1: 1, 3: 2, 4: 4, 16: 8}  # BYTE, SHORT, LONG, LONG8: the integer types used here


@dataclass(frozen=True)
class FloatTiffHeader:
    width: int
    height: int
    orientation: int


def float_tiff_header(data: bytes) -> FloatTiffHeader | None:
    """The size and orientation of a classic TIFF whose first image has float samples, else None."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        return None
    try:
        if struct.unpack(order + "H", data[2:4])[0] != 42:
            return None
        (ifd,) = struct.unpack(order + "I", data[4:8])
        (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
        tags: dict[int, int] = {}
        for i in range(count):
            pos = ifd + 2 + 12 * i
            tag, typ, n = struct.unpack(order + "HHI", data[pos:pos + 8])
            size = _TYPE_SIZE.get(typ)
            if size is None or n < 1 or size > 4:
                continue
            # the first value sits in the entry itself when n values fit in 4 bytes
            raw = data[pos + 8:pos + 8 + size] if n * size <= 4 else \
                data[struct.unpack(order + "I", data[pos + 8:pos + 12])[0]:][:size]
            tags[tag] = struct.unpack(order + {1: "B", 2: "H", 4: "I"}[size], raw)[0]
    except struct.error:
        return None
    if tags.get(_SAMPLE_FORMAT) != _IEEE_FLOAT or _WIDTH not in tags or _HEIGHT not in tags:
        return None
    return FloatTiffHeader(tags[_WIDTH], tags[_HEIGHT], tags.get(ORIENTATION, 1))


def decode_float_tiff(data: bytes, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """(rgb, alpha) in ``[0, 1]`` float32 from a float TIFF; values outside 0..1 are stretched
    and NaN/inf set to 0, each with a note (as for Pillow's single-channel float mode)."""
    patched = patch_orientation(data)
    arr = cv2.imdecode(np.frombuffer(patched or data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype.kind != "f" or arr.ndim not in (2, 3):
        raise ValueError("OpenCV could not decode the floating-point pixels")
    a = arr.astype(np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    c = a.shape[2]
    if c not in (1, 2, 3, 4):
        raise ValueError(f"unsupported float TIFF with {c} channels")
    alpha = None
    if c in (2, 4):
        alpha = np.clip(np.nan_to_num(a[:, :, -1], nan=1.0), 0.0, 1.0)
    colour = np.repeat(a[:, :, :1], 3, axis=2) if c <= 2 else a[:, :, 2::-1]  # BGR -> RGB
    if not np.isfinite(colour).all():
        notes.append("non-finite values (NaN/inf) were set to 0")
        colour = np.nan_to_num(colour, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(colour.min()), float(colour.max())
    if lo < 0.0 or hi > 1.0:
        notes.append(f"floating-point values {lo:g}..{hi:g} were stretched to 0..1")
        colour = (colour - lo) / (hi - lo if hi > lo else 1.0)
    return np.ascontiguousarray(colour, dtype=np.float32), alpha
