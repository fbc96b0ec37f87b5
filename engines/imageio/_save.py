"""save_image: engine-convention arrays -> an image file, atomically, metadata kept."""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, features

from engines.atomic import atomic_write_bytes

from . import _png
from ._common import EXIF_HEADER, ImageSaveError, to_uint8, to_uint16
from ._exif import exif_tags_for_tiff

# suffix -> Pillow format name
FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
_ALIASES = {"JPG": "JPEG", "TIF": "TIFF"}
_HAS_ALPHA = {"PNG", "WEBP", "TIFF"}
_HAS_16BIT = {"PNG", "TIFF"}
_HAS_EXIF = {"PNG", "JPEG", "WEBP", "TIFF"}
_HAS_ICC = {"PNG", "JPEG", "WEBP", "TIFF"}
_HAS_XMP = {"JPEG", "WEBP", "TIFF"}  # PNG gets the same record as text chunks instead
_XMP_TAG = 700  # TIFF tag XMLPacket


def _check_array(name: str, a: object, ndim: int, path: Path) -> np.ndarray:
    shape = "H x W x 3" if ndim == 3 else "H x W"
    if not isinstance(a, np.ndarray):
        raise ImageSaveError(
            f"{name} must be a numpy array ({shape}), got {type(a).__name__}", path
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise ImageSaveError(f"{name} must be float32 in [0, 1], got dtype {a.dtype}", path)
    if a.ndim != ndim or (ndim == 3 and a.shape[2] != 3) or 0 in a.shape:
        raise ImageSaveError(f"{name} must be {shape} and non-empty, got shape {a.shape}", path)
    if not np.isfinite(a).all():
        raise ImageSaveError(f"{name} contains NaN or infinite values", path)
    return a


def resolve_format(path: Path, format: str | None) -> str:
    if format:
        fmt = _ALIASES.get(format.upper().lstrip("."), format.upper().lstrip("."))
        if fmt not in set(FORMATS.values()):
            raise ImageSaveError(f"Cannot save {path.name}: unsupported format {format!r}", path)
        return fmt
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        what = f"'{path.suffix}'" if path.suffix else "no file extension"
        raise ImageSaveError(
            f"Cannot save {path.name}: {what} is not a supported format "
            "(use .png, .jpg, .webp, .tif or .bmp)",
            path,
        )
    return fmt


def _composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha, 0.0, 1.0)[:, :, None]
    return rgb * a + (1.0 - a)


def _encode_png16(
    samples: np.ndarray, exif: bytes | None, icc: bytes | None, text: dict[str, str]
) -> bytes:
    # OpenCV wants BGR(A) order; one channel (grey) as it is; grey + alpha has no 16-bit PNG
    # writer in OpenCV, so it goes out as RGBA (the same pixels).
    if samples.shape[2] == 2:
        samples = samples[:, :, [0, 0, 0, 1]]
    if samples.shape[2] == 1:
        bgr = samples[:, :, 0]
    else:
        bgr = samples[:, :, [2, 1, 0, 3]] if samples.shape[2] == 4 else samples[:, :, ::-1]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise ValueError("OpenCV could not encode the PNG")
    chunks = []
    if icc:
        chunks.append(_png.icc_chunk(icc))
    if exif:
        chunks.append(_png.exif_chunk(exif))
    chunks.extend(_png.text_chunk(k, v) for k, v in text.items())
    # An iCCP chunk must not sit beside sRGB/gAMA/cHRM that would contradict it.
    drop = (b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"eXIf") if icc else (b"eXIf",)
    return _png.insert_after_ihdr(buf.tobytes(), chunks, drop=drop)


def _encode(
    fmt: str,
    rgb: np.ndarray,
    alpha: np.ndarray | None,
    bit_depth: int,
    exif: bytes | None,
    icc: bytes | None,
    quality: int,
    text: dict[str, str],
    xmp: bytes | None = None,
    grey: bool = False,
) -> bytes:
    if grey:
        rgb = rgb.mean(axis=2, keepdims=True)  # H x W x 1
    channels = rgb if alpha is None else np.concatenate([rgb, alpha[:, :, None]], axis=2)
    if bit_depth == 16 and fmt == "PNG":
        return _encode_png16(to_uint16(channels), exif, icc, text)
    if fmt == "TIFF" and (bit_depth == 16 or exif or xmp):
        from ._tiff import encode_tiff16

        tags = exif_tags_for_tiff(exif) if exif else {}
        if xmp:
            tags[_XMP_TAG] = xmp
        samples = to_uint16(channels) if bit_depth == 16 else to_uint8(channels)
        return encode_tiff16(samples, icc, tags)

    u8 = to_uint8(channels)
    if grey:  # L or LA
        im = Image.fromarray(u8[:, :, 0], "L") if alpha is None else Image.fromarray(u8, "LA")
    else:
        im = Image.fromarray(u8, "RGB" if alpha is None else "RGBA")
    params: dict = {}
    if icc:
        params["icc_profile"] = icc
    if exif:
        params["exif"] = exif
    if xmp and fmt in ("JPEG", "WEBP"):
        params["xmp"] = xmp
    if fmt == "PNG":
        params["compress_level"] = 6
        if text:
            info = PngImagePlugin.PngInfo()
            for k, v in text.items():
                _png.text_chunk(k, v)  # validates the keyword with a clear message
                info.add_text(k, v)
            params["pnginfo"] = info
    elif fmt == "JPEG":
        params["quality"] = quality
        # 4:4:4 chroma at high quality: editing round trips shouldn't smear colour edges.
        params["subsampling"] = 0 if quality >= 90 else 2
        # No optimize=True: with it Pillow sizes its output buffer at ~1 byte/pixel and fails
        # ("Suspension not allowed here") on detailed 4:4:4 images.
    elif fmt == "WEBP":
        params["quality"] = quality
        params["lossless"] = quality >= 100
    elif fmt == "TIFF":
        params["compression"] = "tiff_adobe_deflate" if features.check("libtiff") else None
    buf = io.BytesIO()
    im.save(buf, format=fmt, **params)
    return buf.getvalue()


def save_image(
    path: "str | os.PathLike[str]",
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    bit_depth: int = 8,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    format: str | None = None,
    quality: int = 95,
    text: dict[str, str] | None = None,
    xmp: bytes | None = None,
    grey: bool = False,
) -> list[str]:
    """Write an image atomically (the target is replaced only by a complete file).

    Args:
        path: target file; the format comes from its suffix (.png, .jpg/.jpeg, .webp, .tif/.tiff,
            .bmp) unless ``format`` names one.
        rgb: ``float32`` (any float) ``H x W x 3`` in ``[0, 1]``; values outside are clipped.
        alpha: ``H x W`` in ``[0, 1]`` (1 = opaque) or ``None``. Kept in PNG, WebP and TIFF;
            JPEG and BMP get the image composited over white instead.
        bit_depth: 8 or 16. 16 is written as 16 bits per channel in PNG and TIFF; the other
            formats store 8.
        exif: EXIF block (``Exif\\0\\0`` prefix optional), e.g. ``LoadedImage.exif``.
        icc_profile: ICC profile bytes, e.g. ``LoadedImage.icc_profile``.
        quality: JPEG/WebP quality 1-100 (WebP 100 = lossless).
        text: PNG text chunks (``tEXt``, or ``iTXt`` for non-Latin-1 values).
        xmp: an XMP packet (UTF-8 XML) for JPEG, WebP and TIFF; ignored for PNG and BMP (PNG
            callers pass the same record as ``text``).
        grey: write one grey channel (the mean of R, G and B) instead of RGB, e.g. for a photo
            opened greyscale and still grey. PNG, JPEG, TIFF and BMP store it (8 or 16 bits in
            PNG, 8 in the others); WebP has no grey mode and stays RGB (a note says so).

    Returns:
        Notes about anything not stored as given (alpha composited, 16 -> 8 bits, metadata the
        format can't hold), for the caller to show; empty when everything was kept.

    Raises:
        ImageSaveError: bad arrays (shape, dtype, NaN), an unsupported format, or a write error.
            The target, if it existed, is unchanged.
    """
    path = Path(path)
    fmt = resolve_format(path, format)
    rgb = _check_array("rgb", rgb, 3, path)
    if alpha is not None:
        alpha = _check_array("alpha", alpha, 2, path)
        if alpha.shape != rgb.shape[:2]:
            raise ImageSaveError(
                f"alpha shape {alpha.shape} does not match the image {rgb.shape[:2]}", path
            )
    if bit_depth not in (8, 16):
        raise ImageSaveError(f"bit_depth must be 8 or 16, got {bit_depth!r}", path)
    if not 1 <= int(quality) <= 100:
        raise ImageSaveError(f"quality must be 1-100, got {quality!r}", path)
    if exif is not None and not isinstance(exif, (bytes, bytearray)):
        raise ImageSaveError("exif must be bytes", path)
    if icc_profile is not None and not isinstance(icc_profile, (bytes, bytearray)):
        raise ImageSaveError("icc_profile must be bytes", path)
    exif = bytes(exif) if exif else None
    if exif and not exif.startswith(EXIF_HEADER):
        exif = EXIF_HEADER + exif
    icc = bytes(icc_profile) if icc_profile else None
    text = dict(text or {})

    notes: list[str] = []
    rgb = np.clip(rgb, 0.0, 1.0)
    if alpha is not None and fmt not in _HAS_ALPHA:
        rgb = _composite_on_white(rgb, alpha)
        alpha = None
        notes.append(f"{fmt} has no transparency: the image was flattened onto white")
    if bit_depth == 16 and fmt not in _HAS_16BIT:
        bit_depth = 8
        notes.append(f"{fmt} stores 8 bits per channel: saved as 8-bit")
    if exif and fmt not in _HAS_EXIF:
        exif = None
        notes.append(f"{fmt} cannot hold EXIF metadata: it was not saved")
    if icc and fmt not in _HAS_ICC:
        icc = None
        notes.append(f"{fmt} cannot hold a colour profile: it was not saved")
    if xmp is not None and not isinstance(xmp, (bytes, bytearray)):
        raise ImageSaveError("xmp must be bytes", path)
    xmp = bytes(xmp) if xmp and fmt in _HAS_XMP else None
    if text and fmt != "PNG":
        text = {}
        notes.append(f"text entries are only saved in PNG, not {fmt}")
    if grey and fmt == "WEBP":
        grey = False
        notes.append("WebP has no greyscale mode: saved as RGB")
    if grey and fmt == "TIFF" and (bit_depth == 16 or exif or xmp):
        grey = False  # the 16-bit / tagged TIFF writer takes RGB(A) only
        notes.append("saved as RGB: this TIFF writer has no greyscale mode")

    try:
        data = _encode(fmt, rgb, alpha, bit_depth, exif, icc, int(quality), text, xmp, grey)
    except ImageSaveError:
        raise
    except ValueError as e:  # e.g. a bad PNG keyword, an EXIF block Pillow can't parse
        raise ImageSaveError(f"Cannot save {path.name}: {e}", path) from e
    except MemoryError as e:
        raise ImageSaveError(f"Cannot save {path.name}: not enough memory", path) from e
    except Exception as e:
        msg = f"Cannot save {path.name}: encoding as {fmt} failed ({e})"
        raise ImageSaveError(msg, path) from e

    if not path.parent.is_dir():
        msg = f"Cannot save {path.name}: the folder {path.parent} does not exist"
        raise ImageSaveError(msg, path)
    try:
        atomic_write_bytes(path, data)
    except PermissionError as e:
        raise ImageSaveError(f"Cannot save {path.name}: permission denied", path) from e
    except OSError as e:
        reason = e.strerror or str(e)
        raise ImageSaveError(f"Cannot save {path.name}: {reason}", path) from e
    return notes
