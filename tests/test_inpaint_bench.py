"""``bench inpaint`` protocol pieces: hole-only metrics, fixed-seed masks, crops, JSON rows, grid, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engines.bench import inpaint as bench
from engines.cli import main
from engines.imageio import save_image


def test_metrics_on_the_hole_only():
    truth = np.full((32, 32, 3), 0.5, np.float32)
    out = truth.copy()
    hole = np.zeros((32, 32), bool)
    hole[:8] = True
    out[hole] = 0.5 + 10 / 255
    m = bench.measure(out, truth, hole)
    assert m["psnr_hole"] == pytest.approx(20 * np.log10(255 / 10), abs=1e-6)
    assert m["psnr"] == pytest.approx(m["psnr_hole"] + 10 * np.log10(4), abs=1e-6)  # 1/4 of the pixels
    assert m["l1_hole"] == pytest.approx(10 / 255) and m["l1"] == pytest.approx(10 / 255 / 4)
    assert bench.measure(truth, truth, hole)["psnr"] == 100.0 and m["ssim"] < 1.0


def test_masks_are_fixed_by_seed_and_crops_fit():
    a, b = bench.case_mask(256, 3, 2), bench.case_mask(256, 3, 2)
    assert np.array_equal(a, b) and 0.2 < a.mean() <= 0.3
    assert not np.array_equal(a, bench.case_mask(256, 4, 2))
    photo = np.random.default_rng(0).random((321, 481, 3), dtype=np.float32)
    assert bench.centre_crop(photo, 256).shape == (256, 256, 3)
    big = bench.centre_crop(photo, 512)
    assert big.shape == (512, 512, 3) and 0 <= big.min() and big.max() <= 1


def test_cli_bench_writes_rows_and_grid(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "SIZES", (48, 64))  # the protocol's 256 / 512 cases made small: fast
    monkeypatch.setattr(bench, "LARGE", 64)
    data = tmp_path / "val"
    data.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        save_image(data / f"{i}.png", rng.random((50, 60, 3), dtype=np.float32))
    out = tmp_path / "b.json"
    assert main(["bench", "inpaint", "--data", str(data), "--models", "telea,ns", "--json", str(out),
                 "--limit-512", "1"]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 2 * 6 * 2  # sizes x buckets x models
    assert {r["size"] for r in rows} == {48, 64} and {r["images"] for r in rows if r["size"] == 64} == {1}
    assert all(r["psnr"] >= r["psnr_hole"] for r in rows)
    assert (tmp_path / "b_grid.png").is_file()
    merged = tmp_path / "m.json"
    assert main(["bench", "inpaint", "--data", str(data), "--models", "telea", "--json", str(merged),
                 "--limit-512", "1", "--merge", str(out)]) == 0
    models = [r["model"] for r in json.loads(merged.read_text())["rows"]]
    assert models.count("ns") == 12 and models.count("telea") == 12
    assert main(["bench", "inpaint", "--data", str(tmp_path / "missing")]) == 2
