"""``ganstudio train sr``: held-out rule, degradation, a short run that learns, resume, export → engine."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engines.cli import main
from engines.sr.train import SRTrainConfig, make_pair, train
from engines.train_data import training_files


@pytest.fixture
def fake_root(tmp_path):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:96].astype(np.float32)
    for split in ("train", "test", "val"):
        folder = tmp_path / "photos" / "bsds500" / split
        folder.mkdir(parents=True)
        for i in range(3):
            smooth = np.stack([np.sin(x / (5 + i)), np.cos(y / 7), np.sin((x + y) / 9)], axis=2)
            img = (127 + 100 * smooth + rng.normal(0, 3, smooth.shape)).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(folder / f"{split}{i}.jpg", quality=95)
    return tmp_path


def test_training_never_lists_held_out_photos(fake_root):
    files = training_files(fake_root)
    assert len(files) == 6 and not any("val" in p.parts for p in files)


def test_pair_is_antialiased_bicubic_of_the_crop():
    rng = np.random.default_rng(1)
    photo = (np.random.default_rng(2).random((64, 64, 3)) * 255).astype(np.uint8)
    lr, hr = make_pair(rng, photo, 4, 8)
    assert lr.shape == (8, 8, 3) and hr.shape == (32, 32, 3) and lr.dtype == np.uint8
    # antialiased: each LR pixel is close to the mean of its 4x4 HR block (a plain bicubic sample is not)
    block_mean = hr.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3))
    assert np.abs(lr.astype(float) - block_mean).mean() < 25


def test_short_run_learns_resumes_and_exports_a_loadable_model(fake_root, tmp_path):
    out = tmp_path / "run"
    cfg = SRTrainConfig(data=str(fake_root), out=str(out), scale=2, num_feat=8, num_conv=2, steps=60,
                        batch=4, lr_patch=12, lr=2e-3, log_every=20, save_every=20)
    logs = list(train(cfg))
    assert [r["step"] for r in logs] == [20, 40, 60]
    assert logs[-1]["loss"] < logs[0]["loss"], "the L1 loss falls on smooth photos"
    cfg.steps = 80  # resume from out/last.pt, not from scratch
    assert [r["step"] for r in train(cfg)] == [80]
    dest = tmp_path / "ours.safetensors"
    assert main(["train", "sr", "--out", str(out), "--export", str(dest)]) == 0
    from engines.sr.engine import SREngine

    engine = SREngine.from_file(dest)
    assert engine.info.scale == 2


def test_cli_without_data_is_a_usage_error(tmp_path):
    assert main(["train", "sr", "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
