"""A small PNG chunk reader/writer.

Used to put ICC (``iCCP``), EXIF (``eXIf``) and text (``tEXt`` / ``iTXt``) chunks into the 16-bit
PNGs that OpenCV encodes (Pillow cannot write 16-bit RGB PNGs; OpenCV writes no metadata), and to
read the bit depth from ``IHDR`` (Pillow decodes 16-bit RGB PNGs to 8 bits without saying so).
"""

from __future__ import annotations

import struct
import zlib
from typing import Iterable, NamedTuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngFormatError(ValueError):
    pass


class Chunk(NamedTuple):
    type: bytes
    data: bytes
    start: int  # offset of the length field
    end: int  # offset just past the CRC


class IHDR(NamedTuple):
    width: int
    height: int
    bit_depth: int
    color_type: int  # 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA


def make_chunk(ctype: bytes, data: bytes) -> bytes:
    """One serialized chunk: length, type, data, CRC-32 of type + data."""
    if len(ctype) != 4 or not ctype.isalpha():
        raise ValueError(f"bad PNG chunk type {ctype!r}")
    return (
        struct.pack(">I", len(data))
        + ctype
        + data
        + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)
    )


def iter_chunks(png: bytes) -> Iterable[Chunk]:
    """Chunks of a PNG byte string in file order (CRCs are checked)."""
    if not png.startswith(PNG_SIGNATURE):
        raise PngFormatError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos < len(png):
        if pos + 8 > len(png):
            raise PngFormatError("truncated chunk header")
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        ctype = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(png):
            raise PngFormatError(f"truncated {ctype!r} chunk")
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[end - 4 : end])
        if crc != zlib.crc32(ctype + data) & 0xFFFFFFFF:
            raise PngFormatError(f"bad CRC in {ctype!r} chunk")
        yield Chunk(ctype, data, pos, end)
        pos = end
        if ctype == b"IEND":
            break


def read_ihdr(head: bytes) -> IHDR | None:
    """Parse IHDR from the first 33 bytes of a PNG; ``None`` if ``head`` is not a PNG."""
    if len(head) < 33 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height, depth, color = struct.unpack(">IIBB", head[16:26])
    return IHDR(width, height, depth, color)


def insert_after_ihdr(png: bytes, chunks: Iterable[bytes], drop: Iterable[bytes] = ()) -> bytes:
    """Return ``png`` with the serialized ``chunks`` placed right after IHDR (so before PLTE and
    IDAT, as iCCP requires) and any existing chunks whose type is in ``drop`` removed."""
    drop = set(drop)
    out = [PNG_SIGNATURE]
    for chunk in iter_chunks(png):
        if chunk.type in drop:
            continue
        out.append(png[chunk.start : chunk.end])
        if chunk.type == b"IHDR":
            out.extend(chunks)
    return b"".join(out)


def _keyword(key: str) -> bytes:
    # PNG keywords: 1-79 Latin-1 characters, no leading/trailing/double spaces, no NUL.
    try:
        raw = key.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"PNG keyword {key!r} must be Latin-1 text") from None
    if not 1 <= len(raw) <= 79 or b"\x00" in raw or raw != raw.strip():
        raise ValueError(f"PNG keyword {key!r} must be 1-79 characters without NUL or edge spaces")
    return raw


def icc_chunk(profile: bytes, name: str = "ICC Profile") -> bytes:
    # compression method 0 = zlib, the only one defined
    return make_chunk(b"iCCP", _keyword(name) + b"\x00\x00" + zlib.compress(profile))


def exif_chunk(exif: bytes) -> bytes:
    """``eXIf`` holds the bare TIFF structure, without the ``Exif\\0\\0`` APP1 prefix."""
    if exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    return make_chunk(b"eXIf", exif)


def text_chunk(key: str, value: str) -> bytes:
    """``tEXt`` when the value is Latin-1, else an uncompressed UTF-8 ``iTXt``."""
    kw = _keyword(key)
    try:
        return make_chunk(b"tEXt", kw + b"\x00" + value.encode("latin-1"))
    except UnicodeEncodeError:
        # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated keyword
        return make_chunk(b"iTXt", kw + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"))
