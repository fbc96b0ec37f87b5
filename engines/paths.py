"""Where bundled resources and per-user folders live (no Qt: plain platform conventions).

**Bundled resources** (weights and their cards, the model catalog, palettes, sample photos, the
desktop file and icons) ship inside the installed package as ``engines/resources/`` and are found
with :mod:`importlib.resources`. The source tree keeps them in the top-level ``resources/`` folder
(``pyproject.toml`` maps it into the package when the wheel is built); a source checkout or an
editable install reads that folder directly. ``GANSTUDIO_RESOURCES`` overrides both.

**Per-user folders** come from :mod:`platformdirs` (XDG on Linux, ``~/Library`` on macOS,
``%LOCALAPPDATA%`` on Windows):

- data  (installed models):             ``user_data_dir()``   e.g. ``~/.local/share/ganstudio``
- cache (partial downloads):            ``user_cache_dir()``  e.g. ``~/.cache/ganstudio``
- state (crash-recovery files):         ``user_state_dir()``  e.g. ``~/.local/state/ganstudio``

``GANSTUDIO_DATA`` puts all three under one folder (``<it>``, ``<it>/cache``, ``<it>/state``): the
tests use it, and so can a portable install. An empty or relative ``XDG_*_HOME`` is ignored, as the
XDG spec says, instead of making a ``ganstudio`` folder in the current directory.
"""

from __future__ import annotations

import os
import sys
from importlib import resources as _resources
from pathlib import Path

APP_NAME = "ganstudio"
RESOURCES_ENV = "GANSTUDIO_RESOURCES"
DATA_ENV = "GANSTUDIO_DATA"


class ResourcesNotFound(RuntimeError):
    """The bundled resources folder is missing (a broken install or a bad ``GANSTUDIO_RESOURCES``)."""


def _source_tree_resources() -> Path:
    return Path(__file__).resolve().parents[1] / "resources"


def find_resources() -> Path:
    """The bundled resources folder: ``$GANSTUDIO_RESOURCES``, else the installed package's
    ``engines/resources`` (importlib.resources), else the source tree's ``resources/``.

    Never raises: when none exists the installed-package location is returned, and the first
    reader of a file there reports what is missing (see :func:`check_resources`).
    """
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    packaged = _resources.files("engines").joinpath("resources")
    # a wheel installed on disk: a real folder (zip imports are not supported: weights are mmapped)
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    source = _source_tree_resources()
    if source.is_dir():
        return source
    return Path(str(packaged))


def check_resources(folder: Path | None = None) -> Path:
    """``folder`` (default :data:`RESOURCES`) if it holds the model catalog, else a clear error."""
    folder = RESOURCES if folder is None else folder
    if not (folder / "models.json").is_file():
        how = (f"${RESOURCES_ENV} points at {folder}" if os.environ.get(RESOURCES_ENV)
               else f"looked in {folder}")
        raise ResourcesNotFound(f"GAN Studio's bundled resources are missing ({how}); "
                                "reinstall the package or fix the variable")
    return folder


RESOURCES = find_resources()
SAMPLES = RESOURCES / "samples"
BUNDLED_WEIGHTS = RESOURCES / "weights"
PALETTES = RESOURCES / "palettes"
DESKTOP = RESOURCES / "desktop"


def _xdg_relative(var: str) -> bool:
    """True when ``var`` is set to a relative path on a platform that reads it (XDG: ignore it)."""
    value = os.environ.get(var, "")
    return sys.platform not in ("win32", "darwin") and value.strip() != "" and not os.path.isabs(value)


def _platform_dir(kind: str) -> Path:
    import platformdirs

    var, fallback = {"data": ("XDG_DATA_HOME", ".local/share"), "cache": ("XDG_CACHE_HOME", ".cache"),
                     "state": ("XDG_STATE_HOME", ".local/state")}[kind]
    if _xdg_relative(var):
        return Path.home() / fallback / APP_NAME
    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """Per-user data folder (installed models). ``GANSTUDIO_DATA`` overrides."""
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else _platform_dir("data")


def user_cache_dir() -> Path:
    """Per-user cache folder (partial downloads: safe to delete)."""
    override = os.environ.get(DATA_ENV)
    return Path(override) / "cache" if override else _platform_dir("cache")


def user_state_dir() -> Path:
    """Per-user state folder (crash-recovery files)."""
    override = os.environ.get(DATA_ENV)
    return Path(override) / "state" if override else _platform_dir("state")


def default_sample() -> Path:
    """The photo ``make run`` opens."""
    return SAMPLES / "astronaut.png"
