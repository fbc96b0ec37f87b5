"""Label palettes: loading, validation, colouring and snapping RGB label images to ids."""

import json

import numpy as np
import pytest

from engines.labels import (
    UNLABELED, LabelClass, LabelPalette, PaletteError, list_palettes, load_palette, palette_from_dict,
)


def write(folder, name, data):
    (folder / f"{name}.json").write_text(json.dumps(data))


def test_bundled_palettes_load():
    assert {"basic", "facades"} <= set(list_palettes())
    facades = load_palette("facades")
    assert [c.name for c in facades.classes] == [
        "background", "facade", "window", "door", "cornice", "sill", "balcony", "blind", "deco",
        "molding", "pillar", "shop",
    ]
    assert [c.id for c in facades.classes] == list(range(12))
    assert facades.by_id(0).rgb == (2, 2, 222) and facades.by_id(11).rgb == (174, 2, 2)
    assert "verified by eye" in facades.note  # the mapping was checked on facades/train (issue 7)
    basic = load_palette("basic")
    assert len(basic) == 8
    assert len({c.rgb for c in basic.classes}) == 8  # distinct colours


def test_color_lut_and_colorize():
    pal = LabelPalette("t", "T", (LabelClass(0, "a", (10, 20, 30)), LabelClass(2, "c", (200, 100, 0))))
    lut = pal.color_lut()
    assert lut.dtype == np.uint8 and lut.shape == (3, 3)
    assert lut[1].tolist() == [0, 0, 0]  # gap in the ids
    labels = np.array([[0, 2], [UNLABELED, 7]], np.int32)
    rgb = pal.colorize(labels)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert rgb[0, 0].tolist() == [10, 20, 30] and rgb[0, 1].tolist() == [200, 100, 0]
    assert rgb[1, 0].tolist() == [0, 0, 0] and rgb[1, 1].tolist() == [0, 0, 0]  # unlabeled, unknown


def test_snap_colors_nearest_and_ambiguous(monkeypatch):
    import engines.labels as labels_mod

    monkeypatch.setattr(labels_mod, "_SNAP_CHUNK", 7)  # force several chunks
    pal = load_palette("facades")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, (9, 11)).astype(np.int32)
    noisy = pal.colorize(ids).astype(np.int16) + rng.integers(-6, 7, (9, 11, 3))
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    noisy[0, 0] = (128, 128, 128)  # far from every jet colour
    noisy[0, 1] = (255, 255, 255)
    got, ambiguous = pal.snap_colors(noisy, threshold=40)
    assert got.dtype == np.int32 and got.shape == ids.shape
    assert (got == ids)[ambiguous == False].all()  # noqa: E712
    assert (got.ravel()[2:] == ids.ravel()[2:]).all()
    assert int(ambiguous.sum()) == 2 and ambiguous[0, 0] and ambiguous[0, 1]


def test_snap_colors_rejects_bad_shape():
    with pytest.raises(ValueError, match="H x W x 3"):
        load_palette("basic").snap_colors(np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize(
    "classes, message",
    [
        ([{"id": 0, "name": "a", "color": [1, 2, 3]}, {"id": 0, "name": "b", "color": [4, 5, 6]}], "used twice"),
        ([{"id": 0, "name": "a", "color": [1, 2, 300]}], "0-255"),
        ([{"id": 0, "name": "a", "color": [1, 2]}], r"\[r, g, b\]"),
        ([{"id": -3, "name": "a", "color": [1, 2, 3]}], "invalid id"),
        ([{"name": "a", "color": [1, 2, 3]}], "needs 'id'"),
        ([], "no classes"),
    ],
)
def test_validation_errors_name_the_file(tmp_path, classes, message):
    write(tmp_path, "bad", {"name": "bad", "title": "Bad", "dont_care": None, "classes": classes})
    with pytest.raises(PaletteError, match=message) as err:
        load_palette("bad", folder=tmp_path)
    assert "bad.json" in str(err.value)


def test_unreadable_and_missing(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(PaletteError, match="not a readable JSON"):
        load_palette("broken", folder=tmp_path)
    with pytest.raises(PaletteError, match="no label palette named 'nope'"):
        load_palette("nope", folder=tmp_path)
    assert list_palettes(tmp_path) == ["broken"]


def test_from_dict_and_by_id():
    data = {"name": "x", "classes": [{"id": 5, "name": "five", "color": [5, 5, 5]}], "dont_care": 5}
    pal = palette_from_dict(data)
    assert pal.title == "x" and pal.dont_care == 5 and pal.by_id(5).name == "five"
    with pytest.raises(KeyError):
        pal.by_id(1)
