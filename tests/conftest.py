"""Shared fixtures. Tests never touch the user's settings, data or cache: all point at tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("GANSTUDIO_SETTINGS", str(home / "settings.ini"))
    monkeypatch.setenv("GANSTUDIO_DATA", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    yield


@pytest.fixture(autouse=True)
def _registry_restored():
    """Each test gets the engine registry back as it found it: a test that installs (or hides) models
    cannot take the bundled defaults away from the tests after it."""
    from engines.core import registry

    registry.infos()  # loads the built-in engines and the bundled cards first
    engines, instances = dict(registry._ENGINES), dict(registry._INSTANCES)
    yield
    registry._ENGINES.clear()
    registry._ENGINES.update(engines)
    registry._INSTANCES.clear()
    registry._INSTANCES.update(instances)


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test (tiny networks: threads only add overhead on 2 cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def hide_bundled(monkeypatch, tmp_path):
    """``hide(task)``: run as if no model of ``task`` were installed — the bundled weights folder
    looks empty and that task's engines are unregistered (``_registry_restored`` brings them back
    after the test, monkeypatch the folder)."""
    import engines.cards as cards
    from engines.core import Task, registry

    def hide(task: Task) -> None:
        monkeypatch.setattr(cards, "BUNDLED_WEIGHTS", tmp_path / "no-bundled-weights")
        for info in registry.infos(task):
            registry.unregister(task, info.id)

    return hide


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch):
    """A modal dialog would hang an offscreen test run: answer it and record the question instead."""
    try:
        from PySide6.QtWidgets import QMessageBox
    except ImportError:  # engines-only environments
        yield []
        return
    asked: list[str] = []

    def answer(default):
        def fake(parent, title, text, *args, **kwargs):
            asked.append(text)
            return default
        return staticmethod(fake)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Discard))
    monkeypatch.setattr(QMessageBox, "warning", answer(QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "critical", answer(QMessageBox.StandardButton.Ok))
    # closing a window while a job (e.g. a live preview) runs asks "Quit anyway?": answer yes
    from app.job_control import JobControl

    def quit_anyway(self, label):
        asked.append(f"{label} is still running. Quit anyway?")
        return True
    monkeypatch.setattr(JobControl, "ask_quit", quit_anyway)
    yield asked


@pytest.fixture
def open_window(qtbot):
    """``open_window(path, size=(w, h), actual_size=False)``: a shown MainWindow (errors not shown in
    dialogs) with ``path`` opened (asserted), at 1 image pixel = 1 widget pixel with ``actual_size``.
    Every window it made is closed after the test without a "save changes?" question."""
    from app.mainwindow import MainWindow

    made = []

    def open_(path: Path, size: tuple[int, int] = (1100, 760), actual_size: bool = False) -> MainWindow:
        w = MainWindow()
        made.append(w)
        w.quiet_errors = True
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        assert w.open_path(path)
        if actual_size:
            w.canvas.actual_size()
        return w

    yield open_
    for w in made:
        w.undo.setClean()
        w.close()
        w.deleteLater()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real images and weights); the test skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA
