"""Issue 22 (D), files: mask-only edits leave the photo unmodified, a greyscale photo is saved
greyscale, JPEG / WebP quality is asked once (remembered, changeable), Export starts beside the
photo, Open asks about unsaved changes before its file dialog, Open Recent shows the folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from ramps import ramp

from app.document.commands import AddHintCommand, layer_change
from app.document.document import Document, ImageMeta, Layer
from app.document.files import open_document, save_document
from app.file_flow import recent_entry, short_folder
from app.settings import LOSSY_QUALITY
from engines.imageio import save_image

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    save_image(path, ramp(60, 80))
    return path


@pytest.fixture
def win(open_window, photo):
    return open_window(photo, (1000, 700), actual_size=True)


def _brush_stroke(qtbot, win, tool="brush"):
    win.set_tool(tool)
    c = win.canvas
    qtbot.mousePress(c, LEFT, NOMOD, c.image_to_widget(QPointF(10, 10)).toPoint())
    qtbot.mouseMove(c, c.image_to_widget(QPointF(30, 20)).toPoint())
    qtbot.mouseRelease(c, LEFT, NOMOD, c.image_to_widget(QPointF(30, 20)).toPoint())


# ----------------------------------------------------------------------------- modified or not
def test_mask_and_label_edits_do_not_mark_the_photo_modified(qtbot, win, _no_modal_dialogs):
    doc = win.canvas.doc
    _brush_stroke(qtbot, win, "mask")
    labels = doc.labels.copy()
    labels[5:20, 5:20] = 2
    win.undo.push(layer_change(doc, Layer.LABELS, labels, "Label"))
    win.actions_by_id["mask_invert"].trigger()
    assert win.undo.count() == 3 and not win.undo.isClean()
    assert "•" not in win.windowTitle()  # nothing Save would write changed
    assert win.maybe_save() and _no_modal_dialogs == []  # so no "Save changes?" question

    _brush_stroke(qtbot, win, "brush")  # the photo itself: now it asks
    assert "•" in win.windowTitle()
    assert win.maybe_save() and len(_no_modal_dialogs) == 1
    win.undo.undo()  # back to mask-only edits
    assert "•" not in win.windowTitle()


def test_hint_edits_count_because_save_writes_their_sidecar(win):
    doc = win.canvas.doc
    win.undo.push(AddHintCommand(doc, doc.new_hint(5, 5, (1, 0, 0))))
    assert "•" in win.windowTitle()


# ----------------------------------------------------------------------------- greyscale
def test_greyscale_photo_is_saved_greyscale_until_colorized(tmp_path):
    grey = (np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(48, 64) * 255).round().astype(np.uint8)
    src = tmp_path / "grey.png"
    Image.fromarray(grey, "L").save(src)
    doc = open_document(src)
    assert doc.meta.grey
    assert doc.meta.notes == ("greyscale: edited as RGB, saved greyscale while it stays grey",)
    for name in ("same.png", "same.jpg", "same.tif", "same.bmp"):
        save_document(doc, tmp_path / name, quality=95)
        with Image.open(tmp_path / name) as im:
            assert im.mode == "L", name
    with Image.open(tmp_path / "same.png") as im:
        assert np.array_equal(np.asarray(im), grey)  # the PNG round trip is exact
    doc.image[10, 10] = (0.9, 0.1, 0.1)  # colour painted (or colorized): RGB again
    save_document(doc, tmp_path / "colour.png")
    with Image.open(tmp_path / "colour.png") as im:
        assert im.mode == "RGB"


def test_sixteen_bit_grey_png_stays_sixteen_bit_grey(tmp_path):
    grey = (np.linspace(0, 65535, 32 * 16).reshape(16, 32)).astype(np.uint16)
    src = tmp_path / "g16.png"
    import cv2

    assert cv2.imwrite(str(src), grey)  # a 16-bit one-channel PNG
    doc = open_document(src)
    assert doc.meta.grey and doc.meta.bit_depth == 16
    save_document(doc, tmp_path / "out.png")
    back = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)
    assert back.ndim == 2 and back.dtype == np.uint16
    assert np.abs(back.astype(np.int64) - grey).max() <= 1


def test_a_colour_photo_is_never_saved_grey(tmp_path):
    doc = Document(ramp(60, 80), meta=ImageMeta(grey=False))
    save_document(doc, tmp_path / "c.png")
    with Image.open(tmp_path / "c.png") as im:
        assert im.mode == "RGB"


# ----------------------------------------------------------------------------- JPEG / WebP quality
def test_jpeg_quality_asked_once_remembered_and_changeable(win, tmp_path, monkeypatch):
    asked = []

    def get_int(parent, title, label, value, lo, hi, *args, **kwargs):
        asked.append(value)
        return (70 if len(asked) == 1 else 40), True

    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(get_int))
    out = tmp_path / "copy.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    assert win.save_as()
    assert asked == [92] and win.settings.get(LOSSY_QUALITY) == 70
    size70 = out.stat().st_size
    assert win.save()  # the same photo again: not asked again
    assert win.export()
    assert len(asked) == 1
    win.actions_by_id["lossy_quality"].trigger()  # File ▸ JPEG / WebP quality…: asked again, shows 70
    assert asked == [92, 70] and win.settings.get(LOSSY_QUALITY) == 40
    assert win.save()
    assert out.stat().st_size < size70  # quality 40 really used: a smaller file
    assert "quality 40" in win.status.currentMessage()


def test_cancelling_the_quality_question_writes_nothing(win, tmp_path, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: (0, False)))
    out = tmp_path / "no.webp"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    assert not win.save_as()
    assert not out.exists()


def test_png_save_does_not_ask_for_quality(win, tmp_path, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: pytest.fail("asked")))
    out = tmp_path / "x.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    assert win.save_as() and out.exists()


# ----------------------------------------------------------------------------- dialogs
def test_export_starts_in_the_photos_folder(win, photo, monkeypatch):
    seen = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, caption, start, *a, **k: (seen.append(start), ("", ""))[1]))
    win.export()
    assert Path(seen[0]) == photo.parent / "photo-export.jpg"


def test_open_asks_about_unsaved_changes_before_the_file_dialog(qtbot, win, photo, monkeypatch):
    _brush_stroke(qtbot, win, "brush")
    order = []
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: (order.append("ask"), QMessageBox.StandardButton.Discard)[1]))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (order.append("dialog"), (str(photo), ""))[1]))
    win.open_dialog()
    assert order == ["ask", "dialog"]  # asked once, before choosing the file


def test_open_cancelled_at_the_question_shows_no_dialog(qtbot, win, monkeypatch):
    _brush_stroke(qtbot, win, "brush")
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Cancel))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: pytest.fail("dialog shown")))
    win.open_dialog()


def test_open_recent_shows_the_folder(qtbot, win, tmp_path):
    a, b = tmp_path / "facades" / "test", tmp_path / "facades" / "train"
    for folder in (a, b):
        folder.mkdir(parents=True)
        save_image(folder / "facade_10.png", ramp(60, 80))
        assert win.open_path(folder / "facade_10.png")
    texts = [act.text() for act in win.recent_menu.actions()]
    tips = [act.toolTip() for act in win.recent_menu.actions()]
    assert texts[:2] == ["facade_10.png — …/facades/train", "facade_10.png — …/facades/test"]
    assert tips[0] == str((b / "facade_10.png").resolve())
    assert win.recent_menu.toolTipsVisible()


def test_recent_entry_and_short_folder():
    assert short_folder(Path("/data/photos/facades/test")) == "…/facades/test"
    assert short_folder(Path("/tmp")) == "/tmp"
    assert recent_entry("/x/y/z/a.png") == ("a.png — …/y/z", "/x/y/z/a.png")
