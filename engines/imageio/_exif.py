"""EXIF helpers: orientation, and moving EXIF between a JPEG/PNG block and TIFF tags."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from PIL import ExifTags, Image

from ._common import EXIF_HEADER

ORIENTATION = 0x0112
_SUB_IFDS = (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)

# TIFF tags that describe a file's pixel layout, not the photo: dropped when a TIFF's tags become
# an EXIF block (they would be stale or wrong in a JPEG/PNG, and our writers set their own).
TIFF_STRUCTURE_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 288,
        289, 290, 291, 317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 530, 531,
        532, 700, 33723, 34377, 34675, 37724,
    }
)


def apply_orientation(a: np.ndarray, orientation: int) -> np.ndarray:
    """Make an ``H x W [x C]`` array upright for EXIF ``orientation`` 1-8 (the same result as
    ``PIL.ImageOps.exif_transpose``). Unknown values are treated as 1."""
    if orientation == 2:  # mirrored horizontally
        a = a[:, ::-1]
    elif orientation == 3:  # rotated 180
        a = a[::-1, ::-1]
    elif orientation == 4:  # mirrored vertically
        a = a[::-1]
    elif orientation == 5:  # transpose (mirror across the main diagonal)
        a = a.swapaxes(0, 1)
    elif orientation == 6:  # stored rotated 90 counter-clockwise: turn it 90 clockwise
        a = np.rot90(a, -1)
    elif orientation == 7:  # transverse (mirror across the anti-diagonal)
        a = a[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:  # stored rotated 90 clockwise: turn it 90 counter-clockwise
        a = np.rot90(a, 1)
    return np.ascontiguousarray(a)


def patch_orientation(tiff: bytes) -> bytes | None:
    """Set IFD0's orientation entry to 1 in place, keeping every other byte (maker notes hold
    absolute offsets that a re-serialization would break). ``None`` if the layout is unexpected."""
    if tiff[:2] == b"II":
        e = "<"
    elif tiff[:2] == b"MM":
        e = ">"
    else:
        return None
    try:
        if struct.unpack(e + "H", tiff[2:4])[0] != 42:  # BigTIFF and others: leave alone
            return None
        (ifd,) = struct.unpack(e + "I", tiff[4:8])
        (count,) = struct.unpack(e + "H", tiff[ifd : ifd + 2])
        for i in range(count):
            pos = ifd + 2 + 12 * i
            tag, typ, n = struct.unpack(e + "HHI", tiff[pos : pos + 8])
            if tag == ORIENTATION:
                if typ != 3 or n != 1:  # SHORT x 1 is the only valid form
                    return None
                out = bytearray(tiff)
                out[pos + 8 : pos + 10] = struct.pack(e + "H", 1)
                return bytes(out)
    except struct.error:
        return None
    return tiff  # no orientation entry: nothing to reset


def normalize_exif(raw: bytes | None) -> tuple[bytes | None, int]:
    """Return ``(exif block with orientation reset to 1, original orientation)``.

    The block always starts with ``Exif\\0\\0``; ``None`` stays ``None``, unreadable blocks are
    dropped (``None``) rather than carried into the saved file.
    """
    if not raw:
        return None, 1
    tiff = raw[6:] if raw.startswith(EXIF_HEADER) else raw
    exif = Image.Exif()
    try:
        exif.load(tiff)
        orientation = int(exif.get(ORIENTATION, 1) or 1)
    except Exception:
        return None, 1
    if orientation == 1:
        return EXIF_HEADER + tiff, 1
    patched = patch_orientation(tiff)
    if patched is not None:
        return EXIF_HEADER + patched, orientation
    exif[ORIENTATION] = 1
    try:
        return exif.tobytes(), orientation
    except Exception:
        return None, orientation


def exif_from_tiff_tags(exif: Image.Exif) -> tuple[bytes | None, int]:
    """EXIF block from a TIFF's own tags (Pillow puts them all in ``getexif()``), keeping photo
    metadata (Artist, Make, DateTime, the Exif and GPS sub-IFDs...) and dropping layout tags."""
    orientation = int(exif.get(ORIENTATION, 1) or 1)
    out = Image.Exif()
    for tag, value in exif.items():
        if tag in TIFF_STRUCTURE_TAGS:
            continue
        out[tag] = exif.get_ifd(tag) if tag in _SUB_IFDS else value
    if ORIENTATION in out:
        out[ORIENTATION] = 1
    if not len(out):
        return None, orientation
    try:
        return out.tobytes(), orientation
    except Exception:
        return None, orientation


def exif_tags_for_tiff(exif: bytes) -> dict[int, Any]:
    """Tags of an EXIF block to merge into a TIFF IFD (sub-IFDs as dicts; layout tags dropped)."""
    e = Image.Exif()
    e.load(exif[6:] if exif.startswith(EXIF_HEADER) else exif)
    tags: dict[int, Any] = {}
    for tag, value in e.items():
        if tag in TIFF_STRUCTURE_TAGS:
            continue
        tags[tag] = e.get_ifd(tag) if tag in _SUB_IFDS else value
    return tags
