"""Open and save documents through engines.imageio (Qt-free): metadata in, metadata back out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engines import __version__
from engines.imageio import LoadedImage, load_image, save_image

from .document import Document, ImageMeta
from .hint_sidecar import load_hints, save_hints

OPEN_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff);;BMP (*.bmp)"
KEEPS_16_BIT = {".png", ".tif", ".tiff"}
ASKS_QUALITY = {".jpg", ".jpeg", ".webp"}  # lossy: the save asks for a quality once
# Pillow modes of a greyscale file (16-bit and float greys included)
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
GREY_TOLERANCE = 1.0 / 512  # channels closer than half an 8-bit step count as equal


def open_document(path: str | Path) -> Document:
    """Load a photo into a new document; raises ImageLoadError with a message for the user."""
    img: LoadedImage = load_image(path)
    grey = img.source_mode in GREY_MODES
    notes = list(img.notes)  # plain sentences: "only the first of 3 frames was loaded", ...
    if grey:  # "converted from L to RGB" would suggest the file becomes colour: it does not
        notes = [n for n in notes if n != f"converted from {img.source_mode} to RGB"]
        notes.append("greyscale: edited as RGB, saved greyscale while it stays grey")
    meta = ImageMeta(
        path=Path(path), format=img.format, bit_depth=img.bit_depth, exif=img.exif,
        icc_profile=img.icc_profile, had_alpha=img.alpha is not None, notes=tuple(notes), grey=grey,
    )
    doc = Document(img.rgb, img.alpha, meta)
    load_hints(doc, path)  # colorize hints live in a sidecar beside the image
    return doc


def is_still_grey(doc: Document) -> bool:
    """True for a photo opened greyscale whose three channels are still equal (not colorized,
    no colour painted): it is saved greyscale."""
    if not doc.meta.grey:
        return False
    img = doc.image
    return bool(np.abs(img[..., 0] - img[..., 1]).max() <= GREY_TOLERANCE
                and np.abs(img[..., 1] - img[..., 2]).max() <= GREY_TOLERANCE)


def save_document(doc: Document, path: str | Path, quality: int = 95) -> list[str]:
    """Write the document's image atomically, keeping EXIF, ICC, alpha and 16-bit where the format
    can, and greyscale for a photo that was opened greyscale and is still grey. Returns the notes
    of anything not stored as given (e.g. "JPEG has no transparency: flattened onto white")."""
    path = Path(path)
    bits = doc.meta.bit_depth if path.suffix.lower() in KEEPS_16_BIT else 8
    text = {"Software": f"GAN Studio {__version__}"} if path.suffix.lower() == ".png" else None
    notes = save_image(
        path, doc.image, alpha=doc.alpha if doc.has_transparency else None, bit_depth=bits,
        exif=doc.meta.exif, icc_profile=doc.meta.icc_profile, quality=quality,
        text=text, grey=is_still_grey(doc),
    )
    save_hints(doc, path)
    return notes
