"""Declared settings: typed keys with defaults and a schema version over QSettings.

Every key the app persists is listed in ``KEYS`` with its type and default, so reading a
setting never needs a type guess at the call site, a bad stored value falls back to the
default, and a schema bump drops keys written by an older layout in one place.

Tests and screenshots never touch the user's settings: pass an .ini path to ``Settings`` or set
``GANSTUDIO_SETTINGS`` (see ``settings_for_tests``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QDataStream, QPoint, QRect, QSettings
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QWidget

from .tools.toolstate import ToolState

# Bump when a key changes meaning or type; old keys are then dropped on open.
SCHEMA_VERSION = 1
RECENT_MAX = 10


@dataclass(frozen=True)
class Key:
    name: str
    type: type  # bool, int, float, str, bytes or list (a list of str)
    default: Any


SCHEMA = Key("meta/schema_version", int, SCHEMA_VERSION)
WINDOW_GEOMETRY = Key("window/geometry", bytes, b"")
WINDOW_STATE = Key("window/state", bytes, b"")
RECENT_FILES = Key("files/recent", list, ())
TOOL_SIZE = Key("tool/size", int, 24)
TOOL_HARDNESS = Key("tool/hardness", float, 0.8)
TOOL_OPACITY = Key("tool/opacity", float, 1.0)
TOOL_COLOR = Key("tool/color", str, "#dc2828")
PALETTE_SWATCHES = Key("palette/swatches", list, ())  # empty = the dock's built-in defaults
LABELS_PALETTE = Key("labels/palette", str, "basic")
LABELS_OPACITY = Key("labels/opacity", float, 0.5)
SHOW_MASK = Key("view/show_mask", bool, True)
SHOW_HINTS = Key("view/show_hints", bool, True)
SHOW_LABELS = Key("view/show_labels", bool, True)
AUTOSAVE_INTERVAL = Key("autosave/interval_s", int, 60)
DEVICE = Key("engines/device", str, "auto")  # Preferences: auto, cpu, cuda:N, mps (engines.core.device)
LOSSY_QUALITY = Key("files/lossy_quality", int, 0)  # JPEG / WebP save quality; 0 = not asked yet

KEYS: dict[str, Key] = {k.name: k for k in (
    SCHEMA, WINDOW_GEOMETRY, WINDOW_STATE, RECENT_FILES, TOOL_SIZE, TOOL_HARDNESS, TOOL_OPACITY,
    TOOL_COLOR, PALETTE_SWATCHES, LABELS_PALETTE, LABELS_OPACITY, SHOW_MASK, SHOW_HINTS,
    SHOW_LABELS, AUTOSAVE_INTERVAL, LOSSY_QUALITY, DEVICE,
)}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _default(key: Key) -> Any:
    return list(key.default) if key.type is list else key.default


def _key(key: Key | str) -> Key:
    """Keys may be passed by name ("tool/size"); only declared names are accepted."""
    if isinstance(key, Key):
        return key
    try:
        return KEYS[key]
    except KeyError:
        raise KeyError(f"undeclared setting {key!r}: add it to app.settings.KEYS") from None


def coerce(key: Key, value: Any) -> Any:
    """Convert a stored value to ``key.type``; raise ValueError/TypeError when it cannot be.

    QSettings (IniFormat especially) hands back strings for ints and bools, a bare str for a
    one-element list and None for an empty list, so each type accepts those forms.
    """
    t = key.type
    if t is list:
        if value is None:  # IniFormat's empty list
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value]
        raise TypeError(f"not a list: {value!r}")
    if value is None:
        raise TypeError("no value")
    if t is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"not a bool: {value!r}")
    if t is int:
        if isinstance(value, bool):
            raise TypeError("bool is not an int setting")
        number = float(value)  # accepts "60" and "60.0"
        if not number.is_integer():
            raise ValueError(f"not an int: {value!r}")
        return int(number)
    if t is float:
        if isinstance(value, bool):
            raise TypeError("bool is not a float setting")
        return float(value)
    if t is str:
        if not isinstance(value, (str, int, float)):
            raise TypeError(f"not a str: {value!r}")
        return str(value)
    if t is bytes:
        if isinstance(value, QByteArray):
            return bytes(value.data())
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        raise TypeError(f"not bytes: {value!r}")
    raise TypeError(f"unsupported setting type {t!r}")


def default_settings_path() -> Path | None:
    """The .ini named by ``GANSTUDIO_SETTINGS``, or None for the platform default store."""
    env = os.environ.get("GANSTUDIO_SETTINGS")
    return Path(env) if env else None


class Settings:
    """Typed access to the app's QSettings store.

    ``path``: an .ini file (IniFormat); None means ``GANSTUDIO_SETTINGS`` when set, else the
    platform default ``QSettings("GANStudio", "GANStudio")``.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        path = Path(path) if path is not None else default_settings_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings("GANStudio", "GANStudio")
        self._check_schema()

    @property
    def qsettings(self) -> QSettings:
        return self._qs

    @property
    def path(self) -> Path:
        return Path(self._qs.fileName())

    def _check_schema(self) -> None:
        try:
            stored = coerce(SCHEMA, self._qs.value(SCHEMA.name))
        except (TypeError, ValueError):
            stored = None
        if stored != SCHEMA_VERSION:
            # Keys from another layout may mean something else now: start clean rather than guess.
            self._qs.clear()
            self._qs.setValue(SCHEMA.name, SCHEMA_VERSION)
            self._qs.sync()

    # ------------------------------------------------------------------ typed access
    def get(self, key: Key | str) -> Any:
        """The stored value as ``key.type``; the default when absent or unreadable."""
        key = _key(key)
        if not self._qs.contains(key.name):
            return _default(key)
        try:
            return coerce(key, self._qs.value(key.name))
        except (TypeError, ValueError, OverflowError):
            return _default(key)

    def set(self, key: Key | str, value: Any) -> None:
        key = _key(key)
        value = coerce(key, value)  # fail at the writer, not at the next start
        if key.type is bytes:
            value = QByteArray(value)
        elif key.type is list:
            value = list(value)
        self._qs.setValue(key.name, value)

    def remove(self, key: Key | str) -> None:
        self._qs.remove(_key(key).name)

    def sync(self) -> None:
        self._qs.sync()

    # ------------------------------------------------------------------ recent files
    def add_recent_file(self, path: str | os.PathLike) -> None:
        path = str(Path(path).resolve())
        recent = [p for p in self.get(RECENT_FILES) if p != path]
        self.set(RECENT_FILES, [path, *recent][:RECENT_MAX])

    def recent_files(self) -> list[str]:
        """Newest first, deduplicated, only files that still exist."""
        out: list[str] = []
        for p in self.get(RECENT_FILES):
            if p not in out and Path(p).is_file():
                out.append(p)
        return out

    # ------------------------------------------------------------------ window geometry
    def save_geometry(self, window: QWidget) -> None:
        self.set(WINDOW_GEOMETRY, bytes(window.saveGeometry().data()))
        save_state = getattr(window, "saveState", None)  # QMainWindow only
        if save_state is not None:
            self.set(WINDOW_STATE, bytes(save_state().data()))

    def restore_geometry(self, window: QWidget) -> bool:
        """Put the window back where it was if that spot is on a connected screen.

        Otherwise (monitor unplugged, first start, unreadable data) keep the saved size, capped to
        the screen, and centre the window on the primary screen. Returns True when the saved
        geometry was used. The check runs on the saved rectangle itself, before Qt's own
        restoreGeometry, which would only nudge an off-screen window to the nearest edge.
        """
        geometry = self.get(WINDOW_GEOMETRY)
        saved = saved_frame_rect(geometry)
        if saved is not None and _on_a_screen(saved) and window.restoreGeometry(QByteArray(geometry)):
            state = self.get(WINDOW_STATE)
            restore_state = getattr(window, "restoreState", None)
            if state and restore_state is not None:
                restore_state(QByteArray(state))
            return True
        if saved is not None:
            window.resize(saved.size())
        center_on_primary(window)
        return False


def saved_frame_rect(geometry: bytes) -> QRect | None:
    """The frame rectangle inside QWidget.saveGeometry() data, None when it is not such data.

    The blob starts with a magic number, a format version (two quint16) and the frame QRect,
    the same layout since Qt 4.
    """
    if len(geometry) < 24:
        return None
    stream = QDataStream(QByteArray(geometry))
    magic = stream.readUInt32()
    stream.readUInt16(), stream.readUInt16()  # major, minor version
    rect = QRect()
    stream >> rect
    if magic != 0x1D9D0CB or stream.status() != QDataStream.Status.Ok or not rect.isValid():
        return None
    return rect


def _on_a_screen(rect: QRect, min_visible: int = 50) -> bool:
    """True when enough of ``rect`` (both ways, in pixels) lies on some screen to grab the title bar."""
    for screen in QGuiApplication.screens():
        inter = rect.intersected(screen.availableGeometry())
        if inter.width() >= min(min_visible, rect.width()) and inter.height() >= min(min_visible, rect.height()):
            return True
    return False


def center_on_primary(window: QWidget) -> None:
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    # Never larger than the screen (a saved size from a bigger monitor).
    w, h = min(window.width(), avail.width()), min(window.height(), avail.height())
    window.resize(w, h)
    window.move(avail.center() - QPoint(w // 2, h // 2))


def settings_for_tests(tmp_path: str | os.PathLike, monkeypatch=None) -> Settings:
    """A Settings on a fresh .ini under ``tmp_path``.

    Pass pytest's ``monkeypatch`` to also point ``GANSTUDIO_SETTINGS`` there (undone after the
    test), so code that builds its own ``Settings()`` stays off the user's store too.
    """
    path = Path(tmp_path) / "ganstudio-test.ini"
    if monkeypatch is not None:
        monkeypatch.setenv("GANSTUDIO_SETTINGS", str(path))
    return Settings(path)


def bind_tool_state(settings: Settings, state: ToolState) -> None:
    """Restore the brush settings into a ToolState and write them back whenever they change."""
    state.set_size(settings.get(TOOL_SIZE))
    state.set_hardness(settings.get(TOOL_HARDNESS))
    state.set_opacity(settings.get(TOOL_OPACITY))
    color = QColor(settings.get(TOOL_COLOR))
    if color.isValid():
        state.set_color(color)
    state.size_changed.connect(lambda v: settings.set(TOOL_SIZE, v))
    state.hardness_changed.connect(lambda v: settings.set(TOOL_HARDNESS, v))
    state.opacity_changed.connect(lambda v: settings.set(TOOL_OPACITY, v))
    state.color_changed.connect(lambda c: settings.set(TOOL_COLOR, c.name()))


__all__ = [
    "AUTOSAVE_INTERVAL", "DEVICE", "KEYS", "Key", "LABELS_OPACITY", "LOSSY_QUALITY", "LABELS_PALETTE", "PALETTE_SWATCHES",
    "RECENT_FILES", "RECENT_MAX", "SCHEMA_VERSION", "SHOW_HINTS", "SHOW_LABELS", "SHOW_MASK",
    "Settings", "TOOL_COLOR", "TOOL_HARDNESS", "TOOL_OPACITY", "TOOL_SIZE", "WINDOW_GEOMETRY",
    "WINDOW_STATE", "bind_tool_state", "center_on_primary", "coerce", "default_settings_path",
    "saved_frame_rect", "settings_for_tests",
]
