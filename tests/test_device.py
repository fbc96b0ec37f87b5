"""Device and dtype policy (engines.core.device); CPU only, CUDA/MPS faked with monkeypatch."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from engines.core import CancelToken, EngineError, EngineInfo, Task
from engines.core import device as dev

HALF_OK = EngineInfo(
    id="net", task=Task.UPSCALE, title="Net", license="MIT", supports_half=True, uses_torch=True
)
NO_HALF = EngineInfo(
    id="net32", task=Task.UPSCALE, title="Net32", license="MIT", supports_half=False, uses_torch=True
)
CLASSICAL = EngineInfo(id="bicubic", task=Task.UPSCALE, title="Bicubic", license="BSD", uses_torch=False)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv(dev.DEVICE_ENV, raising=False)
    monkeypatch.delenv(dev.DTYPE_ENV, raising=False)


@pytest.fixture
def fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(dev, "_bf16_supported", lambda device: True)


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    assert dev.pick_device() == "cpu"
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert dev.pick_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dev.pick_device() == "cuda"


def test_device_env_override(monkeypatch, fake_cuda):
    monkeypatch.setenv(dev.DEVICE_ENV, "CPU")
    assert dev.pick_device() == "cpu"
    monkeypatch.setenv(dev.DEVICE_ENV, "cuda:1")
    assert dev.pick_device() == "cuda:1"
    monkeypatch.setenv(dev.DEVICE_ENV, "cuda:2")
    with pytest.raises(EngineError, match="only 2 CUDA device"):
        dev.pick_device()


@pytest.mark.parametrize("bad", ["gpu", "mps:1", "cuda:x", "cpu:0", "tpu"])
def test_device_env_unknown_is_clear_error(monkeypatch, bad):
    monkeypatch.setenv(dev.DEVICE_ENV, bad)
    with pytest.raises(EngineError, match="unknown device"):
        dev.pick_device()


def test_device_env_unavailable(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    monkeypatch.setenv(dev.DEVICE_ENV, "cuda")
    with pytest.raises(EngineError, match="CUDA is not available"):
        dev.pick_device()
    monkeypatch.setenv(dev.DEVICE_ENV, "mps")
    with pytest.raises(EngineError, match="MPS is not available"):
        dev.pick_device()


def test_pick_dtype_policy(monkeypatch):
    monkeypatch.setattr(dev, "_bf16_supported", lambda device: False)
    assert dev.pick_dtype("cpu", HALF_OK) == "float32"
    assert dev.pick_dtype("mps", HALF_OK) == "float32"
    assert dev.pick_dtype("cuda", HALF_OK) == "float16"
    assert dev.pick_dtype("cuda:0", NO_HALF) == "float32"
    assert dev.pick_dtype("cuda", HALF_OK, prefer="float32") == "float32"
    # bf16 requested where unsupported falls back to fp16; where supported it is used.
    assert dev.pick_dtype("cuda", HALF_OK, prefer="bf16") == "float16"
    monkeypatch.setattr(dev, "_bf16_supported", lambda device: True)
    assert dev.pick_dtype("cuda", HALF_OK, prefer="bfloat16") == "bfloat16"
    assert dev.pick_dtype("cpu", HALF_OK, prefer="bfloat16") == "float32"
    with pytest.raises(EngineError, match="unknown dtype"):
        dev.pick_dtype("cuda", HALF_OK, prefer="int8")


def test_dtype_env_override(monkeypatch, fake_cuda):
    monkeypatch.setenv(dev.DTYPE_ENV, "fp16")
    assert dev.pick_dtype("cuda", NO_HALF) == "float16"  # an explicit expert choice wins
    assert dev.pick_dtype("cpu", HALF_OK) == "float32"  # never half on the CPU
    monkeypatch.setenv(dev.DTYPE_ENV, "float32")
    assert dev.pick_dtype("cuda", HALF_OK) == "float32"
    monkeypatch.setenv(dev.DTYPE_ENV, "bf16")
    assert dev.pick_dtype("cuda", HALF_OK) == "bfloat16"
    monkeypatch.setenv(dev.DTYPE_ENV, "double")
    with pytest.raises(EngineError, match="unknown dtype 'double'"):
        dev.pick_dtype("cuda", HALF_OK)


def test_torch_dtype():
    assert dev.torch_dtype("float32") is torch.float32
    assert dev.torch_dtype("half") is torch.float16
    assert dev.torch_dtype("bf16") is torch.bfloat16
    with pytest.raises(EngineError):
        dev.torch_dtype("float64")


def test_make_context(monkeypatch, fake_cuda):
    token = CancelToken()
    ctx = dev.make_context(CLASSICAL, token)
    assert (ctx.device, ctx.dtype) == ("cpu", "float32") and ctx.cancel is token
    ctx = dev.make_context(HALF_OK)
    assert (ctx.device, ctx.dtype) == ("cuda", "float16")
    assert isinstance(ctx.cancel, CancelToken) and not ctx.cancel.cancelled
    monkeypatch.setenv(dev.DEVICE_ENV, "cpu")
    assert (dev.make_context(HALF_OK).device, dev.make_context(HALF_OK).dtype) == ("cpu", "float32")


def test_available_memory(monkeypatch):
    assert dev.available_memory_bytes("cpu") > 16 * 1024**2
    monkeypatch.setattr(dev, "_meminfo_available", lambda path="/proc/meminfo": None)
    assert dev.available_memory_bytes("cpu") > 0


def test_meminfo_parse(tmp_path):
    f = tmp_path / "meminfo"
    f.write_text("MemTotal:       16000000 kB\nMemAvailable:    1000 kB\n")
    assert dev._meminfo_available(str(f)) == 1000 * 1024
    assert dev._meminfo_available(str(tmp_path / "missing")) is None


def test_importing_engines_core_does_not_import_torch():
    code = (
        "import sys, engines.core, engines.core.device, engines.tiling, engines.weights, "
        "engines.classical\n"
        "engines.core.infos()\n"
        "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_real_cuda():
    assert dev.pick_device() == "cuda"
    assert dev.available_memory_bytes("cuda") > 0
    assert dev.pick_dtype("cuda", HALF_OK) in ("float16", "bfloat16")
    assert dev.make_context(HALF_OK).device == "cuda"
