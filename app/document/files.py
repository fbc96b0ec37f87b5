"""Open and save documents through engines.imageio (Qt-free): metadata in, metadata back out."""

from __future__ import annotations

from pathlib import Path

from engines import __version__
from engines.imageio import LoadedImage, load_image, save_image

from .document import Document, ImageMeta
from .hint_sidecar import load_hints, save_hints

OPEN_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff);;BMP (*.bmp)"
KEEPS_16_BIT = {".png", ".tif", ".tiff"}


def open_document(path: str | Path) -> Document:
    """Load a photo into a new document; raises ImageLoadError with a message for the user."""
    img: LoadedImage = load_image(path)
    meta = ImageMeta(
        path=Path(path), format=img.format, bit_depth=img.bit_depth, exif=img.exif,
        icc_profile=img.icc_profile, had_alpha=img.alpha is not None,
        notes=tuple(img.notes),  # plain sentences: "only the first of 3 frames was loaded", ...
    )
    doc = Document(img.rgb, img.alpha, meta)
    load_hints(doc, path)  # colorize hints live in a sidecar beside the image
    return doc


def save_document(doc: Document, path: str | Path, quality: int = 95) -> None:
    """Write the document's image atomically, keeping EXIF, ICC, alpha and 16-bit where the format can."""
    path = Path(path)
    bits = doc.meta.bit_depth if path.suffix.lower() in KEEPS_16_BIT else 8
    save_image(
        path, doc.image, alpha=doc.alpha if doc.has_transparency else None, bit_depth=bits,
        exif=doc.meta.exif, icc_profile=doc.meta.icc_profile, quality=quality,
        text={"Software": f"GAN Studio {__version__}"},
    )
    save_hints(doc, path)
