"""Declared settings over QSettings: types, defaults, schema, recent files, window geometry."""

import os

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QMainWindow

from app import settings as S
from app.settings import Settings, settings_for_tests
from app.tools.toolstate import ToolState


@pytest.fixture
def settings(tmp_path, monkeypatch):
    return settings_for_tests(tmp_path, monkeypatch)


def raw(settings: Settings) -> QSettings:
    """The same .ini opened without the typed layer, to plant values as another writer would."""
    return QSettings(str(settings.path), QSettings.Format.IniFormat)


def test_defaults_and_round_trip(settings):
    assert settings.get(S.AUTOSAVE_INTERVAL) == 60
    assert settings.get(S.SHOW_MASK) is True
    assert settings.get(S.RECENT_FILES) == []
    settings.set(S.TOOL_SIZE, 37)
    settings.set(S.TOOL_OPACITY, 0.25)
    settings.set(S.SHOW_HINTS, False)
    settings.set(S.WINDOW_GEOMETRY, b"\x00\x01\xff")
    settings.set(S.PALETTE_SWATCHES, ["#112233"])
    settings.sync()
    again = Settings(settings.path)  # a fresh reader: values come back from the .ini as strings
    assert again.get(S.TOOL_SIZE) == 37
    assert again.get(S.TOOL_OPACITY) == 0.25
    assert again.get(S.SHOW_HINTS) is False
    assert again.get(S.WINDOW_GEOMETRY) == b"\x00\x01\xff"
    assert again.get(S.PALETTE_SWATCHES) == ["#112233"]  # one-element list survives


def test_strings_coerced_and_bad_values_fall_back(settings):
    q = raw(settings)
    q.setValue("tool/size", "42")
    q.setValue("view/show_mask", "false")
    q.setValue("labels/opacity", "0.3")
    q.setValue("autosave/interval_s", "soon")
    q.setValue("tool/hardness", "very")
    q.sync()
    s = Settings(settings.path)
    assert s.get(S.TOOL_SIZE) == 42
    assert s.get(S.SHOW_MASK) is False
    assert s.get(S.LABELS_OPACITY) == pytest.approx(0.3)
    assert s.get(S.AUTOSAVE_INTERVAL) == 60
    assert s.get(S.TOOL_HARDNESS) == 0.8
    with pytest.raises((TypeError, ValueError)):
        s.set(S.TOOL_SIZE, "big")  # the writer hears about it, not the next start


def test_schema_bump_drops_old_keys(settings, monkeypatch):
    settings.set(S.TOOL_SIZE, 99)
    q = raw(settings)
    q.setValue("old/thing", "x")
    q.sync()
    new_version = S.SCHEMA_VERSION + 1
    monkeypatch.setattr(S, "SCHEMA_VERSION", new_version)
    s = Settings(settings.path)
    assert s.get(S.TOOL_SIZE) == 24
    assert not s.qsettings.contains("old/thing")
    assert int(s.qsettings.value(S.SCHEMA.name)) == new_version
    s.set(S.TOOL_SIZE, 50)
    s.sync()
    assert Settings(settings.path).get(S.TOOL_SIZE) == 50  # same version now: kept, not re-cleared


def test_keys_by_name(settings):
    settings.set("tool/size", "12")
    assert settings.get("tool/size") == 12 == settings.get(S.TOOL_SIZE)
    with pytest.raises(KeyError, match="undeclared setting"):
        settings.get("tool/sise")


def test_env_var_picks_the_file(settings):
    assert os.environ["GANSTUDIO_SETTINGS"] == str(settings.path)
    assert Settings().path == settings.path


def test_recent_files(settings, tmp_path):
    files = []
    for i in range(12):
        f = tmp_path / f"img{i}.png"
        f.write_bytes(b"x")
        files.append(f)
        settings.add_recent_file(f)
    settings.add_recent_file(files[5])  # re-opened: moves to the front, no duplicate
    recent = settings.recent_files()
    assert recent[0] == str(files[5].resolve())
    assert len(recent) == S.RECENT_MAX and len(set(recent)) == len(recent)
    files[11].unlink()
    assert str(files[11].resolve()) not in settings.recent_files()


def test_bind_tool_state(settings):
    settings.set(S.TOOL_SIZE, 80)
    settings.set(S.TOOL_COLOR, "#00ff00")
    state = ToolState()
    S.bind_tool_state(settings, state)
    assert state.size == 80 and state.color == QColor("#00ff00")
    state.set_opacity(0.5)
    assert settings.get(S.TOOL_OPACITY) == 0.5


def window_at(qtbot, x, y, w=400, h=300):
    win = QMainWindow()
    qtbot.addWidget(win)
    win.setGeometry(x, y, w, h)
    return win


def test_geometry_restored_on_screen(settings, qtbot):
    win = window_at(qtbot, 100, 120)
    settings.save_geometry(win)
    other = window_at(qtbot, 0, 0, 200, 200)
    assert settings.restore_geometry(other) is True
    assert (other.geometry().x(), other.geometry().y(), other.width(), other.height()) == (100, 120, 400, 300)


def test_geometry_off_screen_is_centred(settings, qtbot):
    # Saved while on a monitor that is now unplugged: far outside every connected screen.
    win = window_at(qtbot, 6000, 5000)
    settings.save_geometry(win)
    other = window_at(qtbot, 0, 0, 200, 200)
    assert settings.restore_geometry(other) is False
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.contains(other.geometry())
    assert abs(other.geometry().center().x() - screen.center().x()) <= 2
    assert abs(other.geometry().center().y() - screen.center().y()) <= 2


def test_geometry_garbage_is_centred(settings, qtbot):
    settings.set(S.WINDOW_GEOMETRY, b"not a geometry blob at all, really")
    win = window_at(qtbot, 0, 0, 200, 200)
    assert settings.restore_geometry(win) is False
