"""The weights error type (kept apart so every weights module can raise it without cycles)."""

from __future__ import annotations

from ..core.protocol import EngineError


class WeightsError(EngineError):
    """A checkpoint could not be read, trusted, recognised or loaded; the message says why."""
