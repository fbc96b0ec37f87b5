"""Terminal output and argument checks shared by the headless ``ganstudio train|bench <engine>`` commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def print_progress(info: dict[str, Any]) -> None:
    """One ``key=value`` line per progress dict (floats to 4 significant digits), flushed at once
    so a log file or a pipe shows training as it goes."""
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items()), flush=True)


def data_folder(value: str | None, command: str, example: str) -> Path | None:
    """The ``--data`` folder of a bench command, or None after saying on stderr what is wrong
    (missing or not a folder); the caller then exits 2."""
    if not value:
        print(f"{command}: --data DIR is required (e.g. {example})", file=sys.stderr)
        return None
    data = Path(value)
    if not data.is_dir():
        print(f"{command}: data folder not found: {data}", file=sys.stderr)
        return None
    return data
