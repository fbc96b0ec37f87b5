"""A minimal 16-bit TIFF writer (Pillow has no 48/64-bit RGB(A) mode to save from; OpenCV writes
no ICC or EXIF). Baseline layout: contiguous samples, Adobe Deflate strips, little-endian."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np
from PIL import TiffImagePlugin

_STRIP_BYTES = 1 << 20  # ~1 MiB of raw samples per strip keeps readers' memory small


def encode_tiff16(
    samples: np.ndarray,
    icc_profile: bytes | None = None,
    extra_tags: dict[int, Any] | None = None,
) -> bytes:
    """Encode ``uint16`` ``H x W x C`` (C = 1 grey, 3 RGB, 4 RGBA with unassociated alpha).

    Args:
        samples: the pixels, already in file order (RGB, not BGR).
        icc_profile: stored in tag 34675.
        extra_tags: more IFD entries (e.g. EXIF tags from :func:`exif_tags_for_tiff`; dict values
            become sub-IFDs).
    """
    # uint8 is accepted too: 8-bit TIFFs with EXIF sub-IFDs come here (Pillow's libtiff writer
    # refuses the Exif/GPS sub-IFDs: "Error setting from dictionary").
    if samples.dtype not in (np.uint8, np.uint16) or samples.ndim != 3 or samples.shape[2] not in (1, 3, 4):
        raise ValueError("encode_tiff16 wants uint16 (or uint8) H x W x {1,3,4}")
    h, w, c = samples.shape
    row_bytes = w * c * samples.dtype.itemsize
    rows_per_strip = max(1, min(h, _STRIP_BYTES // row_bytes))
    bits = samples.dtype.itemsize * 8
    raw = np.ascontiguousarray(samples, dtype="<u2" if bits == 16 else np.uint8).tobytes()
    strips = [
        zlib.compress(raw[y * row_bytes : min(h, y + rows_per_strip) * row_bytes], 6)
        for y in range(0, h, rows_per_strip)
    ]

    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    for tag, value in (extra_tags or {}).items():
        ifd[tag] = value
    ifd[256] = w  # ImageWidth
    ifd[257] = h  # ImageLength
    ifd[258] = (bits,) * c  # BitsPerSample
    ifd[259] = 8  # Compression: Adobe Deflate
    ifd[262] = 1 if c == 1 else 2  # Photometric: BlackIsZero / RGB
    ifd[277] = c  # SamplesPerPixel
    ifd[278] = rows_per_strip
    ifd[284] = 1  # PlanarConfiguration: contiguous
    ifd[339] = (1,) * c  # SampleFormat: unsigned integer
    if c == 4:
        ifd[338] = (2,)  # ExtraSamples: unassociated (straight) alpha
    if icc_profile:
        ifd[34675] = icc_profile
    # Pillow's IFD writer adds the end of the IFD (and its out-of-line values) to StripOffsets,
    # so offsets are given relative to where the strip data starts.
    offsets, pos = [], 0
    for s in strips:
        offsets.append(pos)
        pos += len(s)
    ifd[273] = tuple(offsets)
    ifd.tagtype[273] = 4  # LONG
    ifd[279] = tuple(len(s) for s in strips)
    ifd.tagtype[279] = 4
    header = b"II" + struct.pack("<HI", 42, 8)
    return header + ifd.tobytes(8) + b"".join(strips)
