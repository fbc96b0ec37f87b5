"""SPADE label conventions: one-hot + don't-care + instance edges, nearest-only resizing, label files,
palettes, and the COCO-Stuff sample loader (skips without ../shared/data)."""

import numpy as np
import pytest

from engines.labels import UNLABELED, load_palette
from engines.spade.labels import (CONVENTIONS, convention_for, fill_unlabeled, instance_edges, pad_labels,
                                  read_coco_label, read_instance_map, read_label_png, resize_labels,
                                  semantic_input, working_size, write_label_png)


def test_semantic_nc_of_each_dataset():
    assert {k: c.semantic_nc for k, c in CONVENTIONS.items()} == {
        "ade20k": 151, "cocostuff": 184, "cityscapes": 36, "facades": 12}
    assert convention_for(151).name == "ade20k" and convention_for(184).name == "cocostuff"
    assert convention_for(36).name == "cityscapes" and convention_for(36).native_hw == (256, 512)
    assert convention_for(7).label_nc == 7  # unknown: plain one-hot
    with pytest.raises(ValueError):
        convention_for(12, "ade20k")


def test_ade20k_unlabeled_goes_to_the_dont_care_channel():
    labels = np.array([[0, 149], [UNLABELED, 5]], np.int32)
    x = semantic_input(labels, CONVENTIONS["ade20k"])
    assert x.shape == (151, 2, 2) and x.dtype == np.float32
    assert x[0, 0, 0] == 1 and x[149, 0, 1] == 1 and x[150, 1, 0] == 1 and x[5, 1, 1] == 1
    assert np.all(x.sum(0) == 1)


def test_cocostuff_has_dont_care_and_instance_edges():
    labels = np.zeros((4, 6), np.int32)
    labels[:, 3:] = 181
    labels[0, 0] = UNLABELED
    inst = np.zeros((4, 6), np.int32)
    inst[2:, :] = 7
    x = semantic_input(labels, CONVENTIONS["cocostuff"], inst)
    assert x.shape == (184, 4, 6)
    assert x[182, 0, 0] == 1 and x[0, 0, 0] == 0  # don't care
    assert np.all(x[:183].sum(0) == 1)
    assert np.array_equal(x[183], instance_edges(inst))
    assert x[183, 1].all() and x[183, 2].all() and not x[183, 0].any()  # both sides of the boundary


def test_cityscapes_has_edges_but_no_dont_care():
    labels = np.full((3, 4), 7, np.int32)
    labels[:, 2:] = 26
    labels[0, 0] = UNLABELED  # no don't-care channel: takes the nearest painted class
    x = semantic_input(labels, CONVENTIONS["cityscapes"])
    assert x.shape == (36, 3, 4)
    assert x[7, 0, 0] == 1 and np.all(x[:35].sum(0) == 1)
    assert np.array_equal(x[35][0], [0, 1, 1, 0])  # class boundary = edge when no instance map


def test_facades_plain_one_hot_and_range_check():
    x = semantic_input(np.array([[0, 11]], np.int32), CONVENTIONS["facades"])
    assert x.shape == (12, 1, 2)
    with pytest.raises(ValueError, match="0..11"):
        semantic_input(np.array([[12]], np.int32), CONVENTIONS["facades"])


def test_instance_edges_matches_official_definition():
    t = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3]])
    expected = np.array([[0, 1, 1], [1, 1, 1], [1, 1, 1]], np.float32)
    assert np.array_equal(instance_edges(t), expected)


def test_fill_unlabeled_takes_the_nearest_class():
    labels = np.full((1, 7), UNLABELED, np.int32)
    labels[0, 0], labels[0, 6] = 2, 5
    filled = fill_unlabeled(labels)
    assert filled[0, [0, 1, 2, 4, 5, 6]].tolist() == [2, 2, 2, 5, 5, 5] and filled[0, 3] in (2, 5)
    with pytest.raises(ValueError):
        fill_unlabeled(np.full((2, 2), UNLABELED, np.int32))


def test_resizing_is_nearest_only():
    rng = np.random.default_rng(0)
    labels = rng.integers(-1, 150, (37, 53)).astype(np.int32)
    for hw in [(256, 256), (64, 96), (20, 20)]:
        out = resize_labels(labels, hw)
        assert out.shape == hw and out.dtype == np.int32
        assert set(np.unique(out)) <= set(np.unique(labels))  # no blended ids
    up = resize_labels(np.array([[1, 2], [3, 4]], np.int32), (4, 4))
    assert up.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    padded, hw = pad_labels(np.array([[1, 2], [3, 4]], np.int32), 4)
    assert hw == (2, 2) and padded.shape == (4, 4) and padded[3, 3] == 4 and set(np.unique(padded)) == {1, 2, 3, 4}


def test_working_size_keeps_area_aspect_and_multiple():
    assert working_size((512, 512), (256, 256), 32) == (256, 256)
    h, w = working_size((300, 600), (256, 256), 32)
    assert h % 32 == 0 and w % 32 == 0 and abs(w / h - 2) < 0.3
    assert working_size((10, 4000), (256, 256), 32)[0] == 32


def test_label_png_round_trips(tmp_path):
    palette = load_palette("facades")
    labels = np.random.default_rng(1).integers(-1, 12, (9, 13)).astype(np.int32)
    write_label_png(labels, tmp_path / "ids.png")
    ids, note = read_label_png(tmp_path / "ids.png", palette)
    assert np.array_equal(ids, labels) and "ids" in note
    write_label_png(labels, tmp_path / "colours.png", palette)
    ids, note = read_label_png(tmp_path / "colours.png", palette)
    assert np.array_equal(ids, labels) and "0.0%" in note
    big = np.full((3, 3), 300, np.int32)
    write_label_png(big, tmp_path / "wide.png")
    with pytest.raises(ValueError, match="not a class"):
        read_label_png(tmp_path / "wide.png", palette)


@pytest.mark.parametrize("name,count,dont_care", [("ade20k", 150, 150), ("cocostuff", 182, 182),
                                                  ("cityscapes", 35, None), ("facades", 12, None)])
def test_palettes(name, count, dont_care):
    p = load_palette(name)
    assert len(p) == count and p.dont_care == dont_care
    assert list(p.ids) == list(range(count))
    assert len({c.rgb for c in p.classes}) == count  # unique colours: colour PNGs read back exactly
    assert CONVENTIONS[name].label_nc == count


def test_palette_names():
    assert load_palette("ade20k").by_id(2).name == "sky"
    coco = load_palette("cocostuff")
    assert coco.by_id(0).name == "person" and coco.by_id(91).name == "banner" and coco.by_id(181).name == "wood"
    assert load_palette("cityscapes").by_id(26).rgb == (0, 0, 142)
    assert [c.name for c in load_palette("facades").classes] == [
        "background", "facade", "window", "door", "cornice", "sill", "balcony", "blind", "deco", "molding",
        "pillar", "shop"]


def test_coco_stuff_samples(shared_data):
    root = shared_data / "coco_stuff_samples"
    if not root.is_dir():
        pytest.skip("coco_stuff_samples not in the shared data")
    files = sorted((root / "val_label").glob("*.png"))
    assert files
    saw_dont_care = False
    for path in files:
        labels = read_coco_label(path)
        inst = read_instance_map(root / "val_inst" / path.name)
        assert labels.dtype == np.int32 and labels.shape == inst.shape
        assert labels.max() <= 181 and labels.min() >= UNLABELED
        saw_dont_care |= bool((labels == UNLABELED).any())
        x = semantic_input(labels, CONVENTIONS["cocostuff"], inst)
        assert x.shape == (184,) + labels.shape
        assert np.all(x[:183].sum(0) == 1)
        assert np.array_equal(x[182] == 1, labels == UNLABELED)
        assert 0 < x[183].mean() < 0.5
    assert saw_dont_care  # 255 in the files = unlabeled


def test_coco_loader_rejects_non_class_values(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((2, 2), 200, np.uint8), mode="L").save(tmp_path / "bad.png")
    with pytest.raises(ValueError, match="200"):
        read_coco_label(tmp_path / "bad.png")
