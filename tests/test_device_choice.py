"""The device picker's engine side (engines.core.device: list_devices, parse_device_choice,
make_context(device=)) and ``--device`` on batch, bench and train (engines/cli_device.py)."""

from __future__ import annotations

import pytest
import torch

from engines import cli
from engines.core import EngineError, EngineInfo, Task
from engines.core import device as dev

NET = EngineInfo(id="net", task=Task.UPSCALE, title="Net", license="MIT", supports_half=True, uses_torch=True)
CLASSICAL = EngineInfo(id="bicubic", task=Task.UPSCALE, title="Bicubic", license="BSD", uses_torch=False)

# one command line per command that runs a model (positional arguments filled in)
COMMANDS = [
    ["batch", "in", "out", "--task", "upscale"],
    *[["bench", task] for task in
      ("sr", "sr-tiling", "sr-grid", "sr-memory", "inpaint", "colorize", "spade", "igan", "batch", "fuzz", "canvas")],
    *[["train", task] for task in ("sr", "inpaint", "colorize", "spade", "segment", "igan")],
    ["train", "all", "--out", "runs/x"],
    ["train", "accept", "returned"],
]


@pytest.fixture(autouse=True)
def _env_restored(monkeypatch):
    """--device exports GANSTUDIO_DEVICE; the test's value (none) comes back afterwards."""
    monkeypatch.setenv(dev.DEVICE_ENV, "")


def test_list_devices_has_auto_and_cpu_first():
    options = dev.list_devices()
    assert [o.choice for o in options[:2]] == ["auto", "cpu"]
    assert [o.label for o in options[:2]] == ["Auto", "CPU"]
    cuda = [o.choice for o in options if o.choice.startswith("cuda")]
    assert cuda == [f"cuda:{i}" for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0)]


def test_list_devices_names_each_cuda_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)

    class Props:
        name, total_memory = "Fake GPU", 8 * 1024**3

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: Props)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    options = dev.list_devices()
    assert [o.choice for o in options] == ["auto", "cpu", "cuda:0", "cuda:1", "mps"]
    assert options[2].label == "CUDA 0 — Fake GPU (8 GiB)"


def test_parse_device_choice():
    assert dev.parse_device_choice("auto") == "auto"
    assert dev.parse_device_choice("") == "auto"
    assert dev.parse_device_choice(None) == "auto"
    assert dev.parse_device_choice(" CPU ") == "cpu"
    with pytest.raises(EngineError, match="unknown device 'gpu'"):
        dev.parse_device_choice("gpu")
    with pytest.raises(EngineError, match="cuda:7"):
        dev.parse_device_choice("cuda:7")  # not on this machine (nor on a one-GPU device machine)


def test_make_context_device_choice_wins_over_env(monkeypatch):
    assert dev.make_context(NET, device="cpu").device == "cpu"
    assert dev.make_context(NET, device="auto").device == dev.pick_device()
    assert dev.make_context(CLASSICAL, device="cuda:7").device == "cpu"  # no torch, no check
    with pytest.raises(EngineError):
        dev.make_context(NET, device="cuda:7")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv(dev.DEVICE_ENV, "cuda")
    assert dev.make_context(NET).device == "cuda"  # auto: the environment decides
    assert dev.make_context(NET, device="cpu").device == "cpu"  # an explicit choice wins


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_model_command_parses_device_cpu(argv):
    args = cli._parser().parse_args([*argv, "--device", "cpu"])
    assert cli.apply_device(args, "ganstudio " + " ".join(argv[:2])) is None
    assert args.device == "cpu"
    import os

    assert os.environ[dev.DEVICE_ENV] == "cpu"  # make_context in this process and its workers


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_unavailable_device_is_a_clear_error(argv, capsys):
    assert cli.main([*argv, "--device", "cuda:7"]) == 2
    err = capsys.readouterr().err
    name = "ganstudio " + " ".join(argv[:1] if argv[0] == "batch" else argv[:2])
    assert err.startswith(f"{name}: device 'cuda:7' requested but ")
    assert "Traceback" not in err and err.count("\n") == 1


def test_unknown_device_and_train_defaults(capsys):
    assert cli.main(["bench", "sr", "--device", "tpu"]) == 2
    assert "unknown device 'tpu' (expected cpu, cuda, cuda:N or mps)" in capsys.readouterr().err
    args = cli._parser().parse_args(["train", "sr"])  # default auto, resolved for the trainer
    assert cli.apply_device(args, "ganstudio train sr") is None and args.device == dev.pick_device()
    assert cli._parser().parse_args(["train", "spade"]).device == "cpu"  # its own default stays
    assert cli._parser().parse_args(["train", "all", "--out", "x"]).device == "cuda"


def test_an_available_gpu_is_accepted(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    for argv in (["train", "inpaint", "--device", "cuda"], ["batch", "in", "out", "--task", "upscale", "--device", "cuda:0"]):
        args = cli._parser().parse_args(argv)
        assert cli.apply_device(args, "ganstudio " + argv[0]) is None and args.device == argv[-1]


@pytest.mark.parametrize("task", ["sr", "inpaint", "colorize"])
def test_cpu_trainers_take_the_device_into_their_config(task, monkeypatch, tmp_path):
    """train sr / inpaint / colorize hand --device to their config (the loops move the model and
    each batch there); checked without training by catching the config at the trainer's door."""
    import importlib

    module = importlib.import_module({"sr": "engines.sr.train", "inpaint": "engines.inpaint.train",
                                      "colorize": "engines.colorize.train"}[task])
    seen = []

    def fake_train(cfg, cancel=None):
        seen.append(cfg.device)
        return iter(())

    monkeypatch.setattr(module, "train", fake_train)
    data = tmp_path / "data"
    (data / "photos" / "bsds500" / "train").mkdir(parents=True)
    assert cli.main(["train", task, "--data", str(data), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 0
    assert seen == ["cpu"]


def test_auto_leaves_the_environment_alone(monkeypatch):
    import os

    args = cli._parser().parse_args(["bench", "sr"])
    assert args.device == "auto"
    assert cli.apply_device(args, "ganstudio bench sr") is None
    assert os.environ[dev.DEVICE_ENV] == ""


def test_batch_runs_each_file_on_the_device_given(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(src / f"p{i}.png")
    asked = []
    real = dev.make_context

    def spy(info, cancel=None, tile=0, device=None):
        asked.append(device)
        return real(info, cancel, tile, device)

    monkeypatch.setattr(dev, "make_context", spy)
    argv = ["batch", str(src), str(tmp_path / "out"), "--task", "upscale", "--model", "bicubic", "--quiet"]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    assert asked == ["cpu", "cpu"]
