"""The model manager's error type (kept apart so every module can raise it without cycles)."""

from __future__ import annotations

from ..core.protocol import EngineError


class ModelError(EngineError):
    """A model could not be found, downloaded, verified, imported or removed; the message says why
    and, where there is one, what to do instead (e.g. import a file when offline)."""


OFFLINE_HINT = ("To install it without the network, download the file on another machine and run "
                "`ganstudio models import FILE` (or Engines ▸ Models… ▸ Import… in the editor).")
