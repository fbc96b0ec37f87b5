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


# ----------------------------------------------------------------------------- tiling: cheaper blend


def _blend_everywhere(image, fn, scale, tile, overlap):
    """Reference: every tile blended over its whole area (the weighted running mean, no fast path)."""
    from engines import tiling

    h, w = image.shape[:2]
    overlap = max(0, min(int(overlap), tile // 2))
    if tile >= h and tile >= w:
        overlap = 0
    out, wsum = None, np.zeros((h * scale, w * scale), np.float32)
    for t in tiling.plan_tiles(h, w, tile, overlap):
        r = fn(image[t.y:t.y + t.h, t.x:t.x + t.w])[: t.h * scale, : t.w * scale].astype(np.float32)
        out = np.zeros((h * scale, w * scale, r.shape[2]), np.float32) if out is None else out
        wts = tiling.tile_weights(t, scale, overlap)
        ys, xs = slice(t.y * scale, (t.y + t.h) * scale), slice(t.x * scale, (t.x + t.w) * scale)
        total = wsum[ys, xs] + wts
        frac = np.divide(wts, total, out=np.zeros_like(wts), where=total > 0)
        region = out[ys, xs]
        delta = np.subtract(r, region)
        delta *= frac[:, :, None]
        region += delta
        wsum[ys, xs] = total
    return out


@pytest.mark.parametrize("h, w, tile, overlap, scale", [
    (100, 130, 32, 8, 1), (97, 61, 40, 12, 2), (64, 200, 48, 16, 4), (50, 50, 64, 8, 3), (33, 180, 32, 31, 2),
])
def test_tiling_fast_path_is_bit_exact_to_blending_everywhere(h, w, tile, overlap, scale):
    from engines import tiling
    from engines.core.cancel import CancelToken

    from tests.generators import run_to_end

    rng = np.random.default_rng(h * w)
    image = rng.random((h, w, 3), dtype=np.float32)
    calls = iter(range(10_000))

    def fn(patch):  # each tile differs (a network's tile-dependent output), so overlaps really blend
        k = next(calls)
        up = np.repeat(np.repeat(patch, scale, 0), scale, 1)
        return up * (1.0 + 0.01 * k) + 0.003 * k

    got, _ = run_to_end(tiling.run_tiled(image, fn, scale, tile, overlap, CancelToken()))
    calls = iter(range(10_000))
    np.testing.assert_array_equal(got, _blend_everywhere(image, fn, scale, tile, overlap))
