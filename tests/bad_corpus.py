"""The bad-input corpus: every kind of file a folder of "photos" really holds, generated at test
time (nothing large in git). Usable as a script: ``python tests/bad_corpus.py OUT_DIR``.

Each :class:`Case` says what a correct program does with it: ``expect="ok"`` (a correct output /
a correct image) or ``expect="error"`` with ``reason``, a phrase the per-file error must contain.
Two cases are not files but conditions of a run (``RUN_CASES``): a read-only output folder and a
full disk; the tests create them (chmod, or a simulated write error when running as root, where
chmod does not stop writes).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

LARGE_SIZE = (2000, 1500)  # "very large" for a test machine, still seconds to process


@dataclass(frozen=True)
class Case:
    name: str  # file name in the corpus folder
    what: str  # the case, in words (the report's first column)
    expect: str  # "ok" or "error"
    reason: str = ""  # for errors: a phrase the message must contain (case-insensitive)


CASES: tuple[Case, ...] = (
    Case("truncated.jpg", "truncated JPEG", "error", "truncated"),
    Case("truncated.png", "truncated PNG", "error", "truncated"),
    Case("empty.png", "0-byte file", "error", "empty"),
    Case("random-bytes.png", "random bytes named .png", "error", "not an image"),
    Case("bomb.png", "decompression bomb (60000x60000 header)", "error", "above the"),
    Case("cmyk.jpg", "CMYK JPEG", "ok"),
    Case("rgb16.png", "16-bit RGB PNG", "ok"),
    Case("rgb16.tif", "16-bit RGB TIFF", "ok"),
    Case("palette-transparent.png", "palette PNG with transparency", "ok"),
    Case("grey-alpha.png", "grey + alpha PNG", "ok"),
    *(Case(f"orientation-{o}.jpg", f"EXIF orientation {o}", "ok") for o in range(1, 9)),
    Case("animated.gif", "animated GIF (3 frames)", "ok"),
    Case("large.jpg", f"very large valid image ({LARGE_SIZE[0]}x{LARGE_SIZE[1]})", "ok"),
    Case("photo ünïcode café.png", "non-ASCII name with spaces", "ok"),
    Case("loop.png", "symlink loop (loop.png -> loop.png)", "error", "link loop"),
    Case("unreadable.png", "unreadable file (no read permission)", "error", "permission denied"),
)
RUN_CASES = {
    "read-only output folder": "the run is refused before any file: 'cannot write to the output folder'",
    "full disk": "the file being written fails with 'No space left on device'; the run stops; resume finishes",
}


def quadrants(w: int = 48, h: int = 32) -> np.ndarray:
    """uint8 HxWx3 with four flat colours (red, green / blue, white): orientation is visible."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = (255, 0, 0)
    a[: h // 2, w // 2 :] = (0, 255, 0)
    a[h // 2 :, : w // 2] = (0, 0, 255)
    a[h // 2 :, w // 2 :] = (255, 255, 255)
    return a


def _photo(w: int, h: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / w, y / h, 0.5 + 0.5 * np.sin((x + y) / 9.0)], axis=2) * 200 + 20
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def _jpeg_bytes(a: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb_png(w: int = 60000, h: int = 60000) -> bytes:
    """A valid PNG header claiming w x h RGB pixels, with one small compressed row: opening it
    naively would try to allocate ~10 GB."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (w * 3 + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _write_16bit(path: Path) -> None:
    import cv2

    y, x = np.mgrid[0:24, 0:40]
    rgb = np.stack([x * 1600 + 7, y * 2700 + 3, (x * y * 61) % 65536], axis=2).astype(np.uint16)
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]))  # OpenCV wants BGR


def make_corpus(out_dir: str | os.PathLike[str]) -> dict[str, Case]:
    """Write every case of :data:`CASES` into ``out_dir`` (created); returns name -> Case."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    photo = _photo(64, 48)
    jpeg = _jpeg_bytes(photo)
    (out / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "PNG")
    png = buf.getvalue()
    (out / "truncated.png").write_bytes(png[: len(png) * 2 // 3])
    (out / "empty.png").write_bytes(b"")
    (out / "random-bytes.png").write_bytes(np.random.default_rng(1).bytes(4096))
    (out / "bomb.png").write_bytes(_bomb_png())
    Image.fromarray(photo).convert("CMYK").save(out / "cmyk.jpg", "JPEG", quality=90)
    _write_16bit(out / "rgb16.png")
    _write_16bit(out / "rgb16.tif")
    pal = Image.fromarray(quadrants()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    pal.info["transparency"] = 0  # palette index 0 is fully transparent
    pal.save(out / "palette-transparent.png", transparency=0)
    grey = np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (30, 1))
    alpha = np.tile(np.linspace(255, 0, 30, dtype=np.uint8)[:, None], (1, 40))
    Image.fromarray(np.stack([grey, alpha], axis=2), "LA").save(out / "grey-alpha.png")
    raw = quadrants()
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        exif[0x010F] = "GAN Studio corpus"  # Make: an EXIF field the output must keep
        Image.fromarray(raw).save(out / f"orientation-{o}.jpg", "JPEG", quality=95, exif=exif.tobytes(),
                                  subsampling=0)
    frames = [Image.fromarray(np.full((20, 30, 3), c, np.uint8)) for c in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
    frames[0].save(out / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.fromarray(_photo(*LARGE_SIZE, seed=2)).save(out / "large.jpg", "JPEG", quality=85)
    Image.fromarray(_photo(40, 30, seed=3)).save(out / "photo ünïcode café.png")
    loop = out / "loop.png"
    if loop.is_symlink():
        loop.unlink()
    os.symlink("loop.png", loop)
    unreadable = out / "unreadable.png"
    Image.fromarray(photo).save(unreadable)
    os.chmod(unreadable, 0)
    return {c.name: c for c in CASES}


def chmod_works() -> bool:
    """False when running as root (or where permission bits don't stop reads and writes)."""
    return hasattr(os, "geteuid") and os.geteuid() != 0


def simulate_unreadable(monkeypatch, name: str) -> None:
    """Root reads a chmod-000 file anyway: make reading that one file fail as it would for a user."""
    import errno
    import pathlib

    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)

    from engines import safe_read  # the loaders open files through it (regular files only)

    real_open = safe_read.open_regular

    def open_regular(path):
        if pathlib.Path(path).name == name:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path)

    monkeypatch.setattr(safe_read, "open_regular", open_regular)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python tests/bad_corpus.py OUT_DIR", file=sys.stderr)
        raise SystemExit(2)
    cases = make_corpus(sys.argv[1])
    width = max(len(c.name) for c in cases.values())
    for c in cases.values():
        print(f"{c.name:<{width}}  {c.expect:<5}  {c.what}")
