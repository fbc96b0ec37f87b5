"""The GPU training kit, proven on the CPU: device-side augmentation matches the CPU trainers'
definitions, the packed data stays within budget and never reads a held-out set, the dry run of
`train all` exports files that load and run in their engines, and `train accept` replaces a
bundled model only when the candidate wins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engines.gpukit import augment as A

REPO = Path(__file__).resolve().parents[1]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- augmentation


def test_crop_batch_takes_real_windows_and_labels_follow():
    images = torch.arange(2 * 3 * 20 * 30, dtype=torch.int32).view(2, 3, 20, 30).to(torch.uint8)
    labels = torch.arange(2 * 20 * 30).view(2, 20, 30) % 251
    crops, labs = A.crop_batch(images, 16, 8, _gen(), labels=labels.to(torch.uint8))
    assert crops.shape == (16, 3, 8, 8) and labs.shape == (16, 8, 8)
    for c, l in zip(crops, labs):  # each crop is a window of one image, its labels the same window
        found = False
        for i in range(2):
            for y in range(13):
                for x in range(23):
                    if torch.equal(images[i, :, y:y + 8, x:x + 8], c):
                        found = found or torch.equal(labels[i, y:y + 8, x:x + 8].to(torch.uint8), l)
        assert found


def test_dihedral_applies_the_same_transform_to_labels():
    x = torch.arange(4 * 3 * 5 * 5, dtype=torch.float32).view(4, 3, 5, 5)
    lab = x[:, 0].clone()
    out, lab_out = A.dihedral(x, _gen(3), rotate=True, labels=lab)
    assert torch.equal(out[:, 0], lab_out)
    assert sorted(out.flatten().tolist()) == sorted(x.flatten().tolist())


def test_lab_matches_the_numpy_definition():
    from engines.colorize.lab import rgb_to_lab

    rgb = torch.rand(3, 3, 7, 9, generator=_gen())
    ref = np.stack([rgb_to_lab(r.permute(1, 2, 0).numpy()) for r in rgb]).transpose(0, 3, 1, 2)
    assert np.abs(A.rgb_to_lab(rgb).numpy() - ref).max() < 1e-3


def test_batched_spread_matches_spread_points():
    from engines.colorize.spread import spread_points

    g = _gen(5)
    L = torch.rand(2, 1, 24, 20, generator=g) * 100
    py, px = torch.randint(0, 24, (2, 6), generator=g), torch.randint(0, 20, (2, 6), generator=g)
    values = torch.randn(2, 2, 6, generator=g) * 40
    active = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    out = A.spread_points(L, py, px, values, active, side=256.0)
    for b in range(2):
        k = int(active[b].sum())
        ref = spread_points(L[b, 0].numpy(), list(zip(py[b, :k].tolist(), px[b, :k].tolist())),
                            values[b, :, :k].T.numpy(), side=256.0)
        assert np.abs(out[b].permute(1, 2, 0).numpy() - ref).max() < 1e-4
    none = A.spread_points(L, py, px, values, torch.zeros_like(active), side=256.0)
    assert float(none.abs().max()) == 0.0


def test_synthetic_hints_are_patch_means_of_the_truth():
    g = _gen(1)
    ab = torch.randn(8, 2, 32, 32, generator=g) * 30
    L = torch.rand(8, 1, 32, 32, generator=g) * 100
    hab, mask, spread = A.synthetic_hints(ab, L, g, many_frac=0.5, spread=True)
    assert hab.shape == ab.shape and mask.shape == (8, 1, 32, 32) and set(mask.unique().tolist()) <= {0.0, 1.0}
    assert float((hab * (1 - mask)).abs().max()) == 0.0  # ab only where hinted
    # a hint's value is the mean of the true ab over its patch: within the range of the truth
    assert float(hab.abs().max()) <= float(ab.abs().max()) + 1e-4
    for b in range(8):  # spread is zero exactly for samples without hints
        assert (float(mask[b].sum()) > 0) == (float(spread[b].abs().sum()) > 0) or float(mask[b].sum()) == 0


def test_constant_colour_hints_are_exact():
    ab = torch.zeros(4, 2, 16, 16)
    ab[:, 0], ab[:, 1] = 12.5, -40.0
    hab, mask, spread = A.synthetic_hints(ab, torch.full((4, 1, 16, 16), 50.0), _gen(2), many_frac=1.0, spread=True)
    hinted = mask[:, 0] > 0
    assert torch.allclose(hab[:, 0][hinted], torch.tensor(12.5), atol=1e-3)
    assert torch.allclose(spread[:, 1], torch.tensor(-40.0), atol=1e-3)


def test_hole_masks_polarity_and_spread_of_ratios():
    valid = A.hole_masks(64, 128, _gen(4), "cpu")
    assert valid.shape == (64, 1, 128, 128) and set(valid.unique().tolist()) <= {0.0, 1.0}
    ratios = (1 - valid).mean((1, 2, 3))
    assert float(ratios.min()) > 0.0  # every mask has a hole (1 = valid, 0 = hole)
    assert float(ratios.min()) < 0.1 and float(ratios.max()) > 0.3  # small and large holes both drawn


def test_bicubic_down_matches_pillow_within_a_level():
    from PIL import Image

    rng = np.random.default_rng(0)
    hr = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    hr = np.asarray(Image.fromarray(hr).resize((64, 64), Image.BILINEAR))
    ref = np.asarray(Image.fromarray(hr).resize((16, 16), Image.BICUBIC)).astype(np.float32)
    ours = A.bicubic_down(torch.from_numpy(hr.copy()).permute(2, 0, 1)[None].float() / 255, 4)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(ours - ref).mean() < 1.0


def test_scaled_square_crops_shape_and_range():
    x = torch.rand(3, 3, 64, 64, generator=_gen()) * 2 - 1
    out = A.scaled_square_crops(x, 5, 16, _gen(1))
    assert out.shape == (5, 3, 16, 16) and float(out.min()) >= -1 and float(out.max()) <= 1


# ----------------------------------------------------------------------------- packing and travel


def test_pack_reads_training_splits_only_and_fits(shared_data, tmp_path, monkeypatch):
    from engines import train_data
    from engines.gpukit.pack import load_packed, pack

    opened = []
    real_load = train_data.load_rgb
    monkeypatch.setattr("engines.gpukit.pack.load_rgb", lambda p, **k: opened.append(Path(p)) or real_load(p, **k))
    manifest = pack(shared_data, tmp_path / "packed", limit=3)
    assert manifest["bytes"] <= 20 * 1024 * 1024
    sources = [s["path"] for s in manifest["sources"]] + [str(p.relative_to(shared_data)) for p in opened]
    assert sources and all(s.startswith(("photos/bsds500/train", "photos/bsds500/test", "facades/train")) for s in sources)
    arrays = load_packed(tmp_path / "packed")
    assert arrays["bsds"].shape == (3, 321, 481, 3) and arrays["labels"].shape == (3, 256, 256)
    assert int(arrays["labels"].max()) < 12 and manifest["round_trip_psnr_db"]["bsds500"] > 30


def test_the_tree_that_travels_fits_the_device_limit():
    """tracked + untracked-not-ignored files + .gpu-data (when packed) <= 64 MiB; without a packed
    folder, the tree must leave room for one of at least 16 MiB."""
    from engines.gpukit.travel import LIMIT, travel_report

    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    report = travel_report(REPO)
    assert report["total_bytes"] <= LIMIT, report
    if not (REPO / ".gpu-data").is_dir():
        assert report["tree_bytes"] + 16 * 1024 * 1024 <= LIMIT, report


# ----------------------------------------------------------------------------- dry run


def _synthetic_pack(folder: Path, n: int = 3) -> Path:
    """A packed folder made of random photos (the kit's format, no shared data needed)."""
    from engines.gpukit.pack import _jpeg_blob

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    bsds = [(rng.random((321, 481, 3)) * 255).astype(np.uint8) for _ in range(n)]
    fac = [(rng.random((256, 256, 3)) * 255).astype(np.uint8) for _ in range(n)]
    bj, bo = _jpeg_blob(bsds, 80)
    fj, fo = _jpeg_blob(fac, 80)
    np.savez(folder / "bsds500.npz", jpeg=bj, offsets=bo)
    labels = rng.integers(0, 12, (n, 256, 256)).astype(np.uint8)
    np.savez_compressed(folder / "facades.npz", jpeg=fj, offsets=fo, labels=labels, ambiguous=np.float32(0.1))
    (folder / "manifest.json").write_text("{}")
    return folder


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """`ganstudio train all --dry-run` as the device would run it: `python -m engines.cli` with
    PYTHONPATH=., from the bundled weights, results packed into <= 8 files, and with what the device
    lacks (PySide6, platformdirs, pytest) made unimportable in every process."""
    root = tmp_path_factory.mktemp("kit")
    data = _synthetic_pack(root / "packed")
    device_like = root / "device_like"
    device_like.mkdir()
    (device_like / "sitecustomize.py").write_text(
        "import sys\nfor m in ('PySide6', 'shiboken6', 'platformdirs', 'pytest'):\n    sys.modules[m] = None\n")
    cmd = [sys.executable, "-m", "engines.cli", "train", "all", "--data", str(data), "--device", "cpu",
           "--minutes", "4", "--out", str(root / "run"), "--init", str(REPO / "resources" / "weights"),
           "--tar-to", str(root / "returned"), "--dry-run", "--jobs", "2"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=280,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(device_like), str(REPO)])})
    return root, proc


def test_dry_run_trains_every_engine_and_returns_at_most_8_files(dry_run):
    root, proc = dry_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    returned = sorted(p.name for p in (root / "returned").iterdir())
    assert len(returned) <= 8 and "summary.json" in returned
    assert all((root / "returned" / n).stat().st_size <= 16 * 1024 * 1024 for n in returned)
    summary = json.loads((root / "returned" / "summary.json").read_text())
    assert set(summary["engines"]) == {"sr-x4", "sr-x2", "inpaint", "colorize", "spade", "segment", "igan"}
    for engine, r in summary["engines"].items():
        assert r["status"] == "ok", (engine, r)
        assert r["images_per_s"] > 0 and r["exports"][0]["steps"] == 3
        card = json.loads((root / "run" / engine / "export" / f"{r['exports'][0]['id']}.json").read_text())
        kit = card["kit"]
        assert kit["steps"] == 3 and sum(kit["images_seen"].values()) > 0 and kit["final_losses"]
        assert kit["gpu"] and kit["minutes"] >= 0 and "held out" in kit["data"]


def test_dry_run_exports_are_fp16_and_load_in_their_engines(dry_run):
    from safetensors.torch import load_file

    from engines.core.protocol import (ColorizeRequest, InpaintRequest, LatentEditRequest, RunContext,
                                       SynthesizeRequest, UpscaleRequest, drive)

    root, proc = dry_run
    assert proc.returncode == 0
    run = root / "run"
    for f in run.glob("*/export/*.safetensors"):
        dtypes = {t.dtype for t in load_file(f).values()}
        assert torch.float16 in dtypes and torch.float32 not in dtypes or "colorize" in f.name, (f, dtypes)
    rng = np.random.default_rng(0)
    photo = rng.random((40, 48, 3)).astype(np.float32)

    def ids(module: str, engine: str) -> list[str]:
        """The ids the export registers, without the aliases (default, and the texture fill
        that an inpainting default brings along)."""
        mod = __import__(module, fromlist=["register_models"])
        return [i for i in mod.register_models([run / engine / "export"]) if i not in ("default", "texture")]

    from engines.core import registry

    for engine, scale in (("sr-x4", 4), ("sr-x2", 2)):
        (mid,) = ids("engines.sr.engine", engine)
        out = drive(registry.get("upscale", mid).run(UpscaleRequest(image=photo, scale=scale), RunContext())).image
        assert out.shape == (40 * scale, 48 * scale, 3) and np.isfinite(out).all()
    (mid,) = ids("engines.inpaint.engine", "inpaint")
    mask = np.zeros((40, 48), np.float32)
    mask[10:20, 10:30] = 1
    out = drive(registry.get("inpaint", mid).run(InpaintRequest(image=photo, mask=mask), RunContext())).image
    assert out.shape == photo.shape and np.array_equal(out[mask == 0], photo[mask == 0])
    (mid,) = ids("engines.colorize.engine", "colorize")
    out = drive(registry.get("colorize", mid).run(ColorizeRequest(image=photo), RunContext())).image
    assert out.shape == photo.shape and np.isfinite(out).all()
    (mid,) = ids("engines.spade.engine", "spade")
    labels = rng.integers(0, 12, (64, 64)).astype(np.int32)
    out = drive(registry.get("synthesize", mid).run(SynthesizeRequest(labels, seed=0), RunContext())).image
    assert out.shape[:2] == (64, 64) and np.isfinite(out).all()
    from engines.spade.engine import installed_segmenter

    seg = installed_segmenter([run / "segment" / "export"])
    lab, _ = seg(photo)
    assert lab.shape == (40, 48) and lab.max() < 12
    (mid,) = ids("engines.latent.engine", "igan")
    eng = registry.get("latent", mid)
    small = rng.random((eng.model().size, eng.model().size, 3)).astype(np.float32)
    r = drive(eng.run(LatentEditRequest(image=small, mode="project", projection="hybrid", iterations=2), RunContext()))
    assert r.extras["projection"].shape == small.shape


# ----------------------------------------------------------------------------- accept


def test_accept_replaces_only_a_winner(shared_data, tmp_path, dry_run, one_torch_thread, monkeypatch):
    """The dry run's 3-step SR x4 loses to the bundled one and changes nothing; the bundled model
    offered against a folder whose 'bundled' x4 is that dry model wins and replaces it, with old vs
    new figures on its card."""
    from engines.gpukit import accept as accept_module
    from engines.gpukit.accept import accept

    # the decision on figures is what is tested here, not the CPU speed goal: a loaded machine
    # measured SR at 0.52 s per image against the 0.5 s goal once, and no test may hang on time
    monkeypatch.setattr(accept_module, "GOALS", {})
    root, proc = dry_run
    assert proc.returncode == 0
    src = tmp_path / "returned"
    shutil.copytree(root / "run" / "sr-x4", src / "sr-x4")
    weights = tmp_path / "weights"
    weights.mkdir()
    for name in ("ganstudio-sr-x4.safetensors", "ganstudio-sr-x4.json", "ganstudio-sr-x4.md"):
        shutil.copy2(REPO / "resources" / "weights" / name, weights / name)
    before = (weights / "ganstudio-sr-x4.safetensors").read_bytes()
    (verdict,) = accept(src, shared_data, weights, limit=2, on_line=lambda s: None)
    assert not verdict.replaced and "not bundled" in verdict.decision
    assert verdict.new["psnr_y_mean"] < verdict.old["psnr_y_mean"]
    assert (weights / "ganstudio-sr-x4.safetensors").read_bytes() == before

    # swap roles: the dry model is now "bundled", the real bundled model the candidate
    dry = root / "run" / "sr-x4" / "export"
    for name in ("ganstudio-sr-x4.safetensors", "ganstudio-sr-x4.json"):
        shutil.copy2(dry / name, weights / name)
    cand = tmp_path / "returned2" / "sr-x4" / "export"
    cand.mkdir(parents=True)
    for name in ("ganstudio-sr-x4.safetensors", "ganstudio-sr-x4.json"):
        shutil.copy2(REPO / "resources" / "weights" / name, cand / name)
    (verdict,) = accept(tmp_path / "returned2", shared_data, weights, limit=2, on_line=lambda s: None)
    assert verdict.replaced and verdict.new["psnr_y_mean"] > verdict.old["psnr_y_mean"]
    assert (weights / "ganstudio-sr-x4.safetensors").read_bytes() == before
    card = json.loads((weights / "ganstudio-sr-x4.json").read_text())
    assert card["accept"]["figures"]["psnr_y_mean"] == [verdict.old["psnr_y_mean"], verdict.new["psnr_y_mean"]]
    assert "bundled before" in (weights / "ganstudio-sr-x4.md").read_text()


def test_a_winner_with_another_name_takes_the_counterparts_place(tmp_path):
    """A wider kit model (pconv-compact-w24) replaces the bundled default of its task and
    architecture (pconv-compact-w16): the old files leave, the default flag and the old card move
    into the new card, the other bundled models stay."""
    from engines.gpukit.accept import Verdict, _replace
    from engines.gpukit.loop import bundled_counterpart

    weights = tmp_path / "weights"
    weights.mkdir()
    for name in ("pconv-compact-w16.safetensors", "pconv-compact-w16.json", "pconv-compact-w16.md",
                 "ganstudio-sr-x4.json", "ganstudio-sr-x4.safetensors"):
        shutil.copy2(REPO / "resources" / "weights" / name, weights / name)
    export = tmp_path / "export"
    export.mkdir()
    (export / "pconv-compact-w24.safetensors").write_bytes(b"new weights")
    card = {"id": "pconv-compact-w24", "file": "pconv-compact-w24.safetensors", "task": "inpaint",
            "arch": "pconv_unet", "hparams": {"base": 24, "layers": 7, "in_ch": 3}}
    (export / "pconv-compact-w24.json").write_text(json.dumps(card))
    old_card = bundled_counterpart(weights, "inpaint", "pconv_unet")
    assert old_card == weights / "pconv-compact-w16.json"
    v = Verdict("inpaint", "pconv-compact-w24", {"psnr_hole_mean": 18.0}, {"psnr_hole_mean": 18.5},
                "psnr_hole_mean", "wins")
    _replace(export / "pconv-compact-w24.json", card, old_card, weights, v, limit=20)
    names = sorted(p.name for p in weights.iterdir())
    assert names == ["ganstudio-sr-x4.json", "ganstudio-sr-x4.safetensors", "pconv-compact-w24.json",
                     "pconv-compact-w24.md", "pconv-compact-w24.safetensors"]
    new = json.loads((weights / "pconv-compact-w24.json").read_text())
    assert new["default"] is True and new["accept"]["replaced"] == "pconv-compact-w16"
    assert new["accept"]["figures"]["psnr_hole_mean"] == [18.0, 18.5]
    md = (weights / "pconv-compact-w24.md").read_text()
    assert "| psnr_hole_mean | 18.0 | 18.5 |" in md and "The card of the weights this replaced" in md


def test_a_winner_that_does_not_fit_is_not_bundled(tmp_path):
    from engines.gpukit.accept import _room_problem

    weights = tmp_path / "weights"
    weights.mkdir()
    for name in ("pconv-compact-w16.safetensors", "pconv-compact-w16.json"):
        shutil.copy2(REPO / "resources" / "weights" / name, weights / name)
    export = tmp_path / "export"
    export.mkdir()
    with open(export / "big.safetensors", "wb") as fh:  # sparse: 21 MB without writing them
        fh.truncate(21_000_000)
    card = {"id": "big", "file": "big.safetensors", "task": "inpaint", "arch": "pconv_unet"}
    (export / "big.json").write_text(json.dumps(card))
    why = _room_problem(export / "big.json", card, weights / "pconv-compact-w16.json", weights)
    assert why and "over the 20000000-byte limit" in why
    with open(export / "big.safetensors", "wb") as fh:  # 15 MB: fits a file, not the device trip
        fh.truncate(15_000_000)
    why = _room_problem(export / "big.json", card, weights / "pconv-compact-w16.json", weights)
    if (REPO / ".git").exists():
        assert why and "training data" in why


def test_speed_goal_decides_on_the_measured_figure():
    from engines.gpukit.accept import _meets_goal

    assert _meets_goal("sr-x4", {"sr_seconds_set5": 0.04})[0]
    ok, why = _meets_goal("sr-x4", {"sr_seconds_set5": 0.9})
    assert not ok and "goal <= 0.5" in why
    assert not _meets_goal("sr-x4", {})[0]  # not measured: not accepted
