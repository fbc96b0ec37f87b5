"""Weights: safe reading, canonicalisation, detection, strict loading (toy architectures, CPU)."""

from __future__ import annotations

import os
import random

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from engines.core import Task
from engines.weights import (
    ArchSpec,
    WeightsError,
    arch_specs,
    canonicalize,
    detect_arch,
    load_model,
    read_state_dict,
    register_arch,
    save_safetensors,
    unregister_arch,
)
from engines.weights import arch as arch_mod

# ----------------------------------------------------------------------------- toy architectures


class ToySR(nn.Module):
    """conv_first -> num_block x (conv + BatchNorm) -> conv_last; hyper-parameters from shapes."""

    def __init__(self, in_ch: int, num_feat: int, num_block: int, out_ch: int) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(in_ch, num_feat, 3, padding=1)
        self.body = nn.ModuleList(
            nn.ModuleDict(
                {"conv": nn.Conv2d(num_feat, num_feat, 3, padding=1), "bn": nn.BatchNorm2d(num_feat)}
            )
            for _ in range(num_block)
        )
        self.conv_last = nn.Conv2d(num_feat, out_ch, 3, padding=1)


def build_toy_sr(sd):
    num_feat, in_ch = sd["conv_first.weight"].shape[:2]
    out_ch = sd["conv_last.weight"].shape[0]
    num_block = len({k.split(".")[1] for k in sd if k.startswith("body.")})
    hp = {"in_ch": in_ch, "num_feat": num_feat, "num_block": num_block, "out_ch": out_ch}
    return ToySR(**hp), hp


def remap_toy_sr(sd):
    """Old release names: ``model.0`` = conv_first, ``model.9`` = conv_last (idempotent)."""
    names = {"model.0.": "conv_first.", "model.9.": "conv_last."}
    out = {}
    for k, v in sd.items():
        for old, new in names.items():
            if k.startswith(old):
                k = new + k[len(old):]
        out[k] = v
    return out


class ToyInpaint(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.enc = nn.Conv2d(4, ch, 3)
        self.dec = nn.Conv2d(ch, 3, 3)


TOY_SR = ArchSpec(
    name="toy_sr",
    task=Task.UPSCALE,
    detect=lambda sd: "conv_first.weight" in sd and "conv_last.weight" in sd,
    build=build_toy_sr,
    remap=remap_toy_sr,
    required_keys=("conv_first.weight", "conv_first.bias", "conv_last.weight", "conv_last.bias"),
)
TOY_INPAINT = ArchSpec(
    name="toy_inpaint",
    task=Task.INPAINT,
    detect=lambda sd: "enc.weight" in sd and sd["enc.weight"].shape[1] == 4,
    build=lambda sd: (ToyInpaint(sd["enc.weight"].shape[0]), {"ch": sd["enc.weight"].shape[0]}),
    required_keys=("enc.weight", "enc.bias", "dec.weight", "dec.bias"),
)


@pytest.fixture(autouse=True)
def toy_archs():
    register_arch(TOY_SR)
    register_arch(TOY_INPAINT)
    yield
    unregister_arch(TOY_SR.name)
    unregister_arch(TOY_INPAINT.name)


def random_toy(seed: int) -> tuple[ToySR, dict]:
    rng = random.Random(seed)
    hp = {
        "in_ch": rng.choice([1, 3, 4]),
        "num_feat": rng.choice([4, 8, 12]),
        "num_block": rng.randint(0, 3),
        "out_ch": rng.choice([1, 3]),
    }
    torch.manual_seed(seed)
    model = ToySR(**hp)
    for name, buf in model.named_buffers():  # non-default BN statistics, so loading is visible
        if buf.is_floating_point():
            buf.uniform_(0.5, 1.5)
        else:
            buf.fill_(7)
    return model, hp


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_round_trip_random_configs(tmp_path, seed, suffix):
    model, hp = random_toy(seed)
    path = tmp_path / f"toy{suffix}"
    if suffix == ".safetensors":
        save_safetensors(model.state_dict(), path, half=False)
    else:
        torch.save(model.state_dict(), path)
    loaded = load_model(path, task=Task.UPSCALE)
    assert loaded.arch.name == "toy_sr"
    assert loaded.hparams == hp
    assert loaded.source == str(path)
    assert not loaded.module.training
    assert_same_weights(loaded.module, model)


def test_half_safetensors_round_trip(tmp_path):
    model, _ = random_toy(1)
    path = tmp_path / "toy.safetensors"
    save_safetensors(model.state_dict(), path)  # half=True by default
    raw = load_file(str(path))
    assert raw["conv_first.weight"].dtype == torch.float16
    assert all(v.is_contiguous() for v in raw.values())
    assert not any(v.is_floating_point() for k, v in raw.items() if k.endswith("num_batches_tracked"))
    loaded = load_model(path)
    assert loaded.module.conv_first.weight.dtype == torch.float32  # module keeps its own dtype
    torch.testing.assert_close(loaded.module.conv_first.weight, model.conv_first.weight, atol=1e-3, rtol=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == ["toy.safetensors"]  # no temp file left


def test_save_is_atomic_replace_and_refuses_fp16_overflow(tmp_path):
    path = tmp_path / "w.safetensors"
    save_safetensors({"a": torch.ones(2)}, path)
    save_safetensors({"a": torch.zeros(3)}, path)
    assert load_file(str(path))["a"].shape == (3,)
    with pytest.raises(WeightsError, match="fp16 range"):
        save_safetensors({"a": torch.tensor([1e6])}, path)
    assert load_file(str(path))["a"].shape == (3,)  # the old file survives a failed save
    save_safetensors({"a": torch.tensor([1e6])}, path, half=False)
    assert load_file(str(path))["a"].dtype == torch.float32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: {"params": sd},
        lambda sd: {"params_ema": sd, "params": {k: torch.zeros_like(v) for k, v in sd.items()}},
        lambda sd: {"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 12, "lr": 1e-4},
        lambda sd: {"netG": sd, "optimizer": {"lr": 0.1}},
        lambda sd: {"model": {f"netG.module.{k}": v for k, v in sd.items()}, "iter": 5},
        lambda sd: {"generator": {"state_dict": {f"module.module.{k}": v for k, v in sd.items()}}},
    ],
    ids=["params", "params_ema", "state_dict+module.", "netG", "model+netG.module.", "nested"],
)
def test_wrapped_checkpoints_load(tmp_path, wrap):
    model, _ = random_toy(2)
    path = tmp_path / "wrapped.pth"
    torch.save(wrap(model.state_dict()), path)
    assert_same_weights(load_model(path).module, model)


def test_old_key_names_are_remapped(tmp_path):
    model, _ = random_toy(3)
    old = {
        k.replace("conv_first.", "model.0.").replace("conv_last.", "model.9."): v
        for k, v in model.state_dict().items()
    }
    torch.save(old, tmp_path / "old.pth")
    assert_same_weights(load_model(tmp_path / "old.pth").module, model)


def test_in_memory_state_dict():
    model, hp = random_toy(0)
    loaded = load_model({"params_ema": model.state_dict()})
    assert loaded.source == "<state dict>" and loaded.hparams == hp
    assert_same_weights(loaded.module, model)


def test_canonicalize_rules():
    t = torch.ones(1)
    assert canonicalize({"module.netG.module.a": t, "note": "x", "n": 3}) == {"a": t}
    import numpy as np

    assert torch.equal(canonicalize({"a": np.ones(2, np.float32)})["a"], torch.ones(2))
    with pytest.raises(WeightsError, match="no weights found"):
        canonicalize({"epoch": 3, "params": {}})
    with pytest.raises(WeightsError, match="not a dictionary"):
        canonicalize([t])
    with pytest.raises(WeightsError, match="two entries for 'a'"):
        canonicalize({"a": t, "module.a": t})


# ----------------------------------------------------------------------------- errors


def test_wrong_task_is_named(tmp_path):
    sd = ToyInpaint(6).state_dict()
    expected = r"this checkpoint is a toy_inpaint \(task inpaint\), not an upscale model"
    with pytest.raises(WeightsError, match=expected):
        load_model(sd, task="upscale")
    assert load_model(sd, task=Task.INPAINT).hparams == {"ch": 6}


def test_unknown_arch_names_closest_with_missing_and_unexpected():
    sd = dict(ToySR(3, 4, 1, 3).state_dict())
    del sd["conv_last.weight"], sd["conv_last.bias"]
    sd["tail.weight"] = torch.zeros(3, 4, 3, 3)
    with pytest.raises(WeightsError) as err:
        detect_arch(sd)
    msg = str(err.value)
    assert "Closest: 'toy_sr' (upscale), 50% of its required keys present" in msg
    assert "missing: conv_last.weight, conv_last.bias" in msg


def test_closest_buildable_arch_lists_unexpected_and_shapes():
    sd = dict(ToyInpaint(8).state_dict())
    sd["enc.weight"] = torch.zeros(8, 5, 3, 3)  # 5 input channels: not this architecture
    sd["skip.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError) as err:
        load_model(sd)
    msg = str(err.value)
    assert "Closest: 'toy_inpaint' (inpaint), 100%" in msg
    assert "unexpected: skip.weight" in msg
    assert "other shapes: enc.weight (8, 5, 3, 3) vs (8, 4, 3, 3)" in msg


def test_nothing_in_common_lists_known_archs():
    with pytest.raises(WeightsError, match=r"known: .*toy_sr.*toy_inpaint.*its keys start: x.weight"):
        load_model({"x.weight": torch.zeros(1)})


def test_named_arch_missing_and_unexpected_keys_listed():
    sd = dict(ToySR(3, 8, 2, 3).state_dict())
    del sd["body.0.bn.running_mean"], sd["body.1.conv.bias"]
    for i in range(12):
        sd[f"extra.{i}"] = torch.zeros(1)
    with pytest.raises(WeightsError) as err:
        load_model(sd, arch_name="toy_sr")
    msg = str(err.value)
    assert "2 missing key(s): body.0.bn.running_mean, body.1.conv.bias" in msg
    assert "12 unexpected key(s): extra.0" in msg and "extra.7 ... (+4 more)" in msg
    assert "extra.8" not in msg


def test_shape_mismatch_listed():
    sd = dict(ToySR(3, 8, 1, 3).state_dict())
    sd["body.0.bn.weight"] = torch.ones(5)
    expected = r"1 shape mismatch\(es\): body.0.bn.weight: checkpoint \(5,\) vs network \(8,\)"
    with pytest.raises(WeightsError, match=expected):
        load_model(sd)


def test_unknown_arch_name_and_build_failure():
    with pytest.raises(WeightsError, match="unknown architecture 'nope'"):
        load_model({"a": torch.zeros(1)}, arch_name="nope")
    with pytest.raises(WeightsError, match="could not build a toy_sr network"):
        load_model({"a": torch.zeros(1)}, arch_name="toy_sr")


def test_num_batches_tracked_filled_for_old_checkpoints():
    model, _ = random_toy(1)
    sd = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    loaded = load_model(sd)
    counters = [v for k, v in loaded.module.state_dict().items() if k.endswith("num_batches_tracked")]
    assert all(int(c) == 0 for c in counters)
    assert torch.equal(loaded.module.conv_first.weight, model.conv_first.weight)


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("suffix", [".pth", ".ckpt", ".bin"])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path, suffix):
    marker = tmp_path / "pwned"
    path = tmp_path / f"evil{suffix}"
    torch.save({"params": {"w": torch.zeros(1)}, "payload": _Evil(str(marker))}, path)
    with pytest.raises(WeightsError, match="refused to load") as err:
        read_state_dict(path)
    assert "system" in str(err.value)
    with pytest.raises(WeightsError, match="refused"):
        load_model(path)
    assert not marker.exists()


def test_missing_truncated_and_garbage_files(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        read_state_dict(tmp_path / "nope.safetensors")
    model, _ = random_toy(0)
    save_safetensors(model.state_dict(), tmp_path / "ok.safetensors")
    torch.save(model.state_dict(), tmp_path / "ok.pth")
    for name in ("ok.safetensors", "ok.pth"):
        data = (tmp_path / name).read_bytes()
        cut = tmp_path / f"cut{os.path.splitext(name)[1]}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(WeightsError, match="corrupt or truncated"):
            load_model(cut)
        junk = tmp_path / f"junk{os.path.splitext(name)[1]}"
        junk.write_bytes(b"this is not a checkpoint at all")
        # safetensors has no magic to tell junk from a damaged file; a .pth that is neither a
        # zip nor a pickle is named for what it looks like
        expected = "corrupt or truncated" if name.endswith(".safetensors") else "not a checkpoint: it looks like a text file"
        with pytest.raises(WeightsError, match=expected):
            read_state_dict(junk)
    (tmp_path / "w.onnx").write_bytes(b"x")
    with pytest.raises(WeightsError, match="unknown weights format '.onnx'"):
        read_state_dict(tmp_path / "w.onnx")
    with pytest.raises(WeightsError, match="not a weights file"):
        read_state_dict(tmp_path)


def test_detect_prefers_best_overlap_and_builtin_hook_tolerates_missing(monkeypatch):
    loose = ArchSpec(
        name="toy_loose", task=Task.UPSCALE, detect=lambda sd: "conv_first.weight" in sd,
        build=build_toy_sr, required_keys=("conv_first.weight",) + ("nothing.else",) * 3,
    )
    register_arch(loose)
    try:
        assert detect_arch(ToySR(3, 4, 0, 3).state_dict()).name == "toy_sr"
    finally:
        unregister_arch("toy_loose")
    monkeypatch.setattr(arch_mod, "BUILTIN_ARCH_MODULES", ("engines.no_such_engine_module",))
    monkeypatch.setattr(arch_mod, "_BUILTINS_LOADED", False)
    assert {s.name for s in arch_specs(Task.UPSCALE)} >= {"toy_sr"}
    inpaint = arch_specs("inpaint")
    assert "toy_inpaint" in [s.name for s in inpaint] and all(s.task == Task.INPAINT for s in inpaint)
