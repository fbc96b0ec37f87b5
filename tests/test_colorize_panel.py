"""The Colorize section in the real main window: live preview after hint edits, mix slider,
Apply as one undo step (alpha kept), greyscale photos open into the hint tool, gamut and
suggested colours recolour the selected hint, hints saved beside the image."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6.QtGui import QColor

from app.document.commands import AddHintCommand
from app.document.document import Document
from app.mainwindow import MainWindow
from engines.colorize import lab
from engines.colorize.archs import SIGGRAPHGenerator
from engines.colorize.engine import register_models
from engines.weights import save_safetensors


def _grey_doc(alpha: bool = True) -> Document:
    y, x = np.mgrid[0:90, 0:120].astype(np.float32)
    g = np.where(x < 60, 0.35, 0.75).astype(np.float32) + 0.05 * y / 90
    image = np.repeat(g[..., None], 3, axis=2)
    a = np.linspace(0.2, 1.0, 90 * 120, dtype=np.float32).reshape(90, 120) if alpha else None
    return Document(image, a)


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    w.quiet_errors = True
    w.resize(1300, 850)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.undo.setClean()
    w.close()


def _use(win, model_id: str):
    combo = win.engines_dock.colorize.model
    combo.setCurrentIndex(combo.findData(model_id))
    assert combo.currentData() == model_id


def _add_hint(win, x, y, rgb):
    doc = win.canvas.doc
    hint = doc.new_hint(x, y, rgb, 5)
    win.undo.push(AddHintCommand(doc, hint))
    return hint


def test_greyscale_opens_into_the_hint_tool(win):
    win.set_document(_grey_doc())
    assert win.state.tool == "hint"


def test_live_preview_mix_and_undoable_apply(win, qtbot):
    panel = win.engines_dock.colorize
    _use(win, "baseline")
    doc = _grey_doc()
    win.set_document(doc)
    before_image, before_alpha = doc.image.copy(), doc.alpha.copy()
    _add_hint(win, 20, 40, (0.9, 0.2, 0.1))
    qtbot.waitUntil(lambda: panel.preview_image() is not None, timeout=10000)
    assert win.canvas._preview is not None
    shown = panel.preview_image()
    assert lab.rgb_to_lab(shown)[40, 20, 1] > 15  # red where the hint is
    assert np.array_equal(doc.image, before_image)  # a preview never touches the document

    panel.mix.setValue(0)
    assert np.allclose(panel.preview_image(), before_image, atol=1e-6)
    panel.mix.setValue(50)
    half = panel.preview_image()
    assert 0 < lab.rgb_to_lab(half)[40, 20, 1] < lab.rgb_to_lab(shown)[40, 20, 1]

    panel.mix.setValue(100)
    count = win.undo.count()
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        panel.apply()
    assert win.undo.count() == count + 1  # one undo step
    assert lab.rgb_to_lab(doc.image)[40, 20, 1] > 15
    assert np.array_equal(doc.alpha, before_alpha)  # alpha untouched
    assert np.allclose(lab.rgb_to_lab(doc.image)[..., 0], lab.rgb_to_lab(before_image)[..., 0], atol=0.05)
    win.undo.undo()
    assert np.array_equal(doc.image, before_image)


def test_preview_follows_edits_latest_wins(win, qtbot):
    panel = win.engines_dock.colorize
    _use(win, "baseline")
    win.set_document(_grey_doc())
    _add_hint(win, 20, 40, (0.9, 0.2, 0.1))
    _add_hint(win, 100, 40, (0.1, 0.3, 0.9))  # a burst of edits: only the latest hints count
    qtbot.waitUntil(lambda: panel.preview_image() is not None and panel._previewed_key[1] == tuple(win.canvas.doc.hints),
                    timeout=10000)
    ab = lab.rgb_to_lab(panel.preview_image())[..., 1:]
    assert ab[40, 100, 1] < -15 and ab[40, 20, 0] > 15


@pytest.fixture
def tiny_default(tmp_path):
    torch.manual_seed(0)
    folder = tmp_path / "w"
    save_safetensors(SIGGRAPHGenerator(0.125).state_dict(), folder / "tiny.safetensors", half=False)
    (folder / "tiny.json").write_text(json.dumps({"id": "tiny", "file": "tiny.safetensors", "title": "Tiny",
                                                  "task": "colorize", "arch": "siggraph17", "license": "test"}))
    register_models([folder])
    yield "tiny"
    from engines.core import Task, registry

    registry.unregister(Task.COLORIZE, "tiny")


def test_gamut_and_suggestions_recolour_the_selected_hint(qtbot, tiny_default):
    w = MainWindow()
    w.quiet_errors = True
    w.show()
    qtbot.waitExposed(w)
    try:
        panel = w.engines_dock.colorize
        _use(w, tiny_default)
        w.set_document(_grey_doc())
        hint = _add_hint(w, 90, 30, (0.2, 0.6, 0.2))
        w.tools["hint"].selected = hint.id
        panel.refresh_selection()
        L_there = lab.rgb_to_lab(w.canvas.doc.image[30:31, 90:91])[0, 0, 0]
        assert abs(panel.gamut.lightness - L_there) < 0.01
        qtbot.waitUntil(lambda: len(panel.suggestions.colors()) > 0, timeout=10000)
        pick = panel.suggestions.colors()[0]
        count = w.undo.count()
        panel.suggestions.picked.emit(pick)
        assert w.undo.count() == count + 1
        assert np.allclose(w.canvas.doc.hints[0].rgb, (pick.redF(), pick.greenF(), pick.blueF()))
        colour = panel.gamut.colour_at(50, 75)  # a reachable colour on the green side (a about -37)
        assert colour is not None
        panel.gamut.picked.emit(colour)
        assert np.allclose(w.canvas.doc.hints[0].rgb, (colour.redF(), colour.greenF(), colour.blueF()))
        w.undo.undo()
        assert np.allclose(w.canvas.doc.hints[0].rgb, (pick.redF(), pick.greenF(), pick.blueF()))
        w.undo.setClean()
    finally:
        w.close()


def test_gamut_ignores_unreachable_colours(qtbot):
    from app.widgets.gamut import PANEL, GamutWidget

    g = GamutWidget()
    qtbot.addWidget(g)
    g.set_lightness(95.0)  # very light: only a small gamut
    assert g.colour_at(2, PANEL - 3) is None  # far a-, b- corner is not an sRGB colour at L 95
    assert g.colour_at(PANEL / 2, PANEL / 2) is not None


def test_hints_are_saved_beside_the_image_and_reopened(tmp_path):
    from app.document.files import open_document, save_document
    from app.document.hint_sidecar import sidecar_path

    doc = _grey_doc(alpha=False)
    doc.add_hint(doc.new_hint(10.5, 20.25, (0.9, 0.1, 0.2), 5))
    doc.add_hint(doc.new_hint(100, 80, (0.1, 0.2, 0.9), 3))
    path = tmp_path / "grey.png"
    save_document(doc, path)
    assert sidecar_path(path).is_file()
    again = open_document(path)
    assert [(h.x, h.y, h.size) for h in again.hints] == [(10.5, 20.25, 5), (100.0, 80.0, 3)]
    assert np.allclose(again.hints[0].rgb, (0.9, 0.1, 0.2))
    again.remove_hint(again.hints[0].id)
    again.remove_hint(again.hints[0].id)
    save_document(again, path)  # hints all deleted: the sidecar is emptied, not left stale
    assert open_document(path).hints == []
    sidecar_path(path).write_text("{broken")
    assert open_document(path).hints == []  # a broken sidecar never stops the photo opening
