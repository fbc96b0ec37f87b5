"""Image files in and out, in the engine convention (docs/ARCHITECTURE.md rules 2, 7, 8).

``load_image`` gives float32 RGB ``H x W x 3`` in ``[0, 1]`` with alpha apart, upright, 16 bits
kept, and a clear :class:`ImageLoadError` for anything it can't read (corrupt, truncated, too
big). ``save_image`` writes atomically and keeps alpha, 16 bits, EXIF, ICC and PNG text where the
format allows, returning notes for what it could not keep.
"""

from ._common import (
    EXIF_HEADER,
    ImageLoadError,
    ImageSaveError,
    LoadedImage,
    from_uint,
    to_uint8,
    to_uint16,
)
from ._exif import apply_orientation
from ._load import DEFAULT_MAX_PIXELS, load_image
from ._save import FORMATS, save_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "EXIF_HEADER",
    "FORMATS",
    "ImageLoadError",
    "ImageSaveError",
    "LoadedImage",
    "apply_orientation",
    "from_uint",
    "load_image",
    "save_image",
    "to_uint16",
    "to_uint8",
]
