"""What batch keeps and adds: EXIF (orientation normalised), ICC, bit depth, alpha, and the record
of what made each file (PNG text / XMP with engine, model id and sha256, parameters, version)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from engines import __version__
from engines.batch.metadata import parse_xmp, read_record, weights_file, xmp_packet
from engines.cli import main as cli
from engines.core import registry
from engines.core.protocol import Task
from engines.imageio import load_image, save_image


@pytest.fixture(scope="module")
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _run(src: Path, out: Path, *extra: str, model: str = "bicubic") -> None:
    assert cli(["batch", str(src), str(out), "--task", "upscale", "--model", model, "--scale", "2",
                "--quiet", *extra]) == 0


def _exif(orientation: int) -> bytes:
    e = Image.Exif()
    e[0x0112] = orientation
    e[0x010F] = "TestCam"
    return e.tobytes()


@pytest.mark.parametrize("fmt, suffix", [("png", ".png"), ("jpg", ".jpg"), ("webp", ".webp"), ("tiff", ".tif")])
def test_record_exif_icc_in_every_format(tmp_path, srgb_icc, fmt, suffix):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    a = np.random.default_rng(0).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    Image.fromarray(a).save(src / "a.jpg", quality=95, exif=_exif(6), icc_profile=srgb_icc)
    _run(src, out, "--format", fmt)
    path = out / f"a{suffix}"
    rec = read_record(path)
    assert rec["task"] == "upscale" and rec["model"] == "bicubic" and rec["version"] == __version__
    assert rec["params"] == {"scale": 2, "tile": 0, "format": fmt, "quality": 95}
    assert rec["model_sha256"] == ""  # classical: no weights
    img = load_image(path)
    assert img.size == (24, 40)  # orientation 6 applied: upright, then x2
    assert img.icc_profile == srgb_icc
    with Image.open(path) as im:
        exif = im.getexif()
        assert exif.get(0x0112, 1) == 1 and exif.get(0x010F) == "TestCam"


def test_sixteen_bits_and_alpha_kept_where_the_format_allows(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    rgb = np.random.default_rng(1).random((10, 14, 3)).astype(np.float32)
    alpha = np.linspace(0, 1, 140, dtype=np.float32).reshape(10, 14)
    save_image(src / "deep.png", rgb, alpha=alpha, bit_depth=16)
    _run(src, tmp_path / "keep")
    got = load_image(tmp_path / "keep" / "deep.png")
    assert got.bit_depth == 16 and got.alpha is not None and got.alpha.shape == (20, 28)
    _run(src, tmp_path / "tif", "--format", "tiff")
    assert load_image(tmp_path / "tif" / "deep.tif").bit_depth == 16
    _run(src, tmp_path / "jpg", "--format", "jpg")
    rec = [line for line in (tmp_path / "jpg" / ".ganstudio-batch.jsonl").read_text().splitlines() if '"done"' in line][0]
    assert "saved as 8-bit" in rec and "flattened onto white" in rec  # said, not silent


def test_weights_file_and_sha256_of_engines(tmp_path):
    from types import SimpleNamespace

    from engines.batch.metadata import weights_sha256

    w2, w4 = tmp_path / "x2.safetensors", tmp_path / "x4.safetensors"
    w2.write_bytes(b"two")
    w4.write_bytes(b"four")
    plain = SimpleNamespace(path=w4)
    by_scale = SimpleNamespace(engine_for=lambda s: SimpleNamespace(path=w2 if s == 2 else w4))
    assert weights_file(plain, {}) == w4 and weights_file(by_scale, {"scale": 2}) == w2
    assert weights_sha256(by_scale, {"scale": 4}) == hashlib.sha256(b"four").hexdigest()
    assert weights_sha256(SimpleNamespace(), {}) == ""  # classical: no weights


@pytest.mark.slow  # loads torch and the bundled network (seconds on a busy 2-core machine)
def test_default_sr_model_records_its_weights_sha256(tmp_path):
    import torch

    torch.set_num_threads(1)
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(src / "s.png")
    _run(src, tmp_path / "out", model="default")
    rec = read_record(tmp_path / "out" / "s.png")
    engine = registry.get(Task.UPSCALE, "default")
    assert rec["model"] == "default" and rec["engine"] == engine.info.title
    path = weights_file(engine, {"scale": 2})
    assert path is not None and path.suffix == ".safetensors"
    assert rec["model_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_image(tmp_path / "out" / "s.png").size == (32, 32)


def test_xmp_round_trip_escapes_values():
    rec = {"software": "GAN Studio x", "task": "upscale", "engine": 'A "quoted" <engine> & co',
           "model": "m", "params": {"k": "ü"}}
    assert parse_xmp(xmp_packet(rec)) == rec
    assert parse_xmp(b"not xmp") == {}
