"""Right messages for odd files (issue 18, defects 7 and 8): a float RGB TIFF loads, a dropped
colour profile is named in words, a web page saved as .pth is "not a checkpoint", a FIFO given to
``models import`` is called a FIFO, NaN weights are refused at import, and a mistyped command gets
the usage message and exit 2."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from engines.imageio import load_image
from engines.models import ModelError
from engines.models.manager import import_path
from engines.sr.archs import SRVGGNetCompact
from engines.weights import WeightsError, read_state_dict


def _drive(gen):
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


@pytest.mark.parametrize("channels", [3, 4])
def test_a_float32_rgb_tiff_loads(tmp_path, channels):
    rng = np.random.default_rng(0)
    pixels = rng.random((6, 9, channels), dtype=np.float32)
    path = tmp_path / "hdr.tif"
    ok, buf = cv2.imencode(".tif", pixels[:, :, [2, 1, 0, 3][:channels]])  # OpenCV stores BGR(A)
    assert ok
    path.write_bytes(buf.tobytes())
    im = load_image(path)
    assert im.rgb.dtype == np.float32 and im.bit_depth == 16
    np.testing.assert_allclose(im.rgb, pixels[:, :, :3], atol=1e-6)  # values kept exactly
    if channels == 4:
        np.testing.assert_allclose(im.alpha, pixels[:, :, 3], atol=1e-6)


def test_a_float_tiff_header_is_checked_against_the_pixel_limit(tmp_path):
    path = tmp_path / "hdr.tif"
    ok, buf = cv2.imencode(".tif", np.zeros((40, 50, 3), np.float32))
    path.write_bytes(buf.tobytes())
    from engines.imageio import ImageLoadError

    with pytest.raises(ImageLoadError, match="above the"):
        load_image(path, max_pixels=1000)


def _icc_with_space(space: bytes) -> bytes:
    header = bytearray(128)
    header[0:4] = (128).to_bytes(4, "big")
    header[12:16] = b"mntr"
    header[16:20] = space
    header[36:40] = b"acsp"
    return bytes(header) + (0).to_bytes(4, "big")


@pytest.mark.parametrize("space, words", [(b"\xbc>AN", "the unrecognised colour profile was dropped"),
                                          (b"GRAY", "the grey colour profile was dropped")])
def test_a_dropped_colour_profile_is_named_in_words(tmp_path, space, words):
    path = tmp_path / "p.png"
    Image.new("RGB", (4, 4), "red").save(path, icc_profile=_icc_with_space(space))
    notes = load_image(path).notes
    assert words in notes, notes
    assert all(n.isprintable() for n in notes)


@pytest.mark.parametrize("content, looks_like", [
    (b"<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>", "an HTML page"),
    (bytes(np.random.default_rng(1).integers(1, 127, 4000, dtype=np.uint8) | 0x80), "unknown binary data"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 100\n", "a text file"),
])
def test_a_file_that_is_no_checkpoint_says_so(tmp_path, content, looks_like):
    path = tmp_path / "model.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=f"not a checkpoint: it looks like {looks_like}") as err:
        read_state_dict(path)
    assert "Python objects" not in str(err.value)


def test_a_pickle_that_calls_code_is_still_called_that(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"w": Evil()}, protocol=4))
    with pytest.raises(WeightsError, match="Python objects beyond plain weights"):
        read_state_dict(path)
    assert not (tmp_path / "ran").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_importing_a_fifo_names_it(tmp_path):
    os.mkfifo(tmp_path / "x.pth")
    with pytest.raises(ModelError, match=r"it is a named pipe \(FIFO\), not a weights file"):
        _drive(import_path(tmp_path / "x.pth"))


def test_nan_weights_are_refused_at_import(tmp_path):
    torch.manual_seed(0)
    sd = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2).state_dict()
    first = next(k for k, v in sd.items() if v.is_floating_point())
    sd[first][0].view(-1)[0] = float("nan")
    path = tmp_path / "diverged.pth"
    torch.save({"params": sd}, path)
    with pytest.raises(ModelError, match="NaN or infinite values"):
        _drive(import_path(path))
    from engines.models import installed_cards

    assert installed_cards() == []  # nothing was installed


def test_a_mistyped_command_gets_the_usage_and_exit_2(tmp_path):
    """Before: the word was taken as a photo and the editor started (without a display it then
    aborted with exit 134). A child process, so that a regression fails on the timeout instead of
    sitting in the editor's event loop."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", "import sys; from app.main import main; sys.exit(main(['frobnicate']))"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert proc.returncode == 2
    assert "usage: ganstudio" in proc.stderr and "'frobnicate' is neither a command" in proc.stderr
