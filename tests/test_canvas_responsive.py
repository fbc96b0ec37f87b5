"""Issue 22 (C): the UI stays responsive — strokes end without copying their bounding box, Cancel
answers at once and ends the job, quitting with a job running asks and does not freeze."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from app.canvas.painting import TILE, Stroke, StrokePatch, paint_color, paint_one, set_label
from app.document.commands import PatchCommand
from app.document.document import Document, Layer


def _figure_eight(stroke: Stroke, w: int, h: int, radius: float, n: int = 60) -> None:
    pts = [(w / 2 + 0.4 * w * math.cos(t), h / 2 + 0.2 * h * math.sin(2 * t)) for t in np.linspace(0, 2 * math.pi, n)]
    stroke.dab(*pts[0], radius, 0.7)
    for p in pts[1:]:
        stroke.line_to(*p, radius, 0.7)


@pytest.mark.parametrize("layer, compose, opacity", [
    (Layer.IMAGE, paint_color((0.9, 0.1, 0.2)), 0.6),
    (Layer.MASK, paint_one, 1.0),
    (Layer.LABELS, set_label(4), 1.0),
])
def test_stroke_patches_undo_and_redo_exactly_across_overlapping_strokes(layer, compose, opacity):
    rng = np.random.default_rng(3)
    doc = Document(rng.random((3 * TILE + 31, 5 * TILE + 7, 3), dtype=np.float32))
    stack = QUndoStack()
    states = [doc.layer_array(layer).copy()]
    for k, radius in enumerate((9.0, 23.0)):
        stroke = Stroke(doc, layer, compose, opacity)
        _figure_eight(stroke, doc.width - 40 * k, doc.height, radius)
        rect, before, after = stroke.commit()
        assert isinstance(before, StrokePatch) and before.shape == doc.layer_array(layer)[rect[1]:rect[1] + rect[3], rect[0]:rect[0] + rect[2]].shape
        # the patches are what a bbox copy would have been
        x, y, w, h = rect
        np.testing.assert_array_equal(np.asarray(after), doc.layer_array(layer)[y:y + h, x:x + w])
        np.testing.assert_array_equal(np.asarray(before), states[-1][y:y + h, x:x + w])
        stack.push(PatchCommand(doc, layer, rect, before, after, "Brush"))
        states.append(doc.layer_array(layer).copy())
    for want in (states[1], states[0]):
        stack.undo()
        np.testing.assert_array_equal(doc.layer_array(layer), want)
    for want in (states[1], states[2]):
        stack.redo()
        np.testing.assert_array_equal(doc.layer_array(layer), want)


def test_a_stroke_that_changes_nothing_commits_nothing():
    doc = Document(np.zeros((300, 300, 3), np.float32))
    doc.mask[:] = 1.0
    stroke = Stroke(doc, Layer.MASK, paint_one)
    _figure_eight(stroke, 300, 300, 12.0)
    assert stroke.commit() is None
