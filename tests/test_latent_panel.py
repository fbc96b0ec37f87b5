"""The editor's latent panel (iGAN): empty state, Project, strokes on the edit pad (undoable),
Edit -> candidates, choosing one, the morph slider, Apply as one undo step — through the real
main window and worker, on a tiny generator trained in the test session."""

from __future__ import annotations

import numpy as np
import pytest
from latent_models import tiny_checkpoint
from PySide6.QtCore import QPoint, Qt

from app.tasks.latent.panel import NO_MODEL
from app.mainwindow import MainWindow
from engines.core import Task, registry
from engines.imageio import save_image
from engines.latent import engine as latent_engine
from engines.paths import user_data_dir

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def photo(tmp_path):
    y, x = np.mgrid[0:96, 0:128].astype(np.float32)
    path = tmp_path / "photo.png"
    save_image(path, np.stack([x / 128, y / 96, np.full_like(x, 0.4)], axis=2))
    return path


@pytest.fixture
def installed(tmp_path_factory):
    from engines.latent.train import export_igan

    ckpt = tiny_checkpoint(str(tmp_path_factory.getbasetemp() / "igan-tiny"))
    folder = user_data_dir() / "models" / "latent"
    export_igan(ckpt, folder / "shapes.safetensors", figure_images=1)
    ids = latent_engine.register_models()
    yield ids
    for model_id in ids:
        registry.unregister(Task.LATENT, model_id)


def make_window(qtbot, photo):
    w = MainWindow()
    w.quiet_errors = True
    w.resize(1200, 900)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(photo)
    return w


def close(w):
    w.undo.setClean()
    w.close()
    w.deleteLater()


def stroke(qtbot, pad, a, b):
    qtbot.mousePress(pad, LEFT, NOMOD, QPoint(*a))
    qtbot.mouseMove(pad, QPoint(*b))
    qtbot.mouseRelease(pad, LEFT, NOMOD, QPoint(*b))


@pytest.fixture
def nothing_installed(hide_bundled):
    hide_bundled(Task.LATENT)


def test_empty_state_says_no_model(nothing_installed, qtbot, photo):
    w = make_window(qtbot, photo)
    try:
        latent = w.engines_dock.latent
        assert not latent.has_model()
        assert latent.status.text() == NO_MODEL == "no latent model installed — ganstudio train igan"
        assert not latent.project_button.isEnabled() and not latent.apply_button.isEnabled()
        assert latent.edit() is None and not latent.apply()
    finally:
        close(w)


def test_project_paint_edit_choose_and_apply(qtbot, photo, installed, tmp_path):
    w = make_window(qtbot, photo)
    try:
        latent = w.engines_dock.latent
        latent.reload_models()
        assert latent.has_model() and latent.project_button.isEnabled()
        doc = w.canvas.doc
        original = doc.image.copy()
        runner = latent.controller.runner
        with qtbot.waitSignal(runner.finished, timeout=20000):
            assert latent.project() is not None
        assert latent.z0 is not None and latent.region == (16, 0, 96, 96)

        stroke(qtbot, latent.pad, (60, 60), (120, 120))  # a colour stroke on the pad
        assert latent.pad.strokes.color[..., 3].any()
        assert w.undo.text(w.undo.count() - 1) == "Colour stroke"
        w.undo.undo()
        assert not latent.pad.strokes.color[..., 3].any()
        w.undo.redo()
        assert latent.pad.strokes.color[..., 3].any()
        assert (doc.image == original).all()  # strokes never touch the photo

        with qtbot.waitSignal(runner.finished, timeout=30000):
            assert latent.edit() is not None
        assert latent.gallery.count() >= 2
        assert latent.morph.maximum() == 15 and latent.result is not None
        latent.morph.setValue(0)
        latent.morph.setValue(15)
        qtbot.wait(50)  # let the dock re-lay out for the gallery that just appeared
        assert latent.grab().save(str(tmp_path / "latent_section.png"))  # looked at by hand

        with qtbot.waitSignal(runner.finished, timeout=30000):
            latent._candidate_chosen(latent.gallery.item(1))
        assert latent.result is not None
        count = w.undo.count()
        assert latent.apply()
        assert w.undo.count() == count + 1  # one undo step (image patch + latent)
        changed = doc.image != original
        assert changed.any() and not changed[:, :16].any() and not changed[:, 112:].any()  # only the region
        assert doc.latent is not None
        w.undo.undo()
        assert np.array_equal(doc.image, original)
    finally:
        close(w)


def test_projection_far_from_the_domain_is_said(qtbot, photo, installed):
    """The projection's far-from-the-domain verdict (issue 20) shows as a note under Project and in
    the status message; a projection that is not far, or a new model, clears it."""
    from engines.core import Result
    from engines.latent.domain_check import FAR_MESSAGE

    w = make_window(qtbot, photo)
    try:
        latent = w.engines_dock.latent
        latent.reload_models()
        messages = []
        latent.controller.message.connect(messages.append)
        far = {"score": -3.1, "threshold": -4.3, "far": True, "message": FAR_MESSAGE.format(domain="facades")}
        img = np.full((16, 16, 3), 0.5, np.float32)
        latent._jobs[991] = "project"
        latent._on_finished(991, Result(image=img, latent=np.zeros(8, np.float32),
                                        extras={"projection": img, "psnr": 14.0, "domain": far}))
        assert not latent.domain_note.isHidden()
        assert latent.domain_note.text() == ("⚠ This photo is far from what the facades model knows; "
                                             "edits will be coarse.")
        assert "far from what the facades model knows" in messages[-1]
        near = dict(far, far=False, message="")
        latent._jobs[992] = "project"
        latent._on_finished(992, Result(image=img, latent=np.zeros(8, np.float32),
                                        extras={"projection": img, "psnr": 20.0, "domain": near}))
        assert latent.domain_note.isHidden() and "far from" not in messages[-1]
        latent._jobs[993] = "project"
        latent._on_finished(993, Result(image=img, latent=np.zeros(8, np.float32),
                                        extras={"projection": img, "psnr": 14.0, "domain": far}))
        assert not latent.domain_note.isHidden()
        latent._model_changed()
        assert latent.domain_note.isHidden()
    finally:
        close(w)


def test_a_chosen_candidate_is_transferred_with_the_edits_strokes():
    """Choosing another candidate sends the strokes and Keep the rest too, so the engine confines
    that transfer to the strokes' region like the edit's own (it leaked over the photo before)."""
    from types import SimpleNamespace

    from app.document.document import Document
    from app.tasks.latent.adapter import build_latent

    doc = Document(np.zeros((64, 64, 3), np.float32))
    color = np.zeros((32, 32, 4), np.float32)
    color[10:20, 10:20] = (1.0, 0.0, 0.0, 1.0)
    strokes = SimpleNamespace(color=color, sketch=np.zeros((32, 32), np.float32), keep=np.zeros((32, 32), np.float32))
    z = np.zeros(8, np.float32)
    req = build_latent(doc, {"mode": "transfer", "latent": z, "target": z, "strokes": strokes, "keep_rest": 0.3})
    assert req.color_strokes is not None and req.color_strokes.shape[:2] == (64, 64)
    assert req.keep_rest == pytest.approx(0.3)
    empty = SimpleNamespace(color=np.zeros((32, 32, 4), np.float32), sketch=strokes.sketch, keep=strokes.keep)
    req = build_latent(doc, {"mode": "transfer", "latent": z, "target": z, "strokes": empty})
    assert req.color_strokes is None  # nothing painted: a plain transfer, no error
