"""``train spade`` / ``train segment``: a few steps on tiny tensors, resume, export + card, CLI usage."""

import json

import numpy as np
import pytest
import torch

from engines.cli import main
from engines.core.cancel import CancelToken, Cancelled
from engines.spade import train as tr


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def tiny_pairs():
    rng = np.random.default_rng(0)
    photos = rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8)
    labels = rng.integers(0, 12, (3, 64, 64), dtype=np.uint8)
    return photos, labels


def tiny_spade(out, steps):
    return tr.SpadeTrainConfig(data="", out=str(out), crop=64, load=72, ngf=2, spade_hidden=4, ndf=4,
                               batch=1, steps=steps, log_every=1, save_every=100)


def test_spade_few_steps_resume_and_export(tmp_path, tiny_pairs):
    logs = list(tr.train_spade(tiny_spade(tmp_path / "run", 2), pairs=tiny_pairs))
    assert logs[-1]["done"] and logs[-1]["step"] == 2
    for key in ("g_gan", "g_fm", "d", "kld"):
        assert np.isfinite(logs[0][key])
    assert (tmp_path / "run" / "last.pt").is_file()
    logs = list(tr.train_spade(tiny_spade(tmp_path / "run", 3), pairs=tiny_pairs))  # resumes at 2
    assert [r["step"] for r in logs] == [3, 3]
    dest = tr.export_spade(tmp_path / "run" / "last.pt", tmp_path / "w" / "spade-facades.safetensors")
    card = json.loads((tmp_path / "w" / "spade-facades.json").read_text())
    assert card["task"] == "synthesize" and card["palette"] == "facades" and card["steps"] == 3
    assert "VGG" in card["description"]
    assert "No VGG perceptual loss" in (tmp_path / "w" / "spade-facades.md").read_text()
    from engines.weights import load_model

    loaded = load_model(dest)
    assert loaded.arch.name == "spade" and loaded.hparams["use_vae"] and loaded.hparams["encoder_layers"] == 5


def test_spade_loop_is_cancellable(tmp_path, tiny_pairs):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        list(tr.train_spade(tiny_spade(tmp_path / "run", 5), cancel=token, pairs=tiny_pairs))


def test_hinge_and_feature_matching_losses():
    real = [torch.full((1, 1, 2, 2), 2.0)]
    fake = [torch.full((1, 1, 2, 2), -2.0)]
    assert float(tr.hinge_d(real, fake)) == 0.0  # both beyond the margin
    assert float(tr.hinge_g(fake)) == 2.0
    feats = [[torch.ones(1, 2, 2, 2), torch.zeros(1, 1, 2, 2)]]
    assert float(tr.feature_matching(feats, [[torch.zeros(1, 2, 2, 2), torch.ones(1, 1, 2, 2)]])) == 1.0
    assert float(tr.kld(torch.zeros(2, 4), torch.zeros(2, 4))) == 0.0


def test_augment_keeps_labels_exact():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    labels = rng.integers(0, 12, (64, 64), dtype=np.uint8)
    p, l = tr.augment(rng, photo, labels, 72, 64)
    assert p.shape == (64, 64, 3) and l.shape == (64, 64)
    assert set(np.unique(l)) <= set(np.unique(labels))


def test_segment_few_steps_and_export(tmp_path, tiny_pairs):
    cfg = tr.SegmentTrainConfig(data="", out=str(tmp_path / "seg"), crop=64, load=72, width=4, batch=2,
                                steps=2, log_every=1)
    logs = list(tr.train_segment(cfg, pairs=tiny_pairs))
    assert logs[-1]["done"] and np.isfinite(logs[0]["ce"])
    tr.export_segment(tmp_path / "seg" / "last.pt", tmp_path / "w" / "segnet.safetensors")
    from engines.spade.engine import installed_segmenter

    seg = installed_segmenter([tmp_path / "w"])
    assert seg.work_side == 64  # the card keeps the training crop: segment at the scale it learned
    seen = []
    seg.net().register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape[2:])))
    labels, seconds = seg(np.random.default_rng(0).random((50, 70, 3)).astype(np.float32))
    assert labels.shape == (50, 70) and labels.dtype == np.int32 and 0 <= labels.min() and labels.max() < 12
    assert seen == [(48, 64)]  # longer side 64, multiples of 8; labels back at 50 x 70


def test_cli_usage_errors(tmp_path, capsys, hide_bundled):
    from engines.core import Task

    hide_bundled(Task.SYNTHESIZE)  # for the bench's "nothing installed" message
    assert main(["train", "spade", "--data", str(tmp_path)]) == 2
    assert "no facades/train" in capsys.readouterr().err
    assert main(["train", "segment", "--out", str(tmp_path / "none"),
                 "--export", str(tmp_path / "x.safetensors")]) == 2
    assert main(["bench", "spade"]) == 2
    assert main(["bench", "spade", "--data", str(tmp_path)]) == 1
    assert "no facades segmentation model installed" in capsys.readouterr().err


def test_resume_from_a_foreign_checkpoint_is_a_clear_error(tmp_path, tiny_pairs):
    seg = tr.SegmentTrainConfig(data="", out=str(tmp_path / "run"), crop=64, load=72, width=4, batch=1, steps=1)
    list(tr.train_segment(seg, pairs=tiny_pairs))
    with pytest.raises(ValueError, match="not a 'train spade' checkpoint"):
        list(tr.train_spade(tiny_spade(tmp_path / "run", 2), pairs=tiny_pairs))
    list(tr.train_spade(tiny_spade(tmp_path / "spade", 1), pairs=tiny_pairs))
    wider = tiny_spade(tmp_path / "spade", 2)
    wider.ngf = 4
    with pytest.raises(ValueError, match="other settings"):
        list(tr.train_spade(wider, pairs=tiny_pairs))


def test_fine_tune_at_twice_the_size_from_a_128_model(tmp_path, tiny_pairs):
    """--init + "more": the 2 x 2-grid model of a 32 px run starts a 64 px run with every tensor
    (same file size), reflect-padded; the exported card says what shapes cannot."""
    small = tr.SpadeTrainConfig(data="", out=str(tmp_path / "a"), crop=32, load=36, ngf=2, spade_hidden=4, ndf=4,
                                batch=1, steps=1, log_every=1, padding="zeros", encoder_layers=5)
    assert tr.generator_config(small).start_hw == (1, 1)
    small.crop, small.load = 64, 72  # 2 x 2 grid at "normal"
    list(tr.train_spade(small, pairs=tiny_pairs))
    first = tr.export_spade(tmp_path / "a" / "last.pt", tmp_path / "w1" / "spade-a.safetensors")
    assert json.loads((tmp_path / "w1" / "spade-a.json").read_text())["padding"] == "zeros"
    big = tr.SpadeTrainConfig(data="", out=str(tmp_path / "b"), crop=128, load=143, ngf=2, spade_hidden=4, ndf=4,
                              batch=1, steps=1, log_every=1, num_up="more", encoder_layers=5, init=str(first))
    assert tr.generator_config(big).start_hw == (2, 2) and tr.generator_config(big).padding == "reflect"
    netg, _ = tr.build_models(big)
    assert tr.load_generator_init(netg, first) == len(netg.state_dict())
    photos = np.random.default_rng(1).integers(0, 255, (2, 128, 128, 3), dtype=np.uint8)
    labels = np.random.default_rng(2).integers(0, 12, (2, 128, 128), dtype=np.uint8)
    list(tr.train_spade(big, pairs=(photos, labels)))
    dest = tr.export_spade(tmp_path / "b" / "last.pt", tmp_path / "w2" / "spade-b.safetensors")
    card = json.loads((tmp_path / "w2" / "spade-b.json").read_text())
    assert card["padding"] == "reflect" and card["num_upsampling_layers"] == "more" and card["size_multiple"] == 64
    md = (tmp_path / "w2" / "spade-b.md").read_text()
    assert "--num-up more" in md and "--padding reflect" in md and f"--init {first}" in md
    assert dest.stat().st_size == first.stat().st_size  # "more" adds no tensor
    wider = tr.SpadeTrainConfig(data="", out=str(tmp_path / "c"), crop=128, ngf=4, spade_hidden=4, num_up="more",
                                encoder_layers=5)
    with pytest.raises(ValueError, match="does not match"):
        tr.load_generator_init(tr.build_models(wider)[0], first)
    with pytest.raises(ValueError, match="multiple of 64"):
        tr.generator_config(tr.SpadeTrainConfig(data="", out="", crop=96, num_up="more"))


def test_texture_energy_loss_asks_for_the_real_detail_per_class():
    """Zero when fake == real; positive for a blurred real, and smaller the less it is blurred;
    its gradient on the blurred image raises the detail (a step along -grad closes the gap)."""
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(0)
    real = (torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1).clamp(-1, 1)
    lab = torch.zeros(2, 32, 32, dtype=torch.long)
    lab[:, :, 16:] = 3  # two classes, half the picture each
    seg = tr.one_hot(lab, tr.N_CLASSES)
    assert float(tr.texture_energy(real, real, seg)) == pytest.approx(0.0, abs=1e-6)

    def blur(x, k):
        return F.avg_pool2d(F.pad(x, (k // 2,) * 4, mode="replicate"), k, 1)

    strong, mild = blur(real, 5), blur(real, 3)
    l_strong, l_mild = float(tr.texture_energy(strong, real, seg)), float(tr.texture_energy(mild, real, seg))
    assert l_strong > l_mild > 0.1
    x = strong.clone().requires_grad_(True)
    loss = tr.texture_energy(x, real, seg)
    loss.backward()
    stepped = (x - 0.05 * x.grad / x.grad.abs().max()).detach()
    assert float(tr.texture_energy(stepped, real, seg)) < float(loss.detach())


def test_texture_term_and_discriminator_init_in_the_loop(tmp_path, tiny_pairs):
    list(tr.train_spade(tiny_spade(tmp_path / "a", 1), pairs=tiny_pairs))
    cfg = tiny_spade(tmp_path / "b", 1)
    cfg.lambda_tex, cfg.init_d = 1.0, str(tmp_path / "a" / "last.pt")
    logs = list(tr.train_spade(cfg, pairs=tiny_pairs))
    assert np.isfinite(logs[0]["tex"]) and logs[0]["tex"] >= 0
    cfg = tiny_spade(tmp_path / "c", 1)
    cfg.init_d = str(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError):
        list(tr.train_spade(cfg, pairs=tiny_pairs))
