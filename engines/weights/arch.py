"""Architecture registry: recognise a network from its state-dict key names, build it from shapes.

An :class:`ArchSpec` is registered by the engine module that implements the network (the
super-resolution module registers RRDBNet, SRVGGNetCompact...). Detection looks only at key names
and shapes of the canonical state dict (``dict[str, torch.Tensor]`` after
:func:`engines.weights.files.canonicalize`); building infers every hyper-parameter from tensor
shapes so that official checkpoints load unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..core.protocol import Task
from .errors import WeightsError, compare_keys

if TYPE_CHECKING:  # pragma: no cover
    import torch

StateDict = Mapping[str, "torch.Tensor"]

# Modules that register architectures on import. Add an engine module here when it gains one;
# a module that does not exist (yet) is skipped.
BUILTIN_ARCH_MODULES: tuple[str, ...] = ("engines.sr.archs", "engines.inpaint.arch", "engines.colorize.archs",
                                         "engines.spade.archs", "engines.spade.segment",
                                         "engines.latent.archs", "engines.inpaint.lama")


@dataclass(frozen=True)
class ArchSpec:
    """One network architecture the loader can recognise and build.

    Attributes:
        name: unique id, e.g. ``"esrgan"`` (shown in errors and model cards).
        task: the task its engines serve.
        detect: True when a canonical state dict is this architecture (key names, maybe shapes).
            Called on the dict after ``remap``. Must not raise for other architectures' dicts
            (an exception counts as "no").
        build: ``sd -> (module, hparams)``: a freshly initialised ``torch.nn.Module`` whose
            ``state_dict()`` keys/shapes match ``sd``, with hyper-parameters inferred from shapes.
        remap: optional ``sd -> sd`` renaming old official key names to ours (e.g. the original
            ESRGAN release). Must be idempotent: a dict already in our names comes back unchanged.
        required_keys: key names every checkpoint of this architecture has; used to name the
            closest architecture when nothing matches.
    """

    name: str
    task: Task
    detect: Callable[[StateDict], bool]
    build: Callable[[StateDict], "tuple[torch.nn.Module, dict[str, Any]]"]
    remap: Callable[[dict], dict] | None = None
    required_keys: tuple[str, ...] = ()

    def prepare(self, sd: StateDict) -> dict:
        """The state dict in this architecture's key names (``remap`` applied if any)."""
        return dict(self.remap(dict(sd))) if self.remap is not None else dict(sd)

    def matches(self, sd: StateDict) -> bool:
        """``detect`` on the remapped dict; a detector that raises means "not this one"."""
        try:
            return bool(self.detect(self.prepare(sd)))
        except Exception:
            return False


_ARCHS: dict[str, ArchSpec] = {}
_BUILTINS_LOADED = False


def register_arch(spec: ArchSpec) -> ArchSpec:
    """Register (or replace, by name) an architecture. Returns ``spec`` (usable as a decorator helper)."""
    _ARCHS[spec.name] = spec
    return spec


def unregister_arch(name: str) -> None:
    """Remove an architecture (tests)."""
    _ARCHS.pop(name, None)


def _load_builtin_archs() -> None:
    """Import the engine modules that register architectures (once; missing modules are skipped)."""
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    for module in BUILTIN_ARCH_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # Only tolerate the listed module itself being absent, not a broken import inside it.
            if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
                raise


def arch_specs(task: Task | str | None = None) -> list[ArchSpec]:
    """Registered architectures in registration order, optionally only those of ``task``."""
    _load_builtin_archs()
    wanted = None if task is None else Task(task)
    return [s for s in _ARCHS.values() if wanted is None or s.task == wanted]


def get_arch(name: str) -> ArchSpec:
    """The architecture registered as ``name``; :class:`WeightsError` listing the known ones."""
    _load_builtin_archs()
    if name not in _ARCHS:
        known = ", ".join(sorted(_ARCHS)) or "none"
        raise WeightsError(f"unknown architecture '{name}' (known: {known})")
    return _ARCHS[name]


def _overlap(spec: ArchSpec, keys: set[str]) -> float:
    """Fraction of the spec's required keys present (after its remap) - the "closeness" score."""
    if not spec.required_keys:
        return 0.0
    return sum(k in keys for k in spec.required_keys) / len(spec.required_keys)


def _prepared_keys(spec: ArchSpec, sd: StateDict) -> set[str]:
    try:
        return set(spec.prepare(sd))
    except Exception:
        return set(sd)


def detect_arch(sd: StateDict) -> ArchSpec:
    """The registered architecture of a canonical state dict.

    When several match, the one with the most required keys present wins (ties: registration
    order). When none matches, raises :class:`WeightsError` naming the closest architecture by
    overlap with its required keys, with a few of its missing keys; when the closest one can be
    built from the dict, its full key set is compared, adding unexpected keys and shape differences.
    """
    specs = arch_specs()
    if not specs:
        raise WeightsError("no network architectures are registered, so no checkpoint can be recognised")
    matched = [s for s in specs if s.matches(sd)]
    if matched:
        return max(matched, key=lambda s: _overlap(s, _prepared_keys(s, sd)))
    raise WeightsError(_no_match_message(sd, specs))


def _no_match_message(sd: StateDict, specs: list[ArchSpec]) -> str:
    scored = [(s, _overlap(s, keys), keys) for s in specs for keys in [_prepared_keys(s, sd)]]
    best, score, keys = max(scored, key=lambda item: item[1])
    head = f"unrecognised checkpoint: none of the known architectures matches its {len(sd)} keys"
    if score <= 0.0:
        sample = ", ".join(sorted(sd)[:6])
        known = ", ".join(s.name for s in specs)
        return f"{head} (known: {known}); its keys start: {sample}"
    parts = [
        f"{head}. Closest: '{best.name}' ({best.task.value}), {score:.0%} of its required keys present",
    ]
    missing = [k for k in best.required_keys if k not in keys]
    unexpected: list[str] = []
    mismatched: list[str] = []
    reference = _reference_shapes(best, sd)
    if reference is not None:  # the closest one could be built: compare with its full key set
        missing, unexpected, shapes = compare_keys(reference, best.prepare(sd))
        unexpected = sorted(unexpected)
        mismatched = [f"{k} {got} vs {want}" for k, got, want in shapes]
    if missing:
        parts.append(f"missing: {_few(missing)}")
    if unexpected:
        parts.append(f"unexpected: {_few(unexpected)}")
    if mismatched:
        parts.append(f"other shapes: {_few(mismatched)}")
    return "; ".join(parts)


def _reference_shapes(spec: ArchSpec, sd: StateDict) -> dict[str, tuple[int, ...]] | None:
    """Key -> shape of the network ``spec`` builds from ``sd``, or None when it cannot be built."""
    try:
        module, _ = spec.build(spec.prepare(sd))
        return {k: tuple(v.shape) for k, v in module.state_dict().items()}
    except Exception:
        return None


def _few(items: list[str], n: int = 5) -> str:
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more
