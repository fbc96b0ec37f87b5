"""Metrics and ``ganstudio bench sr`` on a tiny synthetic benchmark (plus the real one when present)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from engines.bench.metrics import psnr_y, rgb_to_y, sharpness, ssim_y
from engines.cli import main


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.random((h // 8, w // 8, 3)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def test_y_is_bt601_studio_swing():
    assert rgb_to_y(np.zeros((1, 1, 3)))[0, 0] == pytest.approx(16.0)
    assert rgb_to_y(np.ones((1, 1, 3)))[0, 0] == pytest.approx(235.0)


def test_psnr_and_ssim_known_values():
    a = _photo(64, 64, 0)
    assert psnr_y(a, a) == float("inf") and ssim_y(a, a) == pytest.approx(1.0)
    b = np.clip(a + 2 / 255, 0, 1)  # shifts Y by ~219 * 2/255 on unclipped pixels
    assert 30 < psnr_y(b, a, border=4) < 45
    assert ssim_y(b, a, border=4) > 0.95
    blurred = cv2.GaussianBlur(a, (0, 0), 2.0)
    assert ssim_y(blurred, a, 4) < ssim_y(b, a, 4) and sharpness(blurred) < sharpness(a)


def _tiny_dataset(root, scale=2):
    for i in range(2):
        hr = _photo(48, 40, i)
        lr = cv2.resize(hr, (40 // scale, 48 // scale), interpolation=cv2.INTER_AREA)
        for kind, img in (("HR", hr), ("LR", lr)):
            folder = root / "Set5" / f"x{scale}" / kind
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"img_00{i + 1}.png"),
                        cv2.cvtColor(np.round(img * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))


def test_bench_cli_writes_design_json(tmp_path, capsys):
    _tiny_dataset(tmp_path / "sr")
    out = tmp_path / "out.json"
    rc = main(["bench", "sr", "--data", str(tmp_path / "sr"), "--json", str(out),
               "--models", "bicubic,lanczos", "--scale", "2"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["task"] == "sr"
    rows = {r["model"]: r for r in data["rows"]}
    assert set(rows) == {"bicubic", "lanczos"}
    for row in rows.values():
        assert row["dataset"] == "Set5" and row["scale"] == 2 and row["images"] == 2
        assert 20 < row["psnr_y"] < 60 and 0 < row["ssim_y"] <= 1 and row["seconds"] >= 0
    assert "bicubic" in capsys.readouterr().out


def test_bench_cli_usage_errors(tmp_path):
    assert main(["bench", "sr"]) == 2
    assert main(["bench", "sr", "--data", str(tmp_path / "missing")]) == 2
    _tiny_dataset(tmp_path / "sr")
    assert main(["bench", "sr", "--data", str(tmp_path / "sr"), "--models", "nope", "--scale", "2"]) == 1


@pytest.mark.slow
def test_leftthomas_srgan_set5_matches_reference(shared_data, tmp_path):
    """The data README's independent forward pass measured 30.66 (x4) / 35.48 (x2) on Set5."""
    out = tmp_path / "o.json"
    assert main(["bench", "sr", "--data", str(shared_data / "sr"), "--json", str(out), "--datasets", "Set5",
                 "--models", "srgan-leftthomas", "--scale", "4,2"]) == 0
    got = {r["scale"]: r["psnr_y"] for r in json.loads(out.read_text())["rows"]}
    assert got[4] == pytest.approx(30.66, abs=0.05) and got[2] == pytest.approx(35.48, abs=0.05)
