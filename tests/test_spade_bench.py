"""``ganstudio bench spade`` end to end on two held-out facades with tiny random models (pipeline
only: the figures of random weights mean nothing), plus the metric helpers."""

import json

import numpy as np
import pytest
import torch
from spade_models import write_tiny_segnet, write_tiny_spade

from engines.bench.spade import confusion, miou, pixel_accuracy
from engines.cli import main
from engines.core import Task, registry


def test_metrics():
    truth = np.array([[0, 0, 1, 1]])
    conf = confusion(np.array([[0, 1, 1, 1]]), truth, 3)
    assert conf.tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert miou(conf) == pytest.approx((1 / 2 + 2 / 3) / 2)  # class 2 absent: not averaged
    assert pixel_accuracy(conf) == 0.75


def test_bench_cli_writes_rows_and_grid(shared_data, tmp_path, capsys):
    data = shared_data / "facades" / "test"
    if not data.is_dir():
        pytest.skip("facades/test not in the shared data")
    torch.set_num_threads(1)
    write_tiny_spade(tmp_path / "w", name="spade-bench", default=False)
    write_tiny_segnet(tmp_path / "w")
    try:
        rc = main(["bench", "spade", "--data", str(data), "--weights", str(tmp_path / "w"), "--limit", "2",
                   "--models", "spade-bench", "--json", str(tmp_path / "out" / "spade.json")])
    finally:
        registry.unregister(Task.SYNTHESIZE, "spade-bench")
    assert rc == 0, capsys.readouterr().err
    result = json.loads((tmp_path / "out" / "spade.json").read_text())
    row = result["rows"][0]
    assert result["task"] == "spade" and row["model"] == "spade-bench" and row["images"] == 2
    for key in ("miou_synth", "miou_real", "miou_ratio", "pixel_acc_synth", "pixel_acc_real", "seconds",
                "border_ratio_synth", "border_ratio_real", "sharpness_ratio"):
        assert isinstance(row[key], float)
    assert row["border_ratio_real"] > 0 and row["sharpness_ratio"] > 0
    assert row["context"] == 32  # the engine's default mirrored context, recorded per row
    from PIL import Image

    with Image.open(tmp_path / "out" / "spade.png") as grid:
        assert grid.size == (3 * 256, 2 * 256)  # label | synthesized | real, one row per image


def test_border_ratio_sees_bands_and_not_the_frame():
    from engines.bench.spade import border_energy, border_ratio

    rng = np.random.default_rng(0)
    noise = rng.random((64, 64, 3)).astype(np.float32)
    band, inner = border_energy(noise)
    assert band / inner == pytest.approx(1.0, abs=0.1)  # stationary texture: ratio ~1
    flat = np.full((64, 64, 3), 0.5, np.float32)
    assert border_energy(flat) == (0.0, 0.0)  # no energy from the frame itself (no padding)
    streaks = noise * 0.1
    streaks[:, :8] = rng.random((64, 8, 3)) > 0.5  # streaky dark/bright band on the left
    assert border_ratio([border_energy(streaks)]) > 3.0
    u8 = (noise * 255).round().astype(np.uint8)
    assert border_energy(u8)[1] == pytest.approx(inner, rel=0.01)  # uint8 is read as /255
    with pytest.raises(ValueError):
        border_energy(np.zeros((16, 16, 3), np.float32))
