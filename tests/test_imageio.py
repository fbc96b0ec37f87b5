"""engines.imageio: loading (orientation, 16-bit, alpha, colour modes, bad files, bombs) and
saving (metadata round trips, atomic writes, validation). Every image is made in tmp_path."""

from __future__ import annotations

import io
import struct
import time
import warnings
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from engines import atomic
from engines.core.protocol import EngineError
from engines.imageio import (
    ImageLoadError,
    ImageSaveError,
    LoadedImage,
    apply_orientation,
    load_image,
    save_image,
    to_uint8,
    to_uint16,
)
from engines.imageio import _png

ARTIST, SOFTWARE = 0x013B, 0x0131
ORIENTATION = 0x0112


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def asym_u8(h=5, w=7, seed=0) -> np.ndarray:
    """A small image whose every pixel differs, so any flip/rotation is visible."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def blocky_u8(h=32, w=48) -> np.ndarray:
    """Four flat quadrants plus a bar: survives JPEG, still asymmetric."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = (255, 0, 0)
    a[: h // 2, w // 2 :] = (0, 255, 0)
    a[h // 2 :, : w // 2] = (0, 0, 255)
    a[h // 2 :, w // 2 :] = (255, 255, 0)
    a[: h // 4, : w // 4] = (255, 255, 255)
    return a


def make_exif(orientation: int | None = None, artist: str | None = None) -> bytes:
    e = Image.Exif()
    if orientation is not None:
        e[ORIENTATION] = orientation
    if artist is not None:
        e[ARTIST] = artist
        e[SOFTWARE] = "GAN Studio tests"
    return e.tobytes()


def exif_tags(block: bytes | None) -> Image.Exif:
    e = Image.Exif()
    if block:
        e.load(block)
    return e


def values16(shape, seed=1) -> np.ndarray:
    """uint16 values like 257*k + 1 that an 8-bit round trip cannot reproduce."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 255, shape) * 257 + 1).astype(np.uint16)


# Pillow's inverse of each orientation's fix: stored = INVERSE[o](upright).
T = Image.Transpose
INVERSE = {
    1: None,
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_90,
    7: T.TRANSVERSE,
    8: T.ROTATE_270,
}


def stored_for(upright: np.ndarray, o: int) -> Image.Image:
    im = Image.fromarray(upright)
    return im if INVERSE[o] is None else im.transpose(INVERSE[o])


# ---------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_png_gives_upright_pixels(tmp_path, orientation):
    upright = asym_u8()
    p = tmp_path / f"o{orientation}.png"
    stored_for(upright, orientation).save(p, exif=make_exif(orientation, "Ann"))

    img = load_image(p)
    assert img.rgb.shape == (5, 7, 3) and img.rgb.dtype == np.float32
    assert np.array_equal(to_uint8(img.rgb), upright)
    assert img.info["orientation"] == orientation
    tags = exif_tags(img.exif)
    assert tags.get(ORIENTATION) == 1 and tags.get(ARTIST) == "Ann"
    # Same answer as Pillow's own exif_transpose.
    with Image.open(p) as ref:
        assert np.array_equal(np.asarray(ImageOps.exif_transpose(ref).convert("RGB")), upright)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_jpeg_and_tiff(tmp_path, orientation):
    upright = blocky_u8()
    for suffix in (".jpg", ".tif"):
        p = tmp_path / f"o{orientation}{suffix}"
        kw = {"quality": 95, "subsampling": 0} if suffix == ".jpg" else {}
        stored_for(upright, orientation).save(p, exif=make_exif(orientation, "Bo"), **kw)
        img = load_image(p)
        assert img.rgb.shape == upright.shape
        # JPEG rings at the colour edges; the median pixel is still (nearly) exact.
        assert np.median(np.abs(to_uint8(img.rgb).astype(int) - upright)) <= 2
        tags = exif_tags(img.exif)
        assert tags.get(ORIENTATION, 1) == 1 and tags.get(ARTIST) == "Bo"


def test_orientation_applies_to_alpha(tmp_path):
    rgb = asym_u8(4, 6)
    a = np.arange(24, dtype=np.uint8).reshape(4, 6) * 10
    im = Image.fromarray(np.dstack([rgb, a]), "RGBA").transpose(T.ROTATE_90)
    p = tmp_path / "a6.png"
    im.save(p, exif=make_exif(6))
    img = load_image(p)
    assert np.array_equal(to_uint8(img.alpha), a)
    assert np.array_equal(to_uint8(img.rgb), rgb)


def test_apply_orientation_matches_pillow_on_arrays():
    a = asym_u8(3, 4)
    methods = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
               6: T.ROTATE_270, 7: T.TRANSVERSE, 8: T.ROTATE_90}
    for o, m in methods.items():
        assert np.array_equal(apply_orientation(a, o), np.asarray(Image.fromarray(a).transpose(m)))
    assert np.array_equal(apply_orientation(a, 1), a)
    assert np.array_equal(apply_orientation(a, 0), a)  # unknown -> untouched


# ---------------------------------------------------------------- metadata round trips

METADATA_CASES = [
    ("x.png", 8), ("x.jpg", 8), ("x.tif", 8), ("x.webp", 8), ("x.png", 16), ("x.tif", 16)
]


@pytest.mark.parametrize("name,depth", METADATA_CASES)
def test_icc_round_trip(tmp_path, srgb_icc, name, depth):
    p = tmp_path / name
    rgb = blocky_u8().astype(np.float32) / 255
    assert save_image(p, rgb, bit_depth=depth, icc_profile=srgb_icc) == []
    img = load_image(p)
    assert img.icc_profile == srgb_icc
    assert img.bit_depth == depth
    with Image.open(p) as im:  # other programs see it too
        assert im.info.get("icc_profile") == srgb_icc


@pytest.mark.parametrize("name,depth", METADATA_CASES)
def test_exif_round_trip_after_rotation(tmp_path, name, depth):
    src = tmp_path / "src.jpg"
    stored_for(blocky_u8(), 6).save(src, exif=make_exif(6, "Carla"), quality=95)
    img = load_image(src)
    assert img.rgb.shape == (32, 48, 3)

    out = tmp_path / name
    save_image(out, img.rgb, bit_depth=depth, exif=img.exif)
    back = load_image(out)
    tags = exif_tags(back.exif)
    assert tags.get(ARTIST) == "Carla" and tags.get(SOFTWARE) == "GAN Studio tests"
    assert tags.get(ORIENTATION, 1) == 1
    assert back.rgb.shape == (32, 48, 3)  # not rotated a second time
    with Image.open(out) as im:
        assert im.getexif().get(ARTIST) == "Carla"


def test_exif_orientation_reset_keeps_other_bytes(tmp_path):
    p = tmp_path / "o.jpg"
    raw = make_exif(8, "Dee")
    Image.fromarray(blocky_u8()).save(p, exif=raw)
    img = load_image(p)
    assert img.exif.startswith(b"Exif\x00\x00") and len(img.exif) == len(raw)
    diff = [i for i, (a, b) in enumerate(zip(img.exif, raw)) if a != b]
    assert len(diff) == 1  # only the orientation value's low byte changed


def test_png_text_chunks_readable_by_pillow(tmp_path):
    text = {"Title": "Cat", "Description": "naïve café", "Author": "Ζωή"}  # last needs iTXt
    rgb = asym_u8().astype(np.float32) / 255
    for depth in (8, 16):
        p = tmp_path / f"t{depth}.png"
        save_image(p, rgb, bit_depth=depth, text=text)
        with Image.open(p) as im:
            im.load()
            assert dict(im.text) == text
        assert load_image(p).info["text"] == text


def test_png_bad_text_keyword_is_a_clear_error(tmp_path):
    rgb = np.zeros((2, 2, 3), np.float32)
    for depth in (8, 16):
        with pytest.raises(ImageSaveError, match="keyword"):
            save_image(tmp_path / "k.png", rgb, bit_depth=depth, text={"x" * 80: "v"})
    assert not (tmp_path / "k.png").exists()


# ---------------------------------------------------------------- 16 bits


def test_grey_16bit_png_and_tiff_exact(tmp_path):
    g = values16((6, 9))
    for name in ("g.png", "g.tif"):
        p = tmp_path / name
        Image.fromarray(g).save(p)  # uint16 -> mode I;16
        img = load_image(p)
        assert img.bit_depth == 16 and img.source_mode.startswith("I")
        assert np.array_equal(to_uint16(img.rgb[:, :, 0]), g)
        assert np.array_equal(img.rgb[:, :, 0], img.rgb[:, :, 2])


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_colour_16bit_files_from_opencv_exact(tmp_path, suffix, channels):
    rgba = values16((7, 11, channels))
    bgr = rgba[:, :, [2, 1, 0, 3][:channels]]
    p = tmp_path / f"c{channels}{suffix}"
    assert cv2.imwrite(str(p), bgr)
    img = load_image(p)
    assert img.bit_depth == 16
    assert np.array_equal(to_uint16(img.rgb), rgba[:, :, :3])
    if channels == 4:
        assert np.array_equal(to_uint16(img.alpha), rgba[:, :, 3])
    else:
        assert img.alpha is None


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_save_16bit_round_trip_bit_exact(tmp_path, srgb_icc, suffix):
    v = values16((9, 13, 4), seed=3)
    rgb = (v[:, :, :3] / 65535.0).astype(np.float32)
    alpha = (v[:, :, 3] / 65535.0).astype(np.float32)
    p = tmp_path / f"s{suffix}"
    save_image(p, rgb, alpha, bit_depth=16, icc_profile=srgb_icc, exif=make_exif(None, "Eve"))
    img = load_image(p)
    assert img.bit_depth == 16
    assert np.array_equal(to_uint16(img.rgb), v[:, :, :3])
    assert np.array_equal(to_uint16(img.alpha), v[:, :, 3])
    # Independent reader: OpenCV sees the same 16-bit samples.
    raw = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and np.array_equal(raw[:, :, [2, 1, 0, 3]], v)
    # A second round trip from the loaded image changes nothing.
    save_image(p, img.rgb, img.alpha, bit_depth=img.bit_depth)
    assert np.array_equal(to_uint16(load_image(p).rgb), v[:, :, :3])


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("orientation", [2, 6, 7])
def test_16bit_orientation_applied_once(tmp_path, suffix, orientation):
    upright = values16((5, 7, 3), seed=4)
    inverse = {  # orientations 2 and 7 are their own inverse; 6's is a quarter turn back
        2: lambda a: a[:, ::-1],
        6: lambda a: np.rot90(a, 1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    }
    stored = np.ascontiguousarray(inverse[orientation](upright))
    assert np.array_equal(apply_orientation(stored, orientation), upright)
    p = tmp_path / f"o{suffix}"
    save_image(p, stored / 65535.0, bit_depth=16, exif=make_exif(orientation, "Gil"))
    img = load_image(p)
    assert img.info["orientation"] == orientation
    assert np.array_equal(to_uint16(img.rgb), upright)
    assert exif_tags(img.exif).get(ARTIST) == "Gil"


def test_16bit_to_jpeg_notes_8bit(tmp_path):
    notes = save_image(tmp_path / "x.jpg", np.full((4, 4, 3), 0.5, np.float32), bit_depth=16)
    assert any("8-bit" in n for n in notes)


# ---------------------------------------------------------------- alpha and colour modes


def test_alpha_kept_rgba_la_and_palette_transparency(tmp_path):
    rgb = asym_u8(4, 5)
    a = np.array([[0, 64, 128, 192, 255]] * 4, np.uint8)
    Image.fromarray(np.dstack([rgb, a]), "RGBA").save(tmp_path / "rgba.png")
    img = load_image(tmp_path / "rgba.png")
    assert np.array_equal(to_uint8(img.alpha), a) and np.array_equal(to_uint8(img.rgb), rgb)

    Image.fromarray(np.dstack([rgb[:, :, 0], a]), "LA").save(tmp_path / "la.png")
    img = load_image(tmp_path / "la.png")
    assert np.array_equal(to_uint8(img.alpha), a)
    assert np.array_equal(to_uint8(img.rgb[:, :, 1]), rgb[:, :, 0])

    p = Image.new("P", (4, 3))
    p.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    p.putdata([0, 1, 0, 1] * 3)
    p.info["transparency"] = 1
    p.save(tmp_path / "p.png", transparency=1)
    p.save(tmp_path / "p.gif", transparency=1)
    for name in ("p.png", "p.gif"):
        img = load_image(tmp_path / name)
        assert img.alpha is not None
        assert np.array_equal(img.alpha[0], [1, 0, 1, 0])
        assert np.allclose(img.rgb[0, 0], [1, 0, 0])


def test_alpha_saved_in_png_webp_tiff_and_flattened_in_jpeg(tmp_path):
    rgb = np.zeros((4, 4, 3), np.float32)
    alpha = np.zeros((4, 4), np.float32)
    alpha[:, 2:] = 1.0
    for name in ("a.png", "a.webp", "a.tif"):
        assert save_image(tmp_path / name, rgb, alpha, quality=100) == []
        assert np.array_equal(load_image(tmp_path / name).alpha, alpha)
    for name in ("a.jpg", "a.bmp"):
        notes = save_image(tmp_path / name, rgb, alpha)
        assert any("white" in n for n in notes)
        img = load_image(tmp_path / name)
        assert img.alpha is None
        assert img.rgb[:, :2].mean() > 0.95 and img.rgb[:, 2:].mean() < 0.05


def test_grey_palette_and_1bit_become_rgb(tmp_path):
    g = np.arange(20, dtype=np.uint8).reshape(4, 5) * 12
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    img = load_image(tmp_path / "g.png")
    assert img.rgb.shape == (4, 5, 3) and img.source_mode == "L" and img.bit_depth == 8
    assert np.array_equal(to_uint8(img.rgb[:, :, 0]), g) and img.notes

    pal = Image.fromarray(asym_u8(4, 5)).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    pal.save(tmp_path / "pal.png")
    img = load_image(tmp_path / "pal.png")
    assert img.source_mode == "P" and img.alpha is None
    assert np.array_equal(to_uint8(img.rgb), np.asarray(pal.convert("RGB")))

    bits = Image.fromarray(np.eye(6, dtype=bool))
    bits.save(tmp_path / "b.png")
    img = load_image(tmp_path / "b.png")
    assert img.source_mode == "1"
    assert np.array_equal(img.rgb[:, :, 0], np.eye(6, dtype=np.float32))


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_converted_to_rgb(tmp_path, suffix):
    im = Image.new("CMYK", (16, 16), (255, 0, 0, 0))  # pure cyan
    im.paste((0, 0, 0, 255), (0, 0, 8, 16))  # left half pure black
    p = tmp_path / f"cmyk{suffix}"
    im.save(p, quality=95)
    img = load_image(p)
    assert img.source_mode == "CMYK"
    assert any("CMYK" in n for n in img.notes)
    assert np.allclose(img.rgb[8, 12], [0, 1, 1], atol=0.05)
    assert np.allclose(img.rgb[8, 3], [0, 0, 0], atol=0.05)


def test_float_tiff_converted(tmp_path):
    f = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    Image.fromarray(f, "F").save(tmp_path / "f.tif")
    img = load_image(tmp_path / "f.tif")
    assert img.source_mode == "F" and img.bit_depth == 16
    assert np.allclose(img.rgb[:, :, 0], f) and np.allclose(img.rgb[:, :, 2], f)

    wide = f * 1000 - 10
    wide[0, 0] = np.nan
    Image.fromarray(wide, "F").save(tmp_path / "w.tif")
    img = load_image(tmp_path / "w.tif")
    assert np.isfinite(img.rgb).all() and img.rgb.min() >= 0 and img.rgb.max() <= 1
    assert any("stretched" in n for n in img.notes) and any("NaN" in n for n in img.notes)


def test_bundled_samples_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "resources" / "samples"
    files = sorted(p for p in root.iterdir() if p.suffix in (".png", ".jpg"))
    assert len(files) >= 3
    for p in files:
        img = load_image(p)
        assert img.rgb.ndim == 3 and img.rgb.shape[2] == 3
        assert 0 <= img.rgb.min() <= img.rgb.max() <= 1


# ---------------------------------------------------------------- bad files


def _noisy_bytes(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(asym_u8(96, 128, seed=5)).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,suffix", [("PNG", ".png"), ("JPEG", ".jpg")])
def test_truncated_file_is_an_error_not_a_partial_image(tmp_path, fmt, suffix):
    data = _noisy_bytes(fmt)
    p = tmp_path / f"cut{suffix}"
    p.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(ImageLoadError, match=f"cut{suffix}") as err:
        load_image(p)
    assert "truncated" in str(err.value) or "corrupt" in str(err.value)
    assert err.value.__cause__ is not None
    assert "Traceback" not in str(err.value)


def test_truncated_16bit_png_is_an_error(tmp_path):
    ok, buf = cv2.imencode(".png", values16((64, 64, 3)))
    data = buf.tobytes()
    p = tmp_path / "cut16.png"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="cut16.png"):
        load_image(p)


def test_not_an_image_empty_missing_and_folder(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    cases = {
        junk: "not an image",
        empty: "empty",
        tmp_path / "missing.png": "does not exist",
        folder: "folder",
    }
    for path, reason in cases.items():
        with pytest.raises(ImageLoadError) as err:
            load_image(path)
        assert path.name in str(err.value) and reason in str(err.value)
        assert isinstance(err.value, EngineError) and err.value.path == path


def test_corrupt_png_crc_or_header(tmp_path):
    data = bytearray(_noisy_bytes("PNG"))
    data[40:60] = b"\x00" * 20  # inside the first IDAT
    p = tmp_path / "bad.png"
    p.write_bytes(bytes(data))
    with pytest.raises(ImageLoadError, match="bad.png"):
        load_image(p)


def _png_header_only(width: int, height: int, color_type: int = 2) -> bytes:
    """A PNG that claims a size in IHDR with one tiny IDAT: a decompression bomb stand-in."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        _png.PNG_SIGNATURE
        + _png.make_chunk(b"IHDR", ihdr)
        + _png.make_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png.make_chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused_from_header(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header_only(20000, 20000))
    t = time.perf_counter()
    with pytest.raises(ImageLoadError) as err:
        load_image(p)
    assert time.perf_counter() - t < 1.0
    assert "bomb.png" in str(err.value)
    assert "20000x20000 (400 MP), above the 200 MP limit" in str(err.value)
    # Pillow's own bomb error (above ~179 MP by default) never escapes either.
    p.write_bytes(_png_header_only(30000, 30000))
    with pytest.raises(ImageLoadError, match="900 MP"):
        load_image(p, max_pixels=10**9 // 2)


def test_max_pixels_is_configurable(tmp_path):
    p = tmp_path / "small.png"
    Image.fromarray(asym_u8(100, 100)).save(p)
    with pytest.raises(ImageLoadError, match="100x100"):
        load_image(p, max_pixels=5000)
    assert load_image(p, max_pixels=None).rgb.shape == (100, 100, 3)


def test_pillow_bomb_limit_does_not_interfere(tmp_path, monkeypatch):
    p = tmp_path / "ok.png"
    Image.fromarray(asym_u8(64, 64)).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow would warn/raise at 4096 px
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a DecompressionBombWarning
        img = load_image(p)
    assert img.rgb.shape == (64, 64, 3)
    assert Image.MAX_IMAGE_PIXELS == 100  # restored


# ---------------------------------------------------------------- saving


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "keep.png"
    save_image(p, np.zeros((4, 4, 3), np.float32))
    before = p.read_bytes()

    def broken(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_fsync_file", broken)
    for depth in (8, 16):
        with pytest.raises(ImageSaveError, match="No space left") as err:
            save_image(p, np.ones((8, 8, 3), np.float32), bit_depth=depth)
        assert "keep.png" in str(err.value)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["keep.png"]


@pytest.mark.parametrize(
    "rgb,match",
    [
        (np.zeros((4, 4), np.float32), "H x W x 3"),
        (np.zeros((4, 4, 4), np.float32), "H x W x 3"),
        (np.zeros((0, 4, 3), np.float32), "non-empty"),
        (np.zeros((4, 4, 3), np.uint8), "float32"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
        ([[0.0]], "numpy array"),
    ],
)
def test_save_rejects_bad_arrays(tmp_path, rgb, match):
    with pytest.raises(ImageSaveError, match=match):
        save_image(tmp_path / "x.png", rgb)
    assert not (tmp_path / "x.png").exists()


def test_save_rejects_bad_alpha_depth_format(tmp_path):
    rgb = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(ImageSaveError, match="alpha shape"):
        save_image(tmp_path / "x.png", rgb, alpha=np.zeros((4, 5), np.float32))
    with pytest.raises(ImageSaveError, match="NaN"):
        save_image(tmp_path / "x.png", rgb, alpha=np.full((4, 4), np.inf, np.float32))
    with pytest.raises(ImageSaveError, match="bit_depth"):
        save_image(tmp_path / "x.png", rgb, bit_depth=12)
    with pytest.raises(ImageSaveError, match="not a supported format"):
        save_image(tmp_path / "x.gifx", rgb)
    with pytest.raises(ImageSaveError, match="does not exist"):
        save_image(tmp_path / "nope" / "x.png", rgb)
    assert list(tmp_path.iterdir()) == []


def test_save_format_argument_overrides_suffix_and_clips(tmp_path):
    p = tmp_path / "noext"
    rgb = np.full((3, 3, 3), 1.7, np.float32)
    rgb[0, 0] = -2
    save_image(p, rgb, format="png")
    img = load_image(p)
    assert img.format == "PNG" and img.rgb[0, 0].max() == 0 and img.rgb[1, 1].min() == 1


def test_8bit_round_trip_exact_png_tiff_bmp(tmp_path):
    u = asym_u8(6, 10, seed=9)
    for name in ("r.png", "r.tif", "r.bmp", "r.webp"):
        save_image(tmp_path / name, u.astype(np.float32) / 255, quality=100)
        img = load_image(tmp_path / name)
        assert isinstance(img, LoadedImage) and img.bit_depth == 8
        assert np.array_equal(to_uint8(img.rgb), u), name


def test_png_chunk_writer_places_metadata_after_ihdr(srgb_icc):
    ok, buf = cv2.imencode(".png", values16((4, 4, 3)))
    png = _png.insert_after_ihdr(
        buf.tobytes(),
        [_png.icc_chunk(srgb_icc), _png.exif_chunk(make_exif(1, "F")), _png.text_chunk("k", "v")],
    )
    types = [c.type for c in _png.iter_chunks(png)]  # also verifies every CRC
    assert types[:4] == [b"IHDR", b"iCCP", b"eXIf", b"tEXt"]
    assert types.index(b"IDAT") > 3 and types[-1] == b"IEND"
    with pytest.raises(_png.PngFormatError, match="CRC"):
        bad = bytearray(png)
        bad[40] ^= 0xFF
        list(_png.iter_chunks(bytes(bad)))


def test_grey_profile_dropped_rgb_profile_kept(tmp_path, srgb_icc):
    grey_icc = bytearray(srgb_icc)
    grey_icc[16:20] = b"GRAY"  # header colour-space field is all that is consulted
    Image.new("L", (3, 3), 128).save(tmp_path / "g.png", icc_profile=bytes(grey_icc))
    img = load_image(tmp_path / "g.png")
    assert img.icc_profile is None and "the grey colour profile was dropped" in img.notes
    Image.new("RGB", (3, 3)).save(tmp_path / "c.png", icc_profile=srgb_icc)
    assert load_image(tmp_path / "c.png").icc_profile == srgb_icc


def test_multi_frame_takes_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    img = load_image(tmp_path / "anim.gif")
    assert img.info["frames"] == 2
    assert np.allclose(img.rgb[0, 0], [1, 0, 0])


def test_detailed_jpeg_and_webp_save(tmp_path):
    # Noise at high quality compresses to > 1 byte/pixel: catches encoder buffer-size limits.
    noise = np.random.default_rng(2).random((384, 512, 3)).astype(np.float32)
    for name in ("n.jpg", "n.webp"):
        assert save_image(tmp_path / name, noise, quality=97) == []
        assert load_image(tmp_path / name).rgb.shape == (384, 512, 3)
