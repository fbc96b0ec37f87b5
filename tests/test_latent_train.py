"""``ganstudio train igan`` (resume, export) and ``ganstudio bench igan`` on tiny synthetic runs."""

from __future__ import annotations

import json

import cv2
import numpy as np
import torch

from engines.cli import main
from engines.latent.augment import cutout, diff_augment, translation
from engines.latent.domains import shapes


def test_diff_augment_shapes_and_gradients():
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_(True)
    y = diff_augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    z = torch.ones(2, 3, 8, 8)
    assert float((cutout(z) == 0).float().mean()) == 0.25  # a half-side square is a quarter
    assert translation(z, 0.0).equal(z)


def test_shapes_domain_is_deterministic():
    a, b = shapes(3, 32, seed=1), shapes(3, 32, seed=1)
    assert a.shape == (3, 32, 32, 3) and a.dtype == np.uint8 and np.array_equal(a, b)


def test_train_resume_and_export_through_the_cli(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "run"
    common = ["train", "igan", "--domain", "shapes", "--out", str(out), "--size", "16", "--nz", "8", "--ngf", "8",
              "--ndf", "8", "--nef", "8", "--batch", "8", "--encoder-steps", "4"]
    assert main(common + ["--steps", "3"]) == 0
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["step"] == 3 and state["enc_step"] == 4
    assert main(common + ["--steps", "5"]) == 0  # resumes: 2 more GAN steps, encoder already done
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["step"] == 5
    dest = tmp_path / "w" / "igan-shapes.safetensors"
    assert main(["train", "igan", "--out", str(out), "--export", str(dest), "--card-images", "2"]) == 0
    card = json.loads(dest.with_suffix(".json").read_text())
    assert card["steps"] == 5 and card["size"] == 16 and card["default"] is True
    assert (tmp_path / "w" / "igan-shapes.samples.png").is_file()
    assert main(["train", "igan", "--out", str(tmp_path / "none"), "--export", str(dest)]) == 2
    assert main(["train", "igan", "--domain", "facades", "--data", str(tmp_path / "nothing")]) == 2


def test_bench_igan_writes_rows_and_grid(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "run"
    assert main(["train", "igan", "--domain", "shapes", "--out", str(out), "--size", "16", "--nz", "8", "--ngf", "8",
                 "--ndf", "8", "--nef", "8", "--batch", "8", "--steps", "2", "--encoder-steps", "2"]) == 0
    weights = tmp_path / "w"
    assert main(["train", "igan", "--out", str(out), "--export", str(weights / "tiny.safetensors"),
                 "--card-images", "1"]) == 0
    data = tmp_path / "photos"
    data.mkdir()
    for i, img in enumerate(shapes(2, 32, seed=9)):
        cv2.imwrite(str(data / f"{i}.png"), np.concatenate([img, img], 1)[..., ::-1])  # pix2pix-style pair
    # registers igan-tiny (and re-points "default"); conftest's _registry_restored undoes both
    assert main(["bench", "igan", "--data", str(data), "--weights", str(weights), "--models", "igan-tiny",
                 "--limit", "2", "--json", str(tmp_path / "bench.json")]) == 0
    rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
    kinds = [(r["kind"], r.get("method", r.get("batch"))) for r in rows]
    assert ("projection", "hybrid") in kinds and ("speed", 64) in kinds and ("edit", None) in kinds
    edits = {(r["colours"], r["keep_rest"] > 0) for r in rows if r["kind"] == "edit"}
    assert edits == {("primary", False), ("primary", True), ("donor", False), ("donor", True)}
    assert (tmp_path / "bench.png").is_file()
    assert main(["bench", "igan"]) == 2


def test_minutes_budget_leaves_time_for_the_encoder(tmp_path):
    from engines.latent.train import IganTrainConfig, train_igan

    torch.set_num_threads(1)
    cfg = IganTrainConfig(domain="shapes", out=str(tmp_path / "run"), size=16, nz=8, ngf=8, ndf=8, nef=8, batch=8,
                          steps=10**6, encoder_steps=3, minutes=0.02, n_shapes=32, log_every=10**6)
    last = list(train_igan(cfg))[-1]
    assert 0 < last["step"] < 10**6 and last["enc_step"] >= 1  # the GAN stopped at 80 % of 1.2 s
