"""Device and precision policy: where a run computes and in which floating-point type.

Importing this module does not import torch; every function that needs torch imports it inside.

Environment overrides (read at call time, validated, unknown values are a clear error):

- ``GANSTUDIO_DEVICE``: ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (what ``auto`` means; an explicit
  choice, the editor's Preferences or a command's ``--device``, wins over it).
- ``GANSTUDIO_DTYPE``: ``float32``, ``float16`` or ``bfloat16`` (aliases ``fp32``, ``fp16``, ``half``,
  ``bf16``). A half type is honoured even for engines without ``supports_half`` (it is an explicit
  expert choice), but never on the CPU, where fp16 kernels are slow or missing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cancel import CancelToken
from .protocol import EngineError, EngineInfo, RunContext

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEVICE_ENV = "GANSTUDIO_DEVICE"
DTYPE_ENV = "GANSTUDIO_DTYPE"

DTYPES = ("float32", "float16", "bfloat16")
_DTYPE_ALIASES = {
    "float32": "float32", "fp32": "float32", "float": "float32", "single": "float32",
    "float16": "float16", "fp16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
}
_DEVICE_RE = re.compile(r"^(cpu|mps|cuda)(?::(\d+))?$")


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def normalize_device(name: str) -> str:
    """Validate a device name (``cpu``, ``cuda``, ``cuda:N``, ``mps``) and check it exists here.

    Raises :class:`EngineError` with a readable message for unknown or unavailable devices.
    """
    text = name.strip().lower()
    match = _DEVICE_RE.match(text)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise EngineError(
            f"unknown device '{name}' (expected cpu, cuda, cuda:N or mps)"
        )
    kind, index = match.group(1), match.group(2)
    if kind == "cpu":
        return "cpu"
    import torch

    if kind == "cuda":
        if not torch.cuda.is_available():
            raise EngineError(f"device '{name}' requested but CUDA is not available on this machine")
        if index is not None and int(index) >= torch.cuda.device_count():
            raise EngineError(
                f"device '{name}' requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        return text
    if not _mps_available():
        raise EngineError(f"device '{name}' requested but Apple MPS is not available on this machine")
    return "mps"


AUTO = "auto"


@dataclass(frozen=True)
class DeviceOption:
    """One entry of a device picker: ``choice`` is what a setting or ``--device`` stores."""

    choice: str  # "auto", "cpu", "cuda:0", ..., "mps"
    label: str  # for people: "CUDA 0 — NVIDIA H200 (139 GiB)"


def list_devices() -> list[DeviceOption]:
    """Auto, CPU, then each CUDA device torch sees, then MPS when it is available.

    Imports torch (the picker needs to know what exists); a torch that cannot be imported leaves
    Auto and CPU.
    """
    options = [DeviceOption(AUTO, "Auto"), DeviceOption("cpu", "CPU")]
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency; keep the picker usable
        return options
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            label = f"CUDA {index}"
            try:
                props = torch.cuda.get_device_properties(index)
                label += f" — {props.name} ({props.total_memory / 1024**3:.0f} GiB)"
            except Exception:  # noqa: BLE001 - a name is a nicety; the device is still listed
                pass
            options.append(DeviceOption(f"cuda:{index}", label))
    if _mps_available():
        options.append(DeviceOption("mps", "Apple MPS"))
    return options


def parse_device_choice(text: str | None) -> str:
    """A device choice as stored in a setting or given to ``--device``: ``auto`` (or empty) or a
    device that exists here (``cpu``, ``cuda``, ``cuda:N``, ``mps``), normalised.

    Raises :class:`EngineError` with a readable message for an unknown or unavailable device.
    ``auto`` and ``cpu`` never import torch.
    """
    choice = (text or "").strip().lower()
    if choice in ("", AUTO):
        return AUTO
    return normalize_device(choice)


def resolve_device(choice: str | None = None) -> str:
    """The concrete device for a choice: ``auto``/None is :func:`pick_device`, anything else is
    checked with :func:`normalize_device`. An explicit choice wins over ``$GANSTUDIO_DEVICE``."""
    choice = parse_device_choice(choice)
    return pick_device() if choice == AUTO else choice


def pick_device() -> str:
    """The device to run on: ``$GANSTUDIO_DEVICE`` if set, else ``cuda``, else ``mps``, else ``cpu``."""
    override = os.environ.get(DEVICE_ENV, "").strip()
    if override:
        return normalize_device(override)
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def normalize_dtype(name: str) -> str:
    """Canonical dtype name (``float32``/``float16``/``bfloat16``) for a name or alias."""
    canonical = _DTYPE_ALIASES.get(name.strip().lower())
    if canonical is None:
        raise EngineError(f"unknown dtype '{name}' (expected one of: {', '.join(DTYPES)})")
    return canonical


def _bf16_supported(device: str) -> bool:
    import torch

    if not device.startswith("cuda"):
        return False
    try:
        return bool(torch.cuda.is_bf16_supported())
    except Exception:  # pragma: no cover - old drivers
        return False


def pick_dtype(device: str, info: EngineInfo, prefer: str = "auto") -> str:
    """The compute dtype name for an engine on ``device``.

    Policy: half precision only on CUDA and only when ``info.supports_half``; ``prefer`` may be
    ``"auto"`` (fp16), ``"float16"``, ``"bfloat16"`` (used where the GPU supports it, else fp16) or
    ``"float32"`` (always honoured). ``$GANSTUDIO_DTYPE`` overrides all of this except that the CPU
    always computes in float32. Returns ``"float32"``, ``"float16"`` or ``"bfloat16"``.
    """
    is_cuda = device.startswith("cuda")
    override = os.environ.get(DTYPE_ENV, "").strip()
    if override:
        chosen = normalize_dtype(override)
        if chosen == "float32" or device == "cpu":
            return "float32"
        if chosen == "bfloat16" and is_cuda and not _bf16_supported(device):
            raise EngineError(f"{DTYPE_ENV}=bfloat16 but this GPU does not support bfloat16")
        return chosen
    want = "auto" if prefer.strip().lower() == "auto" else normalize_dtype(prefer)
    if want == "float32" or not is_cuda or not info.supports_half:
        return "float32"
    if want == "bfloat16" and _bf16_supported(device):
        return "bfloat16"
    return "float16"


def torch_dtype(name: str) -> "torch.dtype":
    """The ``torch.dtype`` for a dtype name or alias (``float16`` -> ``torch.float16``)."""
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[
        normalize_dtype(name)
    ]


def make_context(
    info: EngineInfo, cancel: CancelToken | None = None, tile: int = 0, device: str | None = None
) -> RunContext:
    """A :class:`RunContext` for ``info`` with the policy device and dtype and a cancel token.

    ``device``: a choice (``auto``/None = :func:`pick_device`, or ``cpu``, ``cuda:N``, ``mps``:
    the editor's Preferences, a command's ``--device``). Classical engines (``uses_torch=False``)
    get ``cpu``/``float32`` without importing torch.
    """
    token = cancel if cancel is not None else CancelToken()
    if not info.uses_torch:
        return RunContext(device="cpu", dtype="float32", cancel=token, tile=tile)
    device = resolve_device(device)
    return RunContext(device=device, dtype=pick_dtype(device, info), cancel=token, tile=tile)


def _meminfo_available(path: str = "/proc/meminfo") -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    parts = line.split()
                    return int(parts[1]) * 1024  # the file says kB (KiB)
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_memory_bytes(device: str) -> int:
    """Free memory (bytes) usable by a run on ``device``.

    CUDA: ``torch.cuda.mem_get_info`` (free on the device). CPU/MPS (unified memory): MemAvailable
    from ``/proc/meminfo``, else ``os.sysconf`` available pages, else a conservative 2 GiB guess.
    """
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    available = _meminfo_available()
    if available is not None:
        return available
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2 * 1024**3
