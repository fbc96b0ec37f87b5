"""Document layers, strokes as bbox patches, and undo commands (no widgets needed)."""

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from app.canvas import mask_ops
from app.document.commands import AddHintCommand, PatchCommand, RemoveHintCommand, StateCommand, UpdateHintCommand, layer_change
from app.document.document import Document, Layer, UNLABELED, changed_bbox
from app.canvas.painting import TILE, Stroke, dab_coverage, erase_to_zero, paint_color, paint_one, set_label
from app.tools.fill import flood_region
from app.tools.selection import shape_mask


def make_doc(w=300, h=200, seed=0):
    rng = np.random.default_rng(seed)
    return Document(rng.random((h, w, 3), dtype=np.float32))


def test_layers_have_the_documented_contracts():
    doc = make_doc()
    assert doc.image.dtype == np.float32 and doc.image.shape == (200, 300, 3)
    assert doc.alpha.shape == (200, 300) and doc.alpha.min() == 1.0
    assert doc.mask.dtype == np.float32 and doc.mask.max() == 0.0
    assert doc.labels.dtype == np.int32 and (doc.labels == UNLABELED).all()
    assert not doc.has_transparency


def test_bad_construction_is_a_clear_error():
    with pytest.raises(ValueError, match="H x W x 3"):
        Document(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="alpha is 5x5 but the image is 10x10"):
        Document(np.zeros((10, 10, 3), np.float32), alpha=np.ones((5, 5), np.float32))


def test_listener_hears_patch_rect():
    doc = make_doc()
    heard = []
    doc.add_listener(lambda layer, rect: heard.append((layer, rect)))
    doc.put_patch(Layer.MASK, (10, 20, 5, 6), np.ones((6, 5), np.float32))
    assert heard == [(Layer.MASK, (10, 20, 5, 6))]
    with pytest.raises(ValueError):
        doc.put_patch(Layer.MASK, (10, 20, 5, 6), np.ones((5, 5), np.float32))


def test_dab_coverage_is_full_inside_and_zero_outside():
    cov = dab_coverage(50, 50, 10, 0.5, (0, 0, 100, 100))
    assert cov[50, 50] == pytest.approx(1.0)
    assert cov[50, 50 + 3] == pytest.approx(1.0)  # inside hardness * radius
    assert cov[50, 50 + 12] == 0.0
    assert 0.0 < cov[50, 50 + 8] < 1.0


def test_stroke_is_one_bbox_patch_and_undo_restores_exactly():
    doc = make_doc()
    original = doc.image.copy()
    stroke = Stroke(doc, Layer.IMAGE, paint_color((1.0, 0.0, 0.0)), opacity=1.0)
    stroke.dab(40, 40, 8, 1.0)
    for x in range(40, 160, 7):
        stroke.line_to(x, 40 + x / 4, 8, 1.0)
    rect, before, after = stroke.commit()
    x, y, w, h = rect
    assert w < 150 and h < 60, "undo memory scales with the stroke, not the photo"
    np.testing.assert_array_equal(before, original[y : y + h, x : x + w])
    np.testing.assert_allclose(doc.image[55, 61], [1.0, 0.0, 0.0], atol=1e-6)
    stack = QUndoStack()
    stack.push(PatchCommand(doc, Layer.IMAGE, rect, before, after, "Brush"))
    np.testing.assert_array_equal(doc.image[y : y + h, x : x + w], after)  # push did not re-apply wrongly
    stack.undo()
    np.testing.assert_array_equal(doc.image, original)
    stack.redo()
    np.testing.assert_array_equal(doc.image[y : y + h, x : x + w], after)


def test_stroke_opacity_does_not_build_up_within_one_stroke():
    doc = Document(np.zeros((64, 64, 3), np.float32))
    stroke = Stroke(doc, Layer.IMAGE, paint_color((1.0, 1.0, 1.0)), opacity=0.5)
    for _ in range(5):
        stroke.dab(32, 32, 6, 1.0)
    assert doc.image[32, 32, 0] == pytest.approx(0.5)


def test_stroke_across_tiles_restores_every_tile():
    doc = make_doc(w=3 * TILE + 17, h=2 * TILE + 5)
    original = doc.image.copy()
    stroke = Stroke(doc, Layer.IMAGE, paint_color((0.0, 1.0, 0.0)))
    stroke.dab(5, 5, 4, 1.0)
    stroke.line_to(3 * TILE + 10, 2 * TILE, 30, 0.3)
    stroke.abort()
    np.testing.assert_array_equal(doc.image, original)


def test_stroke_spacing_leaves_no_gaps():
    doc = Document(np.zeros((50, 400, 3), np.float32))
    stroke = Stroke(doc, Layer.IMAGE, paint_color((1.0, 1.0, 1.0)))
    stroke.dab(10, 25, 3, 1.0)
    for x in range(10, 390, 37):  # fast mouse: large jumps between events
        stroke.line_to(x, 25, 3, 1.0)
    assert doc.image[25, 12:370, 0].min() == pytest.approx(1.0)


def test_mask_and_label_composers():
    doc = make_doc()
    s = Stroke(doc, Layer.MASK, paint_one)
    s.dab(50, 50, 10, 1.0)
    assert doc.mask[50, 50] == 1.0 and doc.mask[0, 0] == 0.0
    s2 = Stroke(doc, Layer.MASK, erase_to_zero)
    s2.dab(50, 50, 4, 1.0)
    assert doc.mask[50, 50] == 0.0 and doc.mask[50, 57] == 1.0
    s3 = Stroke(doc, Layer.LABELS, set_label(3))
    s3.dab(100, 100, 5, 1.0)
    assert doc.labels[100, 100] == 3 and doc.labels.dtype == np.int32
    assert doc.labels[100, 110] == UNLABELED


def test_layer_change_keeps_only_changed_bbox():
    doc = make_doc()
    new = doc.mask.copy()
    new[30:40, 50:70] = 1.0
    cmd = layer_change(doc, Layer.MASK, new, "x")
    assert cmd.rect == (50, 30, 20, 10)
    stack = QUndoStack()
    stack.push(cmd)
    np.testing.assert_array_equal(doc.mask, new)
    stack.undo()
    assert doc.mask.max() == 0.0
    assert layer_change(doc, Layer.MASK, doc.mask.copy(), "nothing") is None


def test_hint_commands_round_trip():
    doc = make_doc()
    stack = QUndoStack()
    h = doc.new_hint(10, 20, (1, 0, 0))
    stack.push(AddHintCommand(doc, h))
    h2 = doc.new_hint(30, 40, (0, 1, 0))
    stack.push(AddHintCommand(doc, h2))
    moved = type(h)(h.id, 15, 25, h.rgb, h.size)
    stack.push(UpdateHintCommand(doc, h, moved, "Move"))
    stack.push(RemoveHintCommand(doc, h2.id))
    assert [(p.x, p.y) for p in doc.hints] == [(15, 25)]
    stack.undo()
    assert [p.id for p in doc.hints] == [h.id, h2.id]
    stack.undo()
    assert (doc.hints[0].x, doc.hints[0].y) == (10, 20)
    stack.undo(); stack.undo()
    assert doc.hints == []
    assert doc.hint_at(100, 100, 5) is None


def test_state_command_changes_size_and_back():
    doc = make_doc(40, 30)
    before = doc.snapshot()
    after = doc.snapshot()
    after.image = np.zeros((60, 80, 3), np.float32)
    after.alpha = np.ones((60, 80), np.float32)
    after.mask = np.zeros((60, 80), np.float32)
    after.labels = np.full((60, 80), UNLABELED, np.int32)
    stack = QUndoStack()
    stack.push(StateCommand(doc, before, after, "Upscale"))
    assert doc.size == (80, 60)
    stack.undo()
    assert doc.size == (40, 30)
    np.testing.assert_array_equal(doc.image, before.image)


def test_mask_operations():
    m = np.zeros((50, 50), np.float32)
    m[20:30, 20:30] = 1
    assert mask_ops.invert(m)[0, 0] == 1 and mask_ops.invert(m)[25, 25] == 0
    assert mask_ops.grow(m, 3).sum() > m.sum() > mask_ops.grow(m, -3).sum()
    f = mask_ops.feather(m, 6)
    assert 0 < f[25, 19] < 1 and f.max() <= 1
    assert mask_ops.clear(m).max() == 0


def test_shape_mask_and_flood_region():
    poly = np.array([[10, 10], [30, 10], [30, 20], [10, 20]], np.float32)
    m = shape_mask(40, 40, poly)
    assert m[15, 15] == 1 and m[5, 5] == 0
    assert m.sum() == pytest.approx(20 * 10, rel=0.05)
    labels = np.zeros((20, 20), np.int32)
    labels[:, 10] = 2  # a wall
    region = flood_region(labels, 2, 2)
    assert region[:, :10].all() and not region[:, 10:].any()


def test_changed_bbox():
    a = np.zeros((10, 10, 3), np.float32)
    b = a.copy()
    assert changed_bbox(a, b) is None
    b[2, 3, 1] = 1
    b[5, 7, 0] = 1
    assert changed_bbox(a, b) == (3, 2, 5, 4)
