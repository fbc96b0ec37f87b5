"""``ganstudio train inpaint``: a few steps on tiny photos log, checkpoint, resume and export a loadable net."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engines.inpaint.train import InpaintTrainConfig, export, train


@pytest.fixture
def fake_root(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos" / "bsds500" / "train"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.fromarray((rng.random((80, 80, 3)) * 255).astype(np.uint8)).save(folder / f"{i}.jpg")
    return tmp_path


@pytest.mark.parametrize("adv", [0.0, 0.01])
def test_short_run_checkpoints_resumes_and_exports(fake_root, tmp_path, adv):
    out = tmp_path / "run"
    cfg = InpaintTrainConfig(data=str(fake_root), out=str(out), base=4, layers=4, crop=64, batch=2,
                             steps=4, log_every=2, save_every=2, sets=("bsds500",), adv_weight=adv,
                             fm_weight=adv)
    logs = list(train(cfg))
    assert [r["step"] for r in logs if "loss" in r] == [2, 4]
    assert all(np.isfinite(r["loss"]) for r in logs if "loss" in r)
    assert (out / "last.pt").is_file() and (out / "log.jsonl").read_text().count("\n") == len(logs)
    cfg.steps = 6  # resumes from step 4
    assert [r["step"] for r in train(cfg) if "loss" in r] == [6]
    dest = export(out / "last.pt", tmp_path / "w.safetensors")
    from engines.weights.files import read_state_dict
    from engines.weights.loader import load_model

    assert load_model(read_state_dict(dest)).arch.name.startswith("pconv")


def test_init_starts_a_new_run_from_another_runs_weights(fake_root, tmp_path):
    import torch

    first = InpaintTrainConfig(data=str(fake_root), out=str(tmp_path / "l1"), base=4, layers=4, crop=64, batch=2,
                               steps=2, log_every=2, save_every=2, sets=("bsds500",))
    list(train(first))
    before = torch.load(tmp_path / "l1" / "last.pt", weights_only=True)["model"]
    second = InpaintTrainConfig(data=str(fake_root), out=str(tmp_path / "adv"), base=4, layers=4, crop=64, batch=2,
                                steps=1, log_every=1, sets=("bsds500",), adv_weight=0.01, fm_weight=0.01,
                                init=str(tmp_path / "l1" / "last.pt"), lr=0.0)
    logs = list(train(second))
    assert [r["step"] for r in logs if "loss" in r] == [1]  # a new run: its own step count
    after = torch.load(tmp_path / "adv" / "last.pt", weights_only=True)["model"]
    key = next(k for k in before if k.endswith("input_conv.weight"))
    assert torch.equal(before[key], after[key])  # lr 0: the weights are exactly the ones it started from
    wrong = InpaintTrainConfig(data=str(fake_root), out=str(tmp_path / "bad"), base=8, layers=4, crop=64, batch=2,
                               steps=1, sets=("bsds500",), init=str(tmp_path / "l1" / "last.pt"))
    with pytest.raises(ValueError, match="does not match --base 8"):
        list(train(wrong))
