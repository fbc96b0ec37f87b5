"""Reading, canonicalising and writing checkpoint files, without ever running their code.

- ``.safetensors`` is read with ``safetensors.torch.load_file`` (a plain tensor container).
- ``.pth`` / ``.pt`` / ``.ckpt`` / ``.bin`` are pickles: read **only** through
  ``torch.load(..., map_location="cpu", weights_only=True)``, whose restricted unpickler refuses
  anything beyond tensors and plain containers. A file that needs more is refused with a
  :class:`WeightsError`; nothing in it runs.

A *state dict* here is ``dict[str, torch.Tensor]`` with CPU tensors of any dtype, keys named as
our modules name their parameters and buffers (after :func:`canonicalize`).
"""

from __future__ import annotations

import os
import pickle
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_write_bytes
from ..safe_read import file_kind
from .errors import WeightsError

if TYPE_CHECKING:  # pragma: no cover
    import torch

SAFETENSORS_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")

# Wrapper keys seen in official checkpoints, in order of preference: BasicSR saves the EMA weights
# as ``params_ema`` beside the raw ``params`` (the EMA copy is the one its authors evaluate).
WRAPPER_KEYS = ("params_ema", "params", "state_dict", "model", "netG", "generator")
# Prefixes added by nn.DataParallel / DistributedDataParallel (``module.``) and by training
# frameworks that save the generator from a wrapper holding it as ``netG``.
STRIP_PREFIXES = ("module.", "netG.")

# FP16 cannot hold magnitudes above this; a checkpoint with larger values must stay fp32.
_FP16_MAX = 65504.0


def read_checkpoint(path: str | os.PathLike[str]) -> Any:
    """The raw object stored in a checkpoint file (a dict, maybe nested), read safely.

    Raises :class:`WeightsError` for a missing, unreadable, truncated or corrupt file, an unknown
    suffix, or a pickle that needs more than ``weights_only=True`` allows.
    """
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise WeightsError(f"weights file not found: {p}") from None
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {p}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        raise WeightsError(f"not a weights file: {p} is {file_kind(mode)}")
    suffix = p.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        return _read_safetensors(p)
    if suffix in PICKLE_SUFFIXES:
        return _read_pickle(p)
    known = ", ".join(SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES)
    raise WeightsError(f"unknown weights format '{p.suffix or '(none)'}' for {p.name} (expected {known})")


def _read_safetensors(p: Path) -> dict[str, "torch.Tensor"]:
    from safetensors.torch import load_file

    try:
        return load_file(str(p), device="cpu")
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {p}: {exc.strerror or exc}") from exc
    except Exception as exc:  # SafetensorError and friends: bad header, truncated data
        raise WeightsError(
            f"weights file {p.name} is corrupt or truncated (not a valid safetensors file: {exc})"
        ) from exc


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since 1.6 (and TorchScript archives)


def _not_a_checkpoint(p: Path, head: bytes) -> WeightsError:
    """A file that is neither of torch's formats: say what it looks like, not "unsafe objects"."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in text:
        what = "an HTML page (a saved error or login page instead of the download?)"
    elif head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        what = "a text file"
    else:
        what = "unknown binary data"
    return WeightsError(f"{p.name} is not a checkpoint: it looks like {what}. Expected a PyTorch "
                        "checkpoint (.pth) or a .safetensors file.")


def _pickle_is_valid(p: Path) -> bool:
    """Whether the file parses as a pickle; pickletools only reads opcodes, it runs nothing."""
    import pickletools

    try:
        with open(p, "rb") as f:
            for _ in pickletools.genops(f):
                pass
    except Exception:  # noqa: BLE001 - any parse failure means "not a valid pickle"
        return False
    return True


def _read_pickle(p: Path) -> Any:
    import torch

    with open(p, "rb") as f:
        head = f.read(512)
    # A pickle starts with PROTO (0x80) and protocol 2-5 (torch's legacy format is such a pickle);
    # protocols 0 and 1 have no header, so those are recognised by parsing the whole file.
    is_pickle = len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5
    if not head.startswith(ZIP_MAGIC) and not is_pickle and not _pickle_is_valid(p):
        raise _not_a_checkpoint(p, head)
    try:
        return torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if is_pickle and not _pickle_is_valid(p):
            raise WeightsError(f"weights file {p.name} is corrupt or truncated (not a valid pickle)") from exc
        if "weights only" in text.lower() or "weights_only" in text.lower():
            inert = _load_with_inert_objects(p) if head.startswith(ZIP_MAGIC) else None
            if inert is not None:
                return inert
            found = re.search(r"GLOBAL ([\w.]+)", text)
            what = f" (it asks for '{found.group(1)}')" if found else ""
            raise WeightsError(
                f"refused to load {p.name}: the file contains Python objects beyond plain weights"
                f"{what}, which could run code. Only weights_only checkpoints are loaded; convert it "
                "to .safetensors with a trusted tool, or get it from the model's official source."
            ) from exc
        raise WeightsError(f"weights file {p.name} is corrupt or truncated ({text})") from exc
    except PermissionError as exc:
        raise WeightsError(f"cannot read weights file {p}: permission denied") from exc
    except Exception as exc:  # truncated zip (OSError/RuntimeError), garbage (KeyError, EOFError)...
        detail = str(exc) or type(exc).__name__
        raise WeightsError(
            f"weights file {p.name} is corrupt or truncated (torch could not read it: {detail})"
        ) from exc


# Training checkpoints (PyTorch Lightning: LaMa's best.ckpt) store their configuration beside the
# weights as objects of these modules (OmegaConf containers, Lightning's AttributeDict, typing.Any,
# an enum, a path...). Such a checkpoint is read with each of those classes and functions replaced
# by an inert placeholder (:class:`_Inert`): nothing of the named module is imported or called, the
# configuration is discarded and only the tensors are kept. Any other global (os.system, eval, ...)
# still refuses the file.
INERT_MODULES = ("omegaconf", "pytorch_lightning", "lightning", "lightning_fabric", "typing", "enum",
                 "pathlib", "argparse", "collections", "numpy", "_codecs")
INERT_BUILTINS = frozenset({"builtins.dict", "builtins.list", "builtins.tuple", "builtins.set",
                            "builtins.frozenset", "builtins.int", "builtins.float", "builtins.str",
                            "builtins.bool", "builtins.bytes", "builtins.object", "builtins.NoneType",
                            "builtins.type", "builtins.complex", "builtins.slice"})


class _Inert:
    """Stands for an object of a configuration class: accepts any arguments and state, does nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Inert":
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


def _empty_dict(*args: Any) -> dict:
    return {}


def _inert_allowed(name: str) -> bool:
    return name in INERT_BUILTINS or name.split(".", 1)[0] in INERT_MODULES


def _load_with_inert_objects(p: Path) -> Any:
    """The checkpoint with its configuration objects replaced by placeholders, or None when it
    names a global outside :data:`INERT_MODULES` (then the caller refuses it as unsafe)."""
    import torch

    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(p))
    except Exception:  # noqa: BLE001 - not a torch.save zip (TorchScript, damaged): the caller reports
        return None
    if not names or not all(_inert_allowed(n) for n in names):
        return None
    # one placeholder class per name (the unpickler maps a class back to its name); defaultdicts
    # are filled with SETITEMS, which only a real dict accepts
    stubs = [(_empty_dict if n == "collections.defaultdict" else type(f"_Inert_{i}", (_Inert,), {}), n)
             for i, n in enumerate(names)]
    try:
        with torch.serialization.safe_globals(stubs):
            return torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - a structure the placeholders cannot stand in for
        return None


def _as_tensor(value: Any) -> "torch.Tensor | None":
    """A tensor for tensor-like values (tensors, numpy arrays), else None."""
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return torch.from_numpy(np.ascontiguousarray(value))
    return None


def _holds_weights(value: Any) -> bool:
    """True for a mapping worth unwrapping into: it has tensors or a further wrapper key."""
    if not isinstance(value, Mapping):
        return False
    return any(_as_tensor(v) is not None for v in value.values()) or any(
        isinstance(value.get(k), Mapping) for k in WRAPPER_KEYS
    )


def _strip_prefixes(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in STRIP_PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def canonicalize(obj: Any) -> dict[str, "torch.Tensor"]:
    """A flat state dict from whatever a checkpoint holds.

    Unwraps nested wrappers (``params_ema`` preferred over ``params``, then ``state_dict``,
    ``model``, ``netG``, ``generator``) while the wrapped value is a mapping holding tensors; strips
    ``module.`` / ``netG.`` key prefixes (repeatedly); drops non-tensor entries (epochs, optimiser
    settings...). Numpy arrays become tensors. Idempotent. Raises :class:`WeightsError` when no
    tensor remains or two keys collapse onto one name.
    """
    if not isinstance(obj, Mapping):
        raise WeightsError(
            f"this checkpoint holds a {type(obj).__name__}, not a dictionary of weights"
        )
    current: Mapping[str, Any] = obj
    for _ in range(16):  # nesting depth guard (real checkpoints need 2 at most)
        for key in WRAPPER_KEYS:
            inner = current.get(key)
            if _holds_weights(inner):
                current = inner
                break
        else:
            break
    out: dict[str, torch.Tensor] = {}
    for key, value in current.items():
        tensor = _as_tensor(value)
        if tensor is None or not isinstance(key, str):
            continue
        name = _strip_prefixes(key)
        if name in out:
            raise WeightsError(f"checkpoint has two entries for '{name}' after removing prefixes")
        out[name] = tensor
    if not out:
        keys = ", ".join(map(str, list(current.keys())[:8])) or "nothing"
        raise WeightsError(f"no weights found in this checkpoint (it holds: {keys})")
    return out


def require_finite(sd: Mapping[str, "torch.Tensor"]) -> None:
    """Raise :class:`WeightsError` if a floating-point tensor holds NaN or infinity: such weights
    (a diverged training run, a damaged conversion) load fine and then turn every image into
    NaN, so they are refused when a model is installed rather than on every file."""
    import torch

    for key, t in sd.items():
        if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
            raise WeightsError(f"the weights contain NaN or infinite values (first in '{key}'); "
                               "a network with such weights cannot produce an image")


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, "torch.Tensor"]:
    """The canonical state dict of a checkpoint file (:func:`read_checkpoint` + :func:`canonicalize`)."""
    return canonicalize(read_checkpoint(path))


def half_where_fits(sd: Mapping[str, "torch.Tensor"]) -> dict[str, "torch.Tensor"]:
    """Detached CPU copies with every floating tensor in fp16 where its values fit (|x| < 6e4);
    one that does not (a BatchNorm running variance of unnormalised activations) stays fp32, and
    integer buffers keep their dtype. For :func:`save_safetensors` with ``half=False``."""
    out = {}
    for k, v in sd.items():
        v = v.detach().cpu()
        if v.is_floating_point():
            v = v.float()
            fits = float(v.abs().max()) < 6.0e4 if v.numel() else True
            v = v.half() if fits else v
        out[k] = v
    return out


def save_safetensors(
    sd: Mapping[str, "torch.Tensor"],
    path: str | os.PathLike[str],
    half: bool = True,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a state dict as ``.safetensors`` atomically (temp file in the same folder, fsync, replace).

    ``half=True`` stores floating-point tensors as fp16 (integer buffers keep their dtype); it
    refuses values fp16 cannot hold rather than writing infinities. Tensors are made contiguous
    and independent (safetensors rejects shared storage); keys are canonicalised first (wrappers
    and ``module.`` prefixes removed). ``metadata`` is stored as strings.
    """
    import torch
    from safetensors.torch import save as st_save

    tensors: dict[str, torch.Tensor] = {}
    for key, value in canonicalize(dict(sd)).items():
        t = value.detach().to("cpu")
        if half and t.is_floating_point() and t.dtype != torch.float16:
            finite = t[torch.isfinite(t)]
            if finite.numel() and float(finite.abs().max()) > _FP16_MAX:
                raise WeightsError(
                    f"'{key}' holds values beyond the fp16 range; save with half=False"
                )
            t = t.to(torch.float16)
        tensors[key] = t.contiguous().clone()
    data = st_save(tensors, metadata=dict(metadata) if metadata else None)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, data)  # temp file beside it, fsync, os.replace, fsync folder
