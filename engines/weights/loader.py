"""Load a checkpoint into a freshly built network: read, canonicalise, recognise, build, strict load.

Strictness is the point: every parameter and buffer of the built module must come from the
checkpoint with the same shape, and the checkpoint must hold nothing the module lacks. Differences
are reported as a :class:`WeightsError` listing them; nothing is loaded "partially".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.protocol import Task
from .arch import ArchSpec, detect_arch, get_arch
from .errors import WeightsError, compare_keys
from .files import canonicalize, read_checkpoint

if TYPE_CHECKING:  # pragma: no cover
    import torch

_SHOW = 8  # keys listed per category in error messages


@dataclass
class LoadedModel:
    """A network with its weights loaded, on the CPU, in float32 (unless built otherwise), eval mode.

    ``source`` is the file path, or ``"<state dict>"`` for an in-memory dict.
    """

    module: "torch.nn.Module"
    arch: ArchSpec
    hparams: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def load_model(
    src: str | os.PathLike[str] | Mapping[str, Any],
    task: Task | str | None = None,
    arch_name: str | None = None,
) -> LoadedModel:
    """Load a checkpoint (file path or state dict / checkpoint dict) into its architecture.

    Args:
        src: a ``.safetensors``/``.pth``/``.pt``/``.ckpt``/``.bin`` path, or an in-memory mapping
            (wrapped or flat; canonicalised the same way).
        task: when given, the checkpoint must be for this task (clear error otherwise).
        arch_name: skip detection and use this registered architecture.

    Raises :class:`WeightsError` for unreadable/unsafe files, unknown architectures, the wrong task,
    hyper-parameters that cannot be inferred, and any key or shape mismatch.
    """
    if isinstance(src, Mapping):
        raw, source = src, "<state dict>"
    else:
        raw, source = read_checkpoint(src), os.fspath(src)
    sd = canonicalize(raw)
    spec = get_arch(arch_name) if arch_name is not None else detect_arch(sd)
    if task is not None:
        wanted = Task(task)
        if spec.task != wanted:
            raise WeightsError(
                f"this checkpoint is {_article(spec.name)} {spec.name} (task {spec.task.value}), "
                f"not {_article(wanted.value)} {wanted.value} model"
            )
    sd = spec.prepare(sd)
    try:
        module, hparams = spec.build(sd)
    except WeightsError:
        raise
    except Exception as exc:
        raise WeightsError(
            f"could not build a {spec.name} network from this checkpoint "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    load_strict(module, sd, spec.name)
    module.eval()
    return LoadedModel(module=module, arch=spec, hparams=dict(hparams), source=source)


def fill_batchnorm_counters(expected: Mapping[str, Any], sd: dict[str, "torch.Tensor"]) -> list[str]:
    """Add missing BatchNorm ``num_batches_tracked`` buffers as 0; returns the keys added.

    Why: PyTorch 0.4.1 added this buffer, so older official checkpoints lack it. It only counts
    training steps (used for momentum=None averaging) and has no effect on inference, so 0 is the
    honest value and the strict check below would otherwise reject every pre-0.4.1 checkpoint.
    """
    import torch

    added = []
    for key in expected:
        if (key == "num_batches_tracked" or key.endswith(".num_batches_tracked")) and key not in sd:
            sd[key] = torch.tensor(0, dtype=torch.long)
            added.append(key)
    return added


def load_strict(module: "torch.nn.Module", sd: Mapping[str, "torch.Tensor"], name: str = "network") -> None:
    """Copy ``sd`` into ``module`` after checking key sets and shapes ourselves.

    Raises :class:`WeightsError` listing missing keys, unexpected keys (first 8 of each) and shape
    mismatches. Values are cast to the module's dtypes by ``load_state_dict``.
    """
    expected = module.state_dict()
    sd = dict(sd)
    fill_batchnorm_counters(expected, sd)
    missing, unexpected, shapes = compare_keys({k: tuple(v.shape) for k, v in expected.items()}, sd)
    mismatched = [f"{k}: checkpoint {got} vs network {want}" for k, got, want in shapes]
    if missing or unexpected or mismatched:
        parts = [f"checkpoint does not fit the {name} network"]
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_list(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_list(unexpected)}")
        if mismatched:
            parts.append(f"{len(mismatched)} shape mismatch(es): {_list(mismatched)}")
        raise WeightsError("; ".join(parts))
    module.load_state_dict(sd, strict=True)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _list(items: list[str]) -> str:
    more = f" ... (+{len(items) - _SHOW} more)" if len(items) > _SHOW else ""
    return ", ".join(items[:_SHOW]) + more
