"""The Models dialog: download off the UI thread with progress, errors shown in the dialog, cancel,
import, verify, remove, and the Engines dock picking up the change (loopback server, no internet)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

from app.dialogs.models_dialog import ModelsDialog
from engines.core import Task, registry
from engines.models import installed_cards
from engines.models.install import part_path
from engines.sr.archs import SRVGGNetCompact
from loopback_http import LoopbackServer, closed_port

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    torch.manual_seed(0)
    path = tmp / "w.pth"
    torch.save({"params_ema": SRVGGNetCompact(num_feat=32, num_conv=4, upscale=2).state_dict()}, path)
    with LoopbackServer() as srv:
        srv.files["w.pth"] = path.read_bytes()
        yield srv


@pytest.fixture
def catalog(server, tmp_path, monkeypatch):
    data = server.files["w.pth"]
    models = [
        {"id": "net-ok", "task": "upscale", "arch": "srvgg", "title": "Loopback x2", "license": "MIT",
         "url": server.url("f", "w.pth"), "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)},
        {"id": "net-bad", "task": "upscale", "arch": "srvgg", "license": "MIT",
         "url": server.url("f", "w.pth"), "sha256": "1" * 64},
        {"id": "net-offline", "task": "upscale", "arch": "srvgg", "license": "MIT",
         "url": f"http://127.0.0.1:{closed_port()}/w.pth"},
        {"id": "net-stall", "task": "upscale", "arch": "srvgg", "license": "MIT",
         "url": server.url("stall", "w.pth")},
        {"id": "manual-one", "task": "synthesize", "arch": "spade", "license": "CC BY-NC-SA 4.0",
         "manual": "Get it from the publisher's Drive folder, then Import…"},
    ]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": models}))
    monkeypatch.setenv("GANSTUDIO_CATALOG", str(path))
    yield models
    for model_id in ("net-ok", "mine"):
        registry.unregister(Task.UPSCALE, model_id)


@pytest.fixture
def dialog(qtbot, catalog):
    dlg = ModelsDialog()
    qtbot.addWidget(dlg)
    yield dlg
    dlg.cancel_job()
    dlg.wait_idle(5000)


def _state(dlg: ModelsDialog, model_id: str) -> str:
    for i, r in enumerate(dlg.rows):
        if r.id == model_id:
            return dlg.table.item(i, 2).text()
    raise KeyError(model_id)


def test_table_lists_bundled_available_and_manual_models(dialog):
    assert dialog.table.columnCount() == 6
    assert _state(dialog, "realesr-animevideov3") == "bundled"
    assert _state(dialog, "net-ok") == "available"
    assert _state(dialog, "manual-one") == "manual import"
    assert dialog.select("manual-one")
    assert not dialog.download_button.isEnabled()
    assert "Drive folder" in dialog.details.text()
    assert dialog.select("net-ok") and dialog.download_button.isEnabled()
    assert not dialog.remove_button.isEnabled()


def test_download_runs_off_the_ui_thread_installs_and_notifies(dialog, qtbot):
    dialog.select("net-ok")
    with qtbot.waitSignal(dialog.models_changed, timeout=20000):
        assert dialog.download_selected()
        assert dialog.job is not None and not dialog.cancel_button.isHidden()
        assert not dialog.download_button.isEnabled()  # one job at a time
    dialog.wait_idle()
    assert _state(dialog, "net-ok") == "installed"
    assert "Installed net-ok" in dialog.status.text()
    assert any(i.id == "net-ok" for i in registry.infos(Task.UPSCALE))
    assert dialog.remove_button.isEnabled() and dialog.progress.isHidden()


def test_errors_are_shown_in_the_dialog(dialog):
    for model_id, text in (("net-bad", "checksum mismatch"), ("net-offline", "network is unreachable")):
        dialog.select(model_id)
        assert dialog.download_selected()
        assert dialog.wait_idle()
        assert text in dialog.status.text(), dialog.status.text()
        assert "color" in dialog.status.styleSheet()
        assert dialog.download_button.isEnabled()
    assert installed_cards() == []


def test_cancel_interrupts_a_stalled_download_and_keeps_the_part(dialog, server, qtbot):
    import time

    server.sleep = 5.0  # the server sends half the file, then nothing for 5 s (the read timeout is 30 s)
    dialog.select("net-stall")
    assert dialog.download_selected()
    assert not dialog.cancel_button.isHidden()
    part = part_path("net-stall", ".pth")
    qtbot.waitUntil(lambda: part.is_file() and part.stat().st_size > 0, timeout=5000)
    started = time.monotonic()
    dialog.cancel_job()
    assert dialog.wait_idle(10000)
    assert time.monotonic() - started < 2.0  # the blocked read was aborted, not waited out
    assert "Cancelled" in dialog.status.text(), dialog.status.text()
    assert installed_cards() == [] and part.stat().st_size > 0
    assert _state(dialog, "net-stall") == "partial download"


def test_import_verify_and_remove(dialog, tmp_path, monkeypatch, qtbot):
    from PySide6.QtWidgets import QMessageBox

    src = tmp_path / "mine.pth"
    torch.save(SRVGGNetCompact(num_feat=4, num_conv=1, upscale=4).state_dict(), src)
    with qtbot.waitSignal(dialog.models_changed, timeout=20000):
        assert dialog.import_path(src)
    dialog.wait_idle()
    assert _state(dialog, "mine") == "installed" and dialog.selected_id() == "mine"
    [m] = installed_cards()
    data = bytearray(m.path.read_bytes())
    data[-1] ^= 0xFF
    m.path.write_bytes(bytes(data))
    assert dialog.verify_all() and dialog.wait_idle()
    assert _state(dialog, "mine") == "corrupt" and "corrupt" in dialog.status.text()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    dialog.select("mine")
    with qtbot.waitSignal(dialog.models_changed, timeout=5000):
        assert dialog.remove_selected()
    assert installed_cards() == [] and all(r.id != "mine" for r in dialog.rows)


def test_open_folder_uses_the_data_folder(dialog, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile())))
    dialog.select("net-ok")
    dialog.open_folder()
    assert opened and Path(opened[0]).name == "sr" and Path(opened[0]).is_dir()
    assert Path(opened[0]).is_relative_to(Path(os.environ["GANSTUDIO_DATA"]))  # never the real folders


def test_engines_dock_says_what_a_missing_model_needs_and_refreshes(qtbot, catalog, tmp_path):
    from app.mainwindow import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.quiet_errors = True
    dock = win.engines_dock
    hints = dock.missing_model_hints
    assert set(hints) >= {Task.UPSCALE, Task.INPAINT}
    # a section whose task has only classical methods says how to get a model; SR has bundled ones
    combos = {c.task: c for c in dock.findChildren(type(dock.upscale_model))}
    for task, hint in hints.items():
        assert hint.isHidden() == combos[task].has_network(), task
        assert "Engines ▸ Models…" in hint.text()
    assert hints[Task.UPSCALE].isHidden()
    src = tmp_path / "mine.pth"
    torch.save(SRVGGNetCompact(num_feat=4, num_conv=1, upscale=4).state_dict(), src)
    win.open_models_dialog()
    dlg = win.models_dialog
    with qtbot.waitSignal(dlg.models_changed, timeout=20000):
        dlg.import_path(src)
    dlg.wait_idle()
    ids = [dock.upscale_model.itemData(i) for i in range(dock.upscale_model.count())]
    assert "mine" in ids
    dlg.close()
