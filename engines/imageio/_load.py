"""load_image: any file Pillow reads -> LoadedImage (float32 RGB [0,1], upright, alpha apart)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import threading
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from ..safe_read import NotRegularFile, TooLarge, read_regular
from ._common import ImageLoadError, LoadedImage, format_megapixels, from_uint
from ._exif import (
    ORIENTATION,
    apply_orientation,
    exif_from_tiff_tags,
    normalize_exif,
    patch_orientation,
)
from ._tiff_float import FloatTiffHeader, decode_float_tiff, float_tiff_header
from ._png import PNG_SIGNATURE, PngFormatError, insert_after_ihdr, iter_chunks, read_ihdr

DEFAULT_MAX_PIXELS = 200_000_000
# Room for metadata beside the pixels (EXIF, ICC, XMP, thumbnails) in the file-size cap.
MAX_HEADER_BYTES = 64 << 20

_PIL_LIMIT_LOCK = threading.Lock()


@contextlib.contextmanager
def _pillow_limit_lifted() -> Iterator[None]:
    """Switch off Pillow's own decompression-bomb check (a process-wide setting) while we open a
    header or decode an image we have already checked against *our* limit: Pillow's check warns
    or raises at its own, different, thresholds. The lock keeps concurrent loads from restoring
    the setting under each other; other Pillow users are unprotected only for that moment."""
    with _PIL_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _fail(path: Path, reason: str) -> ImageLoadError:
    return ImageLoadError(f"Cannot open {path.name}: {reason}", path)


def _read_bytes(path: Path, max_pixels: int | None) -> bytes:
    # Regular files only (a FIFO would block forever, /dev/zero would fill memory), and never
    # more bytes than an image within the pixel limit could need (uncompressed 16-bit RGBA).
    limit = None if max_pixels is None else max_pixels * 8 + MAX_HEADER_BYTES
    try:
        data = read_regular(path, limit)
    except FileNotFoundError as e:
        raise _fail(path, "the file does not exist") from e
    except PermissionError as e:
        raise _fail(path, "permission denied") from e
    except NotRegularFile as e:
        raise _fail(path, "it is a folder, not an image file" if e.kind == "a folder"
                    else f"it is {e.strerror}") from e
    except TooLarge as e:
        raise _fail(path, f"the file is too large for an image within the limit ({e.strerror})") from e
    except IsADirectoryError as e:
        raise _fail(path, "it is a folder, not an image file") from e
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _fail(path, "it is a symbolic link loop (the link points back to itself)") from e
        raise _fail(path, f"the file could not be read ({e.strerror or e})") from e
    if not data:
        raise _fail(path, "the file is empty")
    return data


def _decode_reason(exc: BaseException) -> str:
    """A plain sentence for what a decoder raised (the exception itself stays as __cause__)."""
    text = str(exc).lower()
    if isinstance(exc, MemoryError):
        return "not enough memory to decode it"
    if "truncated" in text or isinstance(exc, EOFError):
        return "the file is truncated (incomplete download or copy?)"
    return "the file is corrupt or not a supported image"


def _is_16bit_colour(im: Image.Image, head: bytes) -> bool:
    """True for 16-bit RGB/RGBA/grey+alpha PNGs and TIFFs, which Pillow decodes to 8 bits."""
    if im.format == "PNG":
        ihdr = read_ihdr(head)
        return ihdr is not None and ihdr.bit_depth == 16 and ihdr.color_type in (2, 4, 6)
    if im.format == "TIFF" and im.mode in ("RGB", "RGBA", "RGBX", "LA", "CMYK"):
        bps = getattr(im, "tag_v2", {}).get(258)
        bps = bps if isinstance(bps, tuple) else (bps,)
        return im.mode != "CMYK" and any(isinstance(b, int) and b > 8 for b in bps)
    return False


def _without_orientation(data: bytes) -> bytes:
    """The file's bytes with its orientation made inert for OpenCV, whose decoders apply it or
    not depending on the version and format (its TIFF reader does even with IMREAD_UNCHANGED).
    We apply orientation ourselves, once."""
    if data.startswith(PNG_SIGNATURE):
        try:
            chunks = list(iter_chunks(data))
        except PngFormatError:
            return data  # let the decoder report it
        if any(c.type == b"eXIf" for c in chunks):
            return insert_after_ihdr(data, [], drop=(b"eXIf",))
        return data
    patched = patch_orientation(data)
    return data if patched is None else patched


def _decode_16bit_cv2(data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    data = _without_orientation(data)
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16:
        raise ValueError("OpenCV could not decode the 16-bit pixels")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    c = arr.shape[2]
    if c == 1:
        return from_uint(np.repeat(arr, 3, axis=2)), None
    if c == 2:  # grey + alpha
        return from_uint(np.repeat(arr[:, :, :1], 3, axis=2)), from_uint(arr[:, :, 1])
    rgb = from_uint(arr[:, :, 2::-1])  # BGR -> RGB
    alpha = from_uint(arr[:, :, 3]) if c >= 4 else None
    return rgb, alpha


def _grey(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[:, :, None], 3, axis=2)


# ICC colour-space signatures (ICC.1 table 19) as a user reads them; others are shown only when
# they are plain letters and digits: a damaged profile's raw bytes are not a message.
_COLOUR_SPACES = {b"GRAY": "grey", b"CMYK": "CMYK", b"Lab ": "Lab", b"XYZ ": "XYZ", b"YCbr": "YCbCr",
                  b"Luv ": "Luv", b"Yxy ": "Yxy", b"HSV ": "HSV", b"HLS ": "HLS", b"CMY ": "CMY"}


def _colour_space_name(space: bytes) -> str:
    if space in _COLOUR_SPACES:
        return _COLOUR_SPACES[space]
    text = space.decode("latin-1").strip()
    if text and all(c.isascii() and c.isalnum() for c in text):
        return text
    return "unrecognised"


def _icc_colour_space(icc: bytes | None) -> bytes | None:
    return icc[16:20] if icc and len(icc) >= 20 else None


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    if icc and _icc_colour_space(icc) == b"CMYK":
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            if out is not None:
                notes.append("converted from CMYK to sRGB with the embedded colour profile")
                return out
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
        notes.append("converted from CMYK (the embedded colour profile could not be used)")
    else:
        notes.append("converted from CMYK")
    return im.convert("RGB")


def _pixels(
    im: Image.Image, data: bytes, icc: bytes | None, notes: list[str]
) -> tuple[np.ndarray, np.ndarray | None, int, bytes | None, bool]:
    """Decode to (rgb, alpha, bit_depth, icc profile that still describes the pixels,
    whether the pixels came from Pillow)."""
    mode = im.mode
    if _is_16bit_colour(im, data[:33]):
        im.load()  # full decode: a truncated file fails here instead of loading partially
        rgb, alpha = _decode_16bit_cv2(data)
        return rgb, alpha, 16, icc, False

    im.load()
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        a = np.asarray(im)
        return _grey(from_uint(a.astype(np.uint16))), None, 16, icc, True
    if mode == "I":
        a = np.asarray(im).astype(np.int64)
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo >= 0 and hi <= 65535:
            return _grey(from_uint(a.astype(np.uint16))), None, 16, icc, True
        notes.append(f"32-bit integer values {lo}..{hi} were stretched to the full range")
        f = (a - lo).astype(np.float64) / max(1, hi - lo)
        return _grey(f.astype(np.float32)), None, 16, icc, True
    if mode == "F":
        a = np.asarray(im).astype(np.float32)
        if not np.isfinite(a).all():
            notes.append("non-finite values (NaN/inf) were set to 0")
            a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        if lo < 0.0 or hi > 1.0:
            notes.append(f"floating-point values {lo:g}..{hi:g} were stretched to 0..1")
            a = (a - lo) / (hi - lo if hi > lo else 1.0)
        return _grey(a.astype(np.float32)), None, 16, icc, True
    if mode == "CMYK":
        im = _cmyk_to_rgb(im, icc, notes)
        icc = None if _icc_colour_space(icc) == b"CMYK" else icc
        mode = "RGB"
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
        mode = im.mode
    elif mode == "1":
        im = im.convert("L")
        mode = "L"
    elif mode in ("La",):
        im = im.convert("LA")
        mode = "LA"
    elif mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
        mode = "LA"
    elif mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    elif mode not in ("RGB", "RGBA", "L", "LA"):
        try:
            im = im.convert("RGBA" if mode == "RGBa" else "RGB")
        except (ValueError, OSError) as e:
            raise ValueError(f"unsupported colour mode {mode}") from e
        notes.append(f"converted from {mode}")
        mode = im.mode

    a = np.asarray(im)
    if mode == "L":
        rgb, alpha = _grey(from_uint(a)), None
    elif mode == "LA":
        rgb, alpha = _grey(from_uint(a[:, :, 0])), from_uint(a[:, :, 1])
    elif mode == "RGBA":
        rgb, alpha = from_uint(a[:, :, :3]), from_uint(a[:, :, 3])
    else:
        rgb, alpha = from_uint(a[:, :, :3]), None
    return rgb, alpha, 8, icc, True


def _check_size(path: Path, w: int, h: int, max_pixels: int | None) -> None:
    if w <= 0 or h <= 0:
        raise _fail(path, f"the image has no pixels ({w}x{h})")
    if max_pixels is not None and w * h > max_pixels:
        raise _fail(
            path,
            f"image is {w}x{h} ({format_megapixels(w * h)}), above the "
            f"{format_megapixels(max_pixels)} limit",
        )


def _load_float_tiff(path: Path, data: bytes, header: FloatTiffHeader,
                     max_pixels: int | None) -> LoadedImage:
    """A float RGB(A) TIFF (Pillow cannot open those): OpenCV decodes it, we orient it."""
    _check_size(path, header.width, header.height, max_pixels)
    notes: list[str] = []
    try:
        rgb, alpha = decode_float_tiff(data, notes)
    except Exception as e:  # OpenCV returns None or raises cv2.error on a damaged file
        raise _fail(path, _decode_reason(e)) from e
    orientation = header.orientation if 1 <= header.orientation <= 8 else 1
    if orientation != 1:
        rgb = apply_orientation(rgb, orientation)
        alpha = apply_orientation(alpha, orientation) if alpha is not None else None
    notes.append("converted from 32-bit floating point")
    return LoadedImage(rgb=np.ascontiguousarray(rgb), alpha=alpha, bit_depth=16,
                       source_mode="F", format="TIFF", path=path,
                       info={"notes": notes, "orientation": orientation})


def load_image(
    path: "str | os.PathLike[str]", *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> LoadedImage:
    """Read an image file into the engine convention, upright.

    Args:
        path: the file. PNG, JPEG, TIFF, WebP, BMP, GIF... (whatever Pillow reads); the first
            frame of multi-frame files.
        max_pixels: refuse images with more pixels than this (decompression bombs), checked from
            the header before any pixel is decoded. ``None`` disables the check.

    Returns:
        A :class:`LoadedImage`: 16-bit files keep all 16 bits (``bit_depth == 16``); alpha is kept
        apart; grey, palette, 1-bit, CMYK and float images become RGB (``info["notes"]`` says
        what was converted); EXIF orientation 1-8 is applied and reset to 1 in ``exif``.

    Raises:
        ImageLoadError: missing, empty, unreadable, corrupt or truncated file, a folder, an
            unsupported format, or an image above ``max_pixels``. The message names the file;
            the decoder's own exception is ``__cause__``.
    """
    path = Path(path)
    data = _read_bytes(path, max_pixels)
    notes: list[str] = []
    try:
        with _pillow_limit_lifted():
            im = Image.open(io.BytesIO(data))  # lazy: reads the header only
    except UnidentifiedImageError as e:
        header = float_tiff_header(data)
        if header is not None:
            return _load_float_tiff(path, data, header, max_pixels)
        raise _fail(path, "not an image file, or a format this program cannot read") from e
    except Exception as e:  # plugins raise SyntaxError, struct.error, ValueError... on bad headers
        raise _fail(path, _decode_reason(e)) from e

    with im:
        w, h = im.size
        _check_size(path, w, h, max_pixels)
        source_mode, fmt = im.mode, im.format or ""
        big = Image.MAX_IMAGE_PIXELS is not None and w * h > Image.MAX_IMAGE_PIXELS
        try:
            with _pillow_limit_lifted() if big else contextlib.nullcontext():
                frames = int(getattr(im, "n_frames", 1) or 1)
                icc = im.info.get("icc_profile") or None
                tiff_orientation = int(im.tag_v2.get(ORIENTATION, 1) or 1) if fmt == "TIFF" else 1
                rgb, alpha, depth, icc, by_pillow = _pixels(im, data, icc, notes)
                if fmt == "TIFF":
                    exif, _ = exif_from_tiff_tags(im.getexif())
                    orientation = tiff_orientation
                    # Pillow >= 10 turns TIFFs upright itself while decoding (and then drops the
                    # tag); older versions and OpenCV's decode don't.
                    pillow_turned = by_pillow and ORIENTATION not in im.tag_v2
                else:
                    raw = im.info.get("exif")
                    if raw is None and fmt == "PNG":
                        raw = im.getexif().tobytes() if len(im.getexif()) else None
                    exif, orientation = normalize_exif(raw)
                    pillow_turned = False
        except ImageLoadError:
            raise
        except Exception as e:  # decoders raise OSError, SyntaxError, zlib.error, ...
            raise _fail(path, _decode_reason(e)) from e

        info: dict = {"notes": notes, "orientation": orientation}
        try:
            text = getattr(im, "text", None)
            if text:
                info["text"] = {str(k): str(v) for k, v in text.items()}
            if "dpi" in im.info and (fmt != "TIFF" or 282 in getattr(im, "tag_v2", {})):
                info["dpi"] = tuple(float(d) for d in im.info["dpi"])
        except Exception:  # extras only: a malformed text chunk or resolution isn't fatal
            pass
        if frames > 1:
            info["frames"] = frames
            notes.append(f"only the first of {frames} frames was loaded")

    space = _icc_colour_space(icc)
    if space is not None and space != b"RGB ":
        # A grey (or other non-RGB) profile would mislabel the RGB pixels we return and save.
        notes.append(f"the {_colour_space_name(space)} colour profile was dropped")
        icc = None
    if source_mode not in ("RGB", "RGBA", "CMYK") and not any(
        n.startswith("converted") for n in notes
    ):
        notes.append(f"converted from {source_mode} to RGB")
    if orientation != 1 and not pillow_turned:
        rgb = apply_orientation(rgb, orientation)
        alpha = apply_orientation(alpha, orientation) if alpha is not None else None
    return LoadedImage(
        rgb=np.ascontiguousarray(rgb, dtype=np.float32),
        alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=np.float32),
        bit_depth=depth,
        exif=exif,
        icc_profile=icc,
        source_mode=source_mode,
        format=fmt,
        path=path,
        info=info,
    )
