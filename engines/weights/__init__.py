"""Weights as verified data: safe reading, canonical key names, architecture detection, strict loading.

Importing this package does not import torch; the functions import it when called.
"""

from .arch import ArchSpec, arch_specs, detect_arch, get_arch, register_arch, unregister_arch
from .errors import WeightsError
from .files import canonicalize, read_checkpoint, read_state_dict, require_finite, save_safetensors
from .loader import LoadedModel, load_model, load_strict

__all__ = [
    "ArchSpec", "LoadedModel", "WeightsError", "arch_specs", "canonicalize", "detect_arch",
    "get_arch", "load_model", "load_strict", "read_checkpoint", "read_state_dict", "register_arch", "require_finite",
    "save_safetensors", "unregister_arch",
]
