"""Inpainting in the editor: method choice, live preview after a mask stroke (latest wins, not in the
document), and Fill with PConv as one undoable step."""

from __future__ import annotations

import numpy as np
import pytest

from app.document.commands import layer_change
from app.document.document import Layer
from app.mainwindow import MainWindow
from engines.core import registry
from engines.core.protocol import EngineInfo, InpaintRequest, Input, RunContext, Task, drive
from engines.imageio import save_image

TEST_ID = "pconv-apptest"


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    import torch

    from engines.inpaint.arch import PConvUNet
    from engines.weights import save_safetensors

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    save_safetensors(PConvUNet(base=4, layers=4).state_dict(), path, half=True)
    return path


@pytest.fixture
def pconv_engine(tiny_weights):
    from engines.inpaint.engine import PConvEngine

    info = EngineInfo(id=TEST_ID, task=Task.INPAINT, title="PConv (test)", license="test",
                      inputs=(Input.IMAGE, Input.MASK), uses_torch=True)
    registry.get(Task.INPAINT, "telea")  # builtins first, so they do not replace ours later
    registry.register(info, lambda: PConvEngine(info, tiny_weights))
    yield registry.get(Task.INPAINT, TEST_ID)
    registry._ENGINES.pop((Task.INPAINT, TEST_ID), None)
    registry._INSTANCES.pop((Task.INPAINT, TEST_ID), None)


@pytest.fixture
def win(qtbot, tmp_path, pconv_engine):
    y, x = np.mgrid[0:120, 0:160].astype(np.float32)
    path = tmp_path / "ramp.png"
    save_image(path, np.stack([x / 160, y / 120, 0.5 + 0 * x], axis=2))
    w = MainWindow()
    w.quiet_errors = True
    w.resize(900, 700)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(path)
    panel = w.engines_dock
    panel.inpaint_model.reload()
    panel.inpaint_model.setCurrentIndex(panel.inpaint_model.findData(TEST_ID))
    w.set_tool("mask")
    yield w
    w.undo.setClean()
    w.close()
    w.deleteLater()


def _stroke(win, rect):
    doc = win.canvas.doc
    mask = doc.mask.copy()
    x, y, w, h = rect
    mask[y : y + h, x : x + w] = 1.0
    win.undo.push(layer_change(doc, Layer.MASK, mask, "Mask stroke"))


def test_method_choice_lists_pconv_telea_and_navier_stokes(win):
    ids = [win.engines_dock.inpaint_model.itemData(i) for i in range(win.engines_dock.inpaint_model.count())]
    assert {TEST_ID, "telea", "ns"} <= set(ids)


def test_live_preview_after_a_stroke_is_shown_but_not_applied(qtbot, win, pconv_engine):
    win.engines_dock.inpaint_live.setChecked(True)
    before = win.canvas.doc.image.copy()
    with qtbot.waitSignal(win.engines.preview_ready, timeout=20000,
                          check_params_cb=lambda img: img is not None) as blocker:
        _stroke(win, (40, 30, 30, 20))
    preview = blocker.args[0]
    qtbot.waitUntil(lambda: win.canvas._preview is not None)
    np.testing.assert_array_equal(win.canvas.doc.image, before)
    assert win.undo.count() == 1, "only the mask stroke is an edit"
    mask = win.canvas.doc.mask
    np.testing.assert_array_equal(preview[mask == 0], before[mask == 0])
    assert not np.allclose(preview[mask == 1], before[mask == 1])


def test_latest_preview_wins(qtbot, win, pconv_engine):
    panel = win.engines_dock
    shown = []
    win.engines.preview_ready.connect(shown.append)
    _stroke(win, (10, 10, 20, 20))
    panel.fill.run_preview()
    _stroke(win, (100, 60, 30, 30))
    panel.fill.run_preview()  # supersedes the first one
    qtbot.waitUntil(lambda: not win.runner.is_busy, timeout=20000)
    qtbot.waitUntil(lambda: len(shown) >= 1)
    doc = win.canvas.doc
    expected = drive(pconv_engine.run(InpaintRequest(doc.image.copy(), doc.mask.copy()), RunContext())).image
    np.testing.assert_allclose(shown[-1], expected, atol=1e-6)


def test_fill_with_pconv_is_one_undo_step(qtbot, win):
    doc = win.canvas.doc
    before = doc.image.copy()
    _stroke(win, (50, 40, 40, 30))
    mask = doc.mask.copy()
    count = win.undo.count()
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        assert win.engines_dock.run_inpaint() is not None
    assert win.undo.count() == count + 1, "the fill and the mask clear are one undo step"
    assert "PConv (test)" in win.undo.text(win.undo.index() - 1)
    np.testing.assert_array_equal(doc.image[mask == 0], before[mask == 0])
    assert not np.allclose(doc.image[mask == 1], before[mask == 1])
    assert not doc.mask.any() and win.canvas._preview is None
    win.undo.undo()
    np.testing.assert_array_equal(doc.image, before)
    np.testing.assert_array_equal(doc.mask, mask)
    win.undo.redo()
    assert not doc.mask.any()
