"""From a label map to SPADE's input channels, per dataset convention.

SPADE's ``semantic_nc = label_nc + (1 if contain_dontcare_label) + (0 if no_instance else 1)``:
one-hot class channels, then a don't-care channel, then an instance-edge channel. Conventions of
the official models (the official option defaults for each dataset):

=========== ======== ========= ========= ============
dataset     label_nc dont-care instances semantic_nc
=========== ======== ========= ========= ============
ADE20K      150      yes       no        151
COCO-Stuff  182      yes       yes       184
Cityscapes  35       no        yes       36
CMP Facades 12       no        no        12 (ours)
=========== ======== ========= ========= ============

Label maps here are ``int32 H x W`` ids (DESIGN rule 2) with ``UNLABELED`` (-1) for "nothing
painted"; a dataset file's own don't-care value (255 in COCO-Stuff PNGs) is turned into -1 by the
reader. -1 goes to the don't-care channel where the model has one; otherwise it is filled with the
nearest labelled class (:func:`fill_unlabeled`), because every pixel of a one-hot map needs a class.

Resizing label maps is nearest-neighbour only (:func:`resize_labels`): class ids never blend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..labels import UNLABELED

COCO_DONT_CARE = 255  # value of "unlabeled" in COCO-Stuff label PNGs


@dataclass(frozen=True)
class LabelConvention:
    """How one family of models reads labels (``palette``: the resources/palettes name)."""

    name: str
    label_nc: int
    dont_care: bool
    instance: bool
    palette: str
    crop_size: int = 256  # width of the training crop
    aspect: float = 1.0  # width / height

    @property
    def semantic_nc(self) -> int:
        return self.label_nc + int(self.dont_care) + int(self.instance)

    @property
    def native_hw(self) -> tuple[int, int]:
        return round(self.crop_size / self.aspect), self.crop_size


CONVENTIONS = {
    "ade20k": LabelConvention("ade20k", 150, True, False, "ade20k"),
    "cocostuff": LabelConvention("cocostuff", 182, True, True, "cocostuff"),
    "cityscapes": LabelConvention("cityscapes", 35, False, True, "cityscapes", crop_size=512, aspect=2.0),
    "facades": LabelConvention("facades", 12, False, False, "facades"),
}


def convention_for(semantic_nc: int, name: str | None = None) -> LabelConvention:
    """The convention called ``name``, else the one whose channel count is ``semantic_nc``; an
    unknown count gets a plain one (one-hot only, no palette)."""
    if name:
        if name not in CONVENTIONS:
            raise ValueError(f"unknown label convention '{name}' (known: {', '.join(CONVENTIONS)})")
        conv = CONVENTIONS[name]
        if conv.semantic_nc != semantic_nc:
            raise ValueError(f"'{name}' models take {conv.semantic_nc} channels, this one {semantic_nc}")
        return conv
    for conv in CONVENTIONS.values():
        if conv.semantic_nc == semantic_nc:
            return conv
    return LabelConvention("custom", semantic_nc, False, False, "")


def instance_edges(instances: np.ndarray) -> np.ndarray:
    """float32 H x W: 1 on both sides of every boundary between different instance ids
    (4-neighbourhood, as SPADE's get_edges)."""
    t = np.asarray(instances)
    edge = np.zeros(t.shape, bool)
    dx = t[:, 1:] != t[:, :-1]
    dy = t[1:, :] != t[:-1, :]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    return edge.astype(np.float32)


def fill_unlabeled(labels: np.ndarray) -> np.ndarray:
    """Give every UNLABELED pixel the class of its nearest labelled pixel (all -1: error)."""
    labels = np.asarray(labels, np.int32)
    hole = labels < 0
    if not hole.any():
        return labels
    if hole.all():
        raise ValueError("the label map is empty: paint at least one class")
    # distanceTransformWithLabels labels each zero pixel's Voronoi cell; map cells back to classes
    _, cell = cv2.distanceTransformWithLabels(hole.astype(np.uint8), cv2.DIST_L2, 5,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(~hole)
    lut = np.zeros(cell.max() + 1, np.int32)
    lut[cell[ys, xs]] = labels[ys, xs]
    return np.where(hole, lut[cell], labels).astype(np.int32)


def semantic_input(labels: np.ndarray, conv: LabelConvention,
                   instances: np.ndarray | None = None) -> np.ndarray:
    """float32 ``semantic_nc x H x W``: one-hot, [don't care], [instance edges].

    ``labels`` int32 H x W with ids in ``[0, label_nc)`` or UNLABELED. ``instances`` (any int
    H x W) gives the edge channel; without it the label map's own class boundaries are used (what
    a painted layout has: each region is one instance).
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"label map must be H x W, got shape {labels.shape}")
    labels = labels.astype(np.int64)
    bad = (labels >= conv.label_nc) | ((labels < 0) & (labels != UNLABELED))
    if bad.any():
        raise ValueError(f"label ids must be in 0..{conv.label_nc - 1} (or unlabeled); "
                         f"found {int(labels[bad].flat[0])}")
    if not conv.dont_care:
        labels = fill_unlabeled(labels.astype(np.int32)).astype(np.int64)
    h, w = labels.shape
    nc = conv.label_nc + int(conv.dont_care)
    idx = np.where(labels < 0, conv.label_nc, labels)  # -1 -> the don't-care channel
    out = np.zeros((conv.semantic_nc, h, w), np.float32)
    np.put_along_axis(out[:nc], idx[None], 1.0, axis=0)
    if conv.instance:
        out[nc] = instance_edges(instances if instances is not None else labels)
    return out


def resize_labels(labels: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an int label (or instance) map to ``(h, w)``; ids never blend."""
    h, w = hw
    labels = np.asarray(labels)
    if labels.shape == (h, w):
        return labels.copy()
    # cv2 nearest on int32 is exact (no arithmetic on the values)
    return cv2.resize(labels.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)


def pad_labels(labels: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad at the bottom/right to a multiple by repeating the edge row/column (nearest); returns
    the padded map and the original ``(h, w)`` to crop the output back to."""
    h, w = labels.shape
    ph, pw = -h % multiple, -w % multiple
    return np.pad(labels, ((0, ph), (0, pw)), mode="edge"), (h, w)


def working_size(hw: tuple[int, int], native: tuple[int, int], multiple: int) -> tuple[int, int]:
    """The size a label map of ``hw`` is resized to: the model's native pixel count, the map's
    aspect, each side a multiple of ``multiple`` (never below one multiple)."""
    h, w = hw
    area = native[0] * native[1]
    scale = (area / float(h * w)) ** 0.5
    th = max(multiple, int(round(h * scale / multiple)) * multiple)
    tw = max(multiple, int(round(w * scale / multiple)) * multiple)
    return th, tw


# ----------------------------------------------------------------------------- COCO-Stuff files


def read_coco_label(path: str | Path) -> np.ndarray:
    """A COCO-Stuff label PNG (mode L, 0-181, 255 = unlabeled) -> int32 ids with UNLABELED."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "P"):
            raise ValueError(f"{Path(path).name}: expected an 8-bit grey label PNG, got mode {im.mode}")
        raw = np.array(im, np.int32)
    bad = (raw > 181) & (raw != COCO_DONT_CARE)
    if bad.any():
        raise ValueError(f"{Path(path).name}: value {int(raw[bad].flat[0])} is no COCO-Stuff class")
    return np.where(raw == COCO_DONT_CARE, UNLABELED, raw).astype(np.int32)


def read_instance_map(path: str | Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.array(im, np.int32)


# ----------------------------------------------------------------------------- label PNGs


def read_label_png(path: str | Path, palette, threshold: float = 60.0) -> tuple[np.ndarray, str]:
    """A label image -> (int32 ids with UNLABELED, a one-line note for the user).

    Grey / indexed PNGs hold class ids (255, or 65535 in 16-bit files, = unlabeled); colour PNGs are
    snapped to ``palette``'s colours, pixels farther than ``threshold`` are re-labelled by the mode
    of their confident neighbours, and black where black is no class colour = unlabeled.
    """
    from PIL import Image

    from .facades import mode_filter

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("L", "P", "I", "I;16", "I;16B", "I;16L"):
                raw = np.array(im, np.int64)
                colour = None
            else:
                colour = np.array(im.convert("RGB"))
    except OSError as exc:
        raise ValueError(f"{path.name}: not a readable image ({exc})") from None
    known = set(int(i) for i in palette.ids)
    if colour is None:
        blank = (raw == 255) | (raw == 65535)
        bad = ~blank & ~np.isin(raw, list(known))
        if bad.any():
            raise ValueError(f"{path.name}: value {int(raw[bad].flat[0])} is not a class of {palette.title}")
        ids = np.where(blank, UNLABELED, raw).astype(np.int32)
        return ids, f"class ids ({mode})"
    ids, far = palette.snap_colors(colour, threshold)
    blank = np.zeros(far.shape, bool)
    if not any(tuple(c.rgb) == (0, 0, 0) for c in palette.classes):
        blank = (colour == 0).all(axis=2)  # what write_label_png writes for unlabeled
    far &= ~blank
    ids = mode_filter(ids.astype(np.int32), ~far & ~blank, int(palette.ids.max()) + 1)
    ids = np.where(blank, UNLABELED, ids).astype(np.int32)
    return ids, f"palette colours, {far.mean():.1%} of pixels ambiguous (re-labelled from their neighbours)"


def write_label_png(labels: np.ndarray, path: str | Path, palette=None) -> None:
    """Write ids (``palette`` None: 8-bit grey, or 16-bit when an id >= 255; UNLABELED = 255 / 65535)
    or palette colours (``palette`` given; UNLABELED = black) as a PNG, atomically."""
    import io

    from PIL import Image

    from ..atomic import atomic_write_bytes

    labels = np.asarray(labels)
    if palette is not None:
        image = Image.fromarray(palette.colorize(labels))
    elif labels.max(initial=0) < 255:
        image = Image.fromarray(np.where(labels < 0, 255, labels).astype(np.uint8), mode="L")
    else:
        image = Image.fromarray(np.where(labels < 0, 65535, labels).astype(np.uint16))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    atomic_write_bytes(Path(path), buf.getvalue())
