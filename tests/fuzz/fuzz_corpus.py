"""The hostile-input fuzz corpus (issue 18), generated at test time from a fixed seed.

Nothing here is committed as a binary: :func:`make_corpus` writes every case into a folder and
returns what each one is. Images: byte flips, insertions and truncations of PNG, JPEG, TIFF,
WebP, GIF and BMP; header size lies; odd modes; extreme shapes; huge and malformed EXIF and ICC;
animated files; non-images with image names; special files (FIFO, device links, loops).
Checkpoints: safetensors header lies, bad offsets/dtypes/shapes, zips with huge members,
pickles that would call ``os.system``/``eval``/``exec``, truncations, flips, NaN/Inf weights.

Each :class:`Case` says what a correct program does: ``expect="ok"`` (loads/imports correctly),
``"clean"`` (the project's error, readably) or ``"any"`` (either; a crash or hang never is).
``sentinels`` are files that exist only if a case ran code: the harness checks none appears.

Usable as a script: ``python tests/fuzz/fuzz_corpus.py OUT_DIR [--scale N]``.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import socket
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

SEED = 20261204
FORMATS = {"png": "PNG", "jpg": "JPEG", "tif": "TIFF", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}


@dataclass(frozen=True)
class Case:
    name: str  # file name in the corpus folder
    kind: str  # "image" or "checkpoint"
    what: str  # the case, in words
    expect: str = "any"  # "ok", "clean" or "any"


@dataclass
class Corpus:
    folder: Path
    cases: list[Case] = field(default_factory=list)
    sentinels: list[Path] = field(default_factory=list)

    def add(self, name: str, data: bytes | None, kind: str, what: str, expect: str = "any") -> None:
        if data is not None:
            (self.folder / name).write_bytes(data)
        self.cases.append(Case(name, kind, what, expect))


# ----------------------------------------------------------------------------- images


def _photo(rng: np.random.Generator, w: int = 40, h: int = 28) -> np.ndarray:
    """A small picture with edges and noise (a flat image would hide decoder bugs)."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1), (x ^ y) & 255], -1)
    return np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, FORMATS.get(fmt, fmt), **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_with_size(png: bytes, w: int, h: int) -> bytes:
    """The same PNG with IHDR claiming ``w`` x ``h`` (CRC fixed, so only the size lies)."""
    ihdr = bytearray(png[16:29])
    ihdr[0:8] = struct.pack(">II", w & 0xFFFFFFFF, h & 0xFFFFFFFF)
    return png[:8] + _png_chunk(b"IHDR", bytes(ihdr)) + png[33:]


def _size_lies(fmt: str, data: bytes) -> list[tuple[str, bytes]]:
    """Header fields that claim another size than the pixels have."""
    out = []
    if fmt == "png":
        for w, h in ((60000, 60000), (0, 28), (40, 0x7FFFFFFF), (1, 1)):
            out.append((f"IHDR {w}x{h}", _png_with_size(data, w, h)))
    elif fmt == "bmp":
        for w, h in ((60000, 60000), (-40, 28), (40, -0x7FFFFFFF), (0, 0)):
            out.append((f"BMP header {w}x{h}", data[:18] + struct.pack("<ii", w, h) + data[26:]))
        out.append(("BMP pixel offset past the end", data[:10] + struct.pack("<I", 1 << 30) + data[14:]))
    elif fmt == "gif":
        for w, h in ((65535, 65535), (0, 0)):
            out.append((f"GIF screen {w}x{h}", data[:6] + struct.pack("<HH", w, h) + data[10:]))
    elif fmt == "jpg":
        sof = data.find(b"\xff\xc0")
        if sof > 0:
            for w, h in ((65535, 65535), (0, 28), (40, 0)):
                out.append((f"JPEG SOF {w}x{h}", data[:sof + 5] + struct.pack(">HH", h, w) + data[sof + 9:]))
    elif fmt == "tif":
        for w, h in ((60000, 60000), (0, 28)):
            out.append((f"TIFF tags {w}x{h}", _tiff_with_size(data, w, h)))
    elif fmt == "webp":
        vp8 = data.find(b"VP8 ")
        if vp8 > 0:  # the frame size sits 14 bytes after the chunk header (after the start code)
            out.append(("WebP frame 16383x16383", data[:vp8 + 14] + struct.pack("<HH", 0x3FFF, 0x3FFF) + data[vp8 + 18:]))
    return out


def _tiff_with_size(data: bytes, w: int, h: int) -> bytes:
    e = "<" if data[:2] == b"II" else ">"
    out = bytearray(data)
    (ifd,) = struct.unpack(e + "I", data[4:8])
    (count,) = struct.unpack(e + "H", data[ifd:ifd + 2])
    for i in range(count):
        pos = ifd + 2 + 12 * i
        tag, typ = struct.unpack(e + "HH", data[pos:pos + 4])
        if tag in (256, 257):
            value = w if tag == 256 else h
            out[pos + 8:pos + 12] = struct.pack(e + ("HH" if typ == 3 else "I"),
                                                *((value & 0xFFFF, 0) if typ == 3 else (value,)))
    return bytes(out)


def _mutations(rng: np.random.Generator, data: bytes, n_flip: int, n_insert: int, n_cut: int):
    for i in range(n_flip):
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 9))):
            p = int(rng.integers(0, len(b)))
            b[p] ^= 1 << int(rng.integers(0, 8))
        yield f"flip{i}", "bits flipped", bytes(b)
    for i in range(n_insert):
        p = int(rng.integers(0, len(data)))
        junk = rng.integers(0, 256, int(rng.integers(1, 300)), dtype=np.uint8).tobytes()
        yield f"insert{i}", f"{len(junk)} bytes inserted at {p}", data[:p] + junk + data[p:]
    for i in range(n_cut):
        p = int(rng.integers(1, len(data)))
        yield f"cut{i}", f"truncated to {p} of {len(data)} bytes", data[:p]


def _icc(space: bytes, size: int = 132, rng: np.random.Generator | None = None) -> bytes:
    head = bytearray(128)
    head[0:4] = struct.pack(">I", size)
    head[12:16] = b"mntr"
    head[16:20] = space
    head[36:40] = b"acsp"
    tail = rng.integers(0, 256, size - 128, dtype=np.uint8).tobytes() if rng is not None else bytes(size - 128)
    return bytes(head) + tail


def _exif_blocks(rng: np.random.Generator) -> list[tuple[str, bytes]]:
    le = b"II*\x00" + struct.pack("<I", 8)
    entry = lambda tag, typ, n, val: struct.pack("<HHI", tag, typ, n) + val  # noqa: E731
    return [
        ("EXIF of random bytes", rng.integers(0, 256, 400, dtype=np.uint8).tobytes()),
        ("EXIF IFD offset past the end", b"II*\x00" + struct.pack("<I", 1 << 30)),
        ("EXIF IFD that points to itself", le + struct.pack("<H", 1) + entry(0x8769, 4, 1, struct.pack("<I", 8)) + struct.pack("<I", 8)),
        ("EXIF orientation 99", le + struct.pack("<H", 1) + entry(0x0112, 3, 1, struct.pack("<HH", 99, 0)) + b"\0\0\0\0"),
        ("EXIF orientation of the wrong type", le + struct.pack("<H", 1) + entry(0x0112, 2, 40, struct.pack("<I", 200)) + b"\0\0\0\0"),
        ("EXIF with 65535 entries claimed", le + struct.pack("<H", 65535) + b"\0" * 24),
        ("EXIF of 60 kB", le + struct.pack("<H", 1) + entry(0x010E, 2, 60000, struct.pack("<I", 26)) + b"\0\0\0\0" + b"A" * 60000),
    ]


def _image_cases(c: Corpus, rng: np.random.Generator, scale: int) -> None:
    photo = _photo(rng)
    rgb = Image.fromarray(photo)
    bases = {
        "png": _encode(rgb, "png"), "jpg": _encode(rgb, "jpg", quality=90),
        "tif": _encode(rgb, "tif", compression="tiff_deflate"), "webp": _encode(rgb, "webp", quality=80),
        "gif": _encode(rgb.convert("P"), "gif"), "bmp": _encode(rgb, "bmp"),
    }
    for fmt, data in bases.items():
        c.add(f"valid.{fmt}", data, "image", f"valid {FORMATS[fmt]}", "ok")
        for tag, what, mutated in _mutations(rng, data, 12 * scale, 6 * scale, 8 * scale):
            c.add(f"mut-{tag}.{fmt}", mutated, "image", f"{FORMATS[fmt]}: {what}")
        for i, (what, lie) in enumerate(_size_lies(fmt, data)):
            c.add(f"lie{i}.{fmt}", lie, "image", f"{FORMATS[fmt]}: {what}")

    # odd modes: each loads (converted to RGB, alpha apart, 16 bits kept)
    grey16 = (photo[:, :, 0].astype(np.uint16) * 257)
    modes = [
        ("i16.png", Image.fromarray(grey16), "png", {}),
        ("i32.tif", Image.fromarray(photo[:, :, 0].astype(np.int32) * 70000 - 5), "tif", {}),
        ("f32.tif", Image.fromarray(photo[:, :, 0].astype(np.float32) / 100.0), "tif", {}),
        ("la.png", rgb.convert("LA"), "png", {}),
        ("p-trns.png", rgb.convert("P"), "png", {"transparency": 0}),
        ("bilevel.png", rgb.convert("1"), "png", {}),
        ("bilevel.tif", rgb.convert("1"), "tif", {}),
        ("cmyk.tif", rgb.convert("CMYK"), "tif", {}),
        ("cmyk.jpg", rgb.convert("CMYK"), "jpg", {}),
        ("lab.tif", rgb.convert("LAB"), "tif", {}),
        ("rgba.webp", rgb.convert("RGBA"), "webp", {"lossless": True}),
        ("grey.jpg", rgb.convert("L"), "jpg", {}),
        ("p-trns.gif", rgb.convert("P"), "gif", {"transparency": 3}),
    ]
    for name, im, fmt, kw in modes:
        c.add(f"mode-{name}", _encode(im, fmt, **kw), "image", f"{im.mode} {FORMATS[fmt]}", "ok")
    import cv2

    rgba16 = np.concatenate([photo.astype(np.uint16) * 257, np.full(photo.shape[:2] + (1,), 40000, np.uint16)], 2)
    c.add("mode-rgba16.png", cv2.imencode(".png", rgba16[:, :, [2, 1, 0, 3]])[1].tobytes(), "image", "16-bit RGBA PNG", "ok")
    c.add("mode-rgb16.tif", cv2.imencode(".tif", rgba16[:, :, [2, 1, 0]])[1].tobytes(), "image", "16-bit RGB TIFF", "ok")
    f = photo.astype(np.float32) / 255.0
    c.add("mode-float-rgb.tif", cv2.imencode(".tif", f[:, :, ::-1])[1].tobytes(), "image", "float32 RGB TIFF", "ok")
    fa = np.concatenate([f[:, :, ::-1], f[:, :, :1]], 2)
    c.add("mode-float-rgba.tif", cv2.imencode(".tif", fa)[1].tobytes(), "image", "float32 RGBA TIFF", "ok")
    hdr = f * 40.0 - 3.0
    hdr[0, 0] = np.nan
    c.add("mode-float-hdr.tif", cv2.imencode(".tif", hdr[:, :, ::-1])[1].tobytes(), "image", "float TIFF, NaN and values outside 0..1", "ok")

    # extreme shapes (all within the pixel limit)
    for w, h, fmt in ((1, 1, "png"), (1, 1, "jpg"), (6000, 1, "png"), (1, 6000, "png"), (4000, 2, "jpg"),
                      (2, 3000, "webp"), (3000, 1, "tif"), (1, 2000, "gif"), (2500, 2, "bmp")):
        im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        c.add(f"shape-{w}x{h}.{fmt}", _encode(im if fmt != "gif" else im.convert("P"), fmt), "image",
              f"{w}x{h} {FORMATS[fmt]}", "ok")

    # EXIF and ICC, huge and malformed: the file still loads (the metadata may be dropped)
    for i, (what, block) in enumerate(_exif_blocks(rng)):
        exif = b"Exif\x00\x00" + block
        c.add(f"exif{i}.jpg", _encode(rgb, "jpg", exif=exif), "image", f"JPEG: {what}", "any")
        c.add(f"exif{i}.png", _encode(rgb, "png", exif=block), "image", f"PNG: {what}", "any")
    c.add("exif-huge.png", _encode(rgb, "png", exif=b"II*\x00\x08\x00\x00\x00\x00\x00" + b"\0" * (1 << 20)),
          "image", "PNG with 1 MB of EXIF", "ok")
    iccs = [
        ("ICC of random bytes", rng.integers(0, 256, 300, dtype=np.uint8).tobytes()),
        ("ICC header only, size field lies", _icc(b"RGB ", 128)[:-4] + b"\xff\xff\xff\xff"),
        ("ICC with a garbage colour space", _icc(b"\xbc>AN", rng=rng)),
        ("grey ICC on an RGB image", _icc(b"GRAY")),
        ("CMYK ICC on an RGB image", _icc(b"CMYK")),
        ("2 MB ICC", _icc(b"RGB ", 2 << 20, rng)),
        ("truncated ICC", b"\x00\x00\x02"),
    ]
    for i, (what, icc) in enumerate(iccs):
        for fmt in ("png", "jpg", "tif"):
            c.add(f"icc{i}.{fmt}", _encode(rgb, fmt, icc_profile=icc), "image", f"{FORMATS[fmt]}: {what}", "any")
    cmyk_bad = _encode(rgb.convert("CMYK"), "jpg", icc_profile=_icc(b"CMYK", rng=rng))
    c.add("icc-cmyk-broken.jpg", cmyk_bad, "image", "CMYK JPEG with a broken CMYK profile", "ok")

    # animated and multi-frame
    frames = [Image.fromarray(np.roll(photo, 5 * k, axis=1)) for k in range(3)]
    for fmt, kw in (("gif", {}), ("png", {}), ("webp", {"lossless": True}), ("tif", {})):
        data = _encode(frames[0] if fmt != "gif" else frames[0].convert("P"), fmt, save_all=True,
                       append_images=frames[1:] if fmt != "gif" else [f.convert("P") for f in frames[1:]], **kw)
        c.add(f"anim.{fmt}", data, "image", f"animated / multi-page {FORMATS[fmt]}", "ok")
        for tag, what, mutated in _mutations(rng, data, 2 * scale, 0, 2 * scale):
            c.add(f"anim-{tag}.{fmt}", mutated, "image", f"animated {FORMATS[fmt]}: {what}")

    # not images, with image names
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "hello")
    for name, data in (
        ("page.png", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n"),
        ("notes.jpg", "plain text, ünïcödé\n".encode() * 20),
        ("archive.tif", zipped.getvalue()),
        ("program.webp", b"\x7fELF\x02\x01\x01" + bytes(120)),
        ("document.gif", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        ("empty.bmp", b""),
        ("one-byte.png", b"\x89"),
        ("signature-only.png", b"\x89PNG\r\n\x1a\n"),
        ("random.jpg", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()),
        ("zeros.tif", bytes(4096)),
        ("lfs-pointer.png", b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n"),
    ):
        c.add(name, data, "image", f"not an image: {name}", "clean")

    # special files
    if hasattr(os, "mkfifo"):
        os.mkfifo(c.folder / "fifo.png")
        c.add("fifo.png", None, "image", "a named pipe named .png", "clean")
    for target, name in (("/dev/zero", "zero.png"), ("/dev/urandom", "urandom.jpg"), ("/dev/null", "null.tif")):
        if os.path.exists(target):
            os.symlink(target, c.folder / name)
            c.add(name, None, "image", f"a link to {target}", "clean")
    os.symlink("loop.png", c.folder / "loop.png")
    c.add("loop.png", None, "image", "a symlink loop", "clean")
    os.symlink("nowhere.png", c.folder / "dangling.png")
    c.add("dangling.png", None, "image", "a dangling symlink", "clean")
    (c.folder / "folder.png").mkdir()
    c.add("folder.png", None, "image", "a folder named .png", "clean")
    if hasattr(socket, "AF_UNIX") and len(os.fsencode(c.folder / "sock.png")) < 100:
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.fspath(c.folder / "sock.png"))
        s.close()
        c.add("sock.png", None, "image", "a unix socket named .png", "clean")
    c.add(os.fsdecode(b"name-\xff\xfe.png"), bases["png"], "image", "a valid PNG whose name is not UTF-8", "ok")


# ----------------------------------------------------------------------------- checkpoints


def _safetensors(header: dict | bytes, payload: bytes, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + payload


class _Call:
    """Pickles to ``func(*args)``: what a malicious checkpoint does on load."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _checkpoint_cases(c: Corpus, rng: np.random.Generator, scale: int) -> None:
    import torch
    from safetensors.torch import save as st_save

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from engines.sr.archs import SRVGGNetCompact

    torch.manual_seed(SEED % 1000)
    sd = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2).state_dict()
    buf = io.BytesIO()
    torch.save({"params_ema": sd}, buf)
    pth = buf.getvalue()
    st = st_save({k: v.contiguous() for k, v in sd.items()})
    c.add("ck-valid.pth", pth, "checkpoint", "valid SRVGG .pth", "ok")
    c.add("ck-valid.safetensors", st, "checkpoint", "valid SRVGG .safetensors", "ok")

    for suffix, data in ((".pth", pth), (".safetensors", st)):
        for tag, what, mutated in _mutations(rng, data, 6 * scale, 2 * scale, 6 * scale):
            c.add(f"ck-{tag}{suffix}", mutated, "checkpoint", f"{suffix}: {what}")

    # safetensors header lies
    key = next(iter(sd))
    t = sd[key].contiguous()
    nbytes = t.numel() * 4
    payload = t.numpy().tobytes()
    good = {key: {"dtype": "F32", "shape": list(t.shape), "data_offsets": [0, nbytes]}}
    lies = [
        ("header length of 2^60", _safetensors(good, payload, 1 << 60)),
        ("header length past the end", _safetensors(good, payload, len(payload) + 10_000)),
        ("header that is not JSON", _safetensors(b"{not json" + b" " * 40, payload)),
        ("header that is a JSON list", _safetensors(b"[1, 2, 3]", payload)),
        ("offsets past the end", _safetensors({key: {**good[key], "data_offsets": [0, nbytes * 1000]}}, payload)),
        ("offsets reversed", _safetensors({key: {**good[key], "data_offsets": [nbytes, 0]}}, payload)),
        ("unknown dtype", _safetensors({key: {**good[key], "dtype": "F128"}}, payload)),
        ("shape larger than the bytes", _safetensors({key: {**good[key], "shape": [1 << 20, 1 << 20]}}, payload)),
        ("negative shape", _safetensors({key: {**good[key], "shape": [-1, 3]}}, payload)),
        ("overlapping tensors", _safetensors({key: good[key], key + "2": good[key]}, payload)),
        ("empty header", _safetensors({}, b"")),
        ("8 bytes only", struct.pack("<Q", 0)),
    ]
    for i, (what, data) in enumerate(lies):
        c.add(f"ck-stlie{i}.safetensors", data, "checkpoint", f"safetensors: {what}", "clean")

    # zips with huge members
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        z.writestr("archive/data/0", bytes(64 << 20))  # 64 MB of zeros, ~64 kB deflated
    c.add("ck-zipbomb.pth", huge.getvalue(), "checkpoint", "zip with a 64 MB deflated member", "clean")
    lie = bytearray(pth)
    cd = lie.rfind(b"PK\x01\x02")
    if cd > 0:
        lie[cd + 20:cd + 28] = struct.pack("<II", 0xFFFFFFF0, 0xFFFFFFF0)  # sizes in the central dir
    c.add("ck-zipsize.pth", bytes(lie), "checkpoint", "torch zip whose member claims 4 GB", "any")

    # pickles that would run code: each would create its own sentinel file
    def sentinel(tag: str) -> str:
        path = c.folder / f"PWNED-{tag}"
        c.sentinels.append(path)
        return os.fspath(path)

    evil = [
        ("system", _Call(os.system, f"touch '{sentinel('system')}'")),
        ("eval", _Call(eval, f"open({sentinel('eval')!r}, 'w')")),
        ("exec", _Call(exec, f"open({sentinel('exec')!r}, 'w').close()")),
        ("open", _Call(open, sentinel("open"), "w")),
    ]
    for tag, obj in evil:
        for proto in (0, 2, 4):
            data = pickle.dumps({"params": {"w": obj}}, protocol=proto)
            c.add(f"ck-evil-{tag}-p{proto}.pth", data, "checkpoint", f"pickle protocol {proto} calling {tag}", "clean")
        tz = io.BytesIO()
        torch.save({"params": dict(sd), "payload": obj}, tz)
        c.add(f"ck-evil-{tag}-zip.pth", tz.getvalue(), "checkpoint", f"torch zip whose pickle calls {tag}", "clean")
    # GLOBAL written by hand (no helper object needed to build it)
    raw = b"cposix\nsystem\n(V" + f"touch {sentinel('raw')}".encode() + b"\ntR."
    c.add("ck-evil-raw.pth", b"\x80\x02" + raw, "checkpoint", "hand-written pickle calling posix.system", "clean")

    # weights that are not weights
    nan_sd = {k: v.clone() for k, v in sd.items()}
    nan_sd[key].view(-1)[0] = float("nan")
    inf_sd = {k: v.clone() for k, v in sd.items()}
    inf_sd[key].view(-1)[-1] = float("inf")
    for name, obj in (("nan", {"params": nan_sd}), ("inf", {"params": inf_sd}), ("empty", {}),
                      ("tensor", torch.zeros(3)), ("list", [torch.zeros(2)]),
                      ("unknown-keys", {"foo.weight": torch.zeros(4, 4)})):
        b = io.BytesIO()
        torch.save(obj, b)
        c.add(f"ck-{name}.pth", b.getvalue(), "checkpoint", f"checkpoint: {name}", "clean")
    c.add("ck-nan.safetensors", st_save(nan_sd), "checkpoint", "safetensors with a NaN weight", "clean")
    c.add("ck-html.pth", b"<!DOCTYPE html><html><title>Sign in</title></html>", "checkpoint", "an HTML page as .pth", "clean")
    c.add("ck-random.pth", rng.integers(0, 256, 3000, dtype=np.uint8).tobytes(), "checkpoint", "random bytes as .pth", "clean")
    c.add("ck-empty.safetensors", b"", "checkpoint", "empty .safetensors", "clean")
    if hasattr(os, "mkfifo"):
        os.mkfifo(c.folder / "ck-fifo.pth")
        c.add("ck-fifo.pth", None, "checkpoint", "a named pipe named .pth", "clean")
    os.symlink("/dev/zero", c.folder / "ck-zero.safetensors")
    c.add("ck-zero.safetensors", None, "checkpoint", "a link to /dev/zero named .safetensors", "clean")


def make_corpus(folder: str | os.PathLike[str], seed: int = SEED, scale: int = 1) -> Corpus:
    """Write the corpus into ``folder`` (created; must be empty). ``scale`` multiplies the number
    of random mutations (1: ~330 cases for the default suite; 10: the long form)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(folder)
    rng = np.random.default_rng(seed)
    _image_cases(corpus, rng, scale)
    _checkpoint_cases(corpus, rng, scale)
    return corpus


if __name__ == "__main__":  # pragma: no cover - a helper for looking at the files
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--scale", type=int, default=1)
    a = p.parse_args()
    made = make_corpus(a.out, scale=a.scale)
    print(f"{len(made.cases)} cases in {a.out}")
