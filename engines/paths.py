"""Where bundled resources and per-user data live (no Qt: plain platform conventions)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The project is installed editable (``pip install -e .``), so resources/ sits beside the packages.
RESOURCES = Path(os.environ.get("GANSTUDIO_RESOURCES", Path(__file__).resolve().parents[1] / "resources"))
SAMPLES = RESOURCES / "samples"
BUNDLED_WEIGHTS = RESOURCES / "weights"
PALETTES = RESOURCES / "palettes"


def user_data_dir() -> Path:
    """Per-user data folder (installed models, recovery files). ``GANSTUDIO_DATA`` overrides."""
    override = os.environ.get("GANSTUDIO_DATA")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "ganstudio"


def default_sample() -> Path:
    """The photo ``make run`` opens."""
    return SAMPLES / "astronaut.png"
