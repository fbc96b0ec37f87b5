"""The weights error type (kept apart so every weights module can raise it without cycles)."""

from __future__ import annotations

from typing import Mapping

from ..core.protocol import EngineError


class WeightsError(EngineError):
    """A checkpoint could not be read, trusted, recognised or loaded; the message says why."""


def compare_keys(reference: "Mapping[str, tuple[int, ...]]", sd: "Mapping") -> tuple[list[str], list[str], list[tuple[str, tuple, tuple]]]:
    """How a state dict differs from a network's key -> shape table.

    Returns (missing keys, unexpected keys, [(key, checkpoint shape, network shape)]), in the
    reference's order (unexpected: the state dict's order). ``num_batches_tracked`` counters are
    never reported missing: old checkpoints predate them and the loader fills them.
    """
    missing = [k for k in reference if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in reference]
    mismatched = [(k, tuple(sd[k].shape), tuple(shape)) for k, shape in reference.items()
                  if k in sd and tuple(sd[k].shape) != tuple(shape)]
    return missing, unexpected, mismatched
