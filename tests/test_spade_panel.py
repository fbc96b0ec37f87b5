"""The editor's semantic synthesis: empty state, label rectangle, label files, Generate / Candidates /
Apply (one undo step), Segment photo — driven through the real main window and worker."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from spade_models import write_tiny_segnet, write_tiny_spade

from app.document.document import UNLABELED, Layer
from app.mainwindow import MainWindow
from app.tasks.synthesize.panel import NO_MODEL, NO_SEGMENTER
from engines.core import Task, registry
from engines.imageio import save_image
from engines.paths import user_data_dir
from engines.spade import engine as spade_engine

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NOMOD = Qt.KeyboardModifier.NoModifier


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def photo(tmp_path):
    y, x = np.mgrid[0:96, 0:128].astype(np.float32)
    path = tmp_path / "photo.png"
    save_image(path, np.stack([x / 128, y / 96, np.full_like(x, 0.4)], axis=2))
    return path


def make_window(qtbot, photo):
    w = MainWindow()
    w.quiet_errors = True
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(photo)
    w.canvas.actual_size()
    return w


def close(w):
    w.undo.setClean()
    w.close()
    w.deleteLater()


@pytest.fixture
def installed():
    """Tiny random-weight models in the (test-isolated) user models folder, registered."""
    folder = user_data_dir() / "models" / "synthesize"
    write_tiny_spade(folder)
    write_tiny_segnet(folder)
    ids = spade_engine.register_models()
    yield ids
    for model_id in ids:
        registry.unregister(Task.SYNTHESIZE, model_id)


@pytest.fixture
def win(qtbot, photo):
    w = make_window(qtbot, photo)
    yield w
    close(w)


@pytest.fixture
def win_with_model(qtbot, photo, installed):
    w = make_window(qtbot, photo)
    yield w
    close(w)


def paint_labels(win):
    labels = np.ones((win.canvas.doc.height, win.canvas.doc.width), np.int32)
    labels[20:60, 30:90] = 2
    win.canvas.doc.set_layer(Layer.LABELS, labels)


def drag(qtbot, win, a, b, button=LEFT):
    canvas = win.canvas

    def at(x, y) -> QPoint:
        return canvas.image_to_widget(QPointF(x, y)).toPoint()

    qtbot.mousePress(canvas, button, NOMOD, at(*a))
    qtbot.mouseMove(canvas, at(*b))
    qtbot.mouseRelease(canvas, button, NOMOD, at(*b))


@pytest.fixture
def nothing_installed(hide_bundled):
    hide_bundled(Task.SYNTHESIZE)


def test_empty_state_says_what_is_needed(nothing_installed, qtbot, photo):
    win = make_window(qtbot, photo)
    try:
        synth = win.engines_dock.synth
        assert not synth.has_model()
        assert synth.status.text() == NO_MODEL
        assert not synth.generate_button.isEnabled() and not synth.apply_button.isEnabled()
        assert not synth.candidates_button.isEnabled()
        assert not synth.segment_button.isEnabled() and synth.segment_button.toolTip() == NO_SEGMENTER
        assert synth.load_button.isEnabled() and synth.save_button.isEnabled()
        assert synth.apply() is None  # says so instead of running anything
    finally:
        close(win)


def test_label_rectangle_tool_is_one_undo_step(qtbot, win):
    win.set_tool("label_rect")
    win.state.set_label(4)
    drag(qtbot, win, (10.2, 20.2), (30.0, 40.0))
    labels = win.canvas.doc.labels
    assert (labels[20:40, 10:30] == 4).all() and (labels == 4).sum() == 20 * 20
    assert win.undo.count() == 1 and win.undo.text(0) == "Label rectangle"
    drag(qtbot, win, (15, 25), (20, 30), button=RIGHT)
    assert (labels[25:30, 15:20] == UNLABELED).all()
    win.undo.undo()
    win.undo.undo()
    assert (win.canvas.doc.labels == UNLABELED).all()


def test_label_files_round_trip(win, tmp_path):
    synth = win.engines_dock.synth
    paint_labels(win)
    before = win.canvas.doc.labels.copy()
    assert synth.save_labels(tmp_path / "ids.png")
    assert synth.save_labels(tmp_path / "colours.png", colours=True)
    win.canvas.doc.labels[:] = UNLABELED
    assert synth.load_labels(tmp_path / "colours.png")
    assert np.array_equal(win.canvas.doc.labels, before)
    assert win.undo.text(win.undo.count() - 1) == "Load labels"
    assert synth.load_labels(tmp_path / "ids.png")  # same map: nothing to undo added
    (tmp_path / "bad.png").write_bytes(b"not a png")
    errors = []
    synth.controller.error.connect(errors.append)
    assert not synth.load_labels(tmp_path / "bad.png") and errors


def test_generate_candidates_apply(qtbot, win_with_model):
    win = win_with_model
    synth = win.engines_dock.synth
    assert synth.has_model() and synth.generate_button.isEnabled()
    assert win.labels_dock.palette().name == "facades"  # the model's classes
    assert synth.apply() is None  # empty label map: an error, no job
    paint_labels(win)
    with qtbot.waitSignal(win.engines.preview_ready, timeout=20000) as preview:
        assert synth.preview() is not None
    assert preview.args[0].shape == (96, 128, 3)
    synth.count.setValue(3)
    synth.seed.setValue(10)
    with qtbot.waitSignals([win.runner.finished] * 3, timeout=30000):
        assert len(synth.candidates()) == 3
    qtbot.waitUntil(lambda: synth.gallery.count() == 3)
    item = synth.gallery.item(1)
    seed, image = item.data(Qt.ItemDataRole.UserRole)
    synth._candidate_chosen(item)
    assert synth.seed.value() == seed
    image_before = win.canvas.doc.image.copy()
    count = win.undo.count()
    with qtbot.waitSignal(win.engines.applied, timeout=20000):
        synth.apply()
    assert win.undo.count() == count + 1
    assert np.allclose(win.canvas.doc.image, image, atol=1e-6)  # Apply reproduces the chosen candidate
    win.undo.undo()
    assert np.array_equal(win.canvas.doc.image, image_before)


def test_segment_photo_fills_the_label_layer(qtbot, win_with_model):
    win = win_with_model
    synth = win.engines_dock.synth
    assert synth.segment_button.isEnabled()
    count = win.undo.count()
    with qtbot.waitSignal(win.runner.finished, timeout=20000):
        assert synth.segment_photo() is not None
    qtbot.waitUntil(lambda: win.undo.count() == count + 1)
    labels = win.canvas.doc.labels
    assert labels.min() >= 0 and labels.max() < 12
    win.undo.undo()
    assert (win.canvas.doc.labels == UNLABELED).all()


def test_live_preview_after_a_label_stroke(qtbot, win_with_model):
    win = win_with_model
    synth = win.engines_dock.synth
    synth.live.setChecked(True)
    win.set_tool("label_rect")
    win.state.set_label(2)
    with qtbot.waitSignal(win.engines.preview_ready, timeout=20000,
                          check_params_cb=lambda image: image is not None):
        drag(qtbot, win, (10, 10), (60, 50))


def test_a_model_without_style_encoder_disables_seeds(qtbot, photo):
    folder = user_data_dir() / "models" / "synthesize"
    write_tiny_spade(folder, name="spade-plain", use_vae=False)
    card = folder / "spade-plain.json"
    import json

    data = json.loads(card.read_text())
    data["hparams"] = {"semantic_nc": 12, "use_vae": False}
    card.write_text(json.dumps(data))
    ids = spade_engine.register_models()
    w = make_window(qtbot, photo)
    try:
        synth = w.engines_dock.synth
        synth.model.setCurrentIndex(synth.model.findData("spade-plain"))  # not the bundled default
        assert synth.generate_button.isEnabled() and not synth.candidates_button.isEnabled()
        assert not synth.seed.isEnabled() and "no style encoder" in synth.status.text()
    finally:
        close(w)
        for model_id in ids:
            registry.unregister(Task.SYNTHESIZE, model_id)
