"""SR engine: shapes, range, progress, cancel per tile, seam-free tiling, scale mismatch, registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.core import registry
from engines.core.cancel import Cancelled
from engines.core.protocol import Progress, RunContext, Task, UpscaleRequest, drive
from engines.sr.archs import RRDBNet, SRVGGNetCompact
from engines.sr.engine import SREngine
from engines.weights import save_safetensors


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.random((h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
    import cv2

    return np.ascontiguousarray(cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1))


@pytest.fixture
def tiny_rrdb(tmp_path):
    torch.manual_seed(0)
    net = RRDBNet(num_feat=8, num_block=1, num_grow_ch=4, scale=2)
    path = tmp_path / "tiny.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    return SREngine.from_file(path, "tiny")


def test_info_is_from_the_network(tiny_rrdb):
    info = tiny_rrdb.info
    assert (info.scale, info.size_multiple, info.supports_tiling, info.supports_half, info.uses_torch) == \
        (2, 2, True, True, True)


def test_output_contract_and_progress(tiny_rrdb):
    image = _image(37, 50)  # odd sizes: padded to the unshuffle multiple, cropped back
    events = []
    result = drive(tiny_rrdb.run(UpscaleRequest(image, scale=2, tile=24), RunContext()), events.append)
    out = result.image
    assert out.shape == (74, 100, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    progress = [e for e in events if isinstance(e, Progress)]
    assert len(progress) > 1 and progress[-1].done == progress[-1].total
    assert result.extras["native_scale"] == 2 and "resized" not in result.extras


def test_cancel_within_one_tile(tiny_rrdb):
    ctx = RunContext()
    gen = tiny_rrdb.run(UpscaleRequest(_image(64, 64), scale=2, tile=32), ctx)
    first = next(gen)
    assert isinstance(first, Progress) and first.done == 1
    ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        next(gen)


def test_other_scale_is_resized_and_said(tiny_rrdb):
    image = _image(20, 30)
    up = drive(tiny_rrdb.run(UpscaleRequest(image, scale=4), RunContext()))
    assert up.image.shape == (80, 120, 3) and "Lanczos" in up.extras["resized"]
    same = drive(tiny_rrdb.run(UpscaleRequest(image, scale=1), RunContext()))
    assert same.image.shape == (20, 30, 3) and "area" in same.extras["resized"]


def test_tiled_matches_whole_for_a_compact_net(tmp_path):
    torch.manual_seed(1)
    net = SRVGGNetCompact(num_feat=8, num_conv=4, upscale=4)
    path = tmp_path / "vgg.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    engine = SREngine.from_file(path)
    image = _image(96, 80)
    whole = drive(engine.run(UpscaleRequest(image, scale=4, tile=0), RunContext())).image
    tiled = drive(engine.run(UpscaleRequest(image, scale=4, tile=48), RunContext())).image
    # receptive field radius 6 px, overlap 32 >= 4 * 6: tiling is exact up to float rounding
    assert np.abs(tiled - whole).max() < 1e-5


def test_registry_has_default_and_bundled_models():
    ids = {i.id for i in registry.infos(Task.UPSCALE)}
    assert {"default", "realesr-animevideov3", "realesrgan-x4plus-anime-6b"} <= ids
    info = next(i for i in registry.infos(Task.UPSCALE) if i.id == "default")
    assert info.scale == 4 and info.uses_torch and info.supports_half


def test_bundled_default_runs_and_tiles_without_seams():
    engine = registry.get(Task.UPSCALE, "default")
    image = _image(96, 96, seed=3)
    whole = drive(engine.run(UpscaleRequest(image, scale=4, tile=0), RunContext())).image
    tiled = drive(engine.run(UpscaleRequest(image, scale=4, tile=64), RunContext())).image
    assert whole.shape == (384, 384, 3)
    diff = np.abs(tiled - whole)
    # measured: max 0.0078 (just under 2/255), mean 1.3e-4 with 64 px tiles (the worst case: half overlap)
    assert diff.max() <= 2 / 255 and diff.mean() < 5e-4, (diff.max(), diff.mean())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_on_cuda_matches_float32(dtype):
    engine = registry.get(Task.UPSCALE, "default")
    image = _image(128, 128)
    ref = drive(engine.run(UpscaleRequest(image, scale=4), RunContext(device="cuda"))).image
    half = drive(engine.run(UpscaleRequest(image, scale=4), RunContext(device="cuda", dtype=dtype))).image
    assert np.abs(ref - half).mean() < 2 / 255


def test_leftthomas_srgan_beats_bicubic_on_set5(shared_data):
    from engines.bench.metrics import psnr_y
    from engines.imageio import load_image

    engine = SREngine.from_file(shared_data / "weights/srgan/netG_epoch_4_100.pth")
    lr = load_image(shared_data / "sr/Set5/x4/LR/img_002.png").rgb
    hr = load_image(shared_data / "sr/Set5/x4/HR/img_002.png").rgb
    sr = drive(engine.run(UpscaleRequest(lr, scale=4), RunContext())).image
    bic = drive(registry.get(Task.UPSCALE, "bicubic").run(UpscaleRequest(lr, scale=4), RunContext())).image
    assert psnr_y(sr, hr, 4) > psnr_y(bic, hr, 4) + 1.0


def test_rrdb_overlap_is_wide_but_at_most_half_the_tile(tiny_rrdb):
    image = _image(40, 40)
    big = drive(tiny_rrdb.run(UpscaleRequest(image, scale=2, tile=1024), RunContext()))
    small = drive(tiny_rrdb.run(UpscaleRequest(image, scale=2, tile=256), RunContext()))
    asked = drive(tiny_rrdb.run(UpscaleRequest(image, scale=2, tile=256, overlap=48), RunContext()))
    # 192 keeps x4plus within 1/255 of a whole-image run (bench/out/sr_tiling_rrdb192.json)
    assert (big.extras["overlap"], small.extras["overlap"], asked.extras["overlap"]) == (192, 128, 48)
