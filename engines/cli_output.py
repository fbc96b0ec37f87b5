"""Terminal output shared by the headless ``ganstudio train <engine>`` commands."""

from __future__ import annotations

from typing import Any


def print_progress(info: dict[str, Any]) -> None:
    """One ``key=value`` line per progress dict (floats to 4 significant digits), flushed at once
    so a log file or a pipe shows training as it goes."""
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items()), flush=True)
