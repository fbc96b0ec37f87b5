"""Facades segmentation off CMP (issue 20): the 5-level net and the old 4-level file, the training
views (labels move exactly with the photo; the GPU kit's batched views are the same geometry), the
robustness rows of ``bench spade``, and a few training steps + export."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from engines.bench import spade as bench
from engines.gpukit.trainers import segment as kit
from engines.spade import segment_train as st
from engines.spade.segment import FacadeSegNet, segment_photo


def _blocks(seed: int = 0, side: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A photo that says where each pixel came from (red = 2x, green = 2y: linear ramps, which
    bilinear and area resampling keep) and 16 x 16 blocks of random class ids."""
    rng = np.random.default_rng(seed)
    ids = np.kron(rng.integers(0, 12, (side // 16, side // 16)), np.ones((16, 16), int)).astype(np.uint8)
    ys, xs = np.mgrid[:side, :side]
    photo = np.stack([xs * 2, ys * 2, np.full_like(xs, 128)], -1).astype(np.uint8)
    return photo, ids


def _agree(view: np.ndarray, lab: np.ndarray, ids: np.ndarray) -> float:
    """Share of view pixels whose label is the id at the source pixel the photo says it came from."""
    side = ids.shape[0]
    x = np.clip(np.round(view[..., 0].astype(np.float32) / 2), 0, side - 1).astype(int)
    y = np.clip(np.round(view[..., 1].astype(np.float32) / 2), 0, side - 1).astype(int)
    return float((ids[y, x] == lab).mean())


# ----------------------------------------------------------------------------- architecture


def test_levels_and_channels_come_back_from_the_keys(one_torch_thread):
    from engines.spade.segment import SEGNET_SPEC

    for levels, mult in ((5, 8), (4, 8), (3, 2)):
        net = FacadeSegNet(12, 4, levels, mult)
        built, hp = SEGNET_SPEC.build(net.state_dict())
        assert hp == {"classes": 12, "width": 4, "levels": levels, "max_mult": mult}
        assert built.load_state_dict(net.state_dict()) is not None  # strict: every key and shape
    net = FacadeSegNet(12, 4)
    assert net.levels == 5 and net.multiple == 16 and net.enc4[0].weight.shape[0] == 32  # 8 x width cap
    photo = np.random.default_rng(0).random((37, 53, 3)).astype(np.float32)
    ids = segment_photo(net, photo, side=48)
    assert ids.shape == (37, 53) and ids.dtype == np.int32 and 0 <= ids.min() and ids.max() < 12


def test_the_bundled_file_loads_as_its_own_architecture():
    from engines.paths import BUNDLED_WEIGHTS
    from engines.weights import load_model

    path = BUNDLED_WEIGHTS / "facades-segnet.safetensors"
    if not path.is_file():
        pytest.skip("no bundled segmentation weights")
    loaded = load_model(path, arch_name="facades-segnet")
    card = json.loads(path.with_suffix(".json").read_text())
    levels = card.get("train_config", {}).get("levels", 4)
    assert loaded.hparams["levels"] == levels and loaded.module.levels == levels
    from engines.spade.engine import installed_segmenter

    seg = installed_segmenter()  # the card's test-time settings (chosen on facades train) reach it
    assert seg.scales == tuple(card["test_scales"]) and seg.flip is bool(card.get("test_flip", False))


# ----------------------------------------------------------------------------- views


def test_random_views_move_the_labels_with_the_photo():
    photo, ids = _blocks()
    rng = np.random.default_rng(1)
    for k in range(40):
        view, lab = st.random_view(rng, photo, ids, 48, 48, plain=(k == 0) or None)
        assert view.shape == (48, 48, 3) and lab.shape == (48, 48) and lab.dtype == np.uint8
        agree = _agree(view, lab, ids)  # a rounding of the source position at block edges differs
        assert agree > 0.9, (k, agree)


def test_plain_view_is_the_whole_photo_at_base():
    photo, ids = _blocks()
    M = st.view_homography(np.random.default_rng(0), ids.shape, 32, 32, plain=True)
    np.testing.assert_allclose(M, np.diag([0.25, 0.25, 1.0]), atol=1e-9)


def test_homographies_cover_the_scale_range():
    M = st.view_homography
    rng = np.random.default_rng(0)
    zoom = [np.sqrt(abs(np.linalg.det(M(rng, (256, 256), 128, 128)[:2, :2]))) * 2 for _ in range(400)]
    # zoom = facade side in the view / base: 0.5-2 x the aspect / perspective distortion
    assert 0.4 < min(zoom) < 0.6 and 1.7 < max(zoom) < 2.5


def _facade_share(M: np.ndarray, hw: tuple[int, int], crop: int) -> float:
    """Share of a crop² view covered by the source rectangle under the homography M (shoelace)."""
    h, w = hw
    pts = cv2.perspectiveTransform(np.float64([[[0, 0], [w, 0], [w, h], [0, h]]]), M)[0]
    x, y = pts[:, 0], pts[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2) / crop**2


def test_zoom_out_views_show_the_facade_smaller_inside_its_mirrored_surroundings():
    """``zoom_out_frac``: that share of views has the facade at 0.3-0.7 of the working size (its side
    relative to the view's, up to the aspect / perspective warp); off (0) draws as before."""
    rng = np.random.default_rng(0)
    hw, crop = (256, 256), 128

    def sides(frac: float) -> np.ndarray:
        return np.sqrt([_facade_share(st.view_homography(rng, hw, crop, crop, zoom_out_frac=frac), hw, crop)
                        for _ in range(400)])

    zoomed, default, third = sides(1.0), sides(0.0), sides(0.35)
    # every view: the facade's side 0.3-0.7 of the view's; the warp moves that by well under 30 %
    assert 0.2 < zoomed.min() and zoomed.max() < 0.85 and 0.4 < np.median(zoomed) < 0.52
    assert np.mean((zoomed > 0.27) & (zoomed < 0.77)) > 0.95
    # the default 0.5-2 range: about a quarter below 0.7; the option adds its share of small views
    assert 0.15 < np.mean(default < 0.7) < 0.35 < np.mean(third < 0.7) < 0.6
    assert np.mean(zoomed < 0.7) > 0.9
    # off draws nothing extra: the same seed gives the same homographies as before the option
    a = [st.view_homography(np.random.default_rng(5), hw, crop, crop) for _ in range(3)]
    b = [st.view_homography(np.random.default_rng(5), hw, crop, crop, zoom_out_frac=0.0) for _ in range(3)]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    with pytest.raises(ValueError):
        st.view_homography(rng, hw, crop, crop, zoom_out_frac=1.5)


def test_zoom_out_views_keep_the_labels_on_the_photo():
    photo, ids = _blocks(side=128)
    rng = np.random.default_rng(2)
    for k in range(30):
        view, lab = st.random_view(rng, photo, ids, 128, 128, plain=False, zoom_out_frac=1.0)
        assert view.shape == (128, 128, 3) and lab.shape == (128, 128)
        agree = _agree(view, lab, ids)  # a rounding of the source position at block edges differs
        assert agree > 0.9, (k, agree)


def test_photometric_keeps_range_and_shape():
    photo, _ = _blocks()
    rng = np.random.default_rng(0)
    outs = [st.photometric(rng, photo) for _ in range(10)]
    assert all(o.shape == photo.shape and o.dtype == np.float32 and 0 <= o.min() and o.max() <= 1 for o in outs)
    assert np.std([o.mean() for o in outs]) > 0.01  # it does change the photo


def test_class_weights_favour_rare_classes():
    labels = np.zeros((100, 100), np.uint8)
    labels[:50] = 1
    labels[:1, :10] = 3
    w = st.class_weights(labels)
    assert w[3] == pytest.approx(4.0) and w[0] == pytest.approx(1.0, abs=0.01) and w[5] == 1.0  # 5: absent


# ----------------------------------------------------------------------------- GPU kit: the same views


def test_kit_perspective_solve_matches_opencv():
    rng = np.random.default_rng(0)
    src = np.float32([[0, 0], [64, 0], [64, 64], [0, 64]])
    dst = (src + rng.uniform(-9, 9, (4, 2))).astype(np.float32)
    ours = kit.perspective_transforms(torch.from_numpy(src).double()[None], torch.from_numpy(dst).double()[None])[0]
    np.testing.assert_allclose(ours.numpy(), cv2.getPerspectiveTransform(src, dst), atol=1e-6)


def test_kit_warp_matches_the_cpu_warp():
    photo, ids = _blocks(3)
    rng = np.random.default_rng(5)
    for _ in range(6):
        M = st.view_homography(rng, ids.shape, 48, 48)
        ref_lab = cv2.warpPerspective(ids, M, (48, 48), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
        img, lab = kit.warp_views(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255,
                                  torch.from_numpy(ids)[None], torch.from_numpy(M)[None], 48)
        # reflection about the edge pixel (OpenCV's 101) vs about the edge (torch): a 1-px band differs
        assert float((lab[0].numpy() == ref_lab).mean()) > 0.9
        view = (img[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        assert _agree(view, lab[0].numpy(), ids) > 0.9


def test_kit_views_shapes_ranges_and_scale_spread():
    photo, ids = _blocks(2)
    photos = torch.from_numpy(np.stack([photo, photo[::-1]])).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(np.stack([ids, ids[::-1]])).contiguous()
    gen = torch.Generator().manual_seed(0)
    x, lab = kit.segment_views(photos, labels, 8, 32, 32, gen)
    assert x.shape == (8, 3, 32, 32) and lab.shape == (8, 32, 32) and lab.dtype == torch.uint8
    assert -1 <= float(x.min()) and float(x.max()) <= 1 and int(lab.max()) < 12
    M = kit.view_homographies(2000, (64, 64), 32, 32, gen, "cpu")
    zoom = torch.linalg.det(M[:, :2, :2]).abs().sqrt() * 2
    assert 0.3 < float(zoom.min()) < 0.6 and 1.7 < float(zoom.max()) < 3.0  # perspective stretches the ends
    assert 0.15 < float(torch.isclose(zoom, torch.ones(()).double()).double().mean()) < 0.3


# ----------------------------------------------------------------------------- bench rows


def test_transforms_keep_photo_and_truth_together():
    photo, ids = _blocks(4)
    for name in bench.ROBUST_TRANSFORMS:
        a = bench.transform_pair(name, photo, ids.astype(np.int32), np.random.default_rng([0, 1, 2]))
        b = bench.transform_pair(name, photo, ids.astype(np.int32), np.random.default_rng([0, 1, 2]))
        assert all(np.array_equal(x, y) for x, y in zip(a, b)), name  # fixed seed: the same view
        out, lab = a
        assert out.dtype == np.uint8 and lab.dtype == np.int32 and out.shape[:2] == lab.shape
        if name != "colour":  # blur keeps a linear ramp (away from the border)
            assert _agree(out, lab, ids) > 0.85, name
        if name in ("colour", "blur"):
            assert np.array_equal(lab, ids) and not np.array_equal(out, photo), name
    assert bench.transform_pair("aspect", photo, ids.astype(np.int32), np.random.default_rng(0))[1].shape != (128, 128)
    with pytest.raises(ValueError, match="unknown robustness transform"):
        bench.transform_pair("swirl", photo, ids.astype(np.int32), np.random.default_rng(0))


def test_robustness_rows_on_two_test_pairs(shared_data, tmp_path, one_torch_thread):
    data = shared_data / "facades" / "test"
    if not data.is_dir():
        pytest.skip("facades/test not in the shared data")

    def truthful(photo):  # a "segmenter" that knows the truth of the plain photos only
        return np.ones(photo.shape[:2], np.int32), 0.0

    rows = bench.run_robustness(data, truthful, model="ones", limit=2, grid=tmp_path / "g.png", grid_photos=2)
    assert [r.transform for r in rows] == list(bench.ROBUST_TRANSFORMS)
    assert rows[0].miou_ratio == 1.0 and all(0 < r.miou < 0.5 for r in rows)
    assert all(r.window_share_pred == 0.0 and r.window_iou == 0.0 and r.window_share_true > 0 for r in rows)
    s = bench.robustness_summary(rows)
    assert s["miou_plain"] == rows[0].miou and s["ratio_min"] <= s["ratio_mean"]
    from PIL import Image

    with Image.open(tmp_path / "g.png") as grid:
        assert grid.size == (2 * 3 * 128, len(bench.ROBUST_TRANSFORMS) * 128)


# ----------------------------------------------------------------------------- training


def test_few_steps_resume_and_export(tmp_path, one_torch_thread):
    rng = np.random.default_rng(0)
    pairs = (rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8), rng.integers(0, 12, (3, 64, 64), dtype=np.uint8))
    cfg = st.RobustSegmentConfig(data="", out=str(tmp_path / "run"), crop=32, base=32, width=4, batch=2, steps=2,
                                 log_every=1)
    logs = list(st.train_robust_segment(cfg, pairs=pairs))
    assert logs[-1]["done"] and logs[-1]["step"] == 2 and np.isfinite(logs[0]["ce"])
    cfg.steps = 3
    assert [r["step"] for r in st.train_robust_segment(cfg, pairs=pairs)] == [3, 3]  # resumed at 2
    st.export_robust_segment(tmp_path / "run" / "last.pt", tmp_path / "w" / "segnet.safetensors")
    card = json.loads((tmp_path / "w" / "segnet.json").read_text())
    assert card["work_side"] == 32 and card["steps"] == 3 and card["train_config"]["levels"] == 5
    from engines.spade.engine import installed_segmenter

    seg = installed_segmenter([tmp_path / "w"])
    assert seg is not None and seg.work_side == 32
    ids, _ = seg(rng.random((50, 70, 3)).astype(np.float32))
    assert ids.shape == (50, 70) and ids.max() < 12


def test_zoom_out_holdout_and_kept_checkpoints(tmp_path, one_torch_thread):
    rng = np.random.default_rng(0)
    pairs = (rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8), rng.integers(0, 12, (3, 64, 64), dtype=np.uint8))
    cfg = st.RobustSegmentConfig(data="", out=str(tmp_path / "run"), crop=32, base=32, width=4, batch=2, steps=2,
                                 log_every=1, zoom_out_frac=0.5, holdout=1, keep_every=1)
    assert list(st.train_robust_segment(cfg, pairs=pairs))[-1]["step"] == 2
    assert (tmp_path / "run" / "step_1.pt").is_file() and (tmp_path / "run" / "step_2.pt").is_file()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["holdout"] == 1
    st.export_robust_segment(tmp_path / "run" / "step_1.pt", tmp_path / "w" / "segnet.safetensors")
    assert json.loads((tmp_path / "w" / "segnet.json").read_text())["steps"] == 1
    with pytest.raises(ValueError, match="holdout"):
        list(st.train_robust_segment(st.RobustSegmentConfig(data="", out=str(tmp_path / "r2"), holdout=3),
                                     pairs=pairs))


def test_cli_train_segment_views_export_and_bench_rows(shared_data, tmp_path, capsys, one_torch_thread):
    """`ganstudio train segment` trains on views by default and exports the EMA weights + card;
    `bench spade` prints and writes the robustness rows beside the synthesis rows."""
    from spade_models import write_tiny_spade

    from engines.cli import main
    from engines.core import Task, registry

    data = shared_data / "facades"
    if not (data / "test").is_dir() or not (data / "train").is_dir():
        pytest.skip("facades not in the shared data")
    run = tmp_path / "run"
    # no facades/train read: the cached pairs of a tiny fake set stand in (load_train_pairs' cache)
    run.mkdir()
    rng = np.random.default_rng(0)
    np.savez(run / "facades_train.npz", photos=rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8),
             labels=rng.integers(0, 12, (3, 64, 64), dtype=np.uint8), ambiguous=0.1)
    assert main(["train", "segment", "--data", str(shared_data), "--out", str(run), "--crop", "32", "--width", "4",
                 "--batch", "2", "--steps", "2"]) == 0
    assert main(["train", "segment", "--out", str(run), "--export", str(tmp_path / "w" / "seg.safetensors")]) == 0
    card = json.loads((tmp_path / "w" / "seg.json").read_text())
    assert card["work_side"] == 32 and card["train_config"]["levels"] == 5
    assert "ganstudio train segment" in (tmp_path / "w" / "seg.md").read_text()
    write_tiny_spade(tmp_path / "w", name="spade-robust", default=False)
    try:
        rc = main(["bench", "spade", "--data", str(data / "test"), "--weights", str(tmp_path / "w"), "--limit", "2",
                   "--models", "spade-robust", "--json", str(tmp_path / "out" / "spade.json")])
    finally:
        registry.unregister(Task.SYNTHESIZE, "spade-robust")
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "transformed / plain" in out.out
    result = json.loads((tmp_path / "out" / "spade.json").read_text())
    rows = result["segment_robustness"]
    assert [r["transform"] for r in rows] == list(bench.ROBUST_TRANSFORMS) and rows[0]["images"] == 2
    assert result["segment_robustness_summary"]["miou_plain"] == rows[0]["miou"]
    assert (tmp_path / "out" / result["segment_grid"]).is_file()


def test_multi_scale_segmenter_reads_its_card(tmp_path, one_torch_thread):
    from engines.spade.segment import Segmenter
    from engines.weights import save_safetensors

    torch.manual_seed(0)
    net = FacadeSegNet(12, 4).eval()
    path = tmp_path / "seg.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    photo = np.random.default_rng(0).random((45, 61, 3)).astype(np.float32)
    assert Segmenter(path, 32).scales == (1.0,)  # no card
    path.with_suffix(".json").write_text(json.dumps({"test_scales": [1, 1.5]}))
    seg = Segmenter(path, 32)
    assert seg.scales == (1.0, 1.5)
    ids, _ = seg(photo)
    assert ids.shape == (45, 61) and ids.max() < 12
    # one scale is the plain argmax; the mean of one scale's probabilities is the same argmax
    assert np.array_equal(segment_photo(net, photo, side=32), segment_photo(net, photo, side=32, scales=(1.0, 1.0)))
    path.with_suffix(".json").write_text(json.dumps({"test_scales": ["x", 9]}))
    assert Segmenter(path, 32).scales == (1.0,)  # a bad card: one scale, no crash


def _varied_net(zero_bias: bool = False) -> FacadeSegNet:
    """A small seeded net with varied BN statistics and a strong head: labels that vary over the photo."""
    torch.manual_seed(0)
    net = FacadeSegNet(12, 4).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.05, 0.5)
        net.head.weight.mul_(5)
        if zero_bias:
            net.head.bias.zero_()
    return net


def test_flip_averaging_reads_its_card_and_makes_the_labels_mirror_equivariant(tmp_path, one_torch_thread):
    """test_flip: each scale also runs on the mirrored photo; the fused labels of a mirrored photo
    are then the mirrored labels (issue 20: settings chosen on facades train, see the card)."""
    from engines.spade.segment import Segmenter, segment_logits
    from engines.weights import save_safetensors

    net = _varied_net(zero_bias=True)
    path = tmp_path / "seg.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    photo = np.random.default_rng(1).random((48, 64, 3)).astype(np.float32)
    assert Segmenter(path, 32).flip is False  # no card
    path.with_suffix(".json").write_text(json.dumps({"test_scales": [0.5, 1, 2], "test_flip": True}))
    seg = Segmenter(path, 32)
    assert seg.scales == (0.5, 1.0, 2.0) and seg.flip is True
    ids, _ = seg(photo)
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    want = sum(segment_logits(net, photo, side=side).softmax(1)
               + segment_logits(net, mirrored, side=side).softmax(1).flip(-1) for side in (16, 32, 64))
    assert np.array_equal(ids, want.argmax(1)[0].numpy())
    again, _ = seg(mirrored)
    assert len(np.unique(ids)) >= 3
    assert (again == ids[:, ::-1]).mean() > 0.99  # equivariant up to argmax ties of the resizes
    plain = segment_photo(net, photo, side=32, scales=(0.5, 1.0, 2.0))
    assert (plain != ids).any()  # the mirrored runs do change the vote
    assert Segmenter(path, 32, flip=False).flip is False  # an explicit argument wins over the card


def test_large_photos_are_fused_at_fuse_side_then_upsampled_once(monkeypatch, one_torch_thread):
    """Several runs on a photo larger than FUSE_SIDE are averaged at FUSE_SIDE px (not 12 class maps
    per run at full size); the labels still cover the whole photo and match full-size fusion almost
    everywhere (they differ only where two classes are nearly tied)."""
    from engines.spade import segment as sg

    net = _varied_net()
    y, x = np.mgrid[:96, :128] / 16.0
    photo = np.stack([np.sin(x) * 0.5 + 0.5, np.cos(y) * 0.5 + 0.5, (x + y) / 14.0], -1).astype(np.float32)
    full = sg.segment_photo(net, photo, side=32, scales=(1.0, 2.0), flip=True)
    monkeypatch.setattr(sg, "FUSE_SIDE", 64)
    small = sg.segment_photo(net, photo, side=32, scales=(1.0, 2.0), flip=True)
    assert small.shape == full.shape == (96, 128) and len(np.unique(full)) >= 2
    assert (small == full).mean() > 0.95
