"""The Batch dialog: tasks and models from the registry, a run off the UI thread with per-file and
overall progress, pause, cancel, the review gallery (open in editor, mark to redo), errors shown."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.dialogs.batch_dialog import MARK, BatchDialog, show_batch_dialog
from engines.batch.tasks import engines_for
from engines.core.protocol import Task


def _photos(folder: Path, n: int, size=(40, 30)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        a = np.random.default_rng(i).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        p = folder / f"p{i:02d}.png"
        Image.fromarray(a).save(p)
        paths.append(p)
    return paths


@pytest.fixture
def dialog(qtbot, tmp_path):
    opened: list[str] = []
    d = BatchDialog(open_file=opened.append)
    d.opened = opened
    qtbot.addWidget(d)
    d.input.edit.setText(str(tmp_path / "in"))
    d.output.edit.setText(str(tmp_path / "out"))
    d.model.setCurrentIndex(d.model.findData("bicubic"))
    d.scale.setValue(2)
    d.show()
    yield d
    d.stop()


def _wait_done(qtbot, d, timeout=20000):
    qtbot.waitUntil(lambda: d.worker is None, timeout=timeout)


def _texts(d) -> list[str]:
    return [d.gallery.item(i).text() for i in range(d.gallery.count())]


def test_tasks_and_models_come_from_the_registry(dialog):
    d = dialog
    for i in range(d.task.count()):
        task = d.task.itemData(i)
        enabled = d.task.model().item(i).isEnabled()
        assert enabled == bool(engines_for(task))
        if not enabled:
            assert "no engine installed yet" in d.task.itemText(i)
    ids = {d.model.itemData(i) for i in range(d.model.count())}
    assert {"bicubic", "lanczos", "default"} <= ids
    d.task.setCurrentIndex(d.task.findData("inpaint"))
    ids = {d.model.itemData(i) for i in range(d.model.count())}
    assert {i.id for i in engines_for(Task.INPAINT)} - {i.alias_of for i in engines_for(Task.INPAINT)} <= ids | {"default"}
    assert "telea" in ids and d.masks.isVisibleTo(d) and not d.scale.isVisibleTo(d)


def test_run_fills_progress_and_the_review_gallery(qtbot, dialog, tmp_path):
    d = dialog
    _photos(tmp_path / "in", 4)
    (tmp_path / "in" / "broken.png").write_bytes(b"not a png")
    assert d.start_run()
    assert not d.settings_box.isEnabled() and d.cancel.isEnabled()  # running: settings locked
    _wait_done(qtbot, d)
    assert d.overall_bar.value() == 5 and d.overall_bar.maximum() == 5
    assert _texts(d) == ["broken.png\nnot an image file, or a format th…", "p00.png", "p01.png",
                         "p02.png", "p03.png"]
    assert "1 failed" in d.overall_label.text()
    bad = d.gallery.item(0)
    assert "Cannot open broken.png" in bad.toolTip()
    assert all(not d.gallery.item(i).icon().isNull() for i in range(5))
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [f"p0{i}.png" for i in range(4)]
    assert d.settings_box.isEnabled() and not d.cancel.isEnabled()


def test_open_in_editor_and_mark_to_redo(qtbot, dialog, tmp_path):
    d = dialog
    _photos(tmp_path / "in", 3)
    assert d.start_run()
    _wait_done(qtbot, d)
    d.gallery.item(1).setSelected(True)
    d.open_selected()
    assert d.opened == [str(tmp_path / "out" / "p01.png")]
    d.toggle_marks()
    assert d.gallery.item(1).text() == MARK + "p01.png" and d.marked() == {"p01.png"}
    assert d.redo_button.isEnabled()
    assert d.redo_marked()
    _wait_done(qtbot, d)
    s = d.last_summary
    assert s.done == ["p01.png"] and sorted(s.kept) == ["p00.png", "p02.png"]
    assert d.marked() == set() and d.gallery.count() == 3  # same gallery, marks cleared


def test_pause_then_resume(qtbot, dialog, tmp_path):
    d = dialog
    _photos(tmp_path / "in", 8, size=(160, 120))
    assert d.start_run()
    d.pause.setChecked(True)
    assert d.pause.text() == "Resume"
    qtbot.wait(400)
    assert d.worker is not None and d.overall_bar.value() < 8  # held at the gate
    d.pause.setChecked(False)
    _wait_done(qtbot, d)
    assert d.last_summary.complete and len(d.last_summary.done) == 8


def test_cancel_keeps_what_is_done_and_says_so(qtbot, dialog, tmp_path):
    d = dialog
    _photos(tmp_path / "in", 8, size=(160, 120))
    assert d.start_run()
    d.pause.setChecked(True)
    d.cancel_run()
    _wait_done(qtbot, d)
    assert d.last_summary.cancelled and "Cancelled" in d.overall_label.text()
    assert len(d.last_summary.done) < 8
    assert d.start_run()  # starting again resumes
    _wait_done(qtbot, d)
    assert d.last_summary.complete


def test_usage_problems_are_shown_not_raised(dialog, tmp_path):
    d = dialog
    _photos(tmp_path / "in", 1)
    d.output.edit.setText(str(tmp_path / "in"))
    assert not d.start_run()
    assert "must differ from the input folder" in d.overall_label.text()
    d.output.edit.setText("")
    assert not d.start_run() and "Choose a folder" in d.overall_label.text()


def test_full_disk_is_reported_in_the_dialog(qtbot, dialog, tmp_path, monkeypatch):
    import engines.imageio._save as save_mod

    d = dialog
    _photos(tmp_path / "in", 3)

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(save_mod, "atomic_write_bytes", full)
    assert d.start_run()
    _wait_done(qtbot, d)
    assert "No space left on device" in d.gallery.item(0).toolTip()
    assert "disk is full" in d.overall_label.text() and d.gallery.count() == 1


def test_main_window_file_batch_opens_the_dialog_and_results_open_in_the_editor(qtbot, tmp_path):
    from app.mainwindow import MainWindow

    win = MainWindow()
    win.quiet_errors = True
    qtbot.addWidget(win)
    win.show()
    _photos(tmp_path / "in", 2)
    win.actions_by_id["batch"].trigger()
    d = win.batch_dialog
    assert d.isVisible() and show_batch_dialog(win) is d  # one dialog, raised again
    d.input.edit.setText(str(tmp_path / "in"))
    d.output.edit.setText(str(tmp_path / "out"))
    d.model.setCurrentIndex(d.model.findData("bicubic"))
    d.scale.setValue(2)
    assert d.start_run()
    _wait_done(qtbot, d)
    d.open_item(d.gallery.item(0))
    assert win.path == tmp_path / "out" / "p00.png"
    assert (win.canvas.doc.width, win.canvas.doc.height) == (80, 60)
    win.undo.setClean()
    win.close()


def test_read_only_output_folder_is_shown(dialog, tmp_path, monkeypatch):
    import os
    import tempfile

    d = dialog
    _photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() != 0:
        os.chmod(out, 0o555)
    else:  # root ignores the mode bits: fail file creation there as the kernel would for a user
        real = tempfile.mkstemp

        def mkstemp(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve() == out.resolve():
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    try:
        assert not d.start_run()
    finally:
        os.chmod(out, 0o755)
    assert "cannot write to the output folder" in d.overall_label.text()
    assert d.worker is None and d.start.isEnabled()
