"""Engine core: protocol, cancellation, registry, device policy."""

from .cancel import Cancelled, CancelToken
from .protocol import (
    ColorizeRequest,
    Engine,
    EngineError,
    EngineInfo,
    Hint,
    InpaintRequest,
    Input,
    LatentEditRequest,
    Preview,
    Progress,
    Request,
    Result,
    RunContext,
    SynthesizeRequest,
    Task,
    UpscaleRequest,
    drive,
)
from .registry import get, infos, register

__all__ = [
    "Cancelled", "CancelToken", "ColorizeRequest", "Engine", "EngineError", "EngineInfo", "Hint",
    "InpaintRequest", "Input", "LatentEditRequest", "Preview", "Progress", "Request", "Result",
    "RunContext", "SynthesizeRequest", "Task", "UpscaleRequest", "drive", "get", "infos", "register",
]
