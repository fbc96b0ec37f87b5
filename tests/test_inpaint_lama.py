"""LaMa (big-lama) as an installable inpainting model, with a reduced-width instance (ngf 8, 2 blocks)
built from the official key names: detection, strict loading, the engine (hole-only compositing,
the 512-px window around the hole in a large photo, cancel), the authors' Lightning checkpoint
layout (``state_dict`` -> ``generator.`` prefix, configuration objects beside the weights), clear
errors for wrong shapes, the engine registration from a card, and the catalog's zip download from
a loopback server. Nothing touches the internet.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from engines.core import registry
from engines.core.cancel import Cancelled, CancelToken
from engines.core.protocol import EngineError, EngineInfo, InpaintRequest, Input, Progress, Result, RunContext, Task
from engines.inpaint.lama import LamaGenerator
from engines.inpaint.lama_engine import LamaEngine, lama_window, register_card, to_network
from engines.weights import WeightsError, load_model, read_state_dict, save_safetensors
from generators import run_to_end

torch.set_num_threads(1)
SMALL = {"ngf": 8, "n_blocks": 2}


def _small_state_dict(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    net = LamaGenerator(**SMALL)
    sd = net.state_dict()
    for key, value in sd.items():  # trained-looking BatchNorm statistics, so the output is not flat
        if key.endswith("running_var"):
            value.uniform_(0.5, 2.0)
        elif key.endswith("running_mean"):
            value.normal_(0.0, 0.1)
    return sd


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("lama") / "small-lama.safetensors"
    save_safetensors(_small_state_dict(), path, half=False)
    return path


@pytest.fixture
def engine(small_weights):
    info = EngineInfo(id="small-lama", task=Task.INPAINT, title="small", license="test",
                      inputs=(Input.IMAGE, Input.MASK), uses_torch=True)
    return LamaEngine(info, small_weights)


def _events(engine, image, mask, ctx=None):
    return run_to_end(engine.run(InpaintRequest(image=image, mask=mask), ctx or RunContext()))


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([0.5 + 0.3 * np.sin(x / 17), 0.5 + 0.3 * np.cos(y / 23), 0.4 + 0.2 * np.sin((x + y) / 31)], 2)
    return np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------- network and weights


def test_key_layout_is_the_official_one():
    sd = LamaGenerator(**SMALL).state_dict()
    # init conv (local only), downsampling, the last one splitting local/global, blocks at model.5-6
    assert tuple(sd["model.1.ffc.convl2l.weight"].shape) == (8, 4, 7, 7)
    assert "model.1.ffc.convl2g.weight" not in sd and "model.1.bn_g.weight" not in sd
    assert tuple(sd["model.4.ffc.convl2l.weight"].shape) == (16, 32, 3, 3)
    assert tuple(sd["model.4.ffc.convl2g.weight"].shape) == (48, 32, 3, 3)  # int(64 * 0.75)
    assert tuple(sd["model.6.conv2.ffc.convg2g.fu.conv_layer.weight"].shape) == (48, 48, 1, 1)
    assert tuple(sd["model.5.conv1.ffc.convg2g.conv1.0.weight"].shape) == (24, 48, 1, 1)
    assert tuple(sd["model.5.conv1.ffc.convg2g.conv2.weight"].shape) == (48, 24, 1, 1)
    assert "model.5.conv1.ffc.convg2g.lfu.conv_layer.weight" not in sd  # enable_lfu false
    # upsampling: ConvTranspose + BN at 8/9, 11/12, 14/15; output conv at 18
    assert tuple(sd["model.8.weight"].shape) == (64, 32, 3, 3) and "model.9.running_var" in sd
    assert tuple(sd["model.18.weight"].shape) == (3, 8, 7, 7)
    assert max(int(k.split(".")[1]) for k in sd) == 18


def test_full_size_big_lama_shapes():
    """The paper's network: 51 M parameters, the published checkpoint's 989 generator entries."""
    net = LamaGenerator()
    sd = net.state_dict()
    assert len(sd) == 989
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == 51.0
    assert tuple(sd["model.34.weight"].shape) == (3, 64, 7, 7)
    assert tuple(sd["model.22.conv2.ffc.convg2l.weight"].shape) == (128, 384, 3, 3)


def test_small_instance_detected_and_loaded_strictly(small_weights):
    loaded = load_model(small_weights, task=Task.INPAINT)
    assert loaded.arch.name == "lama"
    assert loaded.hparams == {"input_nc": 4, "output_nc": 3, "ngf": 8, "n_downsampling": 3, "n_blocks": 2,
                              "ratio_g": 0.75, "max_features": 1024}
    expected = _small_state_dict()
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, expected[key]), key
    x = torch.rand(1, 4, 64, 96)
    with torch.inference_mode():
        y = loaded.module(x)
    assert y.shape == (1, 3, 64, 96) and float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_fourier_unit_sees_the_whole_window():
    """The global branch (rFFT, 1x1 conv on the spectrum, inverse FFT): a change in one corner of
    its input moves its output in the opposite corner, which no 3x3 convolution does in one layer."""
    loaded = load_model(_small_state_dict(), task=Task.INPAINT)
    spectral = loaded.module.model[5].conv1.ffc.convg2g
    x = torch.rand(1, 48, 32, 32)
    x2 = x.clone()
    x2[:, :, :4, :4] += 1.0
    with torch.inference_mode():
        a, b = spectral(x), spectral(x2)
    far = (a[..., -4:, -4:] - b[..., -4:, -4:]).abs().mean()
    assert float(far) > 1e-3 * float(a.abs().mean())


def _save_lightning(path: Path, sd: dict) -> None:
    """What the authors' best.ckpt looks like: Lightning's wrapping, the generator under
    ``generator.``, the discriminator and loss networks beside it, configuration objects of
    OmegaConf classes (stand-ins of those names here; they are never imported when read)."""
    from enum import Enum

    names = ["omegaconf", "omegaconf.dictconfig", "omegaconf.base"]
    fake = {n: types.ModuleType(n) for n in names}

    class DictConfig:
        def __init__(self, content):
            self._content = content

        def __getstate__(self):
            return {"_content": self._content, "_metadata": fake["omegaconf.base"].Metadata(),
                    "_parent": None}

    class Metadata:
        def __init__(self):
            self.ref_type, self.object_type, self.flags = __import__("typing").Any, dict, {}

    DictConfig.__module__, DictConfig.__qualname__ = "omegaconf.dictconfig", "DictConfig"
    Metadata.__module__, Metadata.__qualname__ = "omegaconf.base", "Metadata"
    Flag = Enum("Flag", {"READONLY": 1}, module="omegaconf.base")
    fake["omegaconf.dictconfig"].DictConfig = DictConfig
    fake["omegaconf.base"].Metadata, fake["omegaconf.base"].Flag = Metadata, Flag
    sys.modules.update(fake)
    try:
        state = {f"generator.{k}": v for k, v in sd.items()}
        state["discriminator.model0.0.ffc.convl2l.weight"] = torch.zeros(4, 3, 3, 3)
        state["loss_resnet_pl.impl.conv1.weight"] = torch.zeros(2, 3, 1, 1)
        from collections import defaultdict

        torch.save({"epoch": 40, "global_step": 1000, "pytorch-lightning_version": "1.2.9",
                    "state_dict": state,
                    "callbacks": {"ModelCheckpoint": {"best_model_score": torch.tensor(0.1)}},
                    "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.001}]}],
                    "hyper_parameters": DictConfig({"generator": {"kind": "ffc_resnet", "flag": Flag.READONLY},
                                                    "counts": defaultdict(list, {"a": [1]})})}, path)
    finally:
        for n in names:
            del sys.modules[n]


def test_lightning_checkpoint_with_config_objects_canonicalises(tmp_path):
    sd = _small_state_dict(seed=3)
    path = tmp_path / "best.ckpt"
    _save_lightning(path, sd)
    with pytest.raises(Exception):  # plain weights_only refuses it: the config needs OmegaConf classes
        torch.load(str(path), map_location="cpu", weights_only=True)
    flat = read_state_dict(path)  # read with inert stand-ins for the config, nothing imported
    assert "omegaconf" not in sys.modules
    assert "state_dict" not in flat and "generator.model.1.ffc.convl2l.weight" in flat
    loaded = load_model(path, task=Task.INPAINT)
    assert loaded.arch.name == "lama" and loaded.hparams["n_blocks"] == 2
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, sd[key]), key
    # the in-memory form (already unwrapped) gives the same network
    assert load_model({"state_dict": {f"generator.{k}": v for k, v in sd.items()}}).arch.name == "lama"


def test_lightning_checkpoint_with_code_is_still_refused(tmp_path):
    """Only configuration modules get inert stand-ins: a file asking for os.system stays refused."""
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in _small_state_dict().items()},
                "hyper_parameters": Evil()}, path)
    with pytest.raises(WeightsError, match="Python objects beyond plain weights"):
        load_model(path)
    assert not (tmp_path / "ran").exists()


def test_wrong_shapes_give_a_clear_error(tmp_path):
    sd = _small_state_dict()
    sd["model.5.conv1.ffc.convg2l.weight"] = torch.zeros(16, 40, 3, 3)
    with pytest.raises(WeightsError, match=r"model\.5\.conv1\.ffc\.convg2l\.weight.*\(16, 40, 3, 3\)"):
        load_model(sd, task=Task.INPAINT)
    truncated = _small_state_dict()
    del truncated["model.6.conv2.ffc.convg2g.fu.bn.running_var"]
    with pytest.raises(WeightsError, match="missing key.*model.6.conv2.ffc.convg2g.fu.bn.running_var"):
        load_model(truncated, task=Task.INPAINT)
    bad = _small_state_dict()
    bad["model.1.ffc.convl2l.weight"] = torch.zeros(8, 4, 3, 3)
    with pytest.raises(WeightsError, match="7x7"):
        load_model(bad, arch_name="lama")
    # through the engine: an EngineError naming the file
    path = tmp_path / "broken-lama.safetensors"
    save_safetensors(sd, path, half=False)
    info = EngineInfo(id="broken-lama", task=Task.INPAINT, title="broken", license="test")
    image, mask = _photo(64, 64), np.zeros((64, 64), np.float32)
    mask[20:30, 20:30] = 1
    with pytest.raises(EngineError, match="cannot load LaMa weights broken-lama.safetensors"):
        _events(LamaEngine(info, path), image, mask)


# ----------------------------------------------------------------------------- engine


def test_input_convention():
    image = np.full((8, 8, 3), 0.6, np.float32)
    fill = np.zeros((8, 8), bool)
    fill[2:4, 3:6] = True
    x = to_network(image, fill)
    assert x.shape == (8, 8, 4)
    assert np.all(x[fill][:, :3] == 0) and np.all(x[fill][:, 3] == 1)  # RGB x (1 - mask) || mask
    assert np.allclose(x[~fill][:, :3], 0.6) and np.all(x[~fill][:, 3] == 0)


def test_fill_changes_only_hole_pixels(engine):
    image = _photo(100, 140)
    mask = np.zeros((100, 140), np.float32)
    mask[30:60, 50:90] = 1.0
    mask[60, 50:90] = 0.5  # a soft edge: blended, not replaced
    result, events = _events(engine, image, mask)
    assert isinstance(result, Result)  # one result; the rest are progress events
    assert all(isinstance(e, Progress) for e in events) and len(events) > 3
    assert events[-1].done == events[-1].total
    out = result.image
    assert out.dtype == np.float32 and out.shape == image.shape
    assert np.array_equal(out[mask == 0], image[mask == 0])  # bit-exact outside the hole
    assert np.abs(out[30:60, 50:90] - image[30:60, 50:90]).mean() > 1e-3
    assert result.extras["arch"] == "lama" and result.extras["work_scale"] == 1.0
    # the prediction the engine composited is the network's output on LaMa's input convention
    loaded = engine.model()
    fill = mask >= 0.25
    win = lama_window(fill)  # the whole image (smaller than 512), sides rounded by padding
    assert (win.width, win.height) == (140, 100)
    padded = np.pad(to_network(image, fill), ((0, 4), (0, 4), (0, 0)), mode="reflect")
    with torch.inference_mode():
        pred = loaded.module(torch.from_numpy(padded.transpose(2, 0, 1).copy())[None])[0]
    pred = pred.permute(1, 2, 0).numpy()[:100, :140]
    assert np.allclose(out[30:60, 50:90], pred[30:60, 50:90], atol=1e-6)
    assert np.allclose(out[60, 50:90], 0.5 * pred[60, 50:90] + 0.5 * image[60, 50:90], atol=1e-6)


def test_large_photo_is_filled_from_a_window_around_the_hole(engine):
    image = _photo(900, 1300, seed=1)
    mask = np.zeros((900, 1300), np.float32)
    mask[700:740, 1000:1060] = 1.0
    result, _ = _events(engine, image, mask)
    x, y, w, h = result.extras["window"]
    assert (w, h) == (512, 512) and result.extras["work_scale"] == 1.0  # LaMa's working size
    assert x <= 1000 and x + w >= 1060 and y <= 700 and y + h >= 740
    assert np.array_equal(result.image[mask == 0], image[mask == 0])
    assert np.abs(result.image[700:740, 1000:1060] - image[700:740, 1000:1060]).mean() > 1e-3
    # a hole larger than the working size: the window is downscaled to 512 and only the hole changes
    big = np.zeros((900, 1300), np.float32)
    big[100:700, 200:1100] = 1.0
    result, _ = _events(engine, image, big)
    x, y, w, h = result.extras["window"]
    assert max(w, h) > 512 and result.extras["work_scale"] == round(512 / max(w, h), 4)
    assert np.array_equal(result.image[big == 0], image[big == 0])
    assert np.isfinite(result.image).all()


def test_cancel_between_steps(engine):
    image = _photo(96, 96)
    mask = np.zeros((96, 96), np.float32)
    mask[40:60, 40:60] = 1
    token = CancelToken()
    gen = engine.run(InpaintRequest(image=image, mask=mask), RunContext(cancel=token))
    seen = [next(gen), next(gen)]  # loading, then the first layer
    assert all(isinstance(e, Progress) for e in seen)
    token.cancel()
    with pytest.raises(Cancelled):
        next(gen)


def test_empty_and_full_masks(engine):
    image = _photo(40, 40)
    result, _ = _events(engine, image, np.zeros((40, 40), np.float32))
    assert np.array_equal(result.image, image)
    with pytest.raises(EngineError, match="whole image"):
        _events(engine, image, np.ones((40, 40), np.float32))


def test_card_with_arch_lama_registers_a_lama_engine(small_weights, tmp_path):
    import shutil

    from engines.inpaint.engine import register_models

    folder = tmp_path / "inpaint"
    folder.mkdir()
    shutil.copy(small_weights, folder / "tiny-lama.safetensors")
    (folder / "tiny-lama.json").write_text(json.dumps({
        "id": "tiny-lama", "file": "tiny-lama.safetensors", "task": "inpaint", "arch": "lama",
        "title": "Tiny LaMa", "license": "Apache-2.0"}))
    try:
        ids = register_models([folder])
        assert "tiny-lama" in ids and "pconv-tiny-lama" not in ids
        eng = registry.get(Task.INPAINT, "tiny-lama")
        assert isinstance(eng, LamaEngine) and eng.info.license == "Apache-2.0"
        assert eng.info.size_multiple == 8
        image = _photo(64, 80)
        mask = np.zeros((64, 80), np.float32)
        mask[10:30, 20:40] = 1
        result, _ = _events(eng, image, mask)
        assert np.array_equal(result.image[mask == 0], image[mask == 0])
        assert register_card({"id": "places"}, folder / "tiny-lama.safetensors") == "lama-places"
    finally:
        registry.unregister(Task.INPAINT, "tiny-lama")
        registry.unregister(Task.INPAINT, "lama-places")


# ----------------------------------------------------------------------------- catalog


def test_catalog_lists_big_lama_with_licence_and_source():
    from engines.models import load_catalog, model_rows

    entry = next(e for e in load_catalog() if e.id == "big-lama")
    assert entry.task == Task.INPAINT and entry.arch == "lama" and entry.license.startswith("Apache-2.0")
    assert entry.url == "https://huggingface.co/smartywu/big-lama/resolve/main/big-lama.zip"
    assert entry.extra["archive_member"] == "big-lama/models/best.ckpt"
    assert "github.com/advimman/lama" in entry.source
    row = next(r for r in model_rows() if r.id == "big-lama")
    assert row.state == "available" and row.license.startswith("Apache-2.0") and "big-lama.zip" in row.source


def _zip_bytes(member: str, payload: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("big-lama/config.yaml", "generator:\n  kind: ffc_resnet\n")
        z.writestr(member, payload)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def test_download_from_zip_installs_the_generator_as_safetensors(tmp_path, monkeypatch):
    from engines.models import download, installed_cards, load_catalog, refresh_engines, verify
    from engines.models.install import part_path, task_dir
    from loopback_http import LoopbackServer

    sd = _small_state_dict(seed=5)
    ckpt = tmp_path / "best.ckpt"
    _save_lightning(ckpt, sd)
    archive = _zip_bytes("big-lama/models/best.ckpt", ckpt.read_bytes(),
                         {"../../evil.ckpt": b"never written"})
    with LoopbackServer() as srv:
        srv.files["big-lama.zip"] = archive
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps({"models": [
            {"id": "big-lama", "task": "inpaint", "arch": "lama", "title": "LaMa", "suffix": ".ckpt",
             "archive_member": "big-lama/models/best.ckpt", "url": srv.url("f", "big-lama.zip"),
             "sha256": hashlib.sha256(archive).hexdigest(), "license": "Apache-2.0 (advimman/lama)",
             "source": "https://github.com/advimman/lama"},
            {"id": "bad-lama", "task": "inpaint", "arch": "lama", "title": "bad", "suffix": ".ckpt",
             "archive_member": "big-lama/models/best.ckpt", "url": srv.url("f", "big-lama.zip"),
             "sha256": "0" * 64, "license": "test"},
            {"id": "nomember-lama", "task": "inpaint", "arch": "lama", "title": "x", "suffix": ".ckpt",
             "archive_member": "big-lama/models/last.ckpt", "url": srv.url("f", "big-lama.zip"),
             "license": "test"}]}))
        monkeypatch.setenv("GANSTUDIO_CATALOG", str(catalog))
        entries = load_catalog()
        gen = download("big-lama", entries, timeout=5)
        try:
            while True:
                next(gen)
        except StopIteration as stop:
            installed = stop.value
        assert installed.path == task_dir(Task.INPAINT) / "big-lama.safetensors"
        assert installed.data["arch"] == "lama" and installed.data["license"].startswith("Apache-2.0")
        assert installed.data["archive_sha256"] == hashlib.sha256(archive).hexdigest()
        assert not part_path("big-lama", ".zip").exists()  # the archive is not kept
        assert not (tmp_path / "evil.ckpt").exists()
        flat = read_state_dict(installed.path)  # only the generator, in our key names
        assert set(flat) == set(sd) and all(torch.equal(flat[k], sd[k]) for k in sd)
        assert [m.id for m in installed_cards(Task.INPAINT)] == ["big-lama"]
        assert [(r.id, r.ok) for r in verify(Task.INPAINT)] == [("big-lama", True)]
        refresh_engines()  # what `ganstudio models download` and the Models dialog do after an install
        eng = registry.get(Task.INPAINT, "big-lama")
        assert isinstance(eng, LamaEngine)
        # a wrong archive checksum and a missing member install nothing
        from engines.models import ModelError

        for bad, match in (("bad-lama", "checksum mismatch"), ("nomember-lama", "no big-lama/models/last.ckpt")):
            with pytest.raises(ModelError, match=match):
                for _ in download(bad, entries, timeout=5):
                    pass
            assert not part_path(bad, ".zip").exists()
        assert [m.id for m in installed_cards(Task.INPAINT)] == ["big-lama"]
    registry.unregister(Task.INPAINT, "big-lama")
