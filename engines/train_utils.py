"""Small pieces every ``ganstudio train <engine>`` loop shares: checkpoints that are never half
written, a JSON-lines log, and the fp16 export of a checkpoint's model weights."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def cosine_lr(progress: float, lr: float, min_lr: float) -> float:
    """Cosine decay from ``lr`` at progress 0 to ``min_lr`` at progress 1 (no warm-up). The one
    cosine schedule of every trainer (sr, colorize, inpaint, spade, the GPU kit's ``loop.cosine``)."""
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, then rename: a kill never leaves a torn file."""
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def append_log(out: Path, info: dict[str, Any]) -> None:
    """One JSON object per line in ``out/log.jsonl``."""
    with open(Path(out) / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(info) + "\n")


def export_model(ckpt: Path, dest: Path, half: bool = True, key: str = "model") -> Path:
    """Write ``state[key]`` of a training checkpoint as (fp16) ``.safetensors``."""
    import torch

    from .weights.files import save_safetensors

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    save_safetensors(state[key], dest, half=half)
    return dest
