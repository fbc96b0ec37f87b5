"""What network a weights file holds: read safely, detect the architecture, infer its hyper-parameters.

Generic over tasks: whatever architectures the engine modules registered with
``engines.weights.register_arch`` are candidates. A file nobody recognises is refused with the
loader's message, which names the closest architecture and the mismatching keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.protocol import Task
from ..weights import arch_specs, load_model, read_state_dict

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass
class Identified:
    """A recognised checkpoint: its architecture and what the card needs to say about it.

    ``state_dict`` is in the architecture's own key names (old official names remapped), float
    tensors as stored, CPU.
    """

    arch: str
    task: Task
    hparams: dict[str, Any]
    scale: int
    size_multiple: int
    state_dict: dict[str, "torch.Tensor"] = field(repr=False, default_factory=dict)

    def card_fields(self) -> dict[str, Any]:
        return {"arch": self.arch, "task": self.task.value, "hparams": _plain(self.hparams),
                "scale": self.scale, "native_scale": self.scale, "size_multiple": self.size_multiple}


def identify_state_dict(sd: dict, source: str = "<state dict>") -> Identified:
    """Recognise a canonical state dict and load it strictly into its network (so it is usable)."""
    loaded = load_model(sd)  # detect -> build from shapes -> strict load; WeightsError names the closest
    module = loaded.module
    # Scale and input multiple are read off the network itself (SR nets expose ``scale``/``upscale``
    # and, for pixel-unshuffle inputs, ``unshuffle``); networks of other tasks keep 1.
    scale = int(getattr(module, "scale", getattr(module, "upscale", loaded.hparams.get("scale", 1))) or 1)
    multiple = int(getattr(module, "size_multiple", getattr(module, "unshuffle", 1)) or 1)
    prepared = loaded.arch.prepare(sd)
    return Identified(loaded.arch.name, loaded.arch.task, dict(loaded.hparams), scale, multiple, prepared)


def identify_file(path: str | os.PathLike[str]) -> Identified:
    """Read ``path`` safely (``.safetensors`` or ``torch.load(weights_only=True)``) and recognise it."""
    return identify_state_dict(read_state_dict(path), os.fspath(path))


def registered_arch(name: str) -> bool:
    return any(s.name == name for s in arch_specs())


def _plain(value: Any) -> Any:
    """JSON-friendly hyper-parameters (tuples -> lists, numpy/torch scalars -> numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    try:
        return value.item()
    except AttributeError:
        return str(value)


__all__ = ["Identified", "identify_file", "identify_state_dict", "registered_arch"]
