"""bench colorize: PSNR rises with hints on a tiny fixture; JSON + plot; the CLI; train smoke + resume."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from engines.bench import colorize as bench
from engines.cli import main


def _fixture_images(n=3):
    out = []
    for i in range(n):
        rng = np.random.default_rng(i)
        base = rng.random((4, 4, 3)).astype(np.float32)
        out.append(cv2.resize(base, (256, 256), interpolation=cv2.INTER_CUBIC).clip(0, 1))
    return out


def _training_data(tmp_path, n=2):
    """A data root whose photos/bsds500/train holds ``n`` fixture photos."""
    root = tmp_path / "data"
    folder = root / "photos" / "bsds500" / "train"
    folder.mkdir(parents=True)
    for i, img in enumerate(_fixture_images(n)):
        Image.fromarray((img * 255).round().astype(np.uint8)).save(folder / f"{i}.jpg")
    return root


def test_baseline_curve_rises_with_hints():
    rows = bench.run_bench(_fixture_images(), ["baseline"], "fixture", counts=(0, 2, 10, 50))
    psnr = [r.psnr_rgb for r in rows]
    assert [r.hints for r in rows] == [0, 2, 10, 50]
    assert psnr[3] > psnr[2] > psnr[0] + 1.0 and psnr[3] > psnr[0] + 4.0, psnr  # 2 hints may not help yet


def test_psnr_rgb():
    a = np.zeros((8, 8, 3), np.float32)
    assert bench.psnr_rgb(a, a) == float("inf")
    assert abs(bench.psnr_rgb(a + 1 / 255, a) - 48.13) < 0.01


def test_cli_writes_json_and_plot(tmp_path):
    data = tmp_path / "set"
    data.mkdir()
    for i, img in enumerate(_fixture_images(2)):
        Image.fromarray((img * 255).round().astype(np.uint8)).save(data / f"{i}.png")
    out = tmp_path / "out" / "colorize.json"
    assert main(["bench", "colorize", "--data", str(data), "--json", str(out), "--models", "baseline"]) == 0
    doc = json.loads(out.read_text())
    assert doc["task"] == "colorize" and len(doc["rows"]) == len(bench.COUNTS)
    assert {"model", "dataset", "hints", "psnr_rgb", "seconds"} <= set(doc["rows"][0])
    assert doc["timing"]["baseline"]["full_seconds"] > 0
    assert Image.open(out.with_suffix(".png")).size == (640, 420)
    assert main(["bench", "colorize", "--data", str(tmp_path / "nope")]) == 2


@pytest.mark.slow  # about 10 s on a busy 2-core machine (three short training runs)
def test_train_smoke_resume_and_export(tmp_path):
    pytest.importorskip("torch")
    root = _training_data(tmp_path)
    out = tmp_path / "run"
    args = ["train", "colorize", "--data", str(root), "--out", str(out), "--width", "0.125", "--crop", "32",
            "--batch", "2"]
    assert main(args + ["--steps", "2"]) == 0
    assert main(args + ["--steps", "3"]) == 0  # resumes from step 2
    lines = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 3]
    w = tmp_path / "w.safetensors"
    assert main(["train", "colorize", "--out", str(out), "--export", str(w)]) == 0
    from engines.weights import load_model

    assert load_model(w).arch.name == "siggraph17"
    assert main(["train", "colorize", "--data", str(root), "--out", str(out), "--crop", "30"]) == 2


def test_train_spread_input_from_a_plain_run(tmp_path):
    pytest.importorskip("torch")
    root = _training_data(tmp_path)
    common = ["--data", str(root), "--width", "0.125", "--crop", "32", "--batch", "2", "--steps", "2"]
    assert main(["train", "colorize", "--out", str(tmp_path / "plain")] + common) == 0
    spread = tmp_path / "spread"
    assert main(["train", "colorize", "--out", str(spread), "--init", str(tmp_path / "plain" / "last.pt"),
                 "--spread-input", "--many-frac", "0.5"] + common) == 0
    w = tmp_path / "s.safetensors"
    assert main(["train", "colorize", "--out", str(spread), "--export", str(w)]) == 0
    from engines.weights import load_model

    loaded = load_model(w)
    assert loaded.arch.name == "siggraph17" and loaded.hparams.get("spread_input") is True
    assert main(["train", "colorize", "--out", str(tmp_path / "x"), "--init", str(tmp_path / "nope.pt")] + common) == 2
    # issue 20: fine-tune that export with the soft spread (the engine's input); the 0-hint answers are cached
    soft = tmp_path / "soft"
    assert main(["train", "colorize", "--out", str(soft), "--init", str(w), "--spread-input", "--spread-mode", "soft",
                 "--many-frac", "0.5"] + common) == 0
    assert (soft / "base_ab.npy").is_file() and json.loads((soft / "config.json").read_text())["spread_mode"] == "soft"


def test_hint_sets_are_nested():
    images = _fixture_images(2)
    counts = (0, 1, 2, 5, 10, 30)
    sets = bench.nested_hint_sets(images, counts)
    for i in range(len(images)):
        assert sets[0][i] == []
        for a, b in zip(counts, counts[1:]):
            assert len(sets[b][i]) == b and sets[b][i][:a] == sets[a][i]  # adding hints only adds
    assert sets[5][0] != sets[5][1]  # a different sequence per photo
    # the same sequence whatever the largest count asked for (seeded per photo, not per count)
    assert bench.nested_hint_sets(images, (5,))[5] == sets[5]
    h = sets[30][0][0]  # each point as before: 3x3 patch mean colour of the truth at its centre
    x0, y0 = int(h.x - 1), int(h.y - 1)
    assert np.allclose(h.rgb, images[0][y0 : y0 + 3, x0 : x0 + 3].reshape(-1, 3).mean(axis=0), atol=1e-6)
