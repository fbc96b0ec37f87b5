"""Help menu (shortcuts sheet, About, model licences, tour) and Preferences (device picker,
autosave) — issue 22 part B. Offscreen, CPU; settings point at tmp_path (conftest)."""

from __future__ import annotations

import json
import platform

import cv2
import numpy as np
import pytest
import PySide6
import torch
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog

import engines
from app.dialogs import help as help_menu
from app.dialogs import preferences
from app.jobs import Job, JobRunner
from app.mainwindow import MainWindow
from app.settings import AUTOSAVE_INTERVAL
from engines.core import EngineInfo, Result, Task
from engines.core.device import DeviceOption
from engines.paths import BUNDLED_WEIGHTS, RESOURCES


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    w.quiet_errors = True
    qtbot.addWidget(w)
    yield w
    w.close()


def _menu(win, title):
    return next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == title)


def test_help_menu_is_last_with_its_four_entries(win):
    tops = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert tops[-1] == "Help"
    texts = [help_menu.plain_text(a.text()) for a in _menu(win, "Help").actions() if not a.isSeparator()]
    assert texts == ["Keyboard shortcuts", "Tour / README", "Model licences", "About GAN Studio"]
    prefs = win.actions_by_id["preferences"]
    assert prefs in _menu(win, "Edit").actions()
    assert prefs.shortcut().toString() == "Ctrl+,"


def test_shortcuts_sheet_lists_every_action_and_filters(win):
    sheet = help_menu.show_shortcuts(win)
    rows = {(group, name): keys for group, name, keys in sheet.rows}
    assert rows[("File", "Open…")].startswith("Ctrl+O")
    assert rows[("Engines", "Fill mask")] == "Ctrl+F"
    assert rows[("Edit", "Preferences…")] == "Ctrl+,"
    assert rows[("Help", "Keyboard shortcuts")] == "Ctrl+/"
    assert rows[("Tools", "Brush")] == "B"  # the toolbar's tools are listed too
    # generated from the actions: every menu command of the window appears once
    menu_commands = sum(1 for top in win.menuBar().actions() if top.menu() is not None
                        for a in top.menu().actions() if a.text() and not a.isSeparator() and a.menu() is None)
    assert sum(1 for g, _, _ in sheet.rows if g not in ("Tools", "Other")) == menu_commands
    assert sheet.filter("") == len(sheet.rows)
    shown = sheet.filter("mask")
    assert 0 < shown < len(sheet.rows)
    groups = {(name, keys): group for group, name, keys in sheet.rows}
    assert all("mask" in f"{groups[(n, k)]} {n} {k}".lower() for n, k in sheet.visible_commands())
    assert ("Invert mask", "Ctrl+I") in sheet.visible_commands()
    assert ("Open…", rows[("File", "Open…")]) not in sheet.visible_commands()
    sheet.search.setText("ctrl+f")  # by key, through the search box
    assert ("Fill mask", "Ctrl+F") in sheet.visible_commands()
    assert sheet.filter("no such command") == 0


def test_media_keys_are_left_out_of_the_sheet(win):
    text = help_menu.shortcut_text(win.actions_by_id["save"])
    assert text.startswith("Ctrl+S") and "Save" not in text.replace("Ctrl+S", "")


def test_about_lists_the_versions_and_device(win):
    about = help_menu.show_about(win)
    rows = dict(about.rows)
    assert rows["GAN Studio"] == engines.__version__
    assert rows["Python"] == platform.python_version()
    assert rows["Qt"] == qVersion()
    assert rows["PySide6"] == PySide6.__version__
    assert rows["torch"].startswith(torch.__version__)
    assert rows["numpy"] == np.__version__
    assert rows["OpenCV"].startswith(cv2.__version__)
    assert rows["Device"].startswith("Auto → ")
    assert "Python: " + platform.python_version() in about.version_text()
    win.runner.device = "cpu"
    assert dict(help_menu.show_about(win).rows)["Device"] == "cpu"  # rebuilt with the new choice
    assert "cuda:7 — " in help_menu.device_line("cuda:7")


def test_licences_list_every_bundled_card_and_the_catalog(win):
    dialog = help_menu.show_licences(win)
    labels = [label for label, _ in dialog.entries]
    bundled = [json.loads(p.read_text())["id"] for p in sorted(BUNDLED_WEIGHTS.glob("*.json"))
               if "license" in json.loads(p.read_text())]
    catalog = [m["id"] for m in json.loads((RESOURCES / "models.json").read_text())["models"]]
    assert labels[0] == "All licences (LICENSES.md)"
    for model_id in bundled + catalog:
        assert any(label.startswith(f"{model_id} — ") for label in labels), model_id
    row = next(i for i in range(dialog.list.count()) if dialog.list.item(i).text().startswith("ganstudio-sr-x4 "))
    dialog.list.setCurrentRow(row)
    assert "ganstudio" in dialog.view.toPlainText().lower()  # its .md card is shown
    assert help_menu.short_licence("MIT (GAN Studio; trained by us)") == "MIT"


def test_tour_shows_the_readme_tour_section(win):
    tour = help_menu.show_tour(win)
    text = tour.view.toPlainText()
    assert text.startswith("A short tour")
    assert "Open" in text and "## " not in text
    assert help_menu.tour_section("# T\n\n## A short tour\n- a\n\n## Next\n- b") == "## A short tour\n- a\n\n"


def test_preferences_lists_auto_and_cpu_and_stores_the_choice(win):
    dialog = preferences.PreferencesDialog(win.settings, parent=win)
    items = [(dialog.device.itemText(i), dialog.device.itemData(i)) for i in range(dialog.device.count())]
    assert items[:2] == [("Auto", "auto"), ("CPU", "cpu")]
    assert dialog.choice() == "auto"
    assert "Auto uses" in dialog.device_note.text()
    dialog.device.setCurrentIndex(1)
    dialog.autosave.setValue(120)
    dialog.accept()
    assert win.settings.get(preferences.DEVICE) == "cpu"
    assert win.settings.get(AUTOSAVE_INTERVAL) == 120
    preferences.apply(win)
    assert win.runner.device == "cpu"
    assert win.autosaver.timer.interval() == 120_000
    again = preferences.PreferencesDialog(win.settings, parent=win)
    assert again.choice() == "cpu"  # remembered


def test_preferences_cancel_changes_nothing(win, monkeypatch):
    monkeypatch.setattr(preferences.PreferencesDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert preferences.show_preferences(win) is False
    assert win.settings.get(preferences.DEVICE) == "auto" and win.runner.device == "auto"

    def pick_cpu(self):
        self.device.setCurrentIndex(self.device.findData("cpu"))
        self.accept()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(preferences.PreferencesDialog, "exec", pick_cpu)
    assert preferences.show_preferences(win) is True
    assert win.runner.device == "cpu"


def test_a_remembered_device_that_is_gone_falls_back_to_auto(win):
    win.settings.set(preferences.DEVICE, "cuda:7")
    assert preferences.stored_device(win.settings)[0] == "auto"
    preferences.apply(win)
    assert win.runner.device == "auto"
    assert "cuda:7" in win.status.currentMessage()
    dialog = preferences.PreferencesDialog(win.settings, parent=win)
    assert dialog.choice() == "auto" and "cannot be used" in dialog.device_note.text()


def test_picker_lists_each_device_given(win):
    options = [DeviceOption("auto", "Auto"), DeviceOption("cpu", "CPU"),
               DeviceOption("cuda:0", "CUDA 0 — A"), DeviceOption("cuda:1", "CUDA 1 — B"), DeviceOption("mps", "Apple MPS")]
    dialog = preferences.PreferencesDialog(win.settings, options=options, parent=win)
    assert [dialog.device.itemData(i) for i in range(dialog.device.count())] == ["auto", "cpu", "cuda:0", "cuda:1", "mps"]


class _DeviceProbe:
    info = EngineInfo(id="probe", task=Task.UPSCALE, title="Probe", license="MIT", uses_torch=True)

    def __init__(self):
        self.devices = []

    def run(self, request, ctx):
        self.devices.append(ctx.device)
        return Result(image=np.zeros((2, 2, 3), np.float32))
        yield  # a generator


def test_the_worker_uses_the_chosen_device_for_the_next_job(qtbot):
    runner = JobRunner()
    try:
        probe = _DeviceProbe()
        runner.device = "cpu"
        with qtbot.waitSignal(runner.idle, timeout=10_000):
            runner.submit(Job(probe, None))
        runner.device = "cuda:7"  # not on this machine: the job fails with a clear message
        with qtbot.waitSignal(runner.failed, timeout=10_000) as failed:
            runner.submit(Job(probe, None))
        assert probe.devices == ["cpu"]
        assert "cuda:7" in failed.args[1]
    finally:
        runner.shutdown(timeout_s=2)


def test_the_batch_dialog_runs_on_the_preferred_device(win):
    from app.dialogs.batch_dialog import show_batch_dialog

    dialog = show_batch_dialog(win)
    assert dialog.options().device == "auto"
    win.runner.device = "cpu"  # what Preferences' OK does
    assert dialog.options().device == "cpu"
    dialog.close()
